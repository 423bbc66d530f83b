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
        "version": "0.2.0-1",
        "distribution": "bookworm",
        "urgency": "medium",
        "changes": [
            "Zero-downtime restart that holds at 16,384 connections: " +
            "foobard hands every live connection, with its unsent bytes, " +
            "to systemd's fd store in one entry (libsdfd's new handoff.h) " +
            "instead of one entry per connection, and waits for systemd " +
            "to process it (BARRIER=1, sdfd::NotifyBarrier). A restart " +
            "now costs linear time in foobard and in PID 1, which holds " +
            "one fd for the service.",
            "Upgrading from 0.1.0: the upgrade's restart still stops " +
            "0.1.0, which stores one entry per connection plus one per " +
            "connection with unsent bytes; the new foobard takes those " +
            "over. FileDescriptorStoreMax= is now 2048, enough for 0.1.0 " +
            "to hand over 1,000 connections with their unsent bytes; " +
            "systemd closes the connections beyond 2,048 stored fds. " +
            "Above about 7,000 connections 0.1.0 cannot hand off at all " +
            "under its own unit (FileDescriptorStoreMax=32768): the names " +
            "overflow the kernel's 128 KiB limit of one environment " +
            "string, the next instance fails to execute (Argument list " +
            "too long) before any new code runs, and every client is " +
            "lost. Upgrade while 0.1.0 serves fewer than 1,000 clients.",
        ],
        "maintainer": "foobar maintainers <foobar@example.org>",
        "date": "Mon, 30 Nov 2026 21:00:00 +0000",
    },
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
