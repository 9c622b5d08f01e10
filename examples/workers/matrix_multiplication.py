#!/usr/bin/env python3
"""Seed 001's CPU-bound worker: multiplies two random n x n matrices.

A gaffer command worker in Python, to show that workers can be any language. The payload
({"size": 100, "seed": 1}) arrives on stdin (and in $GAFFER_PAYLOAD_FILE); the result is the last
JSON line on stdout. SIMULATE_WORKLOAD_DURATION_IN_SEC replaces the work with a sleep of that many
seconds, as in the seed, so a load test does not melt the workstation.
"""
import json
import os
import random
import sys
import time


def multiply(a, b):
    n = len(a)
    bt = list(zip(*b))  # columns of b as rows: one tight loop per cell
    return [[sum(x * y for x, y in zip(row, col)) for col in bt] for row in a]


def main():
    raw = sys.stdin.read().strip()
    payload = json.loads(raw) if raw else {}
    size = int(payload.get("size", 100))
    if size < 1 or size > 2000:
        print(f"size must be from 1 to 2000, got {size}", file=sys.stderr)
        return 1
    started = time.monotonic()
    simulate = os.environ.get("SIMULATE_WORKLOAD_DURATION_IN_SEC")
    if simulate:
        print(f"simulating {simulate}s of work instead of a {size}x{size} product", file=sys.stderr)
        time.sleep(float(simulate))
        result = {"size": size, "simulated": True}
    else:
        rnd = random.Random(payload.get("seed"))
        a = [[rnd.random() for _ in range(size)] for _ in range(size)]
        b = [[rnd.random() for _ in range(size)] for _ in range(size)]
        c = multiply(a, b)
        trace = sum(c[i][i] for i in range(size))
        result = {"size": size, "trace": round(trace, 6), "simulated": False}
    result["elapsedMs"] = round((time.monotonic() - started) * 1000)
    print(f"multiplied {size}x{size} in {result['elapsedMs']} ms", file=sys.stderr)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
