#!/usr/bin/python3
"""numpy's FFT over the raw little-endian float64 samples the 'jobs' timing mode writes.

Usage: /usr/bin/python3 benchmarks/fft_numpy.py values.f64 [rounds]
Prints two lines: the median (and min) over the rounds (default 5) of numpy.fft.fft (the full
complex spectrum, what the FFT task writes) and of numpy.fft.rfft (the half spectrum of a real
signal, what the server's FFTW transform computes). Debian package python3-numpy.
"""
import statistics
import sys
import time

import numpy

samples = numpy.fromfile(sys.argv[1], dtype="<f8")
rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
for name, transform in (("numpy.fft.fft", numpy.fft.fft), ("numpy.fft.rfft", numpy.fft.rfft)):
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        transform(samples)
        times.append(time.perf_counter() - started)
    print(f"FFT only, same samples, median of {rounds}: numpy {numpy.__version__} {name} {statistics.median(times):.3f} s (min {min(times):.3f})")
