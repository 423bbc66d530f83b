"""Counts passed and failed test cases from Bazel's test.xml files.

Usage: bazel query 'tests(//...)' | python3 tools/junit_count.py TESTLOGS_DIR

Reads target labels on stdin and prints "PASSED FAILED SKIPPED". Each test
case in a target's JUnit XML counts once; a case with a <failure> or <error>
child is a failure, and one with a <skipped> child (GTEST_SKIP, for a check
this machine cannot make) is skipped, never passed. A target with no XML, or XML that does not parse, counts as one
failure, so a test that never ran is never silently a pass.
"""

import os
import sys
import xml.etree.ElementTree as ET


def count_target(testlogs, label):
    package, _, name = label.lstrip("/").partition(":")
    path = os.path.join(testlogs, package, name, "test.xml")
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as e:
        print(f"junit_count: {label}: no test results ({e})", file=sys.stderr)
        return 0, 1, 0
    passed = failed = skipped = 0
    for case in root.iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            failed += 1
        elif case.find("skipped") is not None or case.get("result") == "skipped":
            skipped += 1
        else:
            passed += 1
    if passed + failed + skipped == 0:
        # A target whose XML lists no case (or a top-level error) still ran
        # or failed as a whole.
        errors = sum(int(s.get("errors", 0)) + int(s.get("failures", 0))
                     for s in root.iter("testsuite"))
        return (0, 1, 0) if errors else (1, 0, 0)
    return passed, failed, skipped


def main():
    testlogs = sys.argv[1]
    passed = failed = skipped = 0
    for line in sys.stdin:
        label = line.strip()
        if label:
            p, f, s = count_target(testlogs, label)
            passed += p
            failed += f
            skipped += s
    print(passed, failed, skipped)


if __name__ == "__main__":
    main()
