#!/usr/bin/env bash
# Usage: dbgsym_test.sh FOOBAR.DEB FOOBAR-DBGSYM.DEB
# Checks the automatic debug package against the package it belongs to:
# its control fields (as dh_gencontrol writes them for a -dbgsym package),
# one debug file per binary at /usr/lib/debug/.build-id/xx/yyyy.debug named
# by that binary's build-id, which the shipped binary keeps, with its
# .gnu_debuglink; debug information and symbols in each debug file, and no
# build path in them. Then the point of it all: both packages are extracted
# into one directory, foobard from it is started, stopped by a SIGABRT under
# gdb and its core written (gdb's generate-core-file: the kernel's core_pattern
# is the host's, not ours to change), and gdb, with its debug-file-directory
# pointed into the extracted tree, must symbolise that core to function names
# and source file:line; without the debug files, it must not. Ends with
# "N passed, N failed".
set -euo pipefail

if (($# != 2)); then
  echo "usage: $0 FOOBAR.DEB FOOBAR-DBGSYM.DEB" >&2
  exit 2
fi
readonly deb=$1 dbgsym_deb=$2

tmp=$(mktemp -d "${TEST_TMPDIR:-/tmp}/dbgsym.XXXXXX")
# The socket's own directory: a unix socket path has at most 107 bytes, and
# TEST_TMPDIR under Bazel's sandbox is longer.
sockets=$(mktemp -d /tmp/dbgsym.XXXXXX)
foobard_pid=""
cleanup() {
  if [[ -n "${foobard_pid}" ]]; then
    kill -KILL "${foobard_pid}" 2>/dev/null || true
    wait "${foobard_pid}" 2>/dev/null || true
  fi
  rm -rf "${tmp}" "${sockets}"
}
trap cleanup EXIT
root="${tmp}/root"
dpkg-deb -x "${deb}" "${root}"
dpkg-deb -x "${dbgsym_deb}" "${root}"
dpkg-deb -e "${dbgsym_deb}" "${tmp}/control"
version=$(dpkg-deb -f "${deb}" Version)
readonly binaries=(usr/bin/foobar usr/bin/foobard)

# shellcheck source=tests/lib/checks.sh
source tests/lib/checks.sh

# build_id ELF: prints the ELF's GNU build-id (hex), or nothing.
build_id() {
  local notes
  notes=$(readelf -n "$1")
  sed -n 's/^ *Build ID: *\([0-9a-f]*\)$/\1/p' <<<"${notes}"
}

# debug_path BINARY: where the debug file of the extracted BINARY lies.
debug_path() {
  local id
  id=$(build_id "${root}/$1")
  echo "usr/lib/debug/.build-id/${id:0:2}/${id:2}.debug"
}

file_name_has_version() {
  [[ "$(basename "${dbgsym_deb}")" == "foobar-dbgsym_${version}_amd64.deb" ]] || {
    echo "$(basename "${dbgsym_deb}") is not foobar-dbgsym_${version}_amd64.deb"
    return 1
  }
}

binaries_keep_build_ids() {
  local bin bad=0
  for bin in "${binaries[@]}"; do
    if [[ ! "$(build_id "${root}/${bin}")" =~ ^[0-9a-f]{40}$ ]]; then
      echo "${bin} has no 160-bit build-id note"
      bad=1
    fi
  done
  return "${bad}"
}

exact_control() {
  local ids
  ids=$(for bin in "${binaries[@]}"; do build_id "${root}/${bin}"; done |
    LC_ALL=C sort | paste -sd' ' -)
  local size
  size=$(sed -n 's/^Installed-Size: //p' "${tmp}/control/control")
  diff -u - "${tmp}/control/control" <<CONTROL
Package: foobar-dbgsym
Source: foobar
Version: ${version}
Auto-Built-Package: debug-symbols
Architecture: amd64
Maintainer: $(dpkg-deb -f "${deb}" Maintainer)
Installed-Size: ${size}
Depends: foobar (= ${version})
Section: debug
Priority: optional
Description: debug symbols for foobar
Build-Ids: ${ids}
CONTROL
}

exact_file_list() {
  local expected
  expected=$({
    echo "./usr/share/doc/foobar-dbgsym -> foobar"
    local bin dir
    for bin in "${binaries[@]}"; do
      echo "./$(debug_path "${bin}")"
      dir=$(dirname "$(debug_path "${bin}")")
      echo "./${dir}/"
    done
    echo "./"
    echo "./usr/"
    echo "./usr/lib/"
    echo "./usr/lib/debug/"
    echo "./usr/lib/debug/.build-id/"
    echo "./usr/share/"
    echo "./usr/share/doc/"
  } | LC_ALL=C sort)
  local actual listing
  listing=$(dpkg-deb -c "${dbgsym_deb}")
  actual=$(awk '$2 == "root/root" { $1 = $2 = $3 = $4 = $5 = ""; sub(/^ +/, ""); print }' \
    <<<"${listing}" | LC_ALL=C sort)
  diff -u <(echo "${expected}") <(echo "${actual}")
}

md5sums_cover_every_file() {
  (cd "${root}" && md5sum --quiet -c "${tmp}/control/md5sums")
  diff -u <(for bin in "${binaries[@]}"; do debug_path "${bin}"; done | LC_ALL=C sort) \
    <(awk '{ print $2 }' "${tmp}/control/md5sums")
}

debug_files_hold_debug_info() {
  local bin debug sections bad=0
  for bin in "${binaries[@]}"; do
    debug="${root}/$(debug_path "${bin}")"
    sections=$(readelf -SW "${debug}")
    local section
    for section in .symtab .debug_info .debug_line; do
      [[ "${sections}" == *" ${section} "* ]] || {
        echo "${debug#"${root}"/} has no ${section}"
        bad=1
      }
    done
    [[ "$(build_id "${debug}")" == "$(build_id "${root}/${bin}")" ]] || {
      echo "${debug#"${root}"/}: build-id differs from ${bin}'s"
      bad=1
    }
  done
  return "${bad}"
}

binaries_link_their_debug_files() {
  local bin link bad=0
  for bin in "${binaries[@]}"; do
    link=$(readelf --string-dump=.gnu_debuglink "${root}/${bin}" 2>&1)
    [[ "${link}" == *" $(basename "$(debug_path "${bin}")")"* ]] || {
      echo "${bin}: .gnu_debuglink does not name its debug file: ${link}"
      bad=1
    }
  done
  return "${bad}"
}

no_build_paths() {
  # The debug sections are compressed: look at them decompressed.
  local bin plain bad=0
  for bin in "${binaries[@]}"; do
    plain="${tmp}/plain.debug"
    objcopy --decompress-debug-sections "${root}/$(debug_path "${bin}")" "${plain}"
    if grep -a -o -E '[^ ]*(/\.cache/bazel|/execroot/|processwrapper-sandbox|/tmp/tmp\.)[^ ]*' \
      "${plain}" | sort -u | head; then
      echo "build paths in the debug file of ${bin}"
      bad=1
    fi
  done
  return "${bad}"
}

# core_of_aborted_foobard CORE: starts the extracted foobard, waits until it
# serves (its start line, then one echo through the extracted foobar), then
# under gdb sends it SIGABRT, writes the core when the signal arrives, and
# kills it before the signal is delivered, so that no kernel core is made.
core_of_aborted_foobard() {
  local core=$1 socket="${sockets}/foobar.sk" log="${tmp}/foobard.log"
  mkfifo "${log}"
  "${root}/usr/bin/foobard" --listen="unix:${socket}" 2>"${log}" &
  foobard_pid=$!
  local started
  exec 3<"${log}"
  IFS= read -r started <&3
  echo "foobard: ${started}"
  local echoed
  echoed=$("${root}/usr/bin/foobar" --connect="${socket}" --message=hi)
  [[ "${echoed}" == hi ]] || {
    echo "foobar printed '${echoed}', not hi"
    return 1
  }
  gdb -nx -batch -p "${foobard_pid}" \
    -ex "shell kill -ABRT ${foobard_pid}" \
    -ex continue \
    -ex "generate-core-file ${core}" \
    -ex kill 2>&1
  wait "${foobard_pid}" 2>/dev/null || true
  foobard_pid=""
  exec 3<&-
  [[ -s "${core}" ]]
}

# backtrace DEBUG_DIR CORE: gdb's backtrace of CORE with DEBUG_DIR as its
# debug-file-directory.
backtrace() {
  gdb -nx -batch -iex "set debug-file-directory $1" \
    -ex "bt" "${root}/usr/bin/foobard" "$2" 2>&1
}

core_symbolises() {
  local bt
  bt=$(backtrace "${root}/usr/lib/debug" "${tmp}/core")
  echo "${bt}"
  # -O2 code: main() tail-calls Main() and leaves no frame, and Main()'s line
  # may be that of an inlined header function.
  local want bad=0
  for want in \
    'Program terminated with signal SIGABRT' \
    '^#[0-9]+ +0x[0-9a-f]+ in foobard::Server::Run \(this=0x[0-9a-f]+\) at daemon/server\.cc:[0-9]+$' \
    '^#[0-9]+ +0x[0-9a-f]+ in foobard::Main \(argc=.*, argv=.*\) at [^ ]+:[0-9]+$'; do
    grep -qE "${want}" <<<"${bt}" || {
      echo "no line matches: ${want}"
      bad=1
    }
  done
  return "${bad}"
}

core_does_not_symbolise_without_dbgsym() {
  local bt
  bt=$(backtrace "${tmp}/nowhere" "${tmp}/core")
  echo "${bt}"
  if grep -E ' at [a-z/_]+\.cc:[0-9]+|foobard::Main' <<<"${bt}"; then
    echo "symbolised without the debug files: the test proves nothing"
    return 1
  fi
}

check "file name is foobar-dbgsym_${version}_amd64.deb" file_name_has_version
check "shipped binaries keep their build-id notes" binaries_keep_build_ids
check "control fields of an automatic debug package, Build-Ids: of both binaries" \
  exact_control
check "exact file list: one .build-id/xx/yyyy.debug per binary" exact_file_list
check "DEBIAN/md5sums lists and matches every file" md5sums_cover_every_file
check "debug files hold symbols, DWARF and the binaries' build-ids" \
  debug_files_hold_debug_info
check "binaries' .gnu_debuglink names their debug files" \
  binaries_link_their_debug_files
check "no build path in the debug files" no_build_paths
if check "gdb writes the core of foobard stopped by SIGABRT" \
  core_of_aborted_foobard "${tmp}/core"; then
  check "the core symbolises to functions and file:line with foobar-dbgsym" \
    core_symbolises
  check "without foobar-dbgsym it does not" core_does_not_symbolise_without_dbgsym
else
  fail "the core symbolises to functions and file:line (no core)"
  fail "without foobar-dbgsym it does not (no core)"
fi

checks_summary
