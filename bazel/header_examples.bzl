"""header_examples_test: every header's usage example compiles and links.

The examples in the headers' opening comments (the `// Example:` blocks,
bazel/header_examples.py) are turned into C++, one .cc per header, and built
into a cc_test with the libraries themselves: the examples' calls have to
link. The headers are the libraries' own hdrs, read from their CcInfo, so no
package has to export its files.

    header_examples_test(
        name = "header_examples_test",
        libs = ["//sdfd:activation", "//common:clock"],
        pending_libs = ["//daemon:server"],
    )

`pending_libs` are libraries whose examples are still being rewritten: they
build into `<name>_pending`, a manual test, so that
`bazel build --keep_going //tests/examples:header_examples_test_pending`
shows each header whose example does not compile yet; compiler errors point
at the header's own lines. When one passes, move it to `libs`.
"""

load("//bazel:copts.bzl", "COPTS")

# An example need not use everything it declares.
_EXAMPLE_COPTS = [
    "-Wno-unused-variable",
    "-Wno-unused-but-set-variable",
    "-Wno-unused-function",
]

def _header_examples_srcs_impl(ctx):
    headers = []
    for lib in ctx.attr.libs:
        headers.extend(lib[CcInfo].compilation_context.direct_public_headers)
    tool = ctx.file._tool
    outs = []
    for header in headers:
        out = ctx.actions.declare_file(
            "%s/%s.cc" % (ctx.label.name, header.short_path),
        )
        ctx.actions.run_shell(
            inputs = [header, tool],
            outputs = [out],
            command = 'python3 "$@"',
            arguments = [tool.path, "generate", header.path, out.path],
            mnemonic = "HeaderExamples",
            progress_message = "Extracting the examples of %s" % header.short_path,
            use_default_shell_env = True,
        )
        outs.append(out)
    main = ctx.actions.declare_file("%s/main.cc" % ctx.label.name)
    ctx.actions.run_shell(
        inputs = headers + [tool],
        outputs = [main],
        command = 'python3 "$@"',
        arguments = [tool.path, "main", main.path] + [h.path for h in headers],
        mnemonic = "HeaderExamplesMain",
        progress_message = "Counting the examples of %d headers" % len(headers),
        use_default_shell_env = True,
    )
    return [DefaultInfo(files = depset(outs + [main]))]

# header_examples_srcs generates the examples' .cc files and the test's main.
header_examples_srcs = rule(
    implementation = _header_examples_srcs_impl,
    attrs = {
        "libs": attr.label_list(providers = [CcInfo]),
        "_tool": attr.label(
            default = "//bazel:header_examples.py",
            allow_single_file = True,
        ),
    },
)

def _examples_test(name, libs, **kwargs):
    header_examples_srcs(
        name = name + "_srcs",
        libs = libs,
        testonly = True,
        tags = kwargs.get("tags", []),
    )
    native.cc_test(
        name = name,
        srcs = [":%s_srcs" % name],
        copts = COPTS + _EXAMPLE_COPTS,
        deps = libs,
        **kwargs
    )

def header_examples_test(name, libs, pending_libs = [], size = "small"):
    """Compiles and links the examples of `libs`' headers into a test.

    Args:
      name: the test's name.
      libs: cc_library targets whose hdrs all hold `// Example:` blocks.
      pending_libs: cc_library targets whose examples are being rewritten;
        built only by the manual test `<name>_pending`.
      size: the test's size.
    """
    _examples_test(name = name, libs = libs, size = size)
    if pending_libs:
        _examples_test(
            name = name + "_pending",
            libs = pending_libs,
            size = size,
            tags = ["manual"],
        )
