# Standard secondaries for the 1bz zone (sourced, not run): a TSIG key in BIND syntax,
# NSD and Knot configured as secondaries of a primary (request-xfr / master, NOTIFY
# allowed from the primary with the key), each with its own state directory, and a
# Knot "stand-in primary" serving a zone file (to check the harness without onebzd).
# Used by scripts/fleet, scripts/demo (DEMO_SECONDARY=1) and FleetTests.swift.
#   tsig_keygen NAME FILE          # key "NAME" { algorithm hmac-sha256; secret "..."; };
#   tsig_read FILE                 # sets tsig_name, tsig_algorithm, tsig_secret
#   write_nsd_secondary DIR LISTEN_ADDR PORT PRIMARY_ADDR PRIMARY_PORT [ZONE]
#   write_knot_secondary DIR LISTEN_ADDR PORT PRIMARY_ADDR PRIMARY_PORT [ZONE]
#   write_knot_primary DIR LISTEN_ADDR PORT ZONE_FILE NOTIFY_ADDR:PORT... (stand-in)
#   write_nsd_primary DIR LISTEN_ADDR PORT ZONE_FILE [WORKERS]    (benchmarks, differential)
#   write_knot_authoritative DIR LISTEN_ADDR PORT ZONE_FILE [WORKERS] (benchmarks)
# The commands to start them: nsd_command DIR, knot_command DIR (foreground, log to a file
# in DIR). Needs: openssl, nsd, knotd.

# tsig_keygen NAME FILE: a fresh hmac-sha256 key (256 random bits) in BIND key-file syntax,
# as tsig-keygen writes it (BIND need not be installed).
tsig_keygen() {
  local secret
  secret=$(openssl rand -base64 32)
  umask 077
  printf 'key "%s" {\n\talgorithm hmac-sha256;\n\tsecret "%s";\n};\n' "$1" "$secret" >"$2"
}

# tsig_read FILE: the first key of a BIND key file (one statement per key, any layout).
tsig_read() {
  local flat
  flat=$(tr '\n\t' '  ' <"$1")
  tsig_name=$(sed -n 's/.*key *"\([^"]*\)".*/\1/p' <<<"$flat")
  tsig_algorithm=$(sed -n 's/.*algorithm *\([A-Za-z0-9-]*\) *;.*/\1/p' <<<"$flat")
  tsig_secret=$(sed -n 's/.*secret *"\([^"]*\)".*/\1/p' <<<"$flat")
  if [ -z "$tsig_name" ] || [ -z "$tsig_algorithm" ] || [ -z "$tsig_secret" ]; then
    echo "tsig_read: $1 is not a BIND key file (key \"NAME\" { algorithm ...; secret \"...\"; };)" >&2
    return 1
  fi
}

# The key in dig's -y form (dig -y hmac-sha256:NAME:SECRET; kdig takes the same).
tsig_dig_arg() { echo "$tsig_algorithm:$tsig_name:$tsig_secret"; }

# write_nsd_secondary DIR LISTEN_ADDR PORT PRIMARY_ADDR PRIMARY_PORT [ZONE]: DIR/nsd.conf
# with a TSIG key read by tsig_read; every file NSD writes (pid, zone file, xfrd state,
# log) under DIR. NSD asks for IXFR over TCP and falls back to AXFR on its own.
# With NSD_XOT_CA=FILE and NSD_XOT_NAME=HOSTNAME set, NSD transfers over TLS (XoT,
# RFC 9103): PRIMARY_PORT is then the primary's DoT port, its certificate checked
# against FILE for HOSTNAME (a tls-auth clause).
write_nsd_secondary() {
  local dir=$1 addr=$2 port=$3 primary=$4 primary_port=$5 zone=${6:-1bz}
  local tls_bundle="" tls_auth="" tls_name=""
  if [ -n "${NSD_XOT_CA:-}" ]; then
    tls_bundle="tls-cert-bundle: \"$NSD_XOT_CA\""
    tls_name=" xot"
    tls_auth=$(printf 'tls-auth:\n\tname: "xot"\n\tauth-domain-name: "%s"\n' "$NSD_XOT_NAME")
  fi
  mkdir -p "$dir/zones" "$dir/xfr"
  cat >"$dir/nsd.conf" <<CONF
server:
	ip-address: $addr@$port
	do-ip6: no
	username: ""
	chroot: ""
	database: ""
	zonesdir: "$dir/zones"
	zonelistfile: "$dir/zone.list"
	xfrdfile: "$dir/xfrd.state"
	xfrdir: "$dir/xfr"
	pidfile: "$dir/nsd.pid"
	logfile: "$dir/nsd.log"
	verbosity: 2
	server-count: 1
	hide-version: yes
	rrl-ratelimit: 0
	# Write the zone file soon after a transfer (a restart then starts from it).
	zonefiles-write: 10
	$tls_bundle

$tls_auth

remote-control:
	control-enable: no

key:
	name: "$tsig_name"
	algorithm: $tsig_algorithm
	secret: "$tsig_secret"

zone:
	name: "$zone"
	zonefile: "$zone.zone"
	request-xfr: $primary@$primary_port $tsig_name$tls_name
	allow-notify: $primary $tsig_name
CONF
  nsd-checkconf "$dir/nsd.conf"
}

nsd_command() { echo nsd -d -c "$1/nsd.conf"; }

