#!/usr/bin/python3
"""Writes the requests of the legacy-format fixture: overwrites, out-of-order puts, odd values."""
import random
rng = random.Random(20261123)
keys = ["cpu.load", "sensor.temp", "ä.utf8", "big.ts", "rand", "neg", "Z"]
lines = []
for i in range(1500):
    key = rng.choice(keys)
    r = rng.random()
    if key == "big.ts":
        ts = rng.choice([0, 1, 9223372036854775807, 9223372036854775806, 4611686018427387904, rng.randrange(0, 2**63)])
    elif r < 0.6:
        ts = 1700000000 + i  # in order
    elif r < 0.8:
        ts = 1700000000 + rng.randrange(0, i + 1)  # out of order or overwrite
    else:
        ts = rng.randrange(0, 2000)
    v = rng.random()
    if key == "rand":
        value = repr(rng.uniform(-1e6, 1e6))
    elif key == "neg":
        value = rng.choice(["-0", "0", "-0.0", "-1e-300", "1e308", "-2.5e-320", "5e-324", "-7.25e-6", "1E3"])
    elif key == "sensor.temp":
        value = "%.1f" % (20 + 5 * ((i % 100) / 100.0))
    elif v < 0.3:
        value = str(rng.randrange(-100, 100))
    elif v < 0.6:
        value = "%.2f" % rng.uniform(0, 100)
    else:
        value = repr(rng.random())
    lines.append("put %s %s %d\n" % (key, value, ts))
with open("requests.txt", "w", encoding="utf-8") as f:
    f.writelines(lines)
