"""`python -m bot demo`: the real bot against the local Bot API simulator, with a simulated crowd.

No token and no network: the simulator listens on 127.0.0.1 and speaks Telegram's HTTP API with
its limits and error texts; the bot is the same Application that `run` builds.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import time
from collections import Counter
from dataclasses import replace
from datetime import UTC
from importlib import resources
from pathlib import Path

from bot.app import build_application, start_polling, stop_polling
from bot.cli.progress import format_table
from bot.samples.make_media import crowd_truth, sample_packs
from bot.settings import Settings, load_settings
from bot.wiring import build_bot, build_services
from db import Database
from simulator import (
    CAREFUL,
    CARELESS,
    SPAMMER_FIRST,
    SPAMMER_RANDOM,
    AgentProfile,
    Crowd,
    SimulatorServer,
)
from simulator.profiles import truth_oracle
from tasks.clock import Clock
from tasks.money import format_amount
from tasks.packs import load_pack, pack_progress

SAMPLE = "demo-reviews"
# One sample pack per answer type (issue 10), each with its truth file: the crowd answers them
# all, one pack after the other (the packs are served in the order they were loaded).
SAMPLES = (SAMPLE, "demo-emotions", "demo-coherence", "demo-corrections")
THINK = (0.3, 1.5)  # seconds a simulated worker takes to read and press


def sample_paths(name: str = SAMPLE) -> tuple[Path, Path]:
    folder = resources.files("bot").joinpath("samples")
    return Path(str(folder / f"{name}.json")), Path(str(folder / f"{name}.truth.json"))


def crowd_mix(workers: int) -> list[tuple[AgentProfile, int, str]]:
    """About 40% careful, 40% careless, 20% spammers of two kinds."""
    careful = max(1, round(workers * 0.4))
    careless = max(0, round(workers * 0.4))
    spam = max(0, workers - careful - careless)
    return [
        (CAREFUL, careful, "Careful"),
        (CARELESS, careless, "Careless"),
        (SPAMMER_RANDOM, spam - spam // 2, "Random"),
        (SPAMMER_FIRST, spam // 2, "FirstButton"),
    ]


async def run_demo(
    *, workers: int = 30, seed: int = 7, keep: Path | None = None, timeout: float = 240.0
) -> int:
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="petites-mains-demo-") as tmp:
        db_path = keep or Path(tmp) / "demo.sqlite3"
        if keep and keep.exists():
            print(f"error: {keep} exists; the demo starts from an empty database", file=sys.stderr)
            return 1
        truth: dict[str, str | list[str]] = {}
        async with Database(db_path) as db:
            for name in SAMPLES:
                pack_file, truth_file = sample_paths(name)
                report = await load_pack(db, pack_file, clock=Clock())
                if not report.ok:
                    print("\n".join(str(e) for e in report.errors), file=sys.stderr)
                    return 1
                truth.update(json.loads(truth_file.read_text(encoding="utf-8")))
                print(f"pack {report.pack_id!r}: {report.tasks_total} tasks loaded into {db_path}")
            for path in sample_packs():  # tasks with images and voice notes (issue 10)
                report = await load_pack(db, path, clock=Clock())
                if not report.ok:
                    print("\n".join(str(e) for e in report.errors), file=sys.stderr)
                    return 1
                tasks, checks = report.tasks_total, report.gold_tasks
                print(f"pack {report.pack_id!r}: {tasks} tasks ({checks} checks)")

        async with SimulatorServer() as sim:
            settings = load_settings(
                bot_token=sim.token,
                telegram_api_url=sim.base_url,
                database_path=db_path,
                _env_file=None,
            )
            app = build_application(settings)
            crowd = Crowd(sim, truth_oracle(truth), seed=seed, media_truth=crowd_truth())
            for profile, count, name in crowd_mix(workers):
                if count:
                    crowd.add(replace(profile, think=THINK), count, name)
            print(f"simulated Bot API at {sim.base_url}; {workers} simulated workers start now")
            try:
                await start_polling(app)
                run_started = time.monotonic()
                await crowd.start()
                done = await _follow_progress(db_path, timeout)
                elapsed = time.monotonic() - run_started
                await crowd.stop()
            finally:
                await stop_polling(app)
            await _summary(settings, sim, crowd, elapsed, done)
    print(f"demo finished in {time.monotonic() - started:.1f} s")
    return 0 if done else 1


async def _follow_progress(db_path: Path, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    last = ""
    async with Database(db_path) as db:
        while time.monotonic() < deadline:
            rows = await pack_progress(db)  # the demo's database holds the sample packs only
            line = "  " + "; ".join(
                f"{r.id.removeprefix('demo-')} ({r.type}): {r.tasks_complete}/{r.tasks} complete,"
                f" {r.answers}+{r.gold_answers} answers"
                for r in rows
            )
            if line != last:
                print(line, flush=True)
                last = line
            if all(r.tasks_complete >= r.tasks for r in rows):  # regular tasks (gold: checks)
                return True
            await asyncio.sleep(1.0)
    print("  timed out before every task was complete", file=sys.stderr)
    return False


async def _summary(
    settings: Settings, sim: SimulatorServer, crowd: Crowd, elapsed: float, done: bool
) -> None:
    async with Database(settings.database_path) as db:
        # The summary only reads: the Bot is built (the presenter needs one) but never called.
        services = build_services(settings, db, build_bot(settings, rate_limits=False))
        work, earnings, quality = services.work, services.earnings, services.quality
        packs = await pack_progress(db)  # the sample packs, in load order
        progress = next(r for r in packs if r.id == SAMPLE)
        rows = []
        for agent in crowd.stats.values():
            worker = await work.worker(agent.user_id)
            states = Counter(score.state for score in await quality.score(agent.user_id))
            balance = await earnings.balance(agent.user_id, UTC)
            earned = balance.earned_total.get(progress.currency, 0)
            rows.append(
                [
                    agent.name,
                    agent.kind,
                    str(balance.tasks_total),
                    str(agent.skips),
                    format_amount(earned, progress.currency),
                    _agreement(agent.correct, agent.wrong),
                    ", ".join(f"{n} {state}" for state, n in sorted(states.items())) or "-",
                    "yes" if worker and worker.consented else "no",
                ]
            )
    answers = sum(r.answers + r.gold_answers for r in packs)  # every answer, checks included
    gold_answers = sum(r.gold_answers for r in packs)
    calls = sum(sim.calls.values())
    moves = ("editMessageText", "editMessageMedia")  # the task message edited into the next
    per_answer = (sim.calls["answerCallbackQuery"] + sum(sim.calls[m] for m in moves)) / max(
        answers, 1
    )
    print()
    print("== Summary ==")
    print(f"answers stored:        {answers} ({gold_answers} to check questions)")
    for r in packs:
        print(f"  {r.id} ({r.type}): {r.tasks_complete}/{r.tasks} tasks completed")
    print(f"time taken:            {elapsed:.1f} s ({answers / max(elapsed, 1e-9):.1f} answers/s)")
    spent = sum(r.spent_micros for r in packs)
    print(f"earned by the workers: {format_amount(spent, progress.currency)}")
    print(
        f"Bot API calls:         {calls} in all, {calls / max(answers, 1):.2f} per answer;"
        f" the answer path itself (ack + edit): {per_answer:.2f} per answer"
    )
    busiest = ", ".join(f"{m} {n}" for m, n in sim.calls.most_common(6))
    print(f"  by method:           {busiest}")
    files = sim.files
    uploaded = ", ".join(f"{kind} {n}" for kind, n in sorted(files.uploads.items()))
    reused = ", ".join(f"{kind} {n}" for kind, n in sorted(files.by_file_id.items()))
    print(f"media uploaded:        {uploaded or '-'} (each file once); by file_id: {reused or '-'}")
    print()
    print("Earnings per worker:")
    print(
        format_table(
            [
                "worker",
                "kind",
                "answers",
                "skips",
                "earned",
                "right",
                "standing per pack",
                "consented",
            ],
            rows,
        )
    )
    if not done:
        print("\nthe demo did not complete every task in time", file=sys.stderr)


def _agreement(correct: int, wrong: int) -> str:
    """Share of the worker's answers that match the hidden truth (the quality issue uses it)."""
    return f"{100 * correct / (correct + wrong):.0f}%" if correct + wrong else "-"
