# shellcheck shell=bash
# Usage: source tests/bench/markdown.sh   (defines one function)
#
# splice_section MARKDOWN NAME GENERATED: replaces the lines of MARKDOWN from
# "<!-- NAME:begin -->" to "<!-- NAME:end -->" with the file GENERATED, which
# holds both markers itself, and leaves every hand-written line around them
# as it was. Returns 1, changing nothing, when MARKDOWN does not exist or has
# no such section; the caller then decides where the section goes.
splice_section() {
  local markdown=$1 name=$2 generated=$3
  [[ -f "${markdown}" ]] && grep -q "^<!-- ${name}:begin -->\$" "${markdown}" ||
    return 1
  local spliced
  spliced=$(mktemp)
  awk -v gen="${generated}" -v begin="<!-- ${name}:begin -->" \
    -v end="<!-- ${name}:end -->" '
    $0 == begin { while ((getline line < gen) > 0) print line; skip = 1; next }
    $0 == end { skip = 0; next }
    !skip { print }
  ' "${markdown}" >"${spliced}"
  cp "${spliced}" "${markdown}"
  rm -f "${spliced}"
}
