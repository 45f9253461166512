#!/bin/bash
# Install the Debian packages the real-OpenStack tier needs (OpenStack Zed from bookworm), idempotently.
# Exit 0 when everything is present (installed now or before); exit 3 with a loud reason when
# installing is impossible here (not root and no sudo, no apt-get, packages unreachable), so callers
# can skip the tier loudly instead of failing the build for a reason that is not the code's.
set -uo pipefail
PKGS=(python3-keystone python3-nova python3-neutron python3-glance python3-placement
  rabbitmq-server uwsgi-core uwsgi-plugin-python3 curl bc)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then echo "openstack install: all packages present"; exit 0; fi
skip(){ echo "openstack install: SKIPPED -- $1 (missing: ${missing[*]})" >&2; exit 3; }
command -v apt-get >/dev/null || skip "no apt-get on this machine"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then SUDO="sudo -n"; else skip "not root and no password-less sudo"; fi
fi
echo "openstack install: installing ${missing[*]} (about 3 min)"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q >/dev/null || skip "apt-get update failed (no package mirror reachable?)"
# rabbitmq-server's postinst tries to start the service; policy-rc.d stops that (no systemd here).
pol=/usr/sbin/policy-rc.d; made_pol=0
if [ ! -e "$pol" ]; then printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$pol" >/dev/null; $SUDO chmod +x "$pol"; made_pol=1; fi
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >/tmp/openstack-apt.log 2>&1
rc=$?
[ $made_pol -eq 1 ] && $SUDO rm -f "$pol"
[ $rc -eq 0 ] || { tail -20 /tmp/openstack-apt.log >&2; skip "apt-get install failed (see /tmp/openstack-apt.log)"; }
echo "openstack install: done"
