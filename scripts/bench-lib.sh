# Shared by the benchmark campaigns (scripts/bench-matrix, scripts/bench-growth): release workers on a fresh
# local broker, each configuration on its own topic prefix and consumer group. Sourced after lib.sh, with
# BENCH_LOG naming the log file in .local/logs.
# Whether the broker is the local one, which start_workers restarts for every configuration: Tansu keeps every topic
# in memory and slows down as it fills (after a few matrices it answered produce and fetch in hundreds of ms).
local_kafka=""
if using_local_kafka; then local_kafka=1; fi
export_service_env
bin="${SPECTASK_BIN:-$(SPECTASK_CONFIGURATION=release spectask_bin)}"
[ -x "$bin" ] || die "no release build at $bin; run scripts/up (or set SPECTASK_BIN)"
log="$LOG_DIR/${BENCH_LOG:-bench}.log"
mkdir -p "$LOG_DIR"
: >"$log"
# The checkout's commit names the build only when the build is the checkout's own.
if [ -n "${SPECTASK_BIN:-}" ]; then built_from="binary $bin"; else built_from="$(git -C "$REPO_ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')"; fi
echo "spectask $built_from, $(date -u '+%Y-%m-%d %H:%M UTC'), $("$bin" version)" | tee -a "$log"
pids=()
stop_workers() {
  # What the workers committed is published before they stop (up to 30 s).
  for _ in $(seq 1 150); do
    rows="$("$bin" outbox status --json 2>/dev/null | python3 -c 'import json, sys; print(json.load(sys.stdin)["rows"])' || true)"
    [ "$rows" = 0 ] && break
    sleep 0.2
  done
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$pid" 2>/dev/null || true
  done
  pids=()
}
trap stop_workers EXIT

# start_workers N: N workers on a fresh topic prefix and group; sets PREFIX and METRICS.
start_workers() {
  local count="$1" run
  if [ -n "$local_kafka" ]; then
    # Without the address exported, services treats the broker as its own and restarts it.
    env -u KAFKA_BOOTSTRAP_SERVERS "$REPO_ROOT/scripts/services" fresh-broker >/dev/null
  fi
  run="matrix-$(date +%s)-$count"
  PREFIX="$run."
  METRICS=""
  "$bin" topics apply --topic-prefix "$PREFIX" >/dev/null
  for n in $(seq 1 "$count"); do
    local port=$((8180 + n))
    SPECTASK_TOPIC_PREFIX="$PREFIX" SPECTASK_GROUP_ID="$run" SPECTASK_ADMIN_ADDRESS="127.0.0.1:$port" \
      setsid "$bin" worker >"$LOG_DIR/bench-matrix-worker-$n.log" 2>&1 </dev/null &
    pids+=($!)
    METRICS="${METRICS:+$METRICS,}http://127.0.0.1:$port/metrics"
  done
  # Every worker owns partitions (the broker assigns them within seconds to a minute).
  for n in $(seq 1 "$count"); do
    for _ in $(seq 1 600); do
      grep -q "owning partitions" "$LOG_DIR/bench-matrix-worker-$n.log" && break
      sleep 0.2
    done
    grep -q "owning partitions" "$LOG_DIR/bench-matrix-worker-$n.log" || die "worker $n got no partitions"
  done
  sleep 2
}

bench() {
  step "bench $* (workers: ${#pids[@]})" | tee -a "$log"
  "$bin" bench --topic-prefix "$PREFIX" --metrics "$METRICS" "$@" 2>&1 | grep -v "commands done" | tee -a "$log"
}

rss() {
  local total=""
  for pid in "${pids[@]}"; do total="$total $(($(ps -o rss= -p "$pid") / 1024)) MB"; done
  echo "RSS per worker:$total" | tee -a "$log"
}

