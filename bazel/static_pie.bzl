"""static_pie_binary: a cc_binary linked as a static PIE, the way foobard is.

The link needs two things that only work together: the //daemon:static_pie
library, whose linkopts switch to GNU ld and -static-pie (gold cannot link
one), and the toolchain feature supports_start_end_lib turned off, because
GNU ld does not know gold's --start-lib. This macro sets both.

    load("//bazel:static_pie.bzl", "static_pie_binary")

    static_pie_binary(
        name = "foobard",
        srcs = ["main.cc"],
        deps = [":app"],
    )
"""

def static_pie_binary(name, deps = [], features = [], **kwargs):
    """A cc_binary linked by //daemon:static_pie (dynamic under sanitizers).

    Args:
      name: target name.
      deps: the binary's own dependencies; //daemon:static_pie is added.
      features: further toolchain features; -supports_start_end_lib is added.
      **kwargs: every other cc_binary attribute.
    """
    native.cc_binary(
        name = name,
        deps = deps + ["//daemon:static_pie"],
        features = features + ["-supports_start_end_lib"],
        **kwargs
    )
