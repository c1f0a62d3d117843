#!/usr/bin/env bash
# Same machine, same run: the metrics server under the load generator, then a local
# redis-server under redis-benchmark with the same connection and pipeline shapes.
# Needs the Debian packages redis-server and redis-tools (apt-get install redis-server redis-tools).
# Usage: benchmarks/compare-redis.sh [duration-seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-10}

for tool in redis-server redis-benchmark; do
    command -v "$tool" >/dev/null || { echo "$tool not found: apt-get install redis-server redis-tools" >&2; exit 1; }
done

dotnet build -c Release benchmarks/Rto.Benchmarks >/dev/null  # builds the server too
bench="dotnet benchmarks/Rto.Benchmarks/bin/Release/net10.0/Rto.Benchmarks.dll"

redis_dir=$(mktemp -d)
redis_port=$(( 20000 + RANDOM % 20000 ))
cleanup() { redis-cli -p "$redis_port" shutdown nosave >/dev/null 2>&1 || true; rm -rf "$redis_dir"; }
trap cleanup EXIT

echo "== machine: $(nproc) cores, $(uname -r), $(date -u +%Y-%m-%dT%H:%M:%SZ)"
# The server runs as its own process, like redis-server, so neither shares a GC or threads with its load.
rto_dir=$(mktemp -d)
rto_port=$(( redis_port + 1 ))
dotnet src/Rto.Server/bin/Release/net10.0/Rto.Server.dll --Metrics:Port="$rto_port" \
    --Metrics:DataDirectory="$rto_dir" --Metrics:Fsync=Interval --Logging:LogLevel:Default=Warning &
rto_pid=$!
trap 'kill "$rto_pid" 2>/dev/null || true; rm -rf "$rto_dir"; cleanup' EXIT
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$rto_port") 2>/dev/null && break; sleep 0.1; done

echo "== Rto metrics server (separate process, fsync Interval)"
echo "-- 16 connections x 256 pipelined puts"
$bench load metrics --port "$rto_port" --server-pid "$rto_pid" --connections 16 --pipeline 256 --duration "$duration"
echo "-- 64 connections x 1 request in flight"
$bench load metrics --port "$rto_port" --server-pid "$rto_pid" --connections 64 --pipeline 1 --duration "$duration"
kill "$rto_pid"; wait "$rto_pid" || true

# Redis with an append-only file fsync'ed every second is the closest match to Fsync=Interval.
redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$redis_dir" --save '' \
    --appendonly yes --appendfsync everysec --daemonize yes --logfile "$redis_dir/redis.log"
for _ in $(seq 50); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done
echo "== redis-server $(redis-server --version | grep -o 'v=[^ ]*') (appendonly, appendfsync everysec)"
echo "-- redis-benchmark -t set -P 256 -c 16"
redis-benchmark -p "$redis_port" -t set -P 256 -c 16 -n 10000000 -r 16000 --csv
echo "-- redis-benchmark -t set -P 1 -c 64"
redis-benchmark -p "$redis_port" -t set -P 1 -c 64 -n 1000000 -r 16000 --csv
