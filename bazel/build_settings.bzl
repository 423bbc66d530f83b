"""bool_setting: a boolean build setting, set on the command line as --//pkg:name.

Bazel 4.2.3 has no bazel_skylib here, so this is the one rule of its
`bool_flag` the project needs. A config_setting reads it with flag_values:

    bool_setting(
        name = "sanitize",
        build_setting_default = False,
    )

    config_setting(
        name = "sanitized",
        flag_values = {":sanitize": "true"},
    )

Unlike --define, a build setting is a configuration option a Starlark
transition can set (packaging/deb.bzl resets this one).
"""

def _bool_setting_impl(ctx):
    # config_setting reads the value from the configuration itself; nothing
    # else consumes the target.
    _ignore = ctx  # @unused
    return []

bool_setting = rule(
    implementation = _bool_setting_impl,
    doc = "A boolean build setting: --//pkg:name, --//pkg:name=false, --no//pkg:name.",
    build_setting = config.bool(flag = True),
)
