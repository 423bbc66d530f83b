#!/usr/bin/env bash
# Usage: build_deb.sh PACKAGE VERSION ARCH MAINTAINER DATE CONTROL MANIFEST OUT.deb
#                     STATIC_BUILT_USING
# The action behind deb_package (packaging/deb.bzl): stages the files MANIFEST
# lists ("KIND SOURCE DEST" per line; KIND is strip, gzip, copy or script),
# computes Depends: (dpkg-shlibdeps), Static-Built-Using: (the source packages
# of STATIC_BUILT_USING, comma-separated -dev packages whose static libraries
# the binaries link; may be empty) and Installed-Size:, writes DEBIAN/control
# and DEBIAN/md5sums, and builds OUT.deb with dpkg-deb. DATE (RFC 2822, the
# newest changelog entry's) becomes SOURCE_DATE_EPOCH and every mtime, so the
# result depends only on the inputs: no clock, no build path, no user.
set -euo pipefail

if (($# != 9)); then
  echo "usage: $0 PACKAGE VERSION ARCH MAINTAINER DATE CONTROL MANIFEST OUT.deb" \
    "STATIC_BUILT_USING" >&2
  exit 2
fi
readonly package=$1 version=$2 arch=$3 maintainer=$4 date=$5 control=$6 \
  manifest=$7 out=$8 static_built_using=$9

umask 022
export LC_ALL=C TZ=UTC
SOURCE_DATE_EPOCH=$(date -u -d "${date}" +%s)
export SOURCE_DATE_EPOCH

work=$(mktemp -d)
trap 'rm -rf "${work}"' EXIT
# mkdir under umask 022, not mktemp's 0700: the root directory's mode is the
# first entry of the data tarball.
root="${work}/root"
mkdir -p "${root}/DEBIAN"

binaries=()
while read -r kind src dest; do
  [[ -n "${kind}" ]] || continue
  mkdir -p "$(dirname "${root}/${dest}")"
  case "${kind}" in
    strip)
      # As dh_strip does for executables: no symbols, no compiler notes.
      strip --strip-unneeded --remove-section=.comment --remove-section=.note \
        -o "${root}/${dest}" "${src}"
      chmod 0755 "${root}/${dest}"
      binaries+=("${root}/${dest}")
      ;;
    gzip)
      # -n: no name or timestamp in the gzip header.
      gzip -9nc <"${src}" >"${root}/${dest}"
      chmod 0644 "${root}/${dest}"
      ;;
    copy)
      cp "${src}" "${root}/${dest}"
      chmod 0644 "${root}/${dest}"
      ;;
    script)
      cp "${src}" "${root}/${dest}"
      chmod 0755 "${root}/${dest}"
      ;;
    *)
      echo "build_deb.sh: unknown kind '${kind}' in ${manifest}" >&2
      exit 1
      ;;
  esac
done <"${manifest}"

template_package=$(sed -n 's/^Package: *//p' "${control}")
if [[ "${template_package}" != "${package}" ]]; then
  echo "build_deb.sh: ${control} says Package: '${template_package}'," \
    "the rule says '${package}'" >&2
  exit 1
fi

if grep -E '^(Version|Architecture|Maintainer|Installed-Size|Depends|Static-Built-Using):' \
  "${control}"; then
  echo "build_deb.sh: ${control} must not set the fields above; the rule" \
    "computes them" >&2
  exit 1
fi

# Depends: from the libraries the stripped binaries need, never by hand.
# Static binaries need none, and dpkg-shlibdeps only warns about them.
# dpkg-shlibdeps wants a source tree with debian/control; a minimal one will do.
dynamic=()
for b in "${binaries[@]}"; do
  if [[ "$(readelf -d "${b}")" == *"(NEEDED)"* ]]; then dynamic+=("${b}"); fi
done
depends=""
if ((${#dynamic[@]} > 0)); then
  mkdir -p "${work}/src/debian"
  printf 'Source: %s\n\nPackage: %s\nArchitecture: any\n' \
    "${package}" "${package}" >"${work}/src/debian/control"
  substvars=$(cd "${work}/src" && dpkg-shlibdeps -O "${dynamic[@]/#/-e}")
  depends=$(sed -n 's/^shlibs:Depends=//p' <<<"${substvars}")
fi

# Static-Built-Using: each package's source and exact version, as installed
# here: the code copied into the binaries is that version's (deb-control(5)).
static_sources=()
if [[ -n "${static_built_using}" ]]; then
  IFS=, read -r -a static_packages <<<"${static_built_using}"
  for p in "${static_packages[@]}"; do
    source=$(dpkg-query -W -f='${source:Package} (= ${source:Version})' "${p}" 2>/dev/null) || {
      echo "build_deb.sh: static_built_using names ${p}, which is not installed:" \
        "install it (tools/setup does), or drop it from the rule" >&2
      exit 1
    }
    static_sources+=("${source}")
  done
fi
static_built_using_field=$(printf '%s\n' "${static_sources[@]}" | LC_ALL=C sort -u |
  paste -sd, - | sed 's/,/, /g')

# Installed-Size: as dpkg-gencontrol computes it, in KiB: each regular file and
# symlink rounded up to whole KiB, 1 KiB for anything else (find prints 1 byte
# for those). du would count directory blocks, which differ between file
# systems.
installed_size=$(find "${root}" -mindepth 1 -path "${root}/DEBIAN" -prune -o \
  \( -type f -o -type l \) -printf '%s\n' -o -printf '1\n' |
  awk '{ kib += int(($1 + 1023) / 1024) } END { print kib + 0 }')

{
  echo "Package: ${package}"
  echo "Version: ${version}"
  echo "Architecture: ${arch}"
  echo "Maintainer: ${maintainer}"
  sed '/^Package:/d; /^Description:/,$d' "${control}"
  echo "Installed-Size: ${installed_size}"
  if [[ -n "${depends}" ]]; then
    echo "Depends: ${depends}"
  fi
  if [[ -n "${static_built_using_field}" ]]; then
    echo "Static-Built-Using: ${static_built_using_field}"
  fi
  sed -n '/^Description:/,$p' "${control}"
} >"${root}/DEBIAN/control"

(cd "${root}" && find . -path ./DEBIAN -prune -o -type f -printf '%P\n' |
  sort | xargs -r -d '\n' md5sum) >"${root}/DEBIAN/md5sums"

chmod 0644 "${root}/DEBIAN/control" "${root}/DEBIAN/md5sums"
find "${root}" -exec touch -h -d "@${SOURCE_DATE_EPOCH}" {} +

# --root-owner-group: root:root whoever builds. One compressor thread: xz's
# multi-threaded output depends on the thread count.
dpkg-deb --root-owner-group -Zxz --threads-max=1 --build "${root}" "${out}" >/dev/null