# write_nsd_primary DIR LISTEN_ADDR PORT ZONE_FILE [WORKERS [SERVER_LINES]]: NSD serving
# ZONE_FILE (copied to DIR/1bz.zone) the way onebzd is compared with it (scripts/bench,
# bench-dnssec, the differential test): minimal responses (onebzd's and Knot's policy: no
# NS or glue added to positive answers), no rate limiting, WORKERS server processes
# (default 1) sharing the port, SERVER_LINES (newline-separated) added to `server:`;
# every file NSD writes under DIR.
write_nsd_primary() {
  local dir=$1 addr=$2 port=$3 zone_file=$4 workers=${5:-1} extra=${6:-} line
  mkdir -p "$dir"
  cp "$zone_file" "$dir/1bz.zone"
  cat >"$dir/nsd.conf" <<CONF
server:
$(while IFS= read -r line; do [ -n "$line" ] && printf '\t%s\n' "$line"; done <<<"$extra")
	ip-address: $addr@$port
	server-count: $workers
	reuseport: yes
	zonesdir: "$dir"
	pidfile: "$dir/nsd.pid"
	database: ""
	xfrdfile: "$dir/xfrd.state"
	zonelistfile: "$dir/zone.list"
	username: ""
	chroot: ""
	verbosity: 0
	rrl-ratelimit: 0
	minimal-responses: yes

remote-control:
	control-enable: no

zone:
	name: "1bz"
	zonefile: "1bz.zone"
CONF
  nsd-checkconf "$dir/nsd.conf"
}

# knot_common DIR ADDR PORT: the server, control, log, database and TSIG key sections
# every Knot of the fleet shares (its files in DIR, listening on ADDR@PORT).
knot_common() {
  local dir=$1 addr=$2 port=$3
  cat <<CONF
server:
    rundir: "$dir"
    pidfile: "$dir/knot.pid"
    listen: $addr@$port
    identity: ""
    version: ""

control:
    listen: "$dir/knot.sock"

log:
  - target: "$dir/knot.log"
    any: info

database:
    storage: "$dir/storage"

key:
  - id: $tsig_name
    algorithm: $tsig_algorithm
    secret: $tsig_secret
CONF
}

# write_knot_secondary DIR LISTEN_ADDR PORT PRIMARY_ADDR PRIMARY_PORT [ZONE]: DIR/knot.conf,
# storage, journal, control socket and log in DIR. Knot asks for IXFR (falling back to
# AXFR) and logs which it got ("IXFR, incoming" / "AXFR, incoming").
write_knot_secondary() {
  local dir=$1 addr=$2 port=$3 primary=$4 primary_port=$5 zone=${6:-1bz}
  mkdir -p "$dir/storage"
  {
    knot_common "$dir" "$addr" "$port"
    cat <<CONF
remote:
  - id: primary
    address: $primary@$primary_port
    key: $tsig_name

acl:
  - id: notify-from-primary
    address: $primary
    key: $tsig_name
    action: notify

template:
  - id: default
    storage: "$dir/storage"
    zonefile-sync: -1
    journal-content: changes

zone:
  - domain: $zone
    master: primary
    acl: notify-from-primary
CONF
  } >"$dir/knot.conf"
  knotc -c "$dir/knot.conf" conf-check >/dev/null
}

knot_command() { echo knotd -c "$1/knot.conf"; }

# write_knot_authoritative DIR LISTEN_ADDR PORT ZONE_FILE [WORKERS]: Knot serving ZONE_FILE
# (copied to DIR/1bz.zone) as scripts/bench compares onebzd with it: WORKERS UDP and TCP
# workers (default 1), the zone loaded whole, no journal, warnings only to stderr.
write_knot_authoritative() {
  local dir=$1 addr=$2 port=$3 zone_file=$4 workers=${5:-1}
  mkdir -p "$dir"
  cp "$zone_file" "$dir/1bz.zone"
  cat >"$dir/knot.conf" <<CONF
server:
    rundir: "$dir"
    listen: $addr@$port
    udp-workers: $workers
    tcp-workers: $workers
    background-workers: 1

control:
    listen: "$dir/knot.sock"

database:
    storage: "$dir"

log:
  - target: stderr
    any: warning

template:
  - id: default
    storage: "$dir"
    zonefile-sync: -1
    zonefile-load: whole
    journal-content: none

zone:
  - domain: 1bz
    file: "$dir/1bz.zone"
CONF
  knotc -c "$dir/knot.conf" conf-check >/dev/null
}

# write_knot_primary DIR LISTEN_ADDR PORT ZONE_FILE NOTIFY_ADDR@PORT...: the stand-in primary:
# Knot serving ZONE_FILE, transfers only with the key, NOTIFY to the given secondaries.
write_knot_primary() {
  local dir=$1 addr=$2 port=$3 zone_file=$4 target ids="" i=0
  shift 4
  mkdir -p "$dir/storage"
  {
    knot_common "$dir" "$addr" "$port"
    cat <<CONF
acl:
  - id: transfer-with-key
    key: $tsig_name
    action: transfer

CONF
    [ $# = 0 ] || echo "remote:"
    for target in "$@"; do
      i=$((i + 1))
      printf '  - id: secondary%d\n    address: %s\n    key: %s\n' "$i" "$target" "$tsig_name"
      ids="$ids${ids:+, }secondary$i"
    done
    cat <<CONF

zone:
  - domain: 1bz
    storage: "$dir/storage"
    file: "$zone_file"
    zonefile-sync: -1
    journal-content: changes
    acl: transfer-with-key
CONF
    [ -z "$ids" ] || echo "    notify: [$ids]"
  } >"$dir/knot.conf"
  knotc -c "$dir/knot.conf" conf-check >/dev/null
}

# soa_serial ADDR PORT [NETNS_NAME]: the serial a server answers for 1bz (empty if none).
soa_serial() {
  local addr=$1 port=$2
  shift 2
  "$@" dig @"$addr" -p "$port" +norec +short +time=1 +tries=1 1bz SOA 2>/dev/null | awk 'NF >= 3 {print $3; exit}'
}
