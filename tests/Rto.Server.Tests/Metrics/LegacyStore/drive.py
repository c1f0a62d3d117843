#!/usr/bin/python3
import socket, sys
port = int(sys.argv[1])
s = socket.create_connection(("127.0.0.1", port))
f = s.makefile("rb")
def reply():
    out = b""
    while True:
        line = f.readline()
        out += line
        if line == b"\n":
            return out
lines = open("requests.txt", "rb").read().splitlines(keepends=True)
# in batches of varying size so the log sees both single and grouped commits
i = 0
n = 1
while i < len(lines):
    batch = lines[i:i+n]
    s.sendall(b"".join(batch))
    for _ in batch:
        r = reply()
        assert r == b"ok\n\n", r
    i += n
    n = n % 7 + 1
s.sendall(b"get *\n")
open("expected-get-all.txt", "wb").write(reply())
