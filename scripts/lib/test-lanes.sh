# The Swift test suites in parallel lanes (sourced by scripts/test).
#
# Every integration suite starts its own servers on free loopback ports, in its own
# scratch directory, so suites can run side by side; what they cannot share is one
# process's cooperative thread pool (in-process servers and followers starve each other
# there), so each suite runs in its own test process, `--no-parallel` inside. The unit
# suites (every target but IntegrationTests) are one more item. TEST_JOBS processes run
# at once (default 2, the cores of the machine we are measured on). Suites that use
# fixed names (network namespaces: FleetTests) run alone afterwards.
#
# Each item's output goes to its own log under $TEST_LOG_DIR; a failed item's log is
# printed whole. At the end: every item's wall time (longest first), and the closing
# line "N passed, N failed".

# Items run alone, after the lanes (fixed resources).
serial_suites=(IntegrationTests.FleetTests)

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

# Runs one item: run_item NAME ARGS... (arguments for the test binary after the library).
run_item() {
  local name=$1; shift
  local log="$TEST_LOG_DIR/$name.log" start end status marker="$$-$BASHPID-$name"
  start=$(date +%s.%N)
  if ONEBZ_TEST_ITEM=$marker NO_COLOR=1 timeout "${TEST_ITEM_TIMEOUT:-900}" "$test_binary" \
    --testing-library swift-testing --no-parallel "$@" >"$log" 2>&1; then status=ok; else status=FAILED; fi
  reap_item "$marker" "$name"
  end=$(date +%s.%N)
  printf '%s %.1f %s\n' "$status" "$(echo "$end - $start" | bc)" "$name" >>"$TEST_LOG_DIR/results"
  echo "   $status $(printf '%6.1fs' "$(echo "$end - $start" | bc)") $name"
}

# Counts passed/failed tests in one log (Swift Testing's per-test lines).
count_log() {
  local passed failed
  passed=$(grep -cE '^✔ Test .* passed after' "$1" || true)
  failed=$(grep -cE '^✘ Test .* failed after' "$1" || true)
  echo "$passed $failed"
}

run_test_lanes() {
  local jobs=${TEST_JOBS:-2}
  local durations
  durations="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/test-durations"
  test_binary="$(swift build --show-bin-path)/onebzPackageTests.xctest"
  [ -x "$test_binary" ] || { echo "test binary not found: $test_binary"; return 1; }
  TEST_LOG_DIR=${TEST_LOG_DIR:-$(mktemp -d /tmp/onebz-tests.XXXXXX)}
  mkdir -p "$TEST_LOG_DIR"; : >"$TEST_LOG_DIR/results"
  echo "   logs: $TEST_LOG_DIR (TEST_JOBS=$jobs)"

  # Integration suites from the binary's own list, longest first as last measured
  # (scripts/lib/test-durations; unknown suites first, they may be slow).
  local suites
  suites=$(swift test list --skip-build 2>/dev/null | grep -oE '^IntegrationTests\.[A-Za-z0-9_]+' | sort -u)
  [ -n "$suites" ] || { echo "no integration suites listed (swift test list)"; return 1; }
  local ordered=() suite
  while read -r suite; do
    [ -n "$suite" ] || continue
    printf '%s\n' "${serial_suites[@]}" | grep -qx "$suite" && continue
    local seconds
    seconds=$(awk -v s="$suite" '$2 == s { print $1 }' "$durations" 2>/dev/null)
    ordered+=("${seconds:-9999} $suite")
  done <<<"$suites"
  local unit_seconds
  unit_seconds=$(awk '$2 == "unit" { print $1 }' "$durations" 2>/dev/null || true)
  ordered+=("${unit_seconds:-9999} unit")

  local item
  while read -r _ item; do
    [ -n "$item" ] || continue
    while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
    if [ "$item" = unit ]; then
      run_item unit --skip '^IntegrationTests\.' &
    else
      run_item "$item" --filter "^${item//./\\.}/" &
    fi
  done < <(printf '%s\n' "${ordered[@]}" | sort -rn)
  wait
  for suite in "${serial_suites[@]}"; do
    echo "$suites" | grep -qx "$suite" && run_item "$suite" --filter "^${suite//./\\.}/"
  done

  local passed=0 failed=0 p f status name
  while read -r status _ name; do
    read -r p f < <(count_log "$TEST_LOG_DIR/$name.log")
    # A process that died (crash, timeout) failed even if no test said so.
    [ "$status" = ok ] || [ "$f" -gt 0 ] || f=1
    passed=$((passed + p)); failed=$((failed + f))
  done <"$TEST_LOG_DIR/results"
  echo "== per-suite wall time (longest first; total $(awk '{ t += $2 } END { printf "%.0f", t }' "$TEST_LOG_DIR/results") s of test processes)"
  sort -k2 -rn "$TEST_LOG_DIR/results" | awk '{ printf "   %7.1fs %s %s\n", $2, $3, ($1 == "ok" ? "" : "FAILED") }'
  local bad
  bad=$(awk '$1 != "ok" { print $3 }' "$TEST_LOG_DIR/results")
  for item in $bad; do
    echo "== FAILED: $item (log $TEST_LOG_DIR/$item.log)"
    grep -E '✘|Fatal error|fatal error|Swift runtime failure|Terminated|timed out' "$TEST_LOG_DIR/$item.log" | head -80
    echo "   (last lines)"; tail -n 20 "$TEST_LOG_DIR/$item.log"
  done
  echo "$passed passed, $failed failed"
  [ -z "$bad" ]
}
