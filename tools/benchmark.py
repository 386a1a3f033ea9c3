#!/usr/bin/env python
"""Speed benchmark of the native simulator against its peers: a thin command line over `qkd_nb.bench`
(nbs/13_bench.ipynb holds the code, its documentation and tests).

Usage:  .venv/bin/python tools/benchmark.py [--profile smoke|quick|repro|full] [--out-dir figures]
            [--peers native-f32 torchquantum ...] [--qubits 4 8 --batches 64] [--threads 1 0]
            [--repeats R] [--time-cap-s S] [--no-e2e] [--seed 0]
`make bench` runs the quick profile; `PROFILE=repro` what the reproduction runs (~10 min on 2 cores: every speed
target of qkd_nb.bench.TARGETS on a subset of sizes); `make bench PROFILE=full` the whole grid (hours)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))     # this checkout's qkd_nb first
from qkd_nb.bench import main

if __name__ == '__main__':
    main()
