"""Tests of bazel/header_examples.py: fixture headers in, exact errors out.

Run by `bazel test //tests/examples/...`, or as
`python3 tests/examples/header_examples_tool_test.py` from the root.

Each bad fixture is one way an example could slip past the examples test;
the test asserts the exact message, so a check that stops firing fails here.
"""

import os
import subprocess
import sys
import tempfile
import unittest

# The repository root, or the runfiles' root under Bazel: this file is in
# tests/examples/.
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "bazel"))
import header_examples  # pylint: disable=wrong-import-position

TOOL = os.path.join(ROOT, "bazel", "header_examples.py")

GOOD = """\
// daemon/good.h: a header that follows the convention.
//
// Example:
//
//   int fds[2];
//   if (::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0) return 1;
//
//   // A comment inside is fine, beside code.
//   ::close(fds[0]);
#ifndef DAEMON_GOOD_H_
"""

COMMENT_ONLY = """\
// daemon/comments.h: an example that compiles to nothing.
//
// Example:
//   // Call Frobnicate() with the socket, then check its status.
//   // It returns 0.
#ifndef DAEMON_COMMENTS_H_
"""

MALFORMED = """\
// daemon/malformed.h: a block the extractor used to skip.
//
// Example (x):
//   return Frobnicate();
#ifndef DAEMON_MALFORMED_H_
"""

NO_COLON = """\
// daemon/nocolon.h
//
// Example
//   return Frobnicate();
"""

TWO_SPACES = """\
// daemon/twospaces.h
//
// Example:
//
//  return Frobnicate();
"""

TWO_SPACES_LATER = """\
// daemon/twospaceslater.h
//
// Example:
//   int x = 1;
//  return Frobnicate(x);
"""

MISSING = """\
// daemon/missing.h: no example at all.
#ifndef DAEMON_MISSING_H_
"""


class ExtractBlocksTest(unittest.TestCase):

    def test_good_block_is_extracted_with_columns_kept(self):
        blocks = header_examples.extract_blocks("daemon/good.h", GOOD)
        self.assertEqual(blocks, [(5, [
            "     int fds[2];",
            "     if (::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0) "
            "return 1;",
            "",
            "     // A comment inside is fine, beside code.",
            "     ::close(fds[0]);",
        ])])

    def assertRejected(self, text, path, message):
        with self.assertRaises(header_examples.ExampleError) as caught:
            header_examples.extract_blocks(path, text)
        self.assertEqual(str(caught.exception), message)

    def test_comment_only_block_is_rejected(self):
        self.assertRejected(
            COMMENT_ONLY, "daemon/comments.h",
            "daemon/comments.h:3: the example holds only comments: it needs "
            "at least one line of code")

    def test_example_line_with_words_is_rejected(self):
        self.assertRejected(
            MALFORMED, "daemon/malformed.h",
            "daemon/malformed.h:3: '// Example (x):' is not an example "
            "block: write exactly `// Example:` at the start of the line")

    def test_example_line_without_colon_is_rejected(self):
        self.assertRejected(
            NO_COLON, "daemon/nocolon.h",
            "daemon/nocolon.h:3: '// Example' is not an example block: "
            "write exactly `// Example:` at the start of the line")

    def test_indented_or_trailing_space_example_line_is_rejected(self):
        self.assertRejected(
            "  // Example:\n//   f();\n", "x.h",
            "x.h:1: '  // Example:' is not an example block: write exactly "
            "`// Example:` at the start of the line")
        self.assertRejected(
            "// Example: \n//   f();\n", "x.h",
            "x.h:1: '// Example: ' is not an example block: write exactly "
            "`// Example:` at the start of the line")

    def test_two_space_first_code_line_is_rejected(self):
        self.assertRejected(
            TWO_SPACES, "daemon/twospaces.h",
            "daemon/twospaces.h:3: `// Example:` is not followed by a code "
            "line starting with `//   `")

    def test_two_space_later_code_line_is_rejected(self):
        self.assertRejected(
            TWO_SPACES_LATER, "daemon/twospaceslater.h",
            "daemon/twospaceslater.h:5: a code line of the example at line 3 "
            "starts with `//  ` (two spaces), not `//   `")

    def test_example_at_end_of_file_is_rejected(self):
        self.assertRejected(
            "// x.h\n// Example:\n//", "x.h",
            "x.h:2: `// Example:` is not followed by a code line starting "
            "with `//   `")

    def test_missing_block_is_no_blocks(self):
        self.assertEqual(
            header_examples.extract_blocks("daemon/missing.h", MISSING), [])


