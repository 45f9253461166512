#!/bin/bash
# Bring up a REAL OpenStack Zed (Debian bookworm packages) on 127.0.0.1 for the real-OpenStack tier:
# Keystone + Glance + Placement + Nova (fake virt driver) + Neutron (ML2 with a test-only binding
# driver, no agents) + RabbitMQ, SQLite databases in WAL mode, no systemd, no Docker. Adapted from
# the recipe in ../shared/peers/openstack/up.sh. State lives under $BASE (default: a folder in the
# temp dir), wiped on every start; stop with bin/openstack/down.sh (same BASE).
# Prereq: bin/openstack/install.sh (idempotent). Ready in about 80 s; about 1.8 GB.
# Usage: [BASE=/dir] [OS_ADMIN_PASSWORD=...] bin/openstack/up.sh
# Exit: 0 ready (or already running), 1 failure, 3 packages missing (run install.sh).
set -euo pipefail
BASE=${BASE:-${TMPDIR:-/tmp}/xos-openstack}
PW=${OS_ADMIN_PASSWORD:-s3cret}
PY=/usr/bin/python3          # Debian's python (dist-packages), not a pyenv one
if curl -s -o /dev/null --max-time 3 http://127.0.0.1:5000/v3; then echo "OpenStack already answering on 127.0.0.1:5000"; exit 0; fi
$PY -c 'import keystone, nova, neutron, glance, placement' 2>/dev/null || { echo "OpenStack packages missing: run bin/openstack/install.sh" >&2; exit 3; }
# a fresh cloud every time: schemas are rebuilt below, keys and queues too
rm -rf "$BASE"/{state,rabbit,fernet-keys,credential-keys,logs,pids}
mkdir -p "$BASE"/{etc,logs,state,pids,pylib/fakebind,pylib/fakebind-0.1.dist-info,rabbit,bin,fernet-keys,credential-keys}
cd "$BASE"
T0=$(date +%s.%N); el(){ echo "$(echo "$(date +%s.%N)-$T0" | bc)s"; }
wal(){ $PY -c "import sqlite3;sqlite3.connect('$1').execute('PRAGMA journal_mode=WAL')"; }
waitport(){ for i in $(seq 1 240); do c=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$1/" || true); [ "$c" != 000 ] && return 0; sleep 0.25; done; echo "port $1 never came up"; return 1; }
start(){ name=$1; shift; nohup "$@" > "logs/$name.out" 2>&1 & echo $! > "pids/$name"; }

# ---------- entry-point wrappers (service packages with /usr/bin scripts are not installed)
mk(){ printf '#!/usr/bin/python3\nimport sys\nfrom %s import main\nsys.argv[0] = "%s"\nsys.exit(main())\n' "$2" "$1" > bin/$1; chmod +x bin/$1; }
mk glance-api glance.cmd.api; mk glance-manage glance.cmd.manage
mk nova-api nova.cmd.api; mk nova-conductor nova.cmd.conductor; mk nova-scheduler nova.cmd.scheduler
mk nova-compute nova.cmd.compute; mk nova-manage nova.cmd.manage
mk neutron-server neutron.cmd.eventlet.server; mk neutron-db-manage neutron.db.migration.cli

# ---------- paste.ini files live in the *-common packages: extract them without installing
if [ ! -f etc/nova-api-paste.ini ]; then
  tmp=$(mktemp -d); (cd "$tmp" && apt-get download nova-common neutron-common glance-common >/dev/null 2>&1 && for f in *.deb; do dpkg -x "$f" x; done)
  cp "$tmp"/x/usr/share/nova-common/api-paste.ini etc/nova-api-paste.ini
  cp "$tmp"/x/usr/share/neutron-common/api-paste.ini etc/neutron-api-paste.ini
  cp "$tmp"/x/usr/share/glance-common/glance-api-paste.ini etc/glance-api-paste.ini
  rm -rf "$tmp"
fi

# ---------- test-only ML2 mechanism driver: binds every port (no OVS/LB agent needed)
cat > pylib/fakebind/__init__.py <<'EOF'
from neutron_lib.api.definitions import portbindings
from neutron_lib import constants as const
from neutron_lib.plugins.ml2 import api
class FakeBindDriver(api.MechanismDriver):
    def initialize(self):
        pass
    @property
    def connectivity(self):
        return portbindings.CONNECTIVITY_L2
    def bind_port(self, context):
        for segment in context.segments_to_bind:
            context.set_binding(segment[api.ID], portbindings.VIF_TYPE_OVS,
                                {portbindings.CAP_PORT_FILTER: True, portbindings.OVS_HYBRID_PLUG: False},
                                status=const.PORT_STATUS_ACTIVE)
            return
EOF
printf 'Metadata-Version: 2.1\nName: fakebind\nVersion: 0.1\n' > pylib/fakebind-0.1.dist-info/METADATA
printf '[neutron.ml2.mechanism_drivers]\nfakebind = fakebind:FakeBindDriver\n' > pylib/fakebind-0.1.dist-info/entry_points.txt

# ---------- configs
AUTH="auth_type = password
auth_url = http://127.0.0.1:5000/v3
project_domain_id = default
user_domain_id = default
project_name = admin
username = admin
password = $PW
region_name = RegionOne"
KSAT="[keystone_authtoken]
www_authenticate_uri = http://127.0.0.1:5000/v3
$AUTH"
cat > etc/keystone.conf <<EOF
[DEFAULT]
log_file = $BASE/logs/keystone.log
[database]
connection = sqlite:///$BASE/state/keystone.db
[token]
provider = fernet
expiration = 86400
[fernet_tokens]
key_repository = $BASE/fernet-keys
[fernet_receipts]
key_repository = $BASE/fernet-keys
[credential]
key_repository = $BASE/credential-keys
EOF
uw(){ cat > etc/$1-uwsgi.ini <<EOF
[uwsgi]
plugins = python3
http-socket = 127.0.0.1:$2
wsgi-file = $3
processes = 1
threads = 1
master = true
lazy-apps = true
die-on-term = true
add-header = Connection: close
env = $4
EOF
}
uw keystone 5000 /usr/bin/keystone-wsgi-public OS_KEYSTONE_CONFIG_DIR=$BASE/etc
uw placement 8778 /usr/bin/placement-api OS_PLACEMENT_CONFIG_DIR=$BASE/etc
cat > etc/placement.conf <<EOF
[DEFAULT]
log_file = $BASE/logs/placement.log
[api]
auth_strategy = keystone
[placement_database]
connection = sqlite:///$BASE/state/placement.db
$KSAT
EOF
cat > etc/glance-api.conf <<EOF
[DEFAULT]
log_file = $BASE/logs/glance-api.log
bind_host = 127.0.0.1
bind_port = 9292
workers = 0
enabled_backends = fs:file
[database]
connection = sqlite:///$BASE/state/glance.db
[glance_store]
default_backend = fs
[fs]
filesystem_store_datadir = $BASE/state/glance-images
[os_glance_staging_store]
filesystem_store_datadir = $BASE/state/glance-staging
[os_glance_tasks_store]
filesystem_store_datadir = $BASE/state/glance-tasks
[paste_deploy]
flavor = keystone
config_file = $BASE/etc/glance-api-paste.ini
$KSAT
EOF
cat > etc/nova.conf <<EOF
[DEFAULT]
transport_url = rabbit://guest:guest@127.0.0.1:5672/
my_ip = 127.0.0.1
host = fakehost1
compute_driver = fake.FakeDriver
state_path = $BASE/state/nova
enabled_apis = osapi_compute
osapi_compute_listen = 127.0.0.1
osapi_compute_listen_port = 8774
osapi_compute_workers = 1
[wsgi]
api_paste_config = $BASE/etc/nova-api-paste.ini
[conductor]
workers = 1
[scheduler]
workers = 1
discover_hosts_in_cells_interval = 2
[api_database]
connection = sqlite:///$BASE/state/nova_api.db
[database]
connection = sqlite:///$BASE/state/nova_cell1.db
[api]
auth_strategy = keystone
$KSAT
[placement]
$AUTH
[neutron]
$AUTH
[glance]
region_name = RegionOne
[oslo_concurrency]
lock_path = $BASE/state/locks
[vnc]
enabled = false
[oslo_messaging_notifications]
driver = noop
EOF
cat > etc/neutron.conf <<EOF
[DEFAULT]
log_file = $BASE/logs/neutron-server.log
bind_host = 127.0.0.1
bind_port = 9696
core_plugin = ml2
service_plugins = router
auth_strategy = keystone
transport_url = rabbit://guest:guest@127.0.0.1:5672/
api_workers = 0
rpc_workers = 0
rpc_state_report_workers = 0
api_paste_config = $BASE/etc/neutron-api-paste.ini
state_path = $BASE/state/neutron
notify_nova_on_port_status_changes = true
notify_nova_on_port_data_changes = true
[database]
connection = sqlite:///$BASE/state/neutron.db
$KSAT
[nova]
$AUTH
[oslo_concurrency]
lock_path = $BASE/state/locks
[ml2]
type_drivers = flat,vlan,vxlan,local
tenant_network_types = vxlan
mechanism_drivers = fakebind
extension_drivers = port_security
[ml2_type_vxlan]
vni_ranges = 1:1000
[ml2_type_flat]
flat_networks = *
[ml2_type_vlan]
network_vlan_ranges = physnet1:100:200
EOF
mkdir -p state/nova state/neutron state/locks

# ---------- RabbitMQ (loopback only, runs as root in $BASE/rabbit)
export HOME=$BASE/rabbit RABBITMQ_NODENAME=rabbit@localhost RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 \
  RABBITMQ_NODE_PORT=5672 RABBITMQ_DIST_PORT=25672 ERL_EPMD_ADDRESS=127.0.0.1 \
  RABBITMQ_MNESIA_BASE=$BASE/rabbit/mnesia RABBITMQ_LOG_BASE=$BASE/rabbit/log \
  RABBITMQ_ENABLED_PLUGINS_FILE=$BASE/rabbit/enabled_plugins RABBITMQ_CONFIG_FILE=$BASE/rabbit/rabbitmq \
  RABBITMQ_PID_FILE=$BASE/rabbit/rabbit.pid
echo '[].' > rabbit/enabled_plugins; echo 'listeners.tcp.default = 127.0.0.1:5672' > rabbit/rabbitmq.conf
start rabbitmq /usr/lib/rabbitmq/bin/rabbitmq-server

# ---------- DB schemas (while rabbit boots)
KM="$PY /usr/bin/keystone-manage --config-file $BASE/etc/keystone.conf"
$KM db_sync >> logs/dbsync.log 2>&1
$KM fernet_setup --keystone-user root --keystone-group root >> logs/dbsync.log 2>&1
$KM credential_setup --keystone-user root --keystone-group root >> logs/dbsync.log 2>&1
$KM bootstrap --bootstrap-password "$PW" --bootstrap-region-id RegionOne \
  --bootstrap-admin-url http://127.0.0.1:5000/v3/ --bootstrap-internal-url http://127.0.0.1:5000/v3/ \
  --bootstrap-public-url http://127.0.0.1:5000/v3/ >> logs/dbsync.log 2>&1 || true   # exits with a harmless eventlet traceback
wal state/keystone.db
start keystone uwsgi --ini etc/keystone-uwsgi.ini
$PY /usr/bin/placement-manage --config-file etc/placement.conf db sync >> logs/dbsync.log 2>&1; wal state/placement.db
bin/glance-manage --config-file etc/glance-api.conf db_sync >> logs/dbsync.log 2>&1; wal state/glance.db
NM="bin/nova-manage --config-file $BASE/etc/nova.conf"
$NM api_db sync >> logs/dbsync.log 2>&1
$NM cell_v2 map_cell0 --database_connection sqlite:///$BASE/state/nova_cell0.db >> logs/dbsync.log 2>&1
$NM db sync >> logs/dbsync.log 2>&1
$NM cell_v2 create_cell --name cell1 >> logs/dbsync.log 2>&1
for d in nova_api nova_cell0 nova_cell1; do wal state/$d.db; done
# neutron's alembic migrations do not run on SQLite: create the schema from the models and stamp heads
$PY - >> logs/dbsync.log 2>&1 <<EOF
import sqlalchemy as sa
from neutron.db.migration.models import head  # noqa: imports every model
from neutron_lib.db import model_base
e = sa.create_engine('sqlite:///$BASE/state/neutron.db')
model_base.BASEV2.metadata.create_all(e)
with e.connect() as c:
    c.exec_driver_sql('PRAGMA journal_mode=WAL')
EOF
bin/neutron-db-manage --config-file etc/neutron.conf stamp heads >> logs/dbsync.log 2>&1
echo "schemas done at $(el)"

# ---------- Keystone catalog
waitport 5000
TOK=$(curl -s -D - -o /dev/null -H 'Content-Type: application/json' -d "{\"auth\":{\"identity\":{\"methods\":[\"password\"],\"password\":{\"user\":{\"name\":\"admin\",\"domain\":{\"id\":\"default\"},\"password\":\"$PW\"}}},\"scope\":{\"project\":{\"name\":\"admin\",\"domain\":{\"id\":\"default\"}}}}}" http://127.0.0.1:5000/v3/auth/tokens | awk 'tolower($1)=="x-subject-token:"{print $2}' | tr -d '\r')
ks(){ curl -s -H "X-Auth-Token: $TOK" -H 'Content-Type: application/json' "$@"; }
for s in "nova compute 8774/v2.1" "placement placement 8778" "neutron network 9696" "glance image 9292"; do
  set -- $s
  sid=$(ks -d "{\"service\":{\"name\":\"$1\",\"type\":\"$2\"}}" http://127.0.0.1:5000/v3/services | $PY -c 'import json,sys;print(json.load(sys.stdin)["service"]["id"])')
  for i in public internal admin; do
    ks -o /dev/null -d "{\"endpoint\":{\"service_id\":\"$sid\",\"interface\":\"$i\",\"region_id\":\"RegionOne\",\"url\":\"http://127.0.0.1:$3\"}}" http://127.0.0.1:5000/v3/endpoints
  done
done
echo "keystone + catalog done at $(el)"

# ---------- services
for i in $(seq 1 120); do HOME=$BASE/rabbit /usr/lib/rabbitmq/bin/rabbitmqctl -n rabbit@localhost -q status >/dev/null 2>&1 && break; sleep 0.5; done
start placement uwsgi --ini etc/placement-uwsgi.ini
start glance-api bin/glance-api --config-file etc/glance-api.conf
PYTHONPATH=$BASE/pylib start neutron-server bin/neutron-server --config-file etc/neutron.conf
for s in api conductor scheduler compute; do start nova-$s bin/nova-$s --config-file etc/nova.conf --log-file $BASE/logs/nova-$s.log; done
for p in 8778 9292 9696 8774; do waitport $p; done
echo "all APIs answering at $(el)"
# wait until the fake compute node is mapped into cell1 (scheduler periodic discover_hosts)
for i in $(seq 1 120); do
  n=$(ks -H 'OpenStack-API-Version: compute 2.53' http://127.0.0.1:8774/v2.1/os-hypervisors | $PY -c 'import json,sys;print(len(json.load(sys.stdin).get("hypervisors",[])))' 2>/dev/null || echo 0)
  [ "$n" -ge 1 ] && break; sleep 0.5
done
echo "hypervisor registered ($n) at $(el) -- READY"
