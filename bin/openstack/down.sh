#!/bin/bash
# Stop what bin/openstack/up.sh started, by the PIDs it recorded (and their children); SIGKILL after 10 s.
# Adapted from ../shared/peers/openstack/down.sh. Usage: [BASE=/dir] bin/openstack/down.sh
BASE=${BASE:-${TMPDIR:-/tmp}/xos-openstack}
cd "$BASE" 2>/dev/null || { echo "nothing to stop under $BASE"; exit 0; }
pids=()
for n in nova-compute nova-scheduler nova-conductor nova-api neutron-server glance-api placement keystone; do
  [ -f pids/$n ] || continue
  p=$(cat pids/$n)
  pids+=("$p" $(ps -o pid= --ppid "$p" 2>/dev/null))
done
[ ${#pids[@]} -gt 0 ] && kill "${pids[@]}" 2>/dev/null
# rabbitmq: ask the node to stop (also ends its epmd-registered beam), then the wrapper PID
HOME=$BASE/rabbit /usr/lib/rabbitmq/bin/rabbitmqctl -n rabbit@localhost -q stop >/dev/null 2>&1
[ -f pids/rabbitmq ] && kill "$(cat pids/rabbitmq)" 2>/dev/null
for i in $(seq 1 20); do
  alive=(); for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive+=("$p"); done
  [ ${#alive[@]} -eq 0 ] && break
  sleep 0.5
done
[ ${#alive[@]} -gt 0 ] && kill -9 "${alive[@]}" 2>/dev/null
epmd -kill >/dev/null 2>&1 || true
echo "stopped"