class CommandLineTest(unittest.TestCase):
    """The tool as Bazel and tests/lint/run call it."""

    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.root = self.dir.name

    def tearDown(self):
        self.dir.cleanup()

    def write(self, path, text):
        full = os.path.join(self.root, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w", encoding="utf-8") as f:
            f.write(text)
        return full

    def run_tool(self, *args):
        return subprocess.run([sys.executable, TOOL] + list(args),
                              cwd=self.root, capture_output=True, text=True)

    def test_generate_writes_one_function_per_block(self):
        self.write("daemon/good.h", GOOD)
        result = self.run_tool("generate", "daemon/good.h", "out.cc")
        self.assertEqual((result.returncode, result.stderr), (0, ""))
        with open(os.path.join(self.root, "out.cc"), encoding="utf-8") as f:
            cc = f.read()
        self.assertIn('#include "daemon/good.h"\n', cc)
        self.assertIn('int Example1() {\n#line 5 "daemon/good.h"\n'
                      "     int fds[2];\n", cc)
        self.assertIn("int (*const examples_daemon_good_h_linked[1])() = "
                      "{&examples_daemon_good_h::Example1};", cc)

    def test_generate_fails_on_each_bad_header(self):
        for path, text, message in [
            ("daemon/comments.h", COMMENT_ONLY,
             "daemon/comments.h:3: the example holds only comments: it "
             "needs at least one line of code\n"),
            ("daemon/malformed.h", MALFORMED,
             "daemon/malformed.h:3: '// Example (x):' is not an example "
             "block: write exactly `// Example:` at the start of the line\n"),
            ("daemon/missing.h", MISSING,
             "daemon/missing.h: no `// Example:` block (see "
             "bazel/header_examples.py)\n"),
        ]:
            with self.subTest(path=path):
                self.write(path, text)
                result = self.run_tool("generate", path, "out.cc")
                self.assertEqual((result.returncode, result.stderr),
                                 (1, message))

    def test_main_runs_no_example_and_says_so(self):
        self.write("daemon/good.h", GOOD)
        result = self.run_tool("main", "main.cc", "daemon/good.h")
        self.assertEqual(result.returncode, 0)
        with open(os.path.join(self.root, "main.cc"), encoding="utf-8") as f:
            cc = f.read()
        self.assertNotIn("Example1()", cc)  # nothing is called
        self.assertIn('Keep("daemon/good.h", examples_daemon_good_h_linked, '
                      "1);", cc)
        self.assertIn("1 examples of 1 headers compiled and linked; none is "
                      "run", cc)

    def test_check_tree_reports_each_bad_header(self):
        self.write("daemon/good.h", GOOD)
        self.write("daemon/comments.h", COMMENT_ONLY)
        self.write("daemon/malformed.h", MALFORMED)
        self.write("daemon/missing.h", MISSING)
        self.write("daemon/unlisted.h", GOOD)
        self.write("daemon/internal.h", MISSING)  # git-ignored: not checked
        self.write("daemon/BUILD", "\n".join(
            'cc_library(name = "%s", hdrs = ["%s.h"])' % (n, n)
            for n in ("good", "comments", "malformed", "missing")) + "\n")
        self.write("tests/examples/BUILD",
                   'header_examples_test(\n    name = "t",\n    libs = [\n' +
                   "".join('        "//daemon:%s",\n' % n
                           for n in ("good", "comments", "malformed",
                                     "missing")) + "    ],\n)\n")
        subprocess.run(["git", "init", "-q"], cwd=self.root, check=True)
        with open(os.path.join(self.root, ".gitignore"), "w") as f:
            f.write("internal.h\n")
        result = self.run_tool("check-tree")
        self.assertEqual(result.returncode, 1)
        self.assertEqual(result.stdout.splitlines(), [
            "FAIL daemon/comments.h: daemon/comments.h:3: the example holds "
            "only comments: it needs at least one line of code",
            "FAIL daemon/malformed.h: daemon/malformed.h:3: '// Example (x):' "
            "is not an example block: write exactly `// Example:` at the "
            "start of the line",
            "FAIL daemon/missing.h: no `// Example:` block",
            "FAIL daemon/unlisted.h: no library in the libs of "
            "tests/examples/BUILD has it in its hdrs",
            "1 passed, 4 failed, 0 skipped",
        ])


if __name__ == "__main__":
    unittest.main()
