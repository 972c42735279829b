# The local stack for scripts (sourced, not run): devnet, registry and onebzd on loopback
# ports, each started with a pid file and a log in $stack_state, and stopped by PID on
# exit (never by name). Used by scripts/demo, scripts/bench and scripts/lib/fullstack.sh
# (scripts/flood, scripts/soak).
#   top=...; stack_state=DIR; source scripts/lib/stack.sh
#   build_binaries debug            # sets bin_dir; prints progress while it builds
#   start_devnet PORT [STATE_DIR [DEVNET_ARGS...]]  # sets devnet_port, devnet_dir
#   start_registry PORT [ARGS...]   # publishes the sample nodes' records (ARGS: shashi's)
#   write_onebzd_config FILE DNS_PORT HTTP_PORT RPC_PORT REGISTRY_PORT [SERVER_TOML [MORE_TOML]]
#   start_onebzd FILE HTTP_PORT [ONEBZD_ARGS...]
# Processes started with `start NAME ...` get $NAME_pid (dashes as underscores). Define
# stack_exit_hook to run after they are stopped. Needs: bash, curl, jq, python3.

stack_pids=()
stack_pid_files=()

log() { echo "$(basename "$0"): $*" >&2; }

stack_stop_all() {
  local status=$? pid
  trap - EXIT INT TERM
  for pid in "${stack_pids[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then
      log "stopping pid $pid"
      kill -TERM "$pid" 2>/dev/null || true
    fi
  done
  for pid in "${stack_pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -f "${stack_pid_files[@]}"
  if declare -F stack_exit_hook >/dev/null; then stack_exit_hook || true; fi
  exit "$status"
}
trap stack_stop_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A loopback port free for both TCP and UDP (DNS listens on both).
free_port() {
  python3 - <<'PY'
import socket
while True:
    t = socket.socket(); t.bind(("127.0.0.1", 0)); port = t.getsockname()[1]
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        u.bind(("127.0.0.1", port)); print(port); break
    except OSError:
        pass
    finally:
        u.close(); t.close()
PY
}

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# start NAME COMMAND...: runs COMMAND in the background; log $stack_state/NAME.log,
# pid file $stack_state/NAME.pid, PID in $NAME_pid.
start() {
  local name=$1; shift
  "$@" >"$stack_state/$name.log" 2>&1 &
  stack_pids+=($!)
  echo $! >"$stack_state/$name.pid"
  stack_pid_files+=("$stack_state/$name.pid")
  printf -v "${name//-/_}_pid" '%s' $!
  log "$name pid $! (log: ${stack_state#"$top"/}/$name.log)"
}

# stop_pid PID: SIGTERM, then waits for it; the exit trap forgets it (its PID may be reused).
stop_pid() {
  kill -TERM "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
  forget_pid "$1"
}

forget_pid() {
  local pid kept=()
  for pid in "${stack_pids[@]}"; do [ "$pid" = "$1" ] || kept+=("$pid"); done
  stack_pids=("${kept[@]}")
}

# wait_ready NAME COMMAND...: retries COMMAND for up to 120 s; fails at once if a process
# started here has exited (printing the end of its log).
wait_ready() {
  local name=$1 pid log_file; shift
  for _ in $(seq 1 1200); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    for pid in "${stack_pids[@]}"; do
      if ! kill -0 "$pid" 2>/dev/null; then
        log_file=$(grep -lx "$pid" "${stack_pid_files[@]}" /dev/null </dev/null 2>/dev/null | head -1 || true)
        log "pid $pid exited early while waiting for $name; ${log_file%.pid}.log ends:"
        [ -n "$log_file" ] && tail -n 40 "${log_file%.pid}.log" >&2
        exit 1
      fi
    done
    sleep 0.1
  done
  log "$name not ready after 120 s (logs in $stack_state)"; exit 1
}

# build_binaries debug|release: swift build with a progress line every 10 s
# (STACK_PROGRESS_SECONDS; the first build takes minutes); sets bin_dir. Log:
# $stack_state/build.log. STACK_NO_BUILD=1 uses the binaries of .build/CONFIG as they
# are, without calling swift at all (scripts/test runs scripts while another build holds
# SwiftPM's lock on .build).
build_binaries() {
  local config=$1 build_log="$stack_state/build.log" build_pid status=0 ticks=0 last="" line
  local every=${STACK_PROGRESS_SECONDS:-10}
  if [ "${STACK_NO_BUILD:-0}" = 1 ]; then
    bin_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/.build/$config"
    [ -x "$bin_dir/onebzd" ] || { log "STACK_NO_BUILD=1 but $bin_dir/onebzd is not built"; exit 1; }
    log "using the $config binaries as built ($bin_dir)"
    return 0
  fi
  log "building onebzd, onebz-registry, onebz, onebz-web ($config; the first build takes 3-5 minutes, later ones seconds)"
  swift build -c "$config" >"$build_log" 2>&1 &
  build_pid=$!
  stack_pids+=("$build_pid")  # so Ctrl-C stops it too
  while kill -0 "$build_pid" 2>/dev/null; do
    sleep 1
    if (( ++ticks % every == 0 )); then
      # The build's latest "[n/m] ..." line; dots while there is none or no new one.
      line=$({ grep -o '^\[[0-9]*/[0-9]*\] .*' "$build_log" || true; } | tail -n 1 | cut -c1-90)
      [ -n "$line" ] && [ "$line" != "$last" ] || line="..."
      log "  building ($ticks s): $line"
      [ "$line" = "..." ] || last=$line
    fi
  done
  wait "$build_pid" || status=$?
  forget_pid "$build_pid"
  if [ "$status" != 0 ]; then tail -n 40 "$build_log" >&2; log "build failed (log: $build_log)"; exit 1; fi
  bin_dir=$(swift build -c "$config" --show-bin-path)
}

