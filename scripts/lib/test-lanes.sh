# Every test after the debug build, in parallel lanes (sourced by scripts/test).
#
# An item is one test process: each Swift integration suite (its own process: in one
# process the suites would starve the cooperative thread pool that in-process servers
# and chain followers need), the unit suites together, each devnet Python test file,
# each script of scripts/tests/, the demo smoke test and the release smoke test. Every
# item starts its own servers on its own free loopback ports in its own scratch
# directory, so items run side by side; TEST_JOBS at once (default 4 on the 2 cores we
# are measured on: the tests spend most of their time waiting on servers), longest first
# as last measured (scripts/lib/test-durations).
#
# RELEASE_SMOKE=1 adds the release build beside the lanes at the lowest CPU priority and
# the release smoke test as the last item, waiting for it (.ci/run builds release after
# scripts/test instead). Items that use fixed names (network namespaces: FleetTests,
# fleet-standin) take a lock, one at a time.
#
# Each item's output goes to its own log under $TEST_LOG_DIR; a failed item's log is
# printed. At the end: every item's wall time (longest first), and "N passed, N failed".

# Items that create network namespaces with fixed names: one at a time.
netns_items=(IntegrationTests.FleetTests script:fleet-standin)

# Stops what an item's test process left behind (it crashed, or was killed before the
# servers' deinit ran): every process whose environment carries the item's marker, by
# PID. Servers get their own process groups (Foundation's Process), so a group kill
# would miss them.
reap_item() {
  local marker=$1 name=$2 env pid left=()
  for env in $(grep -lzx "ONEBZ_TEST_ITEM=$marker" /proc/[0-9]*/environ 2>/dev/null); do
    pid=${env#/proc/}; pid=${pid%/environ}
    left+=("$pid")
  done
  [ ${#left[@]} -gt 0 ] || return 0
  echo "   ($name left ${#left[@]} processes running: stopping ${left[*]})"
  kill -TERM "${left[@]}" 2>/dev/null || true
  sleep 2
  kill -KILL "${left[@]}" 2>/dev/null || true
}

# The command line of one item, as words in the array `cmd` (an array, not a string:
# a checkout whose path has a space still runs).
item_command() {
  local item=$1
  case $item in
    unit) cmd=("$test_binary" --testing-library swift-testing --no-parallel --skip '^IntegrationTests\.') ;;
    IntegrationTests.*) cmd=("$test_binary" --testing-library swift-testing --no-parallel --filter "^${item//./\\.}/") ;;
    python:*) cmd=("$top_dir/.venv-devnet/bin/python" -m unittest -v "devnet.tests.${item#python:}") ;;
    script:*) cmd=("$top_dir/scripts/tests/${item#script:}") ;;
    demo-smoke) cmd=(env STACK_NO_BUILD=1 "$top_dir/scripts/demo-smoke") ;;
    release-smoke) cmd=(env STACK_NO_BUILD=1 RELEASE_SMOKE_ONEBZD_ONLY=1 "$top_dir/scripts/release-smoke") ;;
  esac
}

# Runs one item in the background of the lanes; its line goes to $TEST_LOG_DIR/results.
run_item() {
  local name=$1 log="$TEST_LOG_DIR/${1//[:\/]/_}.log" start end status marker="$$-$BASHPID-$1" cmd=()
  item_command "$name"
  start=$(date +%s.%N)
  if [ "$name" = release-smoke ] && ! wait_release_build; then
    { echo "the release build failed (status $(cat "$TEST_LOG_DIR/release-build.status" 2>/dev/null || echo "none: stopped"));" \
        "its log: $TEST_LOG_DIR/release-build.log"; grep -E "error:" "$TEST_LOG_DIR/release-build.log" | head -40
    } >"$log"
    status=FAILED
  else
    local lock=()
    printf '%s\n' "${netns_items[@]}" | grep -qx "$name" && lock=(flock /tmp/onebz-test-netns.lock)
    if (cd "$top_dir" && ONEBZ_TEST_ITEM=$marker NO_COLOR=1 "${lock[@]}" \
      timeout "${TEST_ITEM_TIMEOUT:-900}" "${cmd[@]}") >"$log" 2>&1; then status=ok; else status=FAILED; fi
  fi
  reap_item "$marker" "$name"
  end=$(date +%s.%N)
  # CPU seconds (user + system) of the item's processes that were waited for.
  # (`times` into a file: in a pipe or $(...) it would run in a fork that has no children.)
  local cpu
  times >"$log.times"
  cpu=$(tail -n 1 "$log.times" | awk '{ n = 0; for (i = 1; i <= 2; i++) { split($i, t, /[ms]/); n += t[1] * 60 + t[2] }; print n }')
  rm -f "$log.times"
  printf '%s %.1f %s %.1f\n' "$status" "$(echo "$end - $start" | bc)" "$name" "$cpu" >>"$TEST_LOG_DIR/results"
  echo "   $status $(printf '%6.1fs' "$(echo "$end - $start" | bc)") $name"
}

# The release build of onebzd (what the release smoke test starts; the registry and
# onebz come from the debug build), beside the lanes at nice 19; its status lands in
# release-build.status.
start_release_build() {
  : >"$TEST_LOG_DIR/release-build.log"
  rm -f "$TEST_LOG_DIR/release-build.status"
  # Its own session (setsid), so stop_release_build can stop the build's whole group.
  TOP_DIR=$top_dir LOG=$TEST_LOG_DIR setsid bash -c '
    cd "$TOP_DIR" && s=0
    nice -n 19 swift build -c release --product onebzd >"$LOG/release-build.log" 2>&1 || s=$?
    echo "$s" >"$LOG/release-build.status"' &
  release_build_pid=$!
  disown "$release_build_pid"  # not a lane: `jobs` and `wait -n` leave it out
  echo "   release build started beside the lanes (nice 19; log $TEST_LOG_DIR/release-build.log)"
}

