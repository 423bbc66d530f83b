"""Builds a Debian binary package (.deb) from Bazel targets, reproducibly.

Bazel's own `pkg_deb` (`@bazel_tools//tools/build_defs/pkg`) fails on Debian's
Bazel 4.2.3 (its bundled `six` was stripped), so this is a small rule of our
own.

The package is always a release build, whatever the command line says: the
binaries are built through a transition (`release_transition`) to `-c opt`
with the flags Debian builds its packages with (`RELEASE_COPTS`,
`RELEASE_LINKOPTS`) and with `//bazel:sanitize` off, so a package built under
`--config=asan` still holds the static release foobard, and the very same
bytes as under plain `bazel build`.

One action runs `build_deb.sh`, which:

- stages a tree: binaries split as `dh_strip` does (debug information into
  `/usr/lib/debug/.build-id/xx/yyyy.debug` of the `<package>-dbgsym`
  package, the binary stripped with `strip --strip-unneeded` and given a
  `.gnu_debuglink`; its build-id note stays), man pages and the changelog
  compressed with `gzip -9n`, every other file copied; files 0644, binaries
  and maintainer scripts 0755;
- computes `Depends:` from the binaries with `dpkg-shlibdeps`,
  `Static-Built-Using:` from the `-dev` packages whose static libraries the
  binaries link (each as its source package and exact version, from the
  build machine's dpkg database), and `Installed-Size:` as `dpkg-gencontrol`
  does;
- writes `DEBIAN/control` and `DEBIAN/md5sums`, and the control file of the
  automatic debug package (`Package: <package>-dbgsym`, `Section: debug`,
  `Auto-Built-Package: debug-symbols`, `Build-Ids:`, `Depends:` on the exact
  version);
- sets every mtime to `SOURCE_DATE_EPOCH`, taken from the date of the newest
  changelog entry, and runs `dpkg-deb --root-owner-group --build` with one
  compressor thread, so two clean builds give byte-identical packages.

Usage in a BUILD file:

    load(":changelog.bzl", "CHANGELOG")
    load(":deb.bzl", "deb_package")

    deb_package(
        name = "foobar_deb",
        package = "foobar",
        changelog = CHANGELOG,
        control = "control.in",
        binaries = {"//daemon:foobard": "/usr/bin/foobard"},
        man_pages = {"//daemon:foobard.8": "/usr/share/man/man8/foobard.8.gz"},
        files = {"copyright": "/usr/share/doc/foobar/copyright"},
        maintainer_scripts = {"postinst": "postinst"},
    )

writes `bazel-bin/<package dir>/foobar_<version>_amd64.deb` and
`foobar-dbgsym_<version>_amd64.deb` (the output groups `deb` and `dbgsym`
name each alone). Mistakes fail the build with a message: a `Package:` in the
template that differs from `package`, a destination that is not absolute, a
changelog entry missing a field, a binary `dpkg-shlibdeps` cannot resolve, a
binary without a build-id, or a `static_built_using` package that is not
installed.
"""

# What `dpkg-buildflags` prints on Debian 12 with
# DEB_BUILD_MAINT_OPTIONS=hardening=+all, plus -fstack-clash-protection (on by
# default from Debian 13). Bazel's opt mode already passes -g0 and
# -D_FORTIFY_SOURCE=1 before these: -g comes after -g0 to win, and
# _FORTIFY_SOURCE is undefined before it is redefined (a redefinition is a
# warning, and -Werror makes it an error). PIE needs no flag: Debian's gcc
# builds PIE by default. Left out: -fcf-protection (Debian 12's libc.a and
# abseil archives carry no CET property note, so the linker would drop it from
# any binary that links them), and -ffile-prefix-map (Bazel compiles with
# relative paths and PWD=/proc/self/cwd, so no build path reaches the debug
# information).
RELEASE_COPTS = [
    "-g",
    "-O2",
    "-fstack-protector-strong",
    "-fstack-clash-protection",
    "-Wformat",
    "-Werror=format-security",
    "-Wdate-time",
    "-U_FORTIFY_SOURCE",
    "-D_FORTIFY_SOURCE=2",
]

# relro and bindnow, as dpkg-buildflags; --build-id spelled out because the
# debug package is indexed by it (Debian's gcc passes it by default, clang
# does not).
RELEASE_LINKOPTS = [
    "-Wl,-z,relro",
    "-Wl,-z,now",
    "-Wl,--build-id=sha1",
]

