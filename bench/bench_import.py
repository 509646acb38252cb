"""Benchmark: load a 1,000,000-task JSONL pack into a fresh SQLite database with load_pack.

    python bench/bench_import.py [--tasks 1000000] [--random-ids] [--workdir DIR]

The pack is generated once (in a subprocess, so neither its time nor its memory counts) and
reused from --workdir (default: a directory in the system temp dir). Only load_pack is timed;
peak RSS is the whole process's (ru_maxrss). Exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.cli.progress import ProgressBar  # noqa: E402
from db import Database  # noqa: E402
from tasks.clock import Clock  # noqa: E402
from tasks.packs import load_pack  # noqa: E402
from tasks.packs.loading import CLI_STEP_ROWS  # noqa: E402

TARGET_RATE = 100_000  # tasks per second
TARGET_RSS_MB = 200


def peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def ensure_pack(workdir: Path, tasks: int, random_ids: bool) -> Path:
    path = workdir / f"pack-{tasks}{'-random-ids' if random_ids else ''}.jsonl"
    if not path.exists():
        print(f"generating {path} ...", file=sys.stderr)
        partial = path.with_suffix(".partial")
        command = [sys.executable, str(ROOT / "bench" / "make_pack.py")]
        command += ["--tasks", str(tasks), "--out", str(partial)]
        if random_ids:
            command.append("--random-ids")
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        partial.rename(path)
    return path


async def run(pack: Path, size: int, workdir: Path) -> tuple[int, float]:
    with tempfile.TemporaryDirectory(dir=workdir) as scratch:
        async with Database(Path(scratch) / "bench.sqlite3") as db:
            bar = ProgressBar(size, f"loading {pack.name}")
            started = time.perf_counter()
            # As `load-pack` loads it (bot/cli.py): 50,000 tasks a transaction, no pauses.
            report = await load_pack(
                db, pack, clock=Clock(), on_progress=bar, step_rows=CLI_STEP_ROWS, paced=False
            )
            elapsed = time.perf_counter() - started
            bar.finish()
            if not report.ok:
                for error in report.errors[:20]:
                    print(error, file=sys.stderr)
                raise SystemExit(f"the pack was refused ({report.error_count} errors)")
            ((stored,),) = await db.query(
                "SELECT COUNT(*) FROM tasks t JOIN packs p ON p.pk = t.pack_pk WHERE p.id = ?",
                (report.pack_id,),
            )
            assert stored == report.tasks_total, (stored, report.tasks_total)
            return report.tasks_total, elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark load_pack on a big JSONL pack.")
    parser.add_argument("--tasks", type=int, default=1_000_000)
    parser.add_argument("--random-ids", action="store_true", help="task ids in random order")
    parser.add_argument(
        "--workdir", type=Path, default=Path(tempfile.gettempdir()) / "petites-mains-bench"
    )
    args = parser.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    pack = ensure_pack(args.workdir, args.tasks, args.random_ids)
    tasks, elapsed = asyncio.run(run(pack, pack.stat().st_size, args.workdir))
    rate = tasks / elapsed
    rss = peak_rss_mb()
    print(
        f"import {tasks:,} tasks: {elapsed:.1f} s, {rate:,.0f} tasks/s"
        f" (target >= {TARGET_RATE:,}); peak RSS {rss:.0f} MB (target < {TARGET_RSS_MB} MB)"
    )
    met = rate >= TARGET_RATE and rss < TARGET_RSS_MB
    print("targets met" if met else "TARGET MISSED")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
