"""Extracts the usage examples of the project's headers, and checks for them.

The rule: every public header opens with a comment that says what it is for
and ends with a usage example, code that compiles as written against the
header alone. This tool keeps those examples true: it turns them into C++
that the test //tests/examples:header_examples_test compiles and links, and
it checks that no public header goes without one.

The convention (announced to every engineer; keep it exactly):
  * A line `// Example:` starts a block, optionally followed by one `//` line.
  * The code lines follow, each starting with `//   ` (two slashes, three
    spaces); an empty line inside the block is `//`.
  * The block ends at the first line not of that form.
  * A header may hold more than one block.
  * A block holds at least one line of code that is not a comment.
Anything else is an error, never skipped: a line starting with `// Example`
that is not exactly `// Example:` (`// Example (x):`, `// Example`), an
`// Example:` whose next line (after the optional `//`) is not a code line,
and a line of two-space indent (`//  code`) inside a block.
Each block is compiled, never run, as the body of
`int ExampleN() { <code> return 0; }` in a generated .cc that includes the
header first, then <unistd.h>, <fcntl.h>, <sys/socket.h>, <cstdio>,
<cstdlib>, <string>, <vector>, <utility> and <memory>. An example declares
what it uses, spells names fully qualified, and may `return` an int. #line
directives point compiler errors at the header's own lines and columns.
The test's worth is that it builds: a false call is a compile or link error.
Its main() runs no example (some serve forever, some need systemd); it only
keeps every example function referenced, so that no linker option can drop
one unchecked, and lists what was built.

Usage:
  header_examples.py generate HEADER OUT.cc   one header's examples as C++
  header_examples.py main OUT.cc HEADER...    the test's main(): it keeps
                                              every example linked in and
                                              lists them; it runs none
  header_examples.py check-tree [ROOT]        the completeness check (run by
                                              tests/lint/run): every public
                                              header has an example block
                                              and is in the test's libs
                                              (tests/examples/BUILD)

check-tree covers every header git knows of (tracked, or new and not
ignored) under sdfd/ (except sdfd/internal/, which is private), common/,
daemon/ and client/. Test helpers are in scope where they are a library
other packages use (sdfd/testing/, shared by libsdfd's tests, the fuzzers
and the integration tests; client/test_*.h); tests/ is not: its helpers
serve only the tests beside them, which show their use. A header of a library in the test's `pending_libs`
(owners still rewriting its example) is reported as SKIP, not FAIL. It ends with "N passed, N failed, N skipped" and exits 1
when anything failed.
"""

import ast
import os
import re
import subprocess
import sys

EXAMPLE_START = "// Example:"
CODE_PREFIX = "//   "

# The headers every generated .cc includes after the header under test.
STANDARD_INCLUDES = [
    "<unistd.h>",
    "<fcntl.h>",
    "<sys/socket.h>",
    "",
    "<cstdio>",
    "<cstdlib>",
    "<memory>",
    "<string>",
    "<utility>",
    "<vector>",
]

# Where the completeness check looks, and what it leaves out.
SCOPE_DIRS = ("sdfd/", "common/", "daemon/", "client/")
SCOPE_EXCLUDED_DIRS = ("sdfd/internal/",)

# The BUILD file that lists the libraries whose headers the test compiles.
TEST_BUILD = "tests/examples/BUILD"
TEST_MACRO = "header_examples_test"


class ExampleError(Exception):
    """A header's example blocks do not follow the convention."""


