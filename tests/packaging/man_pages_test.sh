#!/usr/bin/env bash
# Usage: man_pages_test.sh FOOBAR.DEB
# Checks the man pages FOOBAR.DEB installs against the programs it installs:
# every flag that `foobar --help` and `foobard --help` mention (every --name
# in their output) appears in foobar(1) and foobard(8) respectively, so the
# pages cannot drift from the programs; man renders both without a warning;
# and foobar(1) has the sections a user looks for. Ends with
# "N passed, N failed".
set -euo pipefail

if (($# != 1)); then
  echo "usage: $0 FOOBAR.DEB" >&2
  exit 2
fi
readonly deb=$1

tmp=$(mktemp -d "${TEST_TMPDIR:-/tmp}/man.XXXXXX")
trap 'rm -rf "${tmp}"' EXIT
root="${tmp}/root"
dpkg-deb -x "${deb}" "${root}"

# shellcheck source=tests/lib/checks.sh
source tests/lib/checks.sh

# help_flags PROGRAM: the flags PROGRAM's --help mentions, one a line.
help_flags() {
  local help
  help=$("${root}/usr/bin/$1" --help)
  grep -oE -- '--[a-z][a-z0-9_]*' <<<"${help}" | LC_ALL=C sort -u
}

# page_text PAGE: the roff source of the installed PAGE with the escapes a
# flag is written with undone: \- is -, font changes vanish.
page_text() {
  zcat "${root}/usr/share/man/$1" | sed -E 's/\\-/-/g; s/\\f(\[[A-Z]*\]|\(..|.)//g'
}

# documents_every_flag PROGRAM PAGE
documents_every_flag() {
  local flags text flag missing=()
  flags=$(help_flags "$1")
  [[ -n "${flags}" ]] || {
    echo "$1 --help lists no flag"
    return 1
  }
  text=$(page_text "$2")
  while read -r flag; do
    # The flag, not a longer one it begins (--help in --helpfull).
    grep -qE -- "${flag}([^a-z0-9_]|$)" <<<"${text}" || missing+=("${flag}")
  done <<<"${flags}"
  if ((${#missing[@]} > 0)); then
    echo "$1 --help lists, $2 does not document: ${missing[*]}"
    return 1
  fi
  echo "$(wc -l <<<"${flags}") flags: $(paste -sd' ' - <<<"${flags}")"
}

# renders_cleanly PAGE: as lintian checks it (groff-message).
renders_cleanly() {
  local warnings
  warnings=$(LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 \
    man --warnings -E UTF-8 -l -Tutf8 -Z "${root}/usr/share/man/$1" 2>&1 >/dev/null)
  [[ -z "${warnings}" ]] || {
    echo "${warnings}"
    return 1
  }
}

# has_sections PAGE SECTION...
has_sections() {
  local page=$1 text section missing=()
  shift
  text=$(zcat "${root}/usr/share/man/${page}")
  for section in "$@"; do
    grep -qx "\.SH \"\?${section}\"\?" <<<"${text}" || missing+=("${section}")
  done
  if ((${#missing[@]} > 0)); then
    echo "${page} lacks: ${missing[*]}"
    return 1
  fi
}

mentions() {
  local page=$1 text word
  shift
  text=$(page_text "${page}")
  for word in "$@"; do
    grep -qF -- "${word}" <<<"${text}" || {
      echo "${page} does not mention ${word}"
      return 1
    }
  done
}

check "foobar(1) documents every flag foobar --help lists" \
  documents_every_flag foobar man1/foobar.1.gz
check "foobard(8) documents every flag foobard --help lists" \
  documents_every_flag foobard man8/foobard.8.gz
check "foobar(1) renders without warnings" renders_cleanly man1/foobar.1.gz
check "foobard(8) renders without warnings" renders_cleanly man8/foobard.8.gz
check "foobar(1) has the sections of a full manual page" \
  has_sections man1/foobar.1.gz NAME SYNOPSIS DESCRIPTION MODES OPTIONS \
  ENVIRONMENT "EXIT STATUS" DIAGNOSTICS EXAMPLES "SEE ALSO"
check "foobar(1) explains FOOBAR_SOCKET and the default socket" \
  mentions man1/foobar.1.gz FOOBAR_SOCKET unix:/run/foobar.sk

checks_summary
