#!/usr/bin/env bash
# Usage: hardening_test.sh FOOBAR.DEB FOOBAR-DBGSYM.DEB FOOBARD FOOBAR
# Proves the binaries in FOOBAR.DEB are the hardened release build, reading
# them and their debug files from FOOBAR-DBGSYM.DEB:
#   foobar (dynamic): hardening-check --nocfprotection passes (PIE, stack
#     protector, fortify, relro, bindnow);
#   foobard (static PIE, which bookworm's hardening-check cannot judge): ELF
#     type DYN without PT_INTERP, DF_1_PIE, BIND_NOW, PT_GNU_RELRO, and
#     __stack_chk_fail and fortified __*_chk functions in its debug file's
#     symbol table;
#   both: every compile unit of the project's own code was compiled with -O2,
#     -fstack-protector-strong and -fstack-clash-protection (the DW_AT_producer
#     gcc records), and the project's code calls __*_chk functions, which only
#     -D_FORTIFY_SOURCE with optimisation produces. These two catch what the
#     others cannot: glibc's and abseil's archives bring __stack_chk_fail and
#     __*_chk into any static link, and link flags do not say how the code was
#     compiled.
# Then it shows the checks can fail: FOOBARD and FOOBAR, the programs as this
# test's own configuration builds them (fastbuild under plain `bazel test`,
# ASan under --config=asan), must each fail at least one. Ends with
# "N passed, N failed".
set -euo pipefail

if (($# != 4)); then
  echo "usage: $0 FOOBAR.DEB FOOBAR-DBGSYM.DEB FOOBARD FOOBAR" >&2
  exit 2
fi
readonly deb=$1 dbgsym_deb=$2 config_foobard=$3 config_foobar=$4

tmp=$(mktemp -d "${TEST_TMPDIR:-/tmp}/hardening.XXXXXX")
trap 'rm -rf "${tmp}"' EXIT
root="${tmp}/root"
dpkg-deb -x "${deb}" "${root}"
dpkg-deb -x "${dbgsym_deb}" "${root}"

# shellcheck source=tests/lib/checks.sh
source tests/lib/checks.sh

# build_id ELF: prints the ELF's GNU build-id (hex), or nothing.
build_id() {
  local notes
  notes=$(readelf -n "$1")
  sed -n 's/^ *Build ID: *\([0-9a-f]*\)$/\1/p' <<<"${notes}"
}

# debug_file_of BINARY: the debug file gdb finds for BINARY by its build-id.
debug_file_of() {
  local id
  id=$(build_id "$1")
  echo "${root}/usr/lib/debug/.build-id/${id:0:2}/${id:2}.debug"
}

# Each property below takes BINARY DEBUG_FILE and fails with a reason.

elf_type_dyn() {
  local header
  header=$(readelf -h "$1")
  [[ "${header}" =~ Type:\ +DYN ]] || {
    echo "ELF type is not DYN: not position-independent"
    return 1
  }
}

no_interpreter() {
  local segments
  segments=$(readelf -lW "$1")
  if [[ "${segments}" == *INTERP* ]]; then
    echo "has a PT_INTERP: it is not a static PIE"
    return 1
  fi
}

df_1_pie() {
  local dynamic
  dynamic=$(readelf -d "$1")
  [[ "${dynamic}" =~ \(FLAGS_1\)\ +Flags:.*\ PIE ]] || {
    echo "DF_1_PIE is not set in DT_FLAGS_1"
    return 1
  }
}

bind_now() {
  local dynamic
  dynamic=$(readelf -d "$1")
  [[ "${dynamic}" =~ \(FLAGS\)\ +BIND_NOW ]] || {
    echo "DF_BIND_NOW is not set in DT_FLAGS: link with -z now"
    return 1
  }
}

gnu_relro() {
  local segments
  segments=$(readelf -lW "$1")
  [[ "${segments}" == *GNU_RELRO* ]] || {
    echo "no PT_GNU_RELRO segment: link with -z relro"
    return 1
  }
}

# defined_symbols DEBUG_FILE: the function names its symbol table defines.
defined_symbols() {
  local table
  table=$(nm "$1")
  awk '$2 ~ /^[Tt]$/ { print $3 }' <<<"${table}"
}

stack_chk_fail_in_symtab() {
  local symbols
  symbols=$(defined_symbols "$2")
  grep -qx '__stack_chk_fail' <<<"${symbols}" || {
    echo "__stack_chk_fail is not in $(basename "$2")'s symbol table"
    return 1
  }
}

fortified_functions_in_symtab() {
  local symbols chk
  symbols=$(defined_symbols "$2")
  chk=$(grep -E '^__[a-z0-9_]+_chk$' <<<"${symbols}" |
    grep -vxE '__stack_chk_fail|__chk_fail' || true)
  [[ -n "${chk}" ]] || {
    echo "no __*_chk function in $(basename "$2")'s symbol table"
    return 1
  }
  echo "${chk}" | paste -sd' ' -
}

hardening_check_passes() {
  # -c: Control flow integrity is left out on purpose (README); hardening-check
  # exits 1 when any other property is missing.
  hardening-check --nocfprotection "$1"
}

# last_flag_of_family FLAG PRODUCER: the last flag in PRODUCER (gcc's record
# of its command line) of FLAG's family: -O* for -O2, -f[no-]stack-protector*
# for -fstack-protector-strong, -f[no-]stack-clash-protection for itself.
last_flag_of_family() {
  local pattern word last=""
  case "$1" in
    -O*) pattern='^-O' ;;
    -fstack-protector*) pattern='^-f(no-)?stack-protector' ;;
    *) pattern="^-f(no-)?${1#-f}\$" ;;
  esac
  for word in $2; do
    [[ "${word}" =~ ${pattern} ]] && last=${word}
  done
  echo "${last}"
}