def extract_blocks(path, text):
    """Returns the example blocks of `text` as (first code line number,
    [code lines with the `//   ` prefix blanked]) pairs; line numbers are
    1-based. Raises ExampleError for anything outside the convention: a
    malformed `// Example` line, a block without a first code line, a
    two-space-indented line in a block, a block of comments only."""
    lines = text.split("\n")
    for n, line in enumerate(lines, start=1):
        if line.lstrip().startswith("// Example") and line != EXAMPLE_START:
            raise ExampleError(
                "%s:%d: %r is not an example block: write exactly `%s` "
                "at the start of the line" % (path, n, line, EXAMPLE_START))
    blocks = []
    i = 0
    while i < len(lines):
        if lines[i] != EXAMPLE_START:
            i += 1
            continue
        start = i + 1  # 1-based number of the `// Example:` line
        i += 1
        if i < len(lines) and lines[i] == "//":
            i += 1
        if not (i < len(lines) and lines[i].startswith(CODE_PREFIX) and
                lines[i][len(CODE_PREFIX):].strip()):
            raise ExampleError(
                "%s:%d: `// Example:` is not followed by a code line "
                "starting with `%s`" % (path, start, CODE_PREFIX))
        first = i + 1
        code = []
        while i < len(lines) and (lines[i] == "//" or
                                  lines[i].startswith(CODE_PREFIX)):
            # Blanks keep every column where it is in the header.
            code.append(" " * len(CODE_PREFIX) + lines[i][len(CODE_PREFIX):]
                        if lines[i] != "//" else "")
            i += 1
        if i < len(lines) and re.match(r"//  \S", lines[i]):
            raise ExampleError(
                "%s:%d: a code line of the example at line %d starts with "
                "`//  ` (two spaces), not `%s`" %
                (path, i + 1, start, CODE_PREFIX))
        if not any(line.strip() and not line.strip().startswith("//")
                   for line in code):
            raise ExampleError(
                "%s:%d: the example holds only comments: it needs at least "
                "one line of code" % (path, start))
        blocks.append((first, code))
    return blocks


def symbol_for(header):
    """Returns the C++ namespace of `header`'s examples in the test; the
    array of their functions, which main() reads, adds "_linked"."""
    return "examples_" + re.sub(r"[^A-Za-z0-9]", "_", header)


def generate(header, out):
    """Writes `header`'s examples, one function per block, to `out`."""
    with open(header, encoding="utf-8") as f:
        blocks = extract_blocks(header, f.read())
    if not blocks:
        raise ExampleError(
            "%s: no `// Example:` block (see bazel/header_examples.py)" %
            header)
    symbol = symbol_for(header)
    cc = [
        "// Generated by bazel/header_examples.py from %s." % header,
        '#include "%s"' % header,
        "",
    ]
    cc += ["#include %s" % inc if inc else "" for inc in STANDARD_INCLUDES]
    cc += ["", "namespace %s {" % symbol]
    for n, (first, code) in enumerate(blocks, start=1):
        cc.append("int Example%d() {" % n)
        cc.append('#line %d "%s"' % (first, header))
        cc += code
        cc.append('#line %d "%s"' % (len(cc) + 2, out))
        cc.append("  return 0;")
        cc.append("}")
    cc.append("}  // namespace %s" % symbol)
    cc.append("")
    cc.append("// Referenced by the test's main(), which keeps every example linked.")
    cc.append("extern int (*const %s_linked[%d])();" % (symbol, len(blocks)))
    cc.append("int (*const %s_linked[%d])() = {%s};" %
              (symbol, len(blocks), ", ".join(
                  "&%s::Example%d" % (symbol, n)
                  for n in range(1, len(blocks) + 1))))
    with open(out, "w", encoding="utf-8") as f:
        f.write("\n".join(cc) + "\n")


def generate_main(out, headers):
    """Writes the test's main() to `out`. It runs no example: the test's
    worth is that every example compiled and linked. main() keeps each
    header's array of example functions referenced (a volatile read the
    compiler must keep), so that no linker option (--gc-sections) can drop
    an example whose calls do not resolve, and lists what was built."""
    counts = []
    for header in headers:
        with open(header, encoding="utf-8") as f:
            blocks = extract_blocks(header, f.read())
        if not blocks:
            raise ExampleError("%s: no `// Example:` block" % header)
        counts.append((header, len(blocks)))
    cc = [
        "// Generated by bazel/header_examples.py: the examples of %d headers."
        % len(headers),
        "// Nothing here runs an example (some serve forever, some need",
        "// systemd): the test passes by being built.",
        "#include <cstdio>",
        "",
    ]
    for header, count in counts:
        cc.append("extern int (*const %s_linked[%d])();" %
                  (symbol_for(header), count))
    cc += [
        "",
        "namespace {",
        "// Keep is a volatile store of the array's address: the reference to",
        "// every example function stays in the binary.",
        "void Keep(const char* header, int (*const* examples)(), int blocks) {",
        "  int (*const* volatile kept)() = examples;",
        "  (void)kept;",
        '  std::printf("%s: %d example(s) compiled and linked, not run\\n",',
        "              header, blocks);",
        "}",
        "}  // namespace",
        "",
        "int main() {",
    ]
    total = 0
    for header, count in counts:
        cc.append('  Keep("%s", %s_linked, %d);' %
                  (header, symbol_for(header), count))
        total += count
    cc += [
        '  std::printf("%d examples of %d headers compiled and linked; '
        'none is run\\n");' % (total, len(counts)),
        "  return 0;",
        "}",
    ]
    with open(out, "w", encoding="utf-8") as f:
        f.write("\n".join(cc) + "\n")