# The options release_transition sets: the binaries of a package are built
# with these, whatever the command line. They replace the command line's (its
# --copt=-fsanitize=address or --cxxopt=-fno-stack-protector, say) rather
# than add to them. The compiler itself is a repository choice (--repo_env)
# no transition can change: the package is gcc-only (//bazel:clang makes it incompatible), and under
# --config=fuzz, which picks clang, it is incompatible rather than built with
# another compiler than Static-Built-Using names.
_RELEASE_OPTIONS = {
    "//bazel:sanitize": False,
    "//command_line_option:compilation_mode": "opt",
    "//command_line_option:conlyopt": [],
    "//command_line_option:copt": RELEASE_COPTS,
    # As .bazelrc's --cxxopt, and nothing else: Debian builds abseil as C++17.
    "//command_line_option:cxxopt": ["-std=c++17"],
    "//command_line_option:features": [],
    "//command_line_option:linkopt": RELEASE_LINKOPTS,
    "//command_line_option:per_file_copt": [],
    "//command_line_option:platform_suffix": "",
    "//command_line_option:strip": "never",
}

# For each option of _RELEASE_OPTIONS, a value it never has in a release. Bazel
# 4 names the output directory of a transitioned configuration after the
# options a transition changed from their previous value, so a transition
# straight from the command line's configuration would put the release
# binaries somewhere else under plain `bazel build`, --config=asan (which sets
# //bazel:sanitize) and -c opt, with those paths in their debug information
# and build-ids. Going through these values first (_away_transition, then
# release_transition) changes every option every time: the release binaries
# get one output directory and are the same bytes under any command line.
_AWAY_OPTIONS = {
    "//bazel:sanitize": True,
    "//command_line_option:compilation_mode": "dbg",
    "//command_line_option:conlyopt": ["-DFOOBAR_NOT_A_RELEASE"],
    "//command_line_option:copt": ["-DFOOBAR_NOT_A_RELEASE"],
    "//command_line_option:cxxopt": ["-DFOOBAR_NOT_A_RELEASE"],
    "//command_line_option:features": ["foobar_not_a_release"],
    "//command_line_option:linkopt": ["-DFOOBAR_NOT_A_RELEASE"],
    "//command_line_option:per_file_copt": ["//foobar_not_a_release@-DFOOBAR_NOT_A_RELEASE"],
    "//command_line_option:platform_suffix": "not-a-release",
    "//command_line_option:strip": "always",
}

def _release_transition_impl(settings, attr):
    """Every binary of a package: -c opt, Debian's flags, no sanitizer.

    Args:
      settings: unused; the transition reads no option.
      attr: unused.

    Returns:
      _RELEASE_OPTIONS.
    """
    _ignore = (settings, attr)  # @unused
    return _RELEASE_OPTIONS

release_transition = transition(
    implementation = _release_transition_impl,
    inputs = [],
    outputs = sorted(_RELEASE_OPTIONS.keys()),
)

def _away_transition_impl(settings, attr):
    """The step before release_transition (see _AWAY_OPTIONS).

    Args:
      settings: unused; the transition reads no option.
      attr: unused.

    Returns:
      _AWAY_OPTIONS.
    """
    _ignore = (settings, attr)  # @unused
    return _AWAY_OPTIONS

_away_transition = transition(
    implementation = _away_transition_impl,
    inputs = [],
    outputs = sorted(_AWAY_OPTIONS.keys()),
)

_ReleaseBinariesInfo = provider(
    doc = "The executables of a _release_binaries target.",
    fields = {"executables": "list of File, in the order of its binaries"},
)

def _release_binaries_impl(ctx):
    executables = []
    for target in ctx.attr.binaries:
        exe = target[DefaultInfo].files_to_run.executable
        if exe == None:
            fail("binaries: %s is not an executable target" % target.label)
        executables.append(exe)
    return [_ReleaseBinariesInfo(executables = executables)]

_release_binaries = rule(
    implementation = _release_binaries_impl,
    doc = "The executables of `binaries`, built through release_transition; reached by deb_package through _away_transition.",
    attrs = {
        "binaries": attr.label_list(
            cfg = release_transition,
            mandatory = True,
            doc = "Executable targets.",
        ),
        "_allowlist_function_transition": attr.label(
            default = "@bazel_tools//tools/allowlists/function_transition_allowlist",
            doc = "Bazel 4 allows Starlark transitions only in rules that name this allowlist.",
        ),
    },
)

_CHANGELOG_KEYS = ["version", "distribution", "urgency", "changes", "maintainer", "date"]

def _wrap(text, first, rest, width = 78):
    """Word-wraps `text` into lines of at most `width` columns.

    Args:
      text: the paragraph.
      first: prefix of the first line ("  * " for a changelog bullet).
      rest: prefix of the following lines.
      width: the longest line; lintian flags changelog lines over 80.

    Returns:
      The list of lines.
    """
    lines = []
    line = first
    for word in text.split(" "):
        if not word:
            continue
        if line.strip() and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = rest
        line = line + word if line in (first, rest) else line + " " + word
    lines.append(line)
    return lines

