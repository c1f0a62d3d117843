#!/usr/bin/python3
"""numpy.fft.fft over the raw little-endian float64 samples the 'jobs' timing mode writes.

Usage: /usr/bin/python3 benchmarks/fft_numpy.py values.f64
Prints one line: the best of three timings of the FFT alone (Debian package python3-numpy).
"""
import sys
import time

import numpy

samples = numpy.fromfile(sys.argv[1], dtype="<f8")
best = float("inf")
for _ in range(3):
    started = time.perf_counter()
    numpy.fft.fft(samples)
    best = min(best, time.perf_counter() - started)
print(f"numpy {numpy.__version__} numpy.fft.fft {best:.3f} s")