def library_headers(root, label):
    """Returns the hdrs of the cc_library `label` ("//pkg:name"), read from
    its package's BUILD file, as paths from the root."""
    match = re.fullmatch(r"//([^:]*):(.+)", label)
    if not match:
        raise ExampleError("%s: write libraries as //package:name, not %r" %
                           (TEST_BUILD, label))
    package, name = match.groups()
    for call in build_calls(os.path.join(root, package, "BUILD")):
        if call.get("name") == name:
            hdrs = call.get("hdrs", [])
            if not isinstance(hdrs, list):
                raise ExampleError("%s: hdrs is not a list of strings" % label)
            return [os.path.join(package, h.lstrip(":")) for h in hdrs]
    raise ExampleError("%s: no such target in %s/BUILD" % (label, package))


def build_calls(path):
    """Returns the rule calls of a BUILD file as {attribute: value} dicts,
    keeping the values that are literals (strings, lists of strings)."""
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read(), path)
    calls = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        attrs = {"__rule__": getattr(node.func, "id", None)}
        for keyword in node.keywords:
            try:
                attrs[keyword.arg] = ast.literal_eval(keyword.value)
            except ValueError:
                attrs[keyword.arg] = None  # a select() or glob(): unknown
        calls.append(attrs)
    return calls


def test_libraries(root):
    """Returns (libs, pending_libs) of the header_examples_test calls in
    tests/examples/BUILD."""
    libs, pending = [], []
    for call in build_calls(os.path.join(root, TEST_BUILD)):
        if call["__rule__"] == TEST_MACRO:
            libs += call.get("libs") or []
            pending += call.get("pending_libs") or []
    return libs, pending


def scoped_headers(root):
    """Returns the headers the completeness check covers: tracked ones, and
    new ones not yet added (but not ignored)."""
    out = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard",
         "--", "*.h"],
        cwd=root, check=True, capture_output=True, text=True).stdout.split()
    return sorted(h for h in out if h.startswith(SCOPE_DIRS) and
                  not h.startswith(SCOPE_EXCLUDED_DIRS))


def check_tree(root):
    """The completeness check: returns the number of failed headers."""
    passed = failed = skipped = 0
    libs, pending_libs = test_libraries(root)
    tested, pending = {}, {}
    for label in libs:
        for header in library_headers(root, label):
            tested[header] = label
    for label in pending_libs:
        for header in library_headers(root, label):
            pending[header] = label
    for header in scoped_headers(root):
        with open(os.path.join(root, header), encoding="utf-8") as f:
            try:
                blocks = extract_blocks(header, f.read())
                problem = None if blocks else "no `// Example:` block"
            except ExampleError as e:
                problem = str(e)
        if header in tested and header in pending:
            problem = "%s is in both libs and pending_libs of %s" % (
                tested[header], TEST_BUILD)
        elif header not in tested and header not in pending:
            problem = ((problem + "; " if problem else "") +
                       "no library in the libs of %s has it in its hdrs" %
                       TEST_BUILD)
        elif header in pending:
            print("SKIP %s: pending (%s in pending_libs)%s" %
                  (header, pending[header], ": " + problem if problem else ""))
            skipped += 1
            continue
        if problem:
            print("FAIL %s: %s" % (header, problem))
            failed += 1
        else:
            passed += 1
    print("%d passed, %d failed, %d skipped" % (passed, failed, skipped))
    return failed


def main(argv):
    try:
        if len(argv) == 4 and argv[1] == "generate":
            generate(argv[2], argv[3])
            return 0
        if len(argv) >= 3 and argv[1] == "main":
            generate_main(argv[2], argv[3:])
            return 0
        if len(argv) in (2, 3) and argv[1] == "check-tree":
            root = argv[2] if len(argv) == 3 else os.getcwd()
            return 1 if check_tree(root) else 0
    except ExampleError as e:
        print(e, file=sys.stderr)
        return 1
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
