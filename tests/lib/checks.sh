# shellcheck shell=bash
# tests/lib/checks.sh: PASS/FAIL bookkeeping shared by the project's shell
# test suites, so every suite reports the same way and ends with the line
# tools/test and CI read: "N passed, N failed, N skipped".
#
# Source it from the repository root (Bazel sh_tests run there too, in their
# runfiles), then:
#   check "socket is listening" test -S /run/foobar.sk   # runs a command
#   pass "built"; fail "lintian" "first line of details" # or report directly
#   skip "vsock send" "no local CID here"                # cannot run here
#   checks_summary                                       # last line; status
# A failed check prints the command's output indented under its FAIL line.

checks_passed=0
checks_failed=0
checks_skipped=0

# pass NAME: records and prints one passed check.
pass() {
  echo "PASS $1"
  checks_passed=$((checks_passed + 1))
}

# fail NAME [DETAIL...]: records and prints one failed check, with each
# DETAIL on its own indented line.
fail() {
  echo "FAIL $1"
  shift
  if (($# > 0)); then
    printf '    %s\n' "$@"
  fi
  checks_failed=$((checks_failed + 1))
}

# skip NAME REASON: records a check this machine cannot make. It is counted
# apart, never as passed.
skip() {
  echo "SKIP $1: $2"
  checks_skipped=$((checks_skipped + 1))
}

# check NAME COMMAND...: runs COMMAND as one check; on failure its combined
# output follows the FAIL line.
check() {
  local name=$1
  shift
  local out
  if out=$("$@" 2>&1); then
    pass "${name}"
  else
    local lines=()
    if [[ -n "${out}" ]]; then
      mapfile -t lines <<<"${out}"
    fi
    fail "${name}" "${lines[@]}"
  fi
}

# checks_summary: prints "N passed, N failed, N skipped" and returns 0 only
# when no check failed, so a suite can end with it.
checks_summary() {
  echo "${checks_passed} passed, ${checks_failed} failed, ${checks_skipped} skipped"
  ((checks_failed == 0))
}