# Every compile unit of the project (daemon/, client/, sdfd/) in the debug
# information, with what gcc recorded of its command line.
release_compile_units() {
  local info units
  info=$(readelf --debug-dump=info --dwarf-depth=1 "$2" 2>/dev/null)
  units=$(awk '
    /DW_AT_producer/ { sub(/.*DW_AT_producer *: *(\(indirect string[^)]*\): *)?/, ""); producer = $0 }
    /DW_AT_name/ { sub(/.*DW_AT_name *: *(\(indirect[^)]*\): *)?/, ""); name = $0 }
    /Compilation Unit @/ { if (name != "") print name "\t" producer; name = ""; producer = "" }
    END { if (name != "") print name "\t" producer }' <<<"${info}" |
    grep -E '^(daemon|client|sdfd)/' || true)
  [[ -n "${units}" ]] || {
    echo "no compile unit of the project in the debug information: not built with -g"
    return 1
  }
  local bad=0 name producer want got
  while IFS=$'\t' read -r name producer; do
    # gcc obeys the last of each family of flags, so a later -O0 or
    # -fno-stack-protector (from --cxxopt, say) undoes an earlier release
    # flag: compare the last flag of each family, not mere presence.
    for want in -O2 -fstack-protector-strong -fstack-clash-protection; do
      got=$(last_flag_of_family "${want}" "${producer}")
      [[ "${got}" == "${want}" ]] || {
        echo "${name}: the effective flag is '${got}', want ${want}: ${producer}"
        bad=1
      }
    done
    if [[ "${producer}" == *-fsanitize* ]]; then
      echo "${name}: compiled with a sanitizer: ${producer}"
      bad=1
    fi
  done <<<"${units}"
  echo "$(wc -l <<<"${units}") compile units of the project checked"
  return "${bad}"
}

project_calls_fortified_functions() {
  local calls
  calls=$(python3 tests/packaging/fortified_calls.py "$2" "$1")
  [[ -n "${calls}" ]] || {
    echo "the project's own code calls no __*_chk function: not built with" \
      "-D_FORTIFY_SOURCE and optimisation"
    return 1
  }
  echo "${calls}"
}

readonly static_pie_properties=(elf_type_dyn no_interpreter df_1_pie bind_now
  gnu_relro stack_chk_fail_in_symtab fortified_functions_in_symtab
  release_compile_units project_calls_fortified_functions)
readonly dynamic_properties=(hardening_check_passes release_compile_units
  project_calls_fortified_functions)

# What each property's PASS or FAIL line says.
declare -A says=(
  [elf_type_dyn]="ELF type DYN (position-independent)"
  [no_interpreter]="no PT_INTERP (static)"
  [df_1_pie]="DF_1_PIE in DT_FLAGS_1"
  [bind_now]="BIND_NOW in DT_FLAGS (-z now)"
  [gnu_relro]="PT_GNU_RELRO (-z relro)"
  [stack_chk_fail_in_symtab]="__stack_chk_fail in its debug file's symbol table"
  [fortified_functions_in_symtab]="__*_chk functions in its debug file's symbol table"
  [hardening_check_passes]="hardening-check --nocfprotection passes"
  [release_compile_units]="the project's compile units have -O2 -fstack-protector-strong -fstack-clash-protection"
  [project_calls_fortified_functions]="the project's code calls __*_chk functions (_FORTIFY_SOURCE)"
)

foobard="${root}/usr/bin/foobard"
foobar="${root}/usr/bin/foobar"
for property in "${static_pie_properties[@]}"; do
  check "foobard: ${says[${property}]}" "${property}" "${foobard}" \
    "$(debug_file_of "${foobard}")"
done
for property in "${dynamic_properties[@]}"; do
  check "foobar: ${says[${property}]}" "${property}" "${foobar}" \
    "$(debug_file_of "${foobar}")"
done

# rejected WHAT BINARY PROPERTY...: splits BINARY as the package does, then
# passes only if at least one PROPERTY fails for it, and names those.
rejected() {
  local what=$1 binary=$2 name
  shift 2
  name=$(basename "${binary}")
  objcopy --only-keep-debug "${binary}" "${tmp}/${name}.debug"
  strip --strip-unneeded -o "${tmp}/${name}" "${binary}"
  local property failed=()
  for property in "$@"; do
    if ! "${property}" "${tmp}/${name}" "${tmp}/${name}.debug" >/dev/null 2>&1; then
      failed+=("${property}")
    fi
  done
  if ((${#failed[@]} > 0)); then
    pass "the checks reject ${what} as this configuration builds it (${failed[*]})"
  else
    fail "the checks reject ${what} as this configuration builds it" \
      "every check passed: is this configuration the release one?"
  fi
}
rejected foobard "${config_foobard}" "${static_pie_properties[@]}"
rejected foobar "${config_foobar}" "${dynamic_properties[@]}"

checks_summary
