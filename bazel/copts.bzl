"""Compiler flags shared by every C++ target of the project."""

# COPTS is added to every cc_* target. Warnings-as-errors live in .bazelrc
# (--per_file_copt), so this only holds what the code itself relies on.
COPTS = [
    "-D_GNU_SOURCE",
]