def _render_changelog(package, entries):
    """Returns the Debian changelog text (deb-changelog(5)) for `entries`.

    Args:
      package: the source package name that heads every entry.
      entries: list of dicts, newest first, each with the keys in
        _CHANGELOG_KEYS; "changes" is a list of strings, one bullet each,
        word-wrapped here.

    Returns:
      The changelog as one string, ending with a newline.
    """
    if not entries:
        fail("changelog: at least one entry is needed; the newest one gives the version")
    blocks = []
    for entry in entries:
        missing = [k for k in _CHANGELOG_KEYS if k not in entry]
        if missing:
            fail("changelog entry %r lacks %s" % (entry.get("version", "?"), ", ".join(missing)))
        lines = ["%s (%s) %s; urgency=%s" % (
            package,
            entry["version"],
            entry["distribution"],
            entry["urgency"],
        ), ""]
        for change in entry["changes"]:
            lines.extend(_wrap(change, "  * ", "    "))
        lines.append("")
        lines.append(" -- %s  %s" % (entry["maintainer"], entry["date"]))
        blocks.append("\n".join(lines) + "\n")
    return "\n".join(blocks)

def _check_dest(dest, what):
    if not dest.startswith("/") or dest.endswith("/") or "/../" in dest:
        fail("%s: destination %r must be an absolute file path" % (what, dest))
    return dest[1:]

def _single_file(target, what):
    files = target.files.to_list()
    if len(files) != 1:
        fail("%s: %s must be exactly one file, not %d" % (what, target.label, len(files)))
    return files[0]

def _deb_package_impl(ctx):
    version = ctx.attr.version
    deb = ctx.actions.declare_file("%s_%s_%s.deb" % (ctx.attr.package, version, ctx.attr.architecture))
    dbgsym = ctx.actions.declare_file("%s-dbgsym_%s_%s.deb" % (ctx.attr.package, version, ctx.attr.architecture))

    changelog = ctx.actions.declare_file(ctx.label.name + ".changelog")
    ctx.actions.write(changelog, ctx.attr.changelog_text)

    # The manifest tells build_deb.sh what to stage: one "KIND SOURCE DEST"
    # line per file, where KIND says how (strip, gzip, copy or script).
    lines = []
    inputs = [changelog, ctx.file.control]
    release = ctx.attr.release_binaries
    if type(release) == "list":
        # Bazel 4 gives a transitioned label attribute as a list of one.
        release = release[0]
    executables = release[_ReleaseBinariesInfo].executables
    for exe, dest in zip(executables, ctx.attr.binary_destinations):
        lines.append("strip %s %s" % (exe.path, _check_dest(dest, "binaries")))
        inputs.append(exe)
    for target, dest in ctx.attr.man_pages.items():
        if not dest.endswith(".gz"):
            fail("man_pages: destination %r must end in .gz (pages are gzipped)" % dest)
        f = _single_file(target, "man_pages")
        lines.append("gzip %s %s" % (f.path, _check_dest(dest, "man_pages")))
        inputs.append(f)
    for target, dest in ctx.attr.files.items():
        f = _single_file(target, "files")
        lines.append("copy %s %s" % (f.path, _check_dest(dest, "files")))
        inputs.append(f)
    lines.append("gzip %s usr/share/doc/%s/changelog.Debian.gz" % (changelog.path, ctx.attr.package))
    for target, name in ctx.attr.maintainer_scripts.items():
        if name not in ["preinst", "postinst", "prerm", "postrm"]:
            fail("maintainer_scripts: %r is not a maintainer script name" % name)
        f = _single_file(target, "maintainer_scripts")
        lines.append("script %s DEBIAN/%s" % (f.path, name))
        inputs.append(f)
    for line in lines:
        if len(line.split(" ")) != 3:
            fail("paths with spaces are not supported: %r" % line)

    manifest = ctx.actions.declare_file(ctx.label.name + ".manifest")
    ctx.actions.write(manifest, "\n".join(lines) + "\n")
    inputs.append(manifest)

    ctx.actions.run(
        executable = ctx.executable._build_deb,
        arguments = [
            ctx.attr.package,
            version,
            ctx.attr.architecture,
            ctx.attr.maintainer,
            ctx.attr.date,
            ctx.file.control.path,
            manifest.path,
            deb.path,
            ",".join(ctx.attr.static_built_using),
            dbgsym.path,
        ],
        inputs = inputs,
        outputs = [deb, dbgsym],
        mnemonic = "DebPackage",
        progress_message = "Building Debian package %s" % deb.short_path,
        # The action reads the host's dpkg database (dpkg-shlibdeps, and
        # dpkg-query for Static-Built-Using), which Bazel cannot see as an
        # input; never reuse a result across machines.
        execution_requirements = {"no-remote": "1"},
    )
    return [
        DefaultInfo(
            files = depset([deb, dbgsym]),
            runfiles = ctx.runfiles(files = [deb, dbgsym]),
        ),
        OutputGroupInfo(
            dbgsym = depset([dbgsym]),
            deb = depset([deb]),
        ),
    ]

