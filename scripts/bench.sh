#!/usr/bin/env bash
# Runs the three herald bench scenarios at the sizes of docs/benchmarks.md
# against a fresh local server (loopback, temporary SQLite file, generated
# secrets), prints the figures and cleans up after itself.
#
#   scripts/bench.sh                 # one run of each scenario
#   RUNS=3 scripts/bench.sh          # three runs of each, each on a fresh server
#   OUT=results scripts/bench.sh     # also keep every result as JSON in results/
#   SCENARIOS=idle scripts/bench.sh  # only some of: idle latency sweep broadcast publish
#   HERALD_DB=postgres://… scripts/bench.sh   # against PostgreSQL (a fresh schema is the caller's)
#
# Sizes can be changed with IDLE_CONNS, IDLE_SETTLE (the idle CPU window),
# IDLE_AFTER (RSS read again that long after the streams left), LAT_CONNS, LAT_RATE, LAT_DURATION,
# SWEEP_CONNS, SWEEP_RATES, SWEEP_STEP, SWEEP_PUBLISHERS, BC_CONNS, BC_COUNT,
# BC_INTERVAL, PUB_CONCURRENCY, PUB_DURATION; the server listens on ADDR
# (default 127.0.0.1:18931). Every step is bounded by a timeout. The sweep
# also writes its chart (sweep-N.svg) next to the JSON when OUT is set.
set -euo pipefail

cd "$(dirname "$0")/.."

RUNS=${RUNS:-1}
SCENARIOS=${SCENARIOS:-idle latency sweep broadcast publish}
ADDR=${ADDR:-127.0.0.1:18931}
IDLE_CONNS=${IDLE_CONNS:-10000}
IDLE_SETTLE=${IDLE_SETTLE:-5s}
IDLE_AFTER=${IDLE_AFTER:-0s}
LAT_CONNS=${LAT_CONNS:-1000}
LAT_RATE=${LAT_RATE:-1000}
LAT_DURATION=${LAT_DURATION:-30s}
SWEEP_CONNS=${SWEEP_CONNS:-10000}
SWEEP_RATES=${SWEEP_RATES:-2000,4000,6000,8000,10000,12000,13000,14000,16000}
SWEEP_STEP=${SWEEP_STEP:-15s}
SWEEP_PUBLISHERS=${SWEEP_PUBLISHERS:-64}
BC_CONNS=${BC_CONNS:-10000}
BC_COUNT=${BC_COUNT:-20}
BC_INTERVAL=${BC_INTERVAL:-1s}
PUB_CONCURRENCY=${PUB_CONCURRENCY:-1,16,64}
PUB_DURATION=${PUB_DURATION:-10s}
SOURCES=127.0.0.1,127.0.0.2,127.0.0.3,127.0.0.4

work=$(mktemp -d "${TMPDIR:-/tmp}/herald-bench.XXXXXX")
server_pid=""

stop_server() {
	if [[ -n $server_pid ]]; then
		kill -TERM "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
		server_pid=""
	fi
}
cleanup() {
	stop_server
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if curl -fsS -o /dev/null --max-time 1 "http://$ADDR/healthz" 2>/dev/null; then
	echo "bench.sh: something already answers on $ADDR; set ADDR" >&2
	exit 1
fi

echo "== building" >&2
go build -o "$work/herald" ./cmd/herald
herald=$work/herald

HERALD_JWT_SECRET=$(head -c 48 /dev/urandom | base64 | tr -d '\n/+=')
HERALD_PUBLISHER_KEY=$(head -c 24 /dev/urandom | base64 | tr -d '\n/+=')
export HERALD_JWT_SECRET HERALD_PUBLISHER_KEY
export HERALD_URL=http://$ADDR

# start_server starts a fresh server on an empty database and waits until
# it answers.
start_server() {
	rm -f "$work"/herald.db*
	HERALD_ADDR=$ADDR HERALD_DB="${HERALD_DB:-sqlite://$work/herald.db}" HERALD_LOG_LEVEL=warn \
		HERALD_DRAIN_TIMEOUT=1s HERALD_MAX_CONNS_PER_USER=10 \
		"$herald" serve >>"$work/server.log" 2>&1 &
	server_pid=$!
	for _ in $(seq 100); do
		if curl -fsS -o /dev/null --max-time 1 "$HERALD_URL/healthz" 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	echo "bench.sh: the server did not start; its log:" >&2
	cat "$work/server.log" >&2
	exit 1
}

# bench NAME LIMIT RUN ARGS… runs one scenario on a fresh server, prints
# its figures and keeps its JSON when OUT is set. An argument @PID@ is
# replaced by the server's process id.
bench() {
	local name=$1 limit=$2 run=$3
	shift 3
	start_server
	local args=("${@//@PID@/$server_pid}")
	args=("${args[@]//@CHART@/$work/$name-$run.svg}")
	echo "== $name (run $run/$RUNS)"
	timeout --signal=INT --kill-after=10s "$limit" \
		"$herald" bench "$name" --quiet --json "${args[@]}" >"$work/$name-$run.json"
	print_table "$name" "$work/$name-$run.json"
	if [[ -n ${OUT:-} ]]; then
		mkdir -p "$OUT"
		cp "$work/$name-$run.json" "$OUT/"
		if [[ -f $work/$name-$run.svg ]]; then cp "$work/$name-$run.svg" "$OUT/"; fi
	fi
	stop_server
}

# print_table renders a result JSON as the same few lines every time.
print_table() {
	case $1 in
	idle) jq -r '"connected \(.connected)/\(.conns) (failed \(.failed), dropped \(.dropped)) in \(.connect_seconds | .*100 | round / 100) s
server RSS \(.rss_before_bytes / 1048576 | .*10 | round / 10) MiB -> \(.rss_after_bytes / 1048576 | .*10 | round / 10) MiB: \(.rss_per_conn_bytes / 1024 | .*10 | round / 10) KiB per connection
Go heap \(.heap_inuse_per_conn_bytes / 1024 | .*10 | round / 10) KiB + stacks \(.stack_inuse_per_conn_bytes / 1024 | .*10 | round / 10) KiB per connection
goroutines \(.goroutines_before) -> \(.goroutines_after): \(.goroutines_per_conn | .*100 | round / 100) per connection
server cpu while idle \(.idle_cpu_percent | .*100 | round / 100) % of a core; RSS after all left \(if .rss_after_left_bytes < 0 then "not measured" else "\(.rss_after_left_bytes / 1048576 | .*10 | round / 10) MiB" end)"' "$2" ;;
	latency) jq -r '"sent \(.sent) acked \(.acked) received \(.received) lost \(.lost) duplicates \(.duplicates) errors \(.publish_errors) dropped streams \(.dropped_streams)
