#!/usr/bin/env bash
# Usage: deb_contents_test.sh FOOBAR.DEB
# Checks what //packaging:foobar_deb contains, without installing it: the exact
# file list with owners and modes, every mtime equal to the changelog's date,
# DEBIAN/md5sums, stripped binaries, Depends: matching exactly the packages of
# the libraries the binaries load, foobard linked as a static PIE (the package
# is a release build under every configuration), Static-Built-Using: naming
# the exact sources of what is linked statically, gzip -n headers, control
# fields, maintainer scripts that drive systemd only through
# deb-systemd-helper/-invoke, and no build path anywhere. Ends with
# "N passed, N failed".
set -euo pipefail

if (($# != 1)); then
  echo "usage: $0 FOOBAR.DEB" >&2
  exit 2
fi
readonly deb=$1

tmp=$(mktemp -d "${TEST_TMPDIR:-/tmp}/deb.XXXXXX")
trap 'rm -rf "${tmp}"' EXIT
root="${tmp}/root"
control="${tmp}/control"
dpkg-deb -x "${deb}" "${root}"
dpkg-deb -e "${deb}" "${control}"
changelog="${tmp}/changelog"
zcat "${root}/usr/share/doc/foobar/changelog.Debian.gz" >"${changelog}"
version=$(dpkg-parsechangelog -l "${changelog}" -S Version)
timestamp=$(dpkg-parsechangelog -l "${changelog}" -S Timestamp)
readonly binaries=(usr/bin/foobar usr/bin/foobard)

# shellcheck source=tests/lib/checks.sh
source tests/lib/checks.sh

file_name_has_version() {
  [[ "$(basename "${deb}")" == "foobar_${version}_amd64.deb" ]] || {
    echo "$(basename "${deb}") is not foobar_${version}_amd64.deb"
    return 1
  }
}

exact_file_list() {
  local expected="${tmp}/expected" actual="${tmp}/actual"
  cat >"${expected}" <<'LIST'
drwxr-xr-x root/root ./
drwxr-xr-x root/root ./lib/
drwxr-xr-x root/root ./lib/systemd/
drwxr-xr-x root/root ./lib/systemd/system/
-rw-r--r-- root/root ./lib/systemd/system/foobar-inetd.socket
-rw-r--r-- root/root ./lib/systemd/system/foobar-inetd@.service
-rw-r--r-- root/root ./lib/systemd/system/foobar.service
-rw-r--r-- root/root ./lib/systemd/system/foobar.socket
drwxr-xr-x root/root ./usr/
drwxr-xr-x root/root ./usr/bin/
-rwxr-xr-x root/root ./usr/bin/foobar
-rwxr-xr-x root/root ./usr/bin/foobard
drwxr-xr-x root/root ./usr/lib/
drwxr-xr-x root/root ./usr/lib/sysusers.d/
-rw-r--r-- root/root ./usr/lib/sysusers.d/foobar.conf
drwxr-xr-x root/root ./usr/share/
drwxr-xr-x root/root ./usr/share/doc/
drwxr-xr-x root/root ./usr/share/doc/foobar/
-rw-r--r-- root/root ./usr/share/doc/foobar/changelog.Debian.gz
-rw-r--r-- root/root ./usr/share/doc/foobar/copyright
drwxr-xr-x root/root ./usr/share/lintian/
drwxr-xr-x root/root ./usr/share/lintian/overrides/
-rw-r--r-- root/root ./usr/share/lintian/overrides/foobar
drwxr-xr-x root/root ./usr/share/man/
drwxr-xr-x root/root ./usr/share/man/man1/
-rw-r--r-- root/root ./usr/share/man/man1/foobar.1.gz
drwxr-xr-x root/root ./usr/share/man/man8/
-rw-r--r-- root/root ./usr/share/man/man8/foobard.8.gz
LIST
  dpkg-deb -c "${deb}" | awk '{ print $1, $2, $6 }' >"${actual}"
  diff -u "${expected}" "${actual}"
}

every_mtime_is_changelog_date() {
  local want
  want=$(date -u -d "@${timestamp}" '+%Y-%m-%d %H:%M')
  # dpkg-deb -c prints times in the local zone.
  TZ=UTC dpkg-deb -c "${deb}" | awk -v want="${want}" '
    $4 " " $5 != want { print "mtime " $4 " " $5 " != " want ": " $6; bad = 1 }
    END { exit bad }'
}

md5sums_cover_every_file() {
  (cd "${root}" && md5sum --quiet -c "${control}/md5sums")
  diff -u <(cd "${root}" && find . -type f -printf '%P\n' | LC_ALL=C sort) \
    <(awk '{ print $2 }' "${control}/md5sums")
}

binaries_are_stripped() {
  local bin bad=0
  for bin in "${binaries[@]}"; do
    if readelf -S -W "${root}/${bin}" | grep -E '\.(symtab|debug_[a-z]+|comment) '; then
      echo "${bin} is not stripped"
      bad=1
    fi
  done
  return "${bad}"
}

# package_of PATH: prints the package that ships PATH. dpkg knows a file by
# the path its package ships it at, which on a merged-/usr system may be PATH
# with or without its /usr.
package_of() {
  local candidate
  for candidate in "$1" "${1#/usr}" "/usr$1"; do
    dpkg -S "${candidate}" 2>/dev/null | cut -d: -f1 && return 0
  done
  return 1
}

# Every library a binary loads must be in Depends: through its package, and
# Depends: must hold nothing else: it is computed, never written by hand.
depends_match_needed_libraries() {
  local depends bin lib path
  depends=$(sed -n 's/^Depends: //p' "${control}/control")
  echo "Depends: ${depends}"
  local -A wanted=()
  for bin in "${binaries[@]}"; do
    while read -r lib; do
      path=$(ldconfig -p | awk -v l="${lib}" '$1 == l && /x86-64/ { print $NF; exit }')
      [[ -n "${path}" ]] || {
        echo "${bin}: cannot find ${lib}"
        return 1
      }
      local real pkg
      real=$(readlink -f "${path}")
      pkg=$(package_of "${real}") || {
        echo "${bin}: no package ships ${real}"
        return 1
      }
      wanted["${pkg}"]=1
    done < <(readelf -d "${root}/${bin}" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
  done
  local got
  got=$(tr ',' '\n' <<<"${depends}" | awk '{ print $1 }' | LC_ALL=C sort)
  diff -u <(printf '%s\n' "${!wanted[@]}" | LC_ALL=C sort) <(echo "${got}")
}

# foobard is linked as a static PIE (daemon/BUILD): position-independent, so
# ASLR still applies, with no interpreter and no shared library. The package
# holds the release build whatever the configuration, so even under
# --config=asan (where //daemon:foobard itself is dynamic) it is static.
foobard_is_static_pie() {
  local elf="${root}/usr/bin/foobard" header segments dynamic
  # Captured whole: `readelf | grep -q` under pipefail fails when grep stops
  # reading early.
  header=$(readelf -h "${elf}")
  segments=$(readelf -lW "${elf}")
  dynamic=$(readelf -d "${elf}")
  [[ "${header}" =~ Type:\ +DYN ]] || {
    echo "foobard is not position-independent (ELF type is not DYN)"
    return 1
  }
  if [[ "${segments}" == *INTERP* ]]; then
    echo "foobard has a program interpreter: it is dynamically linked"
    return 1
  fi
  if [[ "${dynamic}" == *"(NEEDED)"* ]]; then
    echo "foobard needs shared libraries:"
    grep NEEDED <<<"${dynamic}"
    return 1
  fi
}

# Static-Built-Using: must name the source package, at the installed version,
# of every static archive the binaries link: glibc, libstdc++ and libgcc in
# foobard, abseil in both. The archives are found the way the compiler finds
# them, not from the packaging rule's list.
static_built_using_names_linked_archives() {
  local archive path pkg src
  local -a expected=()
  for archive in libc.a libstdc++.a libgcc.a libabsl_base.a; do
    case "${archive}" in
      libabsl_*) path="$(pkg-config --variable=libdir absl_base)/${archive}" ;;
      *) path=$(readlink -f "$(gcc -print-file-name="${archive}")") ;;
    esac
    pkg=$(package_of "${path}") || {
      echo "no package ships ${archive} (${path})"
      return 1
    }
    src=$(dpkg-query -W -f='${source:Package} (= ${source:Version})' "${pkg}")
    expected+=("${src}")
  done
  local got want
  got=$(sed -n 's/^Static-Built-Using: //p' "${control}/control")
  want=$(printf '%s\n' "${expected[@]}" | LC_ALL=C sort -u | paste -sd, - | sed 's/,/, /g')
  echo "Static-Built-Using: ${got}"
  [[ "${got}" == "${want}" ]] || {
    echo "expected Static-Built-Using: ${want}"
    return 1
  }
}

control_fields() {
  local want
  local maintainer
  maintainer=$(dpkg-parsechangelog -l "${changelog}" -S Maintainer)
  for want in "Package: foobar" "Version: ${version}" "Architecture: amd64" \
    "Maintainer: ${maintainer}"; do
    grep -qx "${want}" "${control}/control" || {
      echo "control lacks '${want}'"
      return 1
    }
  done
  grep -qE '^Installed-Size: [0-9]+$' "${control}/control" || {
    echo "control lacks a numeric Installed-Size"
    return 1
  }
}

# gzip -n: no file name (FLG bit 3) and a zero MTIME in the header, so the
# compressed bytes do not depend on when or from where they were built.
gzip_headers_have_no_name_or_time() {
  local f bad=0
  for f in usr/share/doc/foobar/changelog.Debian.gz usr/share/man/man1/foobar.1.gz \
    usr/share/man/man8/foobard.8.gz; do
    local header
    header=$(od -An -tx1 -N8 "${root}/${f}" | tr -d ' \n')
    if [[ "${header:6:2}" != 00 || "${header:8:8}" != 00000000 ]]; then
      echo "${f}: gzip header ${header} has a name or a time"
      bad=1
    fi
    # Counted whole: `zcat | grep -q` under pipefail fails when grep stops
    # reading a long file early.
    if (($(zcat "${root}/${f}" | wc -c) == 0)); then
      echo "${f} is empty"
      bad=1
    fi
  done
  return "${bad}"
}

maintainer_scripts_use_deb_systemd_tools() {
  local script bad=0
  for script in postinst prerm postrm; do
    [[ -x "${control}/${script}" ]] || {
      echo "DEBIAN/${script} missing or not executable"
      bad=1
      continue
    }
    sh -n "${control}/${script}" || bad=1
    # systemctl itself only for daemon-reload, which acts on no unit.
    if grep -nE '^[^#]*\bsystemctl\b' "${control}/${script}" | grep -v 'daemon-reload'; then
      echo "DEBIAN/${script} calls systemctl directly"
      bad=1
    fi
  done
  grep -q 'deb-systemd-helper --quiet was-enabled foobar.socket' "${control}/postinst" &&
    grep -q 'deb-systemd-invoke start foobar.socket' "${control}/postinst" &&
    grep -q 'deb-systemd-invoke try-restart foobar.service' "${control}/postinst" &&
    grep -q 'deb-systemd-invoke stop foobar.socket' "${control}/prerm" &&
    grep -q 'deb-systemd-helper purge foobar.socket' "${control}/postrm" || bad=1
  return "${bad}"
}

no_build_paths() {
  # Bazel's output base, its sandboxes and the action's temporary directory.
  ! grep -r -a -l -E '/\.cache/bazel|/execroot/|processwrapper-sandbox|/tmp/tmp\.' \
    "${root}" "${control}"
}

check "file name is foobar_${version}_amd64.deb" file_name_has_version
check "exact file list, owners root/root and modes" exact_file_list
check "every mtime is the changelog date" every_mtime_is_changelog_date
check "DEBIAN/md5sums lists and matches every file" md5sums_cover_every_file
check "binaries are stripped" binaries_are_stripped
check "Depends: is exactly the packages of the NEEDED libraries" depends_match_needed_libraries
check "foobard is linked as a static PIE" foobard_is_static_pie
check "Static-Built-Using: is exactly the sources of the linked static archives" \
  static_built_using_names_linked_archives
check "control has Package, Version, Architecture, Maintainer, Installed-Size" control_fields
check "man pages and changelog are gzip -n and not empty" gzip_headers_have_no_name_or_time
check "maintainer scripts use deb-systemd-helper/-invoke" maintainer_scripts_use_deb_systemd_tools
check "no build path in any file" no_build_paths

checks_summary
