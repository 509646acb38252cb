"""Makes docs/operator-stats.png: the chart /stats sends, for a pack with two days of history.

    .venv/bin/python docs/make_stats_png.py

Two days of work by 40 simulated workers of varied care (accuracy 55% to 97%) are played through
the domain on a fake clock (the real use cases: consent, tasks, answers, check questions); then
the real bot runs on that database against the local Bot API simulator, an operator sends
`/stats`, and the photo the bot sends is saved as it arrived.
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.app import build_application, start_polling, stop_polling  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from db import Database  # noqa: E402
from simulator import SimulatorServer  # noqa: E402
from tasks.clock import FakeClock  # noqa: E402
from tasks.packs import load_pack  # noqa: E402
from tasks.work import WorkService  # noqa: E402
from tasks.work_results import TaskCard  # noqa: E402

OPTIONS = [("pos", "Positive"), ("neg", "Negative"), ("neu", "Neutral")]
WORDS = ("Loved it", "Broke in a week", "It is a phone case")
OPERATOR = 900
HOURS = 48
START = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)


def write_pack(folder: Path) -> tuple[Path, dict[str, int]]:
    truth: dict[str, int] = {}
    tasks = []
    for i in range(900):
        label = i % 3
        text = f"{WORDS[label]} (review {i})"
        truth[text] = label
        task: dict[str, str] = {"id": f"r{i:04d}", "text": text}
        if i < 45:
            task.update(gold=OPTIONS[label][0], explanation="The words say it.")
        tasks.append(task)
    pack = {
        "id": "reviews-nov",
        "title": "Customer reviews: sentiment (November)",
        "instructions": "Read the review and pick its sentiment.",
        "type": "single_choice",
        "options": [{"id": i, "label": label} for i, label in OPTIONS],
        "reward": "0.03",
        "overlap": 3,
        "quality": {"qualification": 3, "gold_ratio": 0.15, "min_seconds": 0},
        "tasks": tasks,
    }
    path = folder / "reviews-nov.json"
    path.write_text(json.dumps(pack), encoding="utf-8")
    return path, truth


async def play_history(db: Database, clock: FakeClock, truth: dict[str, int]) -> None:
    rng = random.Random(11)
    work = WorkService(db, clock, rng=random.Random(7))
    accuracy = {1000 + n: 0.55 + 0.42 * (n / 39) ** 0.5 for n in range(40)}
    for worker in accuracy:
        await work.meet(
            worker, first_name="W", username=None, language_code="en", default_language="en"
        )
        await work.consent(worker)
    for hour in range(HOURS):
        # Each hour's work starts on the hour.
        clock.advance(seconds=(START + timedelta(hours=hour) - clock.now()).total_seconds())
        local = (hour + 7) % 24  # the crowd's daytime
        share = max(0.0, math.sin((local - 7) / 16 * math.pi)) if 7 <= local <= 23 else 0.0
        active = rng.sample(sorted(accuracy), round(len(accuracy) * 0.45 * share))
        for worker in active:
            resumed = await work.resume(worker)
            card = resumed[1] if resumed else None
            for _ in range(rng.randint(6, 18)):
                if not isinstance(card, TaskCard):
                    break
                clock.advance(seconds=rng.uniform(4, 11))
                right = truth[card.text]
                choice = right if rng.random() < accuracy[worker] else (right + 1) % 3
                result = await work.answer(
                    worker_id=worker, assignment_id=card.assignment_id, choice=choice
                )
                card = result.next


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path, truth = write_pack(folder)
        clock = FakeClock(START)
        async with Database(folder / "stats.sqlite3") as db:
            report = await load_pack(db, path, clock=clock)
            assert report.ok, report.errors
            await play_history(db, clock, truth)
        async with SimulatorServer() as sim:
            settings = load_settings(
                bot_token=sim.token,
                telegram_api_url=sim.base_url,
                database_path=folder / "stats.sqlite3",
                operator_ids=str(OPERATOR),
                quiet_hours="off",
                _env_file=None,
            )
            app = build_application(settings, clock=clock)
            await start_polling(app)
            try:
                sim.add_started_users(1000, 40)  # the crowd of the history (told of new work)
                sim.add_user(OPERATOR, "Olga", language_code="en")
                sim.send_text(OPERATOR, "/stats reviews-nov")
                event = await sim.wait_for(
                    OPERATOR,
                    lambda e: e.message is not None and e.message.media_kind == "photo",
                    60,
                )
            finally:
                await stop_polling(app)
        assert event.message is not None and event.message.file_id is not None
        png = sim.files.by_id[event.message.file_id].data
        target = ROOT / "docs" / "operator-stats.png"
        target.write_bytes(png)
        print(f"{target.relative_to(ROOT)}: {len(png):,} bytes")
        print(event.message.text)


if __name__ == "__main__":
    asyncio.run(main())
