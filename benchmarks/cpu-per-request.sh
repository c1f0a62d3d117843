#!/usr/bin/env bash
# Server CPU per request at 64 connections x 1 in flight: the Rto metrics server (fsync Interval)
# against redis-server with appendfsync everysec, each under its own load tool (the .NET load
# generator, redis-benchmark). Counts the CPU of the server process only (/proc/<pid>/stat, over
# 5 s in the middle of the run), so the load tools' own cost on the shared cores does not count.
# SERVER_ENV="NAME=value" adds environment to the Rto server. Needs redis-server (Debian).
set -u
cd "$(dirname "$0")/.."
dotnet build -c Release benchmarks/Rto.Benchmarks >/dev/null || exit 1  # builds the server too
bench="dotnet benchmarks/Rto.Benchmarks/bin/Release/net10.0/Rto.Benchmarks.dll"
tck=$(getconf CLK_TCK)
cpu() { awk '{print $14+$15}' /proc/$1/stat; }
work=$(mktemp -d); port=$(( 20000 + RANDOM % 20000 ))
env ${SERVER_ENV:-RTO_BENCH=1} dotnet src/Rto.Server/bin/Release/net10.0/Rto.Server.dll --Metrics:Port=$port --Metrics:DataDirectory=$work/rto \
  --Jobs:Enabled=false --Messenger:Enabled=false --Meters:Enabled=false --Health:Enabled=false --Optimization:Enabled=false --Console:Enabled=false \
  --Logging:LogLevel:Default=Warning & pid=$!
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
$bench load metrics --port $port --server-pid $pid --connections 64 --pipeline 1 --duration 10 --warmup 2 > $work/rto.out 2>&1 & lp=$!
sleep 5; c0=$(cpu $pid); sleep 5; c1=$(cpu $pid); wait $lp
rps=$(grep -o 'rps=[0-9]*' $work/rto.out | tail -1 | cut -d= -f2)
echo "Rto: $(grep summary $work/rto.out | tail -1); server CPU $(( (c1-c0)*100/tck/5 ))% = $(echo "scale=2; ($c1-$c0)/$tck/5*1000000/$rps" | bc) us per request"
kill $pid; wait $pid 2>/dev/null
mkdir -p $work/redis
redis-server --port $port --bind 127.0.0.1 --dir $work/redis --save '' --appendonly yes --appendfsync everysec --daemonize no > /dev/null & rpid=$!
sleep 0.5
redis-benchmark -p $port -t set -r 16000 -n 1500000 -c 64 -P 1 --csv > $work/redis.out 2>&1 & lp=$!
sleep 5; c0=$(cpu $rpid); sleep 5; c1=$(cpu $rpid); t0=$(date +%s.%N); wait $lp
rrps=$(grep -v '^"test"' $work/redis.out | tail -1 | cut -d, -f2 | tr -d '"')
echo "Redis AOF everysec: $(tail -1 $work/redis.out); server CPU $(( (c1-c0)*100/tck/5 ))% = $(echo "scale=2; ($c1-$c0)/$tck/5*1000000/$rrps" | bc) us per request"
redis-cli -p $port shutdown nosave >/dev/null 2>&1; wait $rpid 2>/dev/null
rm -rf $work