delivery ms: p50 \(.delivery_latency.p50_ms) p90 \(.delivery_latency.p90_ms) p99 \(.delivery_latency.p99_ms) p99.9 \(.delivery_latency.p999_ms) max \(.delivery_latency.max_ms)
publish ms:  p50 \(.publish_latency.p50_ms) p99 \(.publish_latency.p99_ms)   publisher lag p99 \(.send_lag.p99_ms)
server cpu per delivery: \(.server_cpu_per_delivery_us | .*10 | round / 10) µs"' "$2" ;;
	sweep) jq -r '(.steps[] | "target \(.rate)/s: acked \(.acked_per_second | round)/s, lost \(.lost), p50 \(.delivery_latency.p50_ms) ms, p99 \(.delivery_latency.p99_ms) ms, cpu \(.server_cpu_per_delivery_us | .*10 | round / 10) µs/delivery"), "best rate (p99 < 100 ms, nothing lost): \(.best_rate)/s"' "$2" ;;
	broadcast) jq -r '"\(.count) broadcasts × \(.conns) streams: received \(.received)/\(.expected), lost \(.lost), duplicates \(.duplicates)
delivery ms: p50 \(.delivery_latency.p50_ms) p99 \(.delivery_latency.p99_ms) max \(.delivery_latency.max_ms)
server cpu per delivery: \(.server_cpu_per_delivery_us | .*10 | round / 10) µs"' "$2" ;;
	publish) jq -r '.levels[] | "concurrency \(.concurrency): \(.acked_per_second | round) acked/s, p50 \(.latency.p50_ms) ms, p99 \(.latency.p99_ms) ms, errors \(.errors)"' "$2" ;;
	esac
}

echo "== machine: $(nproc) cores, $(uname -sr), $(go version | cut -d' ' -f3)"
for run in $(seq "$RUNS"); do
	for scenario in $SCENARIOS; do
		case $scenario in
		idle) bench idle 300s "$run" --conns "$IDLE_CONNS" --sources "$SOURCES" --pid @PID@ \
			--settle "$IDLE_SETTLE" --after "$IDLE_AFTER" ;;
		latency) bench latency 180s "$run" --conns "$LAT_CONNS" --rate "$LAT_RATE" --duration "$LAT_DURATION" --pid @PID@ ;;
		sweep) bench sweep 900s "$run" --conns "$SWEEP_CONNS" --rates "$SWEEP_RATES" --duration "$SWEEP_STEP" \
			--publishers "$SWEEP_PUBLISHERS" --sources "$SOURCES" --pid @PID@ --chart @CHART@ ;;
		broadcast) bench broadcast 300s "$run" --conns "$BC_CONNS" --count "$BC_COUNT" --interval "$BC_INTERVAL" \
			--sources "$SOURCES" --pid @PID@ ;;
		publish) bench publish 180s "$run" --concurrency "$PUB_CONCURRENCY" --duration "$PUB_DURATION" ;;
		*) echo "bench.sh: unknown scenario $scenario" >&2; exit 2 ;;
		esac
	done
done