# devnet_field KEY: a field of the running devnet's devnet.json.
devnet_field() { jq -er --arg key "$1" '.[$key]' "$devnet_dir/devnet.json"; }

# sample NAME FIELD: a field of a sample node (devnet --sample) in sample-nodes.json.
sample() { jq -er --arg name "$1" --arg field "$2" '.[] | select(.name == $name) | .[$field]' "$devnet_dir/sample-nodes.json"; }

# node_dns_name NAME: the sample node's node-id name (<base32>.id.1bz), from `onebz id`.
node_dns_name() { "$bin_dir/onebz" id "$(sample "$1" public_key_path)" | sed -n 's/^dns: *//p'; }

# start_devnet PORT [STATE_DIR [DEVNET_ARGS...]]: the devnet with the sample nodes (more
# arguments go to it, e.g. --mine-interval 2); ready once devnet.json exists.
start_devnet() {
  devnet_port=$1
  devnet_dir=${2:-$stack_state}
  shift $(( $# < 2 ? $# : 2 ))
  mkdir -p "$devnet_dir"
  rm -f "$devnet_dir"/devnet.json "$devnet_dir"/sample-nodes.json  # a stale one is no sign of ready
  start devnet "$top/scripts/devnet" --port "$devnet_port" --state-dir "$devnet_dir" --sample "$@"
  wait_ready devnet test -s "$devnet_dir/devnet.json"
}

# start_registry PORT [SHASHI_PUBLISH_ARGS...]: a fresh registry database following the
# devnet; then the sample nodes publish their signed records, as an operator would with
# `onebz publish`. shashi.1bz's addresses and services are the arguments given (default:
# documentation addresses, no service; the demo gives 127.0.0.1 and its site's port).
start_registry() {
  registry_port=$1; shift
  local shashi=("$@")
  [ ${#shashi[@]} -gt 0 ] || shashi=(--ipv4 192.0.2.10 --ipv4 192.0.2.11 --ipv6 2001:db8::10)
  rm -f "$stack_state"/registry.sqlite*
  start registry "$bin_dir/onebz-registry" --db "$stack_state/registry.sqlite" --listen "127.0.0.1:$registry_port" \
    --rpc "http://127.0.0.1:$devnet_port" --contract "$(devnet_field contract_address)" \
    --deploy-block "$(devnet_field deploy_block)" --poll-interval 1
  wait_ready registry curl -sf "http://127.0.0.1:$registry_port/healthz"
  "$bin_dir/onebz" publish --registry "http://127.0.0.1:$registry_port" --key "$(sample shashi.1bz private_key_path)" \
    "${shashi[@]}" >"$stack_state/publish.log"
  "$bin_dir/onebz" publish --registry "http://127.0.0.1:$registry_port" --key "$(sample acme.1bz private_key_path)" \
    --ipv4 198.51.100.20 >>"$stack_state/publish.log"
}

# write_onebzd_config FILE DNS_PORT HTTP_PORT RPC_PORT REGISTRY_PORT [SERVER_TOML [MORE_TOML]]:
# onebzd on 127.0.0.1 reading the devnet's contract (RPC_PORT: the devnet, or a proxy in
# front of it); SERVER_TOML goes into [server], MORE_TOML (whole sections) at the end.
write_onebzd_config() {
  cat >"$1" <<TOML
[server]
listen = ["127.0.0.1:$2"]
zone = "$top/zones/1bz.zone"
http = "127.0.0.1:$3"
${6:-}

[chain]
rpc_urls = ["http://127.0.0.1:$4"]
contract = "$(devnet_field contract_address)"
lookup_contract = "$(devnet_field lookup_address)"
deploy_block = $(devnet_field deploy_block)
poll_interval = "1s"

[registry]
url = "http://127.0.0.1:$5"
poll_interval = "1s"
seq_file = "$stack_state/record-seq"
${7:-}
TOML
}

# start_onebzd FILE HTTP_PORT [ONEBZD_ARGS...]: ready once the gateway's /readyz answers
# (the chain follower has synced). Starts $onebzd_bin if set, else $bin_dir/onebzd.
start_onebzd() {
  local config=$1 http_port=$2; shift 2
  start onebzd "${onebzd_bin:-$bin_dir/onebzd}" --config "$config" "$@"
  wait_ready onebzd curl -sf "http://127.0.0.1:$http_port/readyz"
}
