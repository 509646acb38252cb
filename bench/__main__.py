"""`make bench`: each benchmark in its own process (peak memory is per process), in turn."""

from __future__ import annotations

import subprocess
import sys

BENCHMARKS = [
    "bench.bench_e2e",
    "bench.bench_pick",
    "bench.bench_import",
    "bench.bench_quality",
    "bench.bench_reaggregate",
    "bench.bench_statements",
    "bench.bench_operator",
    "bench.bench_webhook",
]


def main() -> int:
    failed = 0
    for module in BENCHMARKS:
        print(f"== {module}", flush=True)
        failed += subprocess.run([sys.executable, "-m", module], check=False).returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
