# shellcheck shell=bash
# journal_and_security: `systemd-analyze security` in the machine rates the
# installed unit <= 1.0, exactly 0.9 on both 252 and 257 (the two weigh the
# unit's settings alike); the journal has foobard's start line at priority
# info (6), and not above it.

scenario_journal_and_security() {
  local line level want_level
  case "${E2E_RELEASE}" in
    bookworm) want_level=0.9 ;;
    trixie) want_level=0.9 ;;
  esac
  line=$(e2e_exec systemd-analyze security foobar.service 2>&1 | grep 'Overall exposure level') ||
    flunk "systemd-analyze security printed no overall level"
  level=$(sed -n 's/.*foobar.service: \([0-9.]*\).*/\1/p' <<<"${line}")
  awk -v l="${level}" 'BEGIN { exit !(l != "" && l <= 1.0) }' ||
    flunk "exposure level '${level}' > 1.0 (${line})"
  want "exposure level on ${E2E_RELEASE}" "${level}" "${want_level}"
  note "exposure ${level}"
  local info
  info=$(e2e_exec journalctl -u foobar.service -p info..info -o cat --no-pager)
  grep -q '^serving ' <<<"${info}" ||
    flunk "no 'serving ...' line at priority info; journal: $(journal_tail foobar.service)"
  local above_info
  above_info=$(e2e_exec journalctl -u foobar.service -p 0..5 -o cat --no-pager)
  if grep -q '^serving ' <<<"${above_info}"; then
    flunk "the 'serving' line is logged above priority info"
  fi
}
