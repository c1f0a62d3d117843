#!/usr/bin/python3
"""Slow readers of a large metrics key (issue 15 item 7), against a running server.

Fills KEY with POINTS points (unless --no-fill), opens READERS connections that send `get KEY`
and then read nothing, and reports the server's resident memory before and while they stall and
how long a put to that key takes meanwhile; then reads every reply to the end and checks its
point count. Debian's /usr/bin/python3, standard library only.

  benchmarks/slow-readers.py --port 8888 --pid $(pgrep -f Rto.Server.dll) [--points 5000000] [--readers 5]
"""
import argparse
import socket
import time


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def read_reply(sock):
    """Reads one reply (ending in an empty line); returns its number of point lines."""
    lines = 0
    previous = b""
    while True:
        chunk = sock.recv(1 << 20)
        if not chunk:
            raise ConnectionError("the server closed the connection")
        data = previous + chunk
        end = data.find(b"\n\n")
        if end >= 0:
            return lines + data[:end].count(b"\n")  # "ok" and every point line but the last end in one
        lines += data[:-1].count(b"\n")
        previous = data[-1:]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--pid", type=int, required=True, help="the server process, for its RSS")
    parser.add_argument("--points", type=int, default=5_000_000)
    parser.add_argument("--readers", type=int, default=5)
    parser.add_argument("--key", default="slow.big")
    parser.add_argument("--stall", type=float, default=5.0, help="seconds the readers read nothing")
    parser.add_argument("--no-fill", action="store_true")
    args = parser.parse_args()

    if not args.no_fill:
        started = time.monotonic()
        with socket.create_connection((args.host, args.port)) as writer:
            for start in range(0, args.points, 10_000):
                count = min(10_000, args.points - start)
                lines = "".join(f"put {args.key} {(i % 1000) / 10} {1_700_000_000 + i}\n" for i in range(start, start + count))
                writer.sendall(lines.encode())
                replies = bytearray()
                while len(replies) < 4 * count:
                    chunk = writer.recv(1 << 20)
                    if not chunk:
                        raise ConnectionError("the server closed the connection")
                    replies += chunk
                assert replies == b"ok\n\n" * count, "a put was refused"
        print(f"filled {args.points:,} points in {time.monotonic() - started:.1f} s")

    time.sleep(1)
    before = rss_mb(args.pid)
    readers = []
    for _ in range(args.readers):
        reader = socket.create_connection((args.host, args.port))
        reader.sendall(f"get {args.key}\n".encode())
        readers.append(reader)
    time.sleep(args.stall)
    stalled = rss_mb(args.pid)

    with socket.create_connection((args.host, args.port)) as writer:
        started = time.monotonic()
        writer.sendall(f"put {args.key} 1.5 {1_700_000_000 + args.points}\n".encode())
        reply = writer.recv(4)
        put_ms = (time.monotonic() - started) * 1000
        assert reply == b"ok\n\n", reply

    counts = []
    for reader in readers:
        counts.append(read_reply(reader))
        reader.close()
    print(f"readers: {args.readers} x get of {args.points:,} points, stalled {args.stall:.0f} s")
    print(f"server RSS: {before:.0f} MB before, {stalled:.0f} MB while they stalled (+{stalled - before:.0f} MB)")
    print(f"put to the key while they stalled: {put_ms:.1f} ms")
    print(f"points per reply: {sorted(set(counts))}")
    print(f"summary: rss_before_mb={before:.0f} rss_stalled_mb={stalled:.0f} put_ms={put_ms:.1f}")


if __name__ == "__main__":
    main()
