# Shared by scripts/flood and scripts/soak (sourced, not run): the full stack on free
# loopback ports, in a state directory, stopped by PID on exit. Like scripts/demo, with
# tools/faultproxy.py between onebzd and the devnet to count JSON-RPC calls.
# Needs: $top, $state. Provides: start_stack, rpc_count, onebzd_pid, DNS_PORT, names.

pids=()
log() { echo "$(basename "$0"): $*" >&2; }

stop_stack() {
  local status=$?
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  exit $status
}
trap stop_stack EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

start() {
  local name=$1; shift
  "$@" >"$state/$name.log" 2>&1 &
  pids+=($!)
  eval "${name//-/_}_pid=$!"
}

wait_ready() {
  local name=$1; shift
  for _ in $(seq 1 1200); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  log "$name not ready after 120 s (logs in $state)"; exit 1
}

json() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))$2)" "$1"; }
sample() { python3 -c "import json,sys; print(next(n for n in json.load(open(sys.argv[1])) if n['name']==sys.argv[2])[sys.argv[3]])" "$state/sample-nodes.json" "$1" "$2"; }

# start_stack [EXTRA_TOML]: devnet, rpc proxy, registry (samples published), onebzd.
start_stack() {
  local extra=${1:-}
  DEVNET_PORT=$(free_port); PROXY_PORT=$(free_port); REGISTRY_PORT=$(free_port); DNS_PORT=$(free_port); HTTP_PORT=$(free_port)
  log "building (debug)"
  swift build >"$state/build.log" 2>&1 || { tail -40 "$state/build.log"; exit 1; }
  bin_dir=$(swift build --show-bin-path)
  rm -f "$state"/devnet.json "$state"/sample-nodes.json "$state"/registry.sqlite*
  start devnet scripts/devnet --port "$DEVNET_PORT" --state-dir "$state" --sample
  wait_ready devnet test -s "$state/devnet.json"
  start rpc-proxy python3 tools/faultproxy.py --listen "127.0.0.1:$PROXY_PORT" --target "127.0.0.1:$DEVNET_PORT" \
    --stats "$state/rpc-stats.json"
  wait_ready rpc-proxy test -s "$state/rpc-stats.json"
  start registry "$bin_dir/onebz-registry" --db "$state/registry.sqlite" --listen "127.0.0.1:$REGISTRY_PORT" \
    --rpc "http://127.0.0.1:$DEVNET_PORT" --contract "$(json "$state/devnet.json" "['contract_address']")" \
    --deploy-block "$(json "$state/devnet.json" "['deploy_block']")" --poll-interval 1
  wait_ready registry curl -sf "http://127.0.0.1:$REGISTRY_PORT/healthz"
  "$bin_dir/onebz" publish --registry "http://127.0.0.1:$REGISTRY_PORT" --key "$(sample shashi.1bz private_key_path)" \
    --ipv4 192.0.2.10 --ipv4 192.0.2.11 --ipv6 2001:db8::10 >"$state/publish.log"
  "$bin_dir/onebz" publish --registry "http://127.0.0.1:$REGISTRY_PORT" --key "$(sample acme.1bz private_key_path)" \
    --ipv4 198.51.100.20 >>"$state/publish.log"
  cat >"$state/onebzd.toml" <<TOML
[server]
listen = ["127.0.0.1:$DNS_PORT"]
zone = "$top/zones/1bz.zone"
http = "127.0.0.1:$HTTP_PORT"
$extra

[chain]
rpc_urls = ["http://127.0.0.1:$PROXY_PORT"]
contract = "$(json "$state/devnet.json" "['contract_address']")"
lookup_contract = "$(json "$state/devnet.json" "['lookup_address']")"
deploy_block = $(json "$state/devnet.json" "['deploy_block']")
poll_interval = "1s"

[registry]
url = "http://127.0.0.1:$REGISTRY_PORT"
poll_interval = "1s"

[cache]
max_in_flight = ${MAX_IN_FLIGHT:-64}
TOML
  start onebzd "$bin_dir/onebzd" --config "$state/onebzd.toml" --log-level "${LOG_LEVEL:-notice}"
  wait_ready onebzd curl -sf "http://127.0.0.1:$HTTP_PORT/readyz"
  log "stack up: DNS 127.0.0.1:$DNS_PORT, gateway :$HTTP_PORT, onebzd pid $onebzd_pid"
}

rpc_count() { python3 -c "import json,sys; print(json.load(open(sys.argv[1])).get(sys.argv[2], 0))" "$state/rpc-stats.json" "$1"; }
rss_kib() { awk '/VmRSS/ {print $2}' "/proc/$onebzd_pid/status"; }

# Names that are cached once warmed (and static ones).
cached_names() {
  printf '%s\n' "shashi.1bz A" "shashi.1bz AAAA" "shashi.1bz TXT" "acme.1bz A" "acme.1bz TXT" "bob.1bz TXT" \
    "www.1bz A" "ns1.1bz A" "1bz SOA" "1bz NS"
}

warm() {
  while read -r name type; do dig @127.0.0.1 -p "$DNS_PORT" +short "$name" "$type" >/dev/null; done < <(cached_names)
}

# random_names COUNT: <random>.1bz A lines (unique, LDH), as a random-subdomain attack.
random_names() {
  python3 -c "
import random, string, sys
r = random.Random(int(sys.argv[2]))
for _ in range(int(sys.argv[1])):
    print(''.join(r.choice(string.ascii_lowercase + string.digits) for _ in range(12)) + '.1bz A')
" "$1" "${2:-1}"
}
