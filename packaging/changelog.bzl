"""The package's Debian changelog: the one place a release is recorded.

The newest entry (first in the list) gives the package version, which names
the output file (foobar_<version>_amd64.deb), and its date, which becomes
SOURCE_DATE_EPOCH and the mtime of every file in the package. It is Starlark
rather than a plain debian/changelog because Bazel must know the version when
it declares the output file, before any action can read a file; deb.bzl
renders it in deb-changelog(5) format into changelog.Debian.gz.

To release: add an entry at the top, with `date -R` for the date.
"""

CHANGELOG = [
    {
        "version": "0.1.0-1",
        "distribution": "bookworm",
        "urgency": "medium",
        "changes": [
            "Initial release: foobard, a socket-activated echo daemon with " +
            "exit on idle and zero-downtime restarts through the fd store; " +
            "the foobar client; a hardened foobar.service with " +
            "foobar.socket, and the Accept=yes pair foobar-inetd.socket " +
            "and foobar-inetd@.service.",
        ],
        "maintainer": "foobar maintainers <foobar@example.org>",
        "date": "Mon, 23 Nov 2026 22:00:00 +0000",
    },
]
