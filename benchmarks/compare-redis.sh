#!/usr/bin/env bash
# Same machine, same run: the Rto metrics server (its own process) under the load generator, then
# a local redis-server under redis-benchmark with the same connection and pipeline shapes, then
# bytes per point. Prints a summary table at the end (Markdown, ready for docs/performance.md).
#
# Needs the Debian package redis-server (it brings redis-tools); installed here when missing and
# running as root. Usage:
#   benchmarks/compare-redis.sh [duration-seconds] [points-for-size]   # defaults 10 and 12500000
# Set SCENARIOS to a subset of "pipelined one always size" to run only those, and BASELINE to the
# root of another built checkout (dotnet build -c Release benchmarks/Rto.Benchmarks there) to run
# its server through the same scenarios in the same run, for before/after figures.
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-10}
size_points=${2:-12500000}
scenarios=${SCENARIOS:-pipelined one always size}
baseline=${BASELINE:-}

if ! command -v redis-server >/dev/null || ! command -v redis-benchmark >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        apt-get install -y -qq redis-server >/dev/null || { apt-get update -qq && apt-get install -y -qq redis-server >/dev/null; }
    else
        echo "redis-server/redis-benchmark not found: apt-get install redis-server" >&2
        exit 1
    fi
fi

dotnet build -c Release benchmarks/Rto.Benchmarks >/dev/null  # builds the server too
bench="dotnet benchmarks/Rto.Benchmarks/bin/Release/net10.0/Rto.Benchmarks.dll"
server_dll=src/Rto.Server/bin/Release/net10.0/Rto.Server.dll

work=$(mktemp -d)
port=$(( 20000 + RANDOM % 20000 ))
rto_pid=
redis_up=
cleanup() {
    [ -n "$rto_pid" ] && kill "$rto_pid" 2>/dev/null && wait "$rto_pid" 2>/dev/null
    [ -n "$redis_up" ] && redis-cli -p "$port" shutdown nosave >/dev/null 2>&1
    rm -rf "$work"
}
trap cleanup EXIT
rows="$work/rows"
: >"$rows"

started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
machine="$(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), $(free -g | awk '/Mem:/ {print $2}') GiB, kernel $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== $started, $machine"

# The server runs as its own process, like redis-server: neither shares a GC or threads with its load.
start_rto() {  # start_rto <fsync> [server dll]
    rm -rf "$work/rto"
    # Builds before 0.2 named the optimization section Rto (0.2 refuses that name); both ignore the other's.
    local legacy=()
    [ -n "${2:-}" ] && [ "$2" != "$server_dll" ] && legacy=(--Rto:Enabled=false)
    dotnet "${2:-$server_dll}" --Metrics:Port="$port" --Metrics:DataDirectory="$work/rto" --Metrics:Fsync="$1" \
        --Jobs:Enabled=false --Messenger:Enabled=false --Meters:Enabled=false --Health:Enabled=false \
        --Optimization:Enabled=false --Console:Enabled=false "${legacy[@]}" \
        --Logging:LogLevel:Default=Warning &
    rto_pid=$!
    for _ in $(seq 300); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return; sleep 0.1; done
    echo "the Rto server did not start" >&2
    exit 1
}
stop_rto() { kill "$rto_pid"; wait "$rto_pid" || true; rto_pid=; }

start_redis() {  # start_redis <appendonly yes|no> <appendfsync>
    rm -rf "$work/redis" && mkdir -p "$work/redis"
    redis-server --port "$port" --bind 127.0.0.1 --dir "$work/redis" --save '' \
        --appendonly "$1" --appendfsync "$2" --daemonize yes --logfile "$work/redis/redis.log"
    redis_up=1
    for _ in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && return; sleep 0.1; done
}
stop_redis() { redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true; redis_up=; }

# rto_load <rto|base> <label> <load options...>: runs the load generator, keeps its summary line.
rto_load() {
    local kind=$1 label=$2; shift 2
    echo "-- $kind: $label"
    $bench load metrics --port "$port" --server-pid "$rto_pid" --duration "$duration" "$@" | tee "$work/out" || true
    echo "$kind|$label|$(grep '^summary:' "$work/out" | tail -n 1)" >>"$rows"
}

# servers <fsync>: "kind dll" for this build and the baseline, if any.
servers() {
    echo "rto $server_dll"
    [ -n "$baseline" ] && echo "base $baseline/src/Rto.Server/bin/Release/net10.0/Rto.Server.dll"
    return 0
}

# redis_load <label> <requests per second expected> <redis-benchmark options...>
redis_load() {
    local label=$1 rate=$2; shift 2
    echo "-- Redis: $label: redis-benchmark $*"
    redis-benchmark -p "$port" -t set -r 16000 -n $(( rate * duration )) --csv "$@" | tee "$work/out"
    # "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
    tr -d '"' <"$work/out" | awk -F, -v l="$label" '$1 == "SET" { printf "redis|%s|summary: rps=%.0f p50_ms=%s p99_ms=%s max_ms=%s\n", l, $2, $5, $7, $8 }' >>"$rows"
}

