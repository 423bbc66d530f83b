#!/usr/bin/env bash
# Usage: build_deb.sh PACKAGE VERSION ARCH MAINTAINER DATE CONTROL MANIFEST OUT.deb
#                     STATIC_BUILT_USING DBGSYM.deb
# The action behind deb_package (packaging/deb.bzl): stages the files MANIFEST
# lists ("KIND SOURCE DEST" per line; KIND is strip, gzip, copy or script),
# computes Depends: (dpkg-shlibdeps), Static-Built-Using: (the source packages
# of STATIC_BUILT_USING, comma-separated -dev packages whose static libraries
# the binaries link; may be empty) and Installed-Size:, writes DEBIAN/control
# and DEBIAN/md5sums, and builds OUT.deb with dpkg-deb. Each stripped binary's
# debug information goes, as dh_strip puts it, into DBGSYM.deb, the automatic
# debug package PACKAGE-dbgsym. DATE (RFC 2822, the newest changelog entry's)
# becomes SOURCE_DATE_EPOCH and every mtime, so the result depends only on the
# inputs: no clock, no build path, no user.
set -euo pipefail

if (($# != 10)); then
  echo "usage: $0 PACKAGE VERSION ARCH MAINTAINER DATE CONTROL MANIFEST OUT.deb" \
    "STATIC_BUILT_USING DBGSYM.deb" >&2
  exit 2
fi
readonly package=$1 version=$2 arch=$3 maintainer=$4 date=$5 control=$6 \
  manifest=$7 out=$8 static_built_using=$9 dbgsym_out=${10}

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
dbgsym_root="${work}/dbgsym"
mkdir -p "${dbgsym_root}/DEBIAN"

binaries=()
build_ids=()
while read -r kind src dest; do
  [[ -n "${kind}" ]] || continue
  mkdir -p "$(dirname "${root}/${dest}")"
  case "${kind}" in
    strip)
      # As dh_strip does: the debug information (and the symbol table) into
      # /usr/lib/debug/.build-id/xx/yyyy.debug, where gdb looks for it by the
      # binary's build-id; then the binary without symbols or compiler notes
      # (the build-id note stays: it is named .note.gnu.build-id, not .note),
      # and a .gnu_debuglink naming its debug file.
      notes=$(readelf -n "${src}")
      build_id=$(sed -n 's/^ *Build ID: *\([0-9a-f]*\)$/\1/p' <<<"${notes}")
      if [[ ! "${build_id}" =~ ^[0-9a-f]{6,}$ ]]; then
        echo "build_deb.sh: ${src} has no build-id note; link it with" \
          "-Wl,--build-id" >&2
        exit 1
      fi
      debug="${dbgsym_root}/usr/lib/debug/.build-id/${build_id:0:2}/${build_id:2}.debug"
      mkdir -p "$(dirname "${debug}")"
      objcopy --only-keep-debug --compress-debug-sections "${src}" "${debug}"
      chmod 0644 "${debug}"
      strip --strip-unneeded --remove-section=.comment --remove-section=.note \
        -o "${root}/${dest}" "${src}"
      objcopy --add-gnu-debuglink="${debug}" "${root}/${dest}"
      chmod 0755 "${root}/${dest}"
      binaries+=("${root}/${dest}")
      build_ids+=("${build_id}")
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

# installed_size ROOT: Installed-Size: as dpkg-gencontrol computes it, in KiB:
# each regular file and symlink rounded up to whole KiB, 1 KiB for anything
# else (find prints 1 byte for those). du would count directory blocks, which
# differ between file systems.
installed_size() {
  find "$1" -mindepth 1 -path "$1/DEBIAN" -prune -o \
    \( -type f -o -type l \) -printf '%s\n' -o -printf '1\n' |
    awk '{ kib += int(($1 + 1023) / 1024) } END { print kib + 0 }'
}

{
  echo "Package: ${package}"
  echo "Version: ${version}"
  echo "Architecture: ${arch}"
  echo "Maintainer: ${maintainer}"
  sed '/^Package:/d; /^Description:/,$d' "${control}"
  echo "Installed-Size: $(installed_size "${root}")"
  if [[ -n "${depends}" ]]; then
    echo "Depends: ${depends}"
  fi
  if [[ -n "${static_built_using_field}" ]]; then
    echo "Static-Built-Using: ${static_built_using_field}"
  fi
  sed -n '/^Description:/,$p' "${control}"
} >"${root}/DEBIAN/control"

# The automatic debug package, as debhelper generates it (dh_strip,
# dh_gencontrol): the documentation directory is a symlink to the package's,
# and the control file is fixed but for the Build-Ids: of the binaries.
mkdir -p "${dbgsym_root}/usr/share/doc"
ln -s "${package}" "${dbgsym_root}/usr/share/doc/${package}-dbgsym"
{
  echo "Package: ${package}-dbgsym"
  echo "Source: ${package}"
  echo "Version: ${version}"
  echo "Auto-Built-Package: debug-symbols"
  echo "Architecture: ${arch}"
  echo "Maintainer: ${maintainer}"
  echo "Installed-Size: $(installed_size "${dbgsym_root}")"
  echo "Depends: ${package} (= ${version})"
  echo "Section: debug"
  echo "Priority: optional"
  echo "Description: debug symbols for ${package}"
  echo "Build-Ids: $(printf '%s\n' "${build_ids[@]}" | LC_ALL=C sort | paste -sd' ' -)"
} >"${dbgsym_root}/DEBIAN/control"

# build ROOT OUT.deb: DEBIAN/md5sums, every mtime SOURCE_DATE_EPOCH, then
# dpkg-deb. --root-owner-group: root:root whoever builds. One compressor
# thread: xz's multi-threaded output depends on the thread count.
build() {
  (cd "$1" && find . -path ./DEBIAN -prune -o -type f -printf '%P\n' |
    sort | xargs -r -d '\n' md5sum) >"$1/DEBIAN/md5sums"
  chmod 0644 "$1/DEBIAN/control" "$1/DEBIAN/md5sums"
  find "$1" -exec touch -h -d "@${SOURCE_DATE_EPOCH}" {} +
  dpkg-deb --root-owner-group -Zxz --threads-max=1 --build "$1" "$2" >/dev/null
}
build "${root}" "${out}"
build "${dbgsym_root}" "${dbgsym_out}"