_deb_package = rule(
    implementation = _deb_package_impl,
    doc = "Builds a reproducible .deb and its -dbgsym package from release binaries; use the deb_package macro, which renders the changelog.",
    attrs = {
        "architecture": attr.string(
            default = "amd64",
            doc = "Debian architecture of the binaries; part of the output file name.",
        ),
        "binary_destinations": attr.string_list(
            doc = "The absolute install path of each executable of release_binaries, in order. Stripped (debug information to the -dbgsym package), mode 0755, and the input of dpkg-shlibdeps for Depends:.",
        ),
        "changelog_text": attr.string(
            mandatory = True,
            doc = "The Debian changelog, installed gzipped as /usr/share/doc/<package>/changelog.Debian.gz.",
        ),
        "control": attr.label(
            allow_single_file = True,
            mandatory = True,
            doc = "DEBIAN/control without the fields the rule adds (Version, Architecture, Maintainer, Installed-Size, Depends, Static-Built-Using). Its Package: must equal package.",
        ),
        "date": attr.string(
            mandatory = True,
            doc = "RFC 2822 date of the newest changelog entry; becomes SOURCE_DATE_EPOCH and every file's mtime.",
        ),
        "files": attr.label_keyed_string_dict(
            allow_files = True,
            doc = "Plain files to their absolute install paths, mode 0644.",
        ),
        "static_built_using": attr.string_list(
            doc = "Debian packages whose static libraries the binaries link (libc6-dev, libabsl-dev, ...). Each becomes its source package and exact installed version in Static-Built-Using:, so a security update of that source shows this package needs a rebuild (deb-control(5)).",
        ),
        "maintainer_scripts": attr.label_keyed_string_dict(
            allow_files = True,
            doc = "Scripts to their DEBIAN/ names: preinst, postinst, prerm or postrm. Mode 0755.",
        ),
        "maintainer": attr.string(
            mandatory = True,
            doc = "The Maintainer: field, \"Name <mail>\"; the macro takes the newest changelog entry's.",
        ),
        "man_pages": attr.label_keyed_string_dict(
            allow_files = True,
            doc = "Man page sources to their absolute install paths ending in .gz; compressed with gzip -9n.",
        ),
        "package": attr.string(
            mandatory = True,
            doc = "Binary package name; the output is <package>_<version>_<architecture>.deb.",
        ),
        "version": attr.string(
            mandatory = True,
            doc = "Debian version (upstream-revision); part of the output file name.",
        ),
        "_allowlist_function_transition": attr.label(
            default = "@bazel_tools//tools/allowlists/function_transition_allowlist",
            doc = "Bazel 4 allows Starlark transitions only in rules that name this allowlist.",
        ),
        "release_binaries": attr.label(
            cfg = _away_transition,
            mandatory = True,
            providers = [_ReleaseBinariesInfo],
            doc = "The _release_binaries target the macro makes of `binaries`.",
        ),
        "_build_deb": attr.label(
            default = Label("//packaging:build_deb"),
            executable = True,
            cfg = "exec",
            doc = "The script that stages the tree and runs dpkg-deb.",
        ),
    },
)

def deb_package(name, package, changelog, binaries = {}, **kwargs):
    """Builds `<package>_<version>_<architecture>.deb` and its -dbgsym package.

    The version, the maintainer and the reproducibility date all come from the
    newest entry of `changelog`, so the changelog is the one place a release is
    recorded.

    Args:
      name: target name.
      package: binary package name.
      changelog: list of dicts, newest first, with keys version, distribution,
        urgency, changes (list of strings), maintainer ("Name <mail>") and
        date (RFC 2822, as `date -R` prints it).
      binaries: executable targets to their absolute install paths, built
        through release_transition (as `<name>_release_binaries`).
      **kwargs: the other attributes of the rule: control, man_pages, files,
        maintainer_scripts, static_built_using, architecture, visibility,
        tags.
    """
    _release_binaries(
        name = name + "_release_binaries",
        binaries = binaries.keys(),
        # Only ever built through the package; alone, from the command line's
        # configuration, it would build the binaries a second time.
        tags = ["manual"],
        visibility = ["//visibility:private"],
    )
    _deb_package(
        name = name,
        package = package,
        binary_destinations = binaries.values(),
        release_binaries = ":" + name + "_release_binaries",
        changelog_text = _render_changelog(package, changelog),
        version = changelog[0]["version"],
        date = changelog[0]["date"],
        maintainer = changelog[0]["maintainer"],
        **kwargs
    )
