# shellcheck shell=bash
# permission: a user outside the foobar group gets the client's exact
# permission message and exit 1; after `adduser alice foobar` it works.

scenario_permission() {
  e2e_exec useradd --create-home alice || flunk "useradd alice failed"
  local out rc=0
  out=$(e2e_exec runuser -u alice -- foobar --message=hi 2>&1) || rc=$?
  want "exit status outside the group" "${rc}" 1
  # shellcheck disable=SC2016  # $USER is literal in the client's hint.
  want "message outside the group" "${out}" \
    'foobar: cannot connect to /run/foobar.sk: Permission denied (the socket belongs to group foobar; try: sudo adduser $USER foobar, then log in again)'
  e2e_exec adduser --quiet alice foobar || flunk "adduser alice foobar failed"
  out=$(e2e_exec runuser -u alice -- foobar --message=hi 2>&1) ||
    flunk "after adduser: ${out}"
  want "after adduser" "${out}" hi
}