if [[ " $scenarios " == *" pipelined "* || " $scenarios " == *" one "* ]]; then
    while read -r kind dll; do
        echo "== $kind: Rto metrics server $dll, fsync Interval (the default)"
        start_rto Interval "$dll"
        [[ " $scenarios " == *" pipelined "* ]] && rto_load "$kind" "16 x 256 pipelined puts" --connections 16 --pipeline 256
        [[ " $scenarios " == *" one "* ]] && rto_load "$kind" "64 x 1 in flight" --connections 64 --pipeline 1
        stop_rto
    done < <(servers)

    echo "== redis-server $(redis-server --version | grep -o 'v=[^ ]*'), no AOF"
    start_redis no everysec
    [[ " $scenarios " == *" pipelined "* ]] && redis_load "16 x 256 pipelined puts|no AOF" 1500000 -P 256 -c 16
    [[ " $scenarios " == *" one "* ]] && redis_load "64 x 1 in flight|no AOF" 60000 -P 1 -c 64
    stop_redis

    echo "== redis-server, appendonly yes, appendfsync everysec (the closest match to Fsync=Interval)"
    start_redis yes everysec
    [[ " $scenarios " == *" pipelined "* ]] && redis_load "16 x 256 pipelined puts|AOF everysec" 1500000 -P 256 -c 16
    [[ " $scenarios " == *" one "* ]] && redis_load "64 x 1 in flight|AOF everysec" 60000 -P 1 -c 64
    stop_redis
fi

if [[ " $scenarios " == *" always "* ]]; then
    echo "== fsync before every reply: Rto Fsync=Always, Redis appendfsync always"
    while read -r kind dll; do
        start_rto Always "$dll"
        rto_load "$kind" "64 x 1 in flight, fsync always" --connections 64 --pipeline 1
        stop_rto
    done < <(servers)
    start_redis yes always
    redis_load "64 x 1 in flight, fsync always|AOF always" 20000 -P 1 -c 64
    stop_redis
fi

if [[ " $scenarios " == *" size "* ]]; then
    echo "== bytes per point after $size_points points (16 connections x 1000 keys, one point per key per second)"
    while read -r kind dll; do
        for values in repeat sine random; do
            start_rto Interval "$dll"
            echo "-- $kind: $values values"
            $bench load metrics --mode size --values "$values" --total "$size_points" --port "$port" --server-pid "$rto_pid" \
                --data-dir "$work/rto" | tee "$work/out" || true
            echo "size-$kind|$values|$(grep '^summary:' "$work/out" | tail -n 1)|$(grep '^puts:' "$work/out" | sed -n 's/.* = \([0-9,]*\) puts\/s.*/\1/p')" >>"$rows"
            stop_rto
        done
    done < <(servers)

    # For scale: plain Redis keeping points as sorted-set entries (score = timestamp), as a time
    # series is usually kept without a module.
    start_redis no everysec
    entries=1000000
    redis-benchmark -p "$port" -t zadd -n "$entries" -r 100000000 -P 64 -q >/dev/null
    used=$(redis-cli -p "$port" info memory | tr -d '\r' | awk -F: '$1 == "used_memory_dataset" {print $2}')
    card=$(redis-cli -p "$port" zcard myzset | tr -d '\r')
    echo "redis sorted set: $card entries, used_memory_dataset $used bytes"
    echo "zset|$card|$used" >>"$rows"
    stop_redis
fi

# The summary: one row per scenario, Rto against Redis in the same run.
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$2"; }
echo
echo "## Summary ($started; $machine; ${duration} s per throughput run)"
echo
echo "| scenario | Rto req/s | Rto p50 / p99 ms | Redis | Redis req/s | Redis p50 / p99 ms | Rto / Redis |"
echo "|---|---:|---|---|---:|---|---:|"
while IFS='|' read -r kind label rest; do
    [ "$kind" = rto ] || continue
    rto_rps=$(field rps "$rest")
    grep "^redis|$label|" "$rows" | while IFS='|' read -r _ _ config summary; do
        redis_rps=$(field rps "$summary")
        ratio=$(awk -v a="$rto_rps" -v b="$redis_rps" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }')
        echo "| $label | $rto_rps | $(field p50_ms "$rest") / $(field p99_ms "$rest") | $config | $redis_rps | $(field p50_ms "$summary") / $(field p99_ms "$summary") | $ratio |"
    done
done <"$rows"
if grep -q '^base|' "$rows"; then
    echo
    echo "| scenario | baseline req/s | baseline p50 / p99 ms | Rto req/s | Rto p50 / p99 ms | Rto / baseline |"
    echo "|---|---:|---|---:|---|---:|"
    while IFS='|' read -r kind label rest; do
        [ "$kind" = base ] || continue
        now=$(grep "^rto|$label|" "$rows" | cut -d'|' -f3)
        ratio=$(awk -v a="$(field rps "$now")" -v b="$(field rps "$rest")" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }')
        echo "| $label | $(field rps "$rest") | $(field p50_ms "$rest") / $(field p99_ms "$rest") | $(field rps "$now") | $(field p50_ms "$now") / $(field p99_ms "$now") | $ratio |"
    done <"$rows"
fi
if grep -q '^size-' "$rows"; then
    echo
    echo "| server | values ($size_points points) | resident B/point (RSS growth) | disk B/point | puts/s while filling |"
    echo "|---|---|---:|---:|---:|"
    while IFS='|' read -r kind values rest rate; do
        case "$kind" in size-rto) name=Rto ;; size-base) name=baseline ;; *) continue ;; esac
        echo "| $name | $values | $(field resident_b_per_point "$rest") | $(field disk_b_per_point "$rest") | $rate |"
    done <"$rows"
    while IFS='|' read -r kind card used; do
        [ "$kind" = zset ] && awk -v c="$card" -v u="$used" 'BEGIN { printf "| Redis (for scale) | a sorted set of %d entries | %.1f (dataset) | | |\n", c, u / c }'
    done <"$rows"
fi
