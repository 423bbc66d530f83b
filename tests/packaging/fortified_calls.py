#!/usr/bin/env python3
"""Usage: fortified_calls.py DEBUG_FILE BINARY

Prints the calls the project's own functions make to glibc's fortified
functions (__*_chk), one "COUNT CALLEE CALLER" line per pair. BINARY is a
stripped executable and DEBUG_FILE its separate debug file: the symbol table
comes from the debug file, the code from BINARY (objdump -d). The project's
functions are those in the foobar and sdfd namespaces, and main.

Calls to __*_chk come only from code compiled with -D_FORTIFY_SOURCE and
optimisation; glibc's and abseil's archives bring their own __*_chk symbols
into any static link, so finding the symbols proves nothing about how the
project's code was built. Its call sites do.
"""

import bisect
import re
import subprocess
import sys

CHK = re.compile(r"__\w+_chk")
# _ZN6foobar..., _ZNK4sdfd... (methods of const objects), and main.
PROJECT = re.compile(r"_ZNK?(6foobar|4sdfd)|main$")
# "  12c6:\tcall   0xc4500" (no symbols) or "call   8a40 <__read_chk@plt>".
CALL = re.compile(r"^\s*([0-9a-f]+):\s+call\s+(?:0x)?([0-9a-f]+)(?: <(\w+)@plt>)?")


def main():
    if len(sys.argv) != 3:
        print(__doc__.splitlines()[0], file=sys.stderr)
        return 2
    debug_file, binary = sys.argv[1:]
    nm = subprocess.run(["nm", "-S", debug_file], check=True,
                        capture_output=True, text=True).stdout
    chk = {}
    functions = []
    for line in nm.splitlines():
        fields = line.split()
        if len(fields) != 4 or fields[2] not in ("T", "t"):
            continue
        address, size, name = int(fields[0], 16), int(fields[1], 16), fields[3]
        if CHK.fullmatch(name):
            chk[address] = name
        if PROJECT.match(name):
            functions.append((address, address + size, name))
    functions.sort()
    starts = [f[0] for f in functions]

    code = subprocess.run(["objdump", "-d", "--no-show-raw-insn", binary],
                          check=True, capture_output=True, text=True).stdout
    calls = {}
    for line in code.splitlines():
        m = CALL.match(line)
        if not m:
            continue
        site, target = int(m.group(1), 16), int(m.group(2), 16)
        callee = chk.get(target) or m.group(3)
        if not callee or not CHK.fullmatch(callee):
            continue
        i = bisect.bisect_right(starts, site) - 1
        if i >= 0 and functions[i][0] <= site < functions[i][1]:
            key = (callee, functions[i][2])
            calls[key] = calls.get(key, 0) + 1
    for (callee, caller), count in sorted(calls.items()):
        print(count, callee, caller)
    return 0


if __name__ == "__main__":
    sys.exit(main())
