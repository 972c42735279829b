# The fleet's network (sourced, or run: scripts/lib/netns.sh up|down|cut NAME|restore NAME|status):
# one network namespace per secondary, joined to the primary by a bridge, with addresses
# only in 10.53.0.0/24 and no default route anywhere, so nothing in it reaches beyond the
# bridge. Used by scripts/fleet and Tests/IntegrationTests/FleetTests.swift.
#
#   root namespace    bridge onebz-br, 10.53.0.1/24   the hidden primary (onebzd), and the
#                                                     devnet and registry on 127.0.0.1
#   onebz-s1          eth0 10.53.0.2/24               NSD secondary
#   onebz-s2          eth0 10.53.0.3/24               Knot secondary
#
# The primary's address is on the bridge in the root namespace (not in a namespace of its
# own) so that onebzd reaches the devnet and registry on 127.0.0.1 as it does everywhere
# else, and the test harness starts them unchanged. The root namespace forwards nothing
# (ip_forward is left as it is; the secondaries have no default route, so they can answer
# only 10.53.0.0/24).
#
# Without the privileges to make namespaces (netns_up fails), fleet_mode=loopback: the
# secondaries listen on 127.0.0.2 and 127.0.0.3 in the root namespace, and a cut link is
# emulated by stopping the secondary (SIGSTOP) instead of taking its interface down.
#
#   netns_up            # creates everything (idempotent: removes leftovers first); sets fleet_mode
#   netns_down          # removes the namespaces and the bridge by name (idempotent)
#   netns_exec NAME CMD # runs CMD in secondary NAME's namespace (s1, s2), or as is on loopback
#   netns_wrap NAME     # that as a prefix for `start` (scripts/lib/stack.sh), unquoted
#   link_cut NAME / link_restore NAME

netns_bridge=onebz-br
netns_prefix=onebz
netns_primary_addr=10.53.0.1
declare -gA netns_addr=([s1]=10.53.0.2 [s2]=10.53.0.3)
declare -gA netns_loopback_addr=([s1]=127.0.0.2 [s2]=127.0.0.3)
fleet_mode=${fleet_mode:-}

netns_log() { echo "netns: $*" >&2; }

# netns_name s1 -> onebz-s1
netns_name() { echo "$netns_prefix-$1"; }

netns_down() {
  local name
  for name in "${!netns_addr[@]}"; do
    ip netns del "$(netns_name "$name")" 2>/dev/null || true
    ip link del "$netns_prefix-$name-v" 2>/dev/null || true  # the root end, if the namespace went first
  done
  ip link del "$netns_bridge" 2>/dev/null || true
}

# netns_try_up: makes the bridge and one namespace per secondary; fails (status 1) if the
# kernel or the privileges do not allow it.
netns_try_up() {
  local name ns veth
  netns_down
  ip link add "$netns_bridge" type bridge forward_delay 0 stp_state 0 || return 1
  ip addr add "$netns_primary_addr/24" dev "$netns_bridge" || return 1
  ip link set "$netns_bridge" up || return 1
  for name in s1 s2; do
    ns=$(netns_name "$name")
    veth="$netns_prefix-$name-v"
    ip netns add "$ns" || return 1
    ip link add "$veth" type veth peer name eth0 netns "$ns" || return 1
    ip link set "$veth" master "$netns_bridge" || return 1
    ip link set "$veth" up || return 1
    ip -n "$ns" link set lo up || return 1
    ip -n "$ns" addr add "${netns_addr[$name]}/24" dev eth0 || return 1
    ip -n "$ns" link set eth0 up || return 1
  done
  for name in s1 s2; do
    netns_wait_forwarding "$name" || return 1
  done
}

# netns_wait_forwarding NAME: until the secondary's bridge port forwards and its eth0 has
# carrier (no ping on minimal machines, so the link state is what is checked).
netns_wait_forwarding() {
  local i ns
  ns=$(netns_name "$1")
  for i in $(seq 1 100); do
    if bridge link show dev "$netns_prefix-$1-v" 2>/dev/null | grep -q "state forwarding" &&
      ip -n "$ns" link show dev eth0 | grep -q LOWER_UP; then
      return 0
    fi
    sleep 0.1
  done
  netns_log "$ns: the link to $netns_bridge does not come up"
  return 1
}

# netns_up: namespaces if possible (fleet_mode=netns), else loopback addresses
# (fleet_mode=loopback). FLEET_MODE=loopback forces the fallback.
netns_up() {
  if [ "${FLEET_MODE:-}" != loopback ] && netns_try_up 2>"${TMPDIR:-/tmp}/onebz-netns.err"; then
    fleet_mode=netns
  else
    [ "${FLEET_MODE:-}" = loopback ] || netns_log "cannot create network namespaces ($(head -1 "${TMPDIR:-/tmp}/onebz-netns.err" 2>/dev/null)); falling back to 127.0.0.2 and 127.0.0.3"
    netns_down
    fleet_mode=loopback
    netns_primary_addr=127.0.0.1
    netns_addr=([s1]=${netns_loopback_addr[s1]} [s2]=${netns_loopback_addr[s2]})
  fi
  rm -f "${TMPDIR:-/tmp}/onebz-netns.err"
}

# netns_exec NAME CMD...: CMD in the secondary's namespace. For processes started in the
# background use $(netns_wrap NAME) CMD... instead: `ip netns exec` execs CMD, so the PID
# is CMD's own (a shell function would put a subshell between, and stopping the subshell's
# PID would leave CMD running).
netns_exec() {
  local name=$1; shift
  $(netns_wrap "$name") "$@"
}

# netns_wrap NAME: the command prefix for NAME's namespace ("" on loopback); unquoted.
netns_wrap() {
  [ "$fleet_mode" = netns ] && echo "ip netns exec $(netns_name "$1")"
  return 0
}

# link_cut NAME [PID]: the secondary's interface down (netns), or its process stopped
# (loopback; PID needed).
link_cut() {
  if [ "$fleet_mode" = netns ]; then
    ip -n "$(netns_name "$1")" link set eth0 down
  else
    kill -STOP "$2"
  fi
}

link_restore() {
  if [ "$fleet_mode" = netns ]; then
    # IPv4 addresses stay on an interface that goes down; only the link comes back.
    ip -n "$(netns_name "$1")" link set eth0 up
    netns_wait_forwarding "$1"
  else
    kill -CONT "$2"
  fi
}

netns_status() {
  echo "mode: ${fleet_mode:-unknown}"
  ip -br addr show "$netns_bridge" 2>/dev/null || echo "no bridge $netns_bridge"
  for name in s1 s2; do
    if ip netns list | grep -qw "$(netns_name "$name")"; then
      echo "$(netns_name "$name"): $(ip -n "$(netns_name "$name")" -br addr show dev eth0 | tr -s ' ')"
    else
      echo "$(netns_name "$name"): absent"
    fi
  done
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  case "${1:-}" in
    up) netns_up; echo "$fleet_mode" ;;
    down) netns_down ;;
    cut) fleet_mode=netns; link_cut "$2" ;;
    restore) fleet_mode=netns; link_restore "$2" ;;
    status) fleet_mode=netns; netns_status ;;
    *) echo "usage: $0 up|down|cut s1|restore s1|status" >&2; exit 2 ;;
  esac
fi
