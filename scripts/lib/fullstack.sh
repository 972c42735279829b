# Shared by scripts/flood and scripts/soak (sourced, not run): the full stack on free
# loopback ports (scripts/lib/stack.sh), in a state directory, stopped by PID on exit,
# with tools/faultproxy.py between onebzd and the devnet to count JSON-RPC calls.
# Needs: $top, $state (created). Provides: start_stack, rpc_count, rss_kib, onebzd_pid,
# DNS_PORT, HTTP_PORT, cached_names, warm, random_names, dnsperf_summary.

mkdir -p "$state"
stack_state=$state
source "$top/scripts/lib/stack.sh"

# start_stack [SERVER_TOML]: devnet, rpc proxy, registry (samples published), onebzd.
start_stack() {
  local extra=${1:-}
  DEVNET_PORT=$(free_port); PROXY_PORT=$(free_port); REGISTRY_PORT=$(free_port); DNS_PORT=$(free_port); HTTP_PORT=$(free_port)
  build_binaries debug
  start_devnet "$DEVNET_PORT"
  rm -f "$state/rpc-stats.json"
  start rpc-proxy python3 tools/faultproxy.py --listen "127.0.0.1:$PROXY_PORT" --target "127.0.0.1:$DEVNET_PORT" \
    --stats "$state/rpc-stats.json"
  wait_ready rpc-proxy test -s "$state/rpc-stats.json"
  start_registry "$REGISTRY_PORT"
  write_onebzd_config "$state/onebzd.toml" "$DNS_PORT" "$HTTP_PORT" "$PROXY_PORT" "$REGISTRY_PORT" "$extra" \
    "$(printf '[cache]\nmax_in_flight = %s' "${MAX_IN_FLIGHT:-64}")"
  start_onebzd "$state/onebzd.toml" "$HTTP_PORT" --log-level "${LOG_LEVEL:-notice}"
  log "stack up: DNS 127.0.0.1:$DNS_PORT, gateway :$HTTP_PORT, onebzd pid $onebzd_pid"
}

rpc_count() { jq -r --arg key "$1" '.[$key] // 0' "$state/rpc-stats.json"; }
rss_kib() { awk '/VmRSS/ {print $2}' "/proc/$onebzd_pid/status"; }

# Names that are cached once warmed (and static ones).
cached_names() {
  printf '%s\n' "shashi.1bz A" "shashi.1bz AAAA" "shashi.1bz TXT" "acme.1bz A" "acme.1bz TXT" "bob.1bz TXT" \
    "www.1bz A" "ns1.1bz A" "1bz SOA" "1bz NS"
}

warm() {
  while read -r name type; do dig @127.0.0.1 -p "$DNS_PORT" +short "$name" "$type" >/dev/null; done < <(cached_names)
}

# random_names COUNT [SEED]: <random>.1bz A lines (unique, LDH), as a random-subdomain attack.
random_names() {
  python3 -c "
import random, string, sys
r = random.Random(int(sys.argv[2]))
for _ in range(int(sys.argv[1])):
    print(''.join(r.choice(string.ascii_lowercase + string.digits) for _ in range(12)) + '.1bz A')
" "$1" "${2:-1}"
}

# dnsperf_summary REPORT ["|MORE_LABELS"]: the totals of a dnsperf report, indented.
dnsperf_summary() {
  grep -E "Queries sent|Queries completed|Queries lost|Response codes|Queries per second${2:-}" "$1" | sed 's/^ */    /'
}
