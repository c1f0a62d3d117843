#!/usr/bin/env bash
# What the operator console costs the metrics hot path: `load metrics` (16 connections x 256 in
# flight, 10 s) against a server process with the console off, on but unwatched ("quiet": its
# instrument listener and the Prometheus exporter aggregate every measurement), and on with an
# overview page and a live metrics plot (of a key the load does not write) streaming and Prometheus
# scraping /metrics every second.
# Every port is chosen by the server (port 0) and read from its banner.
#   benchmarks/console-overhead.sh [rounds]
set -u
cd "$(dirname "$0")/.."
repo=$PWD
rounds=${1:-3}
dotnet build src/Rto.Server -c Release >/dev/null && dotnet build benchmarks/Rto.Benchmarks -c Release >/dev/null || exit 1

run() {
    local label=$1 data log pid metrics console watchers=()
    shift
    data=$(mktemp -d)
    log=$data/server.log
    (cd "$data" && exec dotnet "$repo/src/Rto.Server/bin/Release/net10.0/Rto.Server.dll" --Metrics:Port=0 --Metrics:DataDirectory="$data/metrics" --Metrics:Fsync=Never \
        --Jobs:Enabled=false --Messenger:Enabled=false --Meters:Enabled=false --Health:Enabled=false --Optimization:Enabled=false --Console:Port=0 "$@") >"$log" 2>&1 &
    pid=$!
    for _ in $(seq 1 150); do grep -q 'Rto server started' "$log" && break; sleep 0.2; done
    port() { sed -n "s|.* $1 endpoint .* listening on tcp://.*:\([0-9]*\)\$|\1|p" "$log" | head -n 1; }
    metrics=$(port metrics)
    console=$(port console)
    if [ "$label" = watched ]; then
        curl -s -N "http://127.0.0.1:$console/api/overview/stream" >/dev/null & watchers+=($!)
        curl -s -N "http://127.0.0.1:$console/api/metrics/stream?key=boiler.temp&span=60" >/dev/null & watchers+=($!)
        (while true; do curl -s "http://127.0.0.1:$console/metrics" >/dev/null; sleep 1; done) & watchers+=($!)
    fi
    echo "== console $label"
    dotnet benchmarks/Rto.Benchmarks/bin/Release/net10.0/Rto.Benchmarks.dll load metrics --port "$metrics" --connections 16 --pipeline 256 --duration 10 --server-pid "$pid" \
        | grep -E "acknowledged|latency"
    [ ${#watchers[@]} -eq 0 ] || kill "${watchers[@]}" 2>/dev/null
    kill -TERM "$pid"
    wait "$pid" 2>/dev/null
    rm -rf "$data"
}

for _ in $(seq 1 "$rounds"); do
    run off --Console:Enabled=false
    run quiet
    run watched
done