# Stops the release build if it still runs (scripts/test interrupted): its process group.
stop_release_build() {
  [ -n "${release_build_pid:-}" ] || return 0
  kill -TERM -- "-$release_build_pid" 2>/dev/null || true
}

wait_release_build() {
  local waited=$SECONDS
  while [ ! -s "$TEST_LOG_DIR/release-build.status" ]; do
    kill -0 "$release_build_pid" 2>/dev/null || break
    sleep 1
  done
  [ "$SECONDS" -gt "$waited" ] && echo "   (release-smoke waited $((SECONDS - waited)) s for the release build)"
  [ "$(cat "$TEST_LOG_DIR/release-build.status" 2>/dev/null)" = 0 ]
}

# Passed and failed tests in one item's log: Swift Testing's per-test lines, unittest's
# summary, or one test for a script (its exit status).
count_item() {
  local status=$1 name=$2 log="$TEST_LOG_DIR/${2//[:\/]/_}.log" passed failed ran
  case $name in
    unit|IntegrationTests.*)
      # (not the closing "Test run with N tests ..." line)
      passed=$(grep -E '^✔ Test .* passed after' "$log" | grep -cv '^✔ Test run with' || true)
      failed=$(grep -E '^✘ Test .* failed after' "$log" | grep -cv '^✘ Test run with' || true) ;;
    python:*)
      ran=$(sed -n 's/^Ran \([0-9]*\) tests\? in .*/\1/p' "$log" | tail -n 1)
      failed=$({ grep -oE '(failures|errors)=[0-9]+' "$log" || true; } | awk -F= '{ s += $2 } END { print s + 0 }')
      passed=$(( ${ran:-0} - failed )) ;;
    *) if [ "$status" = ok ]; then passed=1 failed=0; else passed=0 failed=1; fi ;;
  esac
  # A process that died (crash, timeout) failed even if no test said so.
  [ "$status" = ok ] || [ "$failed" -gt 0 ] || failed=1
  echo "$passed $failed"
}

run_test_lanes() {
  local jobs=${TEST_JOBS:-4}
  local durations
  top_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
  durations="$top_dir/scripts/lib/test-durations"
  test_binary="$(cd "$top_dir" && swift build --show-bin-path)/onebzPackageTests.xctest"
  [ -x "$test_binary" ] || { echo "test binary not found: $test_binary"; return 1; }
  TEST_LOG_DIR=${TEST_LOG_DIR:-$(mktemp -d /tmp/onebz-tests.XXXXXX)}
  mkdir -p "$TEST_LOG_DIR"; : >"$TEST_LOG_DIR/results"
  echo "   logs: $TEST_LOG_DIR (TEST_JOBS=$jobs)"

  # Integration suites from the binary's own list (before the release build takes
  # SwiftPM's lock on .build).
  local suites
  suites=$(cd "$top_dir" && swift test list --skip-build 2>/dev/null | grep -oE '^IntegrationTests\.[A-Za-z0-9_]+' | sort -u)
  [ -n "$suites" ] || { echo "no integration suites listed (swift test list)"; return 1; }
  local items=(unit demo-smoke) file
  while read -r file; do [ -n "$file" ] && items+=("$file"); done <<<"$suites"
  for file in "$top_dir"/devnet/tests/test_*.py; do
    [ -e "$file" ] && items+=("python:$(basename "$file" .py)")
  done
  for file in "$top_dir"/scripts/tests/*; do
    [ -x "$file" ] && items+=("script:$(basename "$file")")
  done

  local release=0
  if [ "${RELEASE_SMOKE:-0}" = 1 ]; then release=1; start_release_build; fi

  # Longest first as last measured (unknown items first: they may be slow); the
  # release smoke test last, it waits for the release build.
  local ordered=() item seconds
  for item in "${items[@]}"; do
    seconds=$(awk -v s="$item" '$2 == s { print $1 }' "$durations" 2>/dev/null)
    ordered+=("${seconds:-9999} $item")
  done
  [ "$release" = 1 ] && ordered+=("-1 release-smoke")

  while read -r _ item; do
    [ -n "$item" ] || continue
    while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
    run_item "$item" &
  done < <(printf '%s\n' "${ordered[@]}" | sort -rn)
  wait

  local passed=0 failed=0 p f status name
  while read -r status _ name _; do
    read -r p f < <(count_item "$status" "$name")
    passed=$((passed + p)); failed=$((failed + f))
  done <"$TEST_LOG_DIR/results"
  echo "== per-item wall time and CPU (longest first; in all $(awk '{ t += $2; c += $4 } END { printf "%.0f s wall, %.0f s CPU", t, c }' "$TEST_LOG_DIR/results"))"
  sort -k2 -rn "$TEST_LOG_DIR/results" | awk '{ printf "   %7.1fs %6.1fs CPU  %s %s\n", $2, $4, $3, ($1 == "ok" ? "" : "FAILED") }'
  local bad
  bad=$(awk '$1 != "ok" { print $3 }' "$TEST_LOG_DIR/results")
  for item in $bad; do
    local log="$TEST_LOG_DIR/${item//[:\/]/_}.log"
    echo "== FAILED: $item (log $log)"
    grep -E '✘|Fatal error|fatal error|Swift runtime failure|Terminated|timed out|FAIL|Error|error:' "$log" | head -80
    echo "   (last lines)"; tail -n 20 "$log"
  done
  echo "$passed passed, $failed failed"
  [ -z "$bad" ]
}
