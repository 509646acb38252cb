"""The simulated crowd against a tiny fake bot, and the simulator with its crowd in its own
process (`python -m simulator`)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
from pathlib import Path

import pytest
from aiohttp import ClientSession
from telegram import Bot, InlineKeyboardMarkup
from telegram.error import Forbidden

from simulator import AgentProfile, Crowd, SimulatorServer, truth_oracle
from tests.helpers import keyboard


async def run_fake_bot(bot: Bot, tasks: int, stop: asyncio.Event) -> list[tuple[int, str]]:
    """A tiny bot: consent, then ``tasks`` tasks edited in place, then a 'go' notice."""
    presses: list[tuple[int, str]] = []
    progress: dict[int, int] = {}
    offset = 0
    animals = ["miaou", "ouaf"]

    def task_markup(n: int) -> InlineKeyboardMarkup:
        return keyboard([("chat", f"a:{n}:0"), ("chien", f"a:{n}:1")], [("passer", f"s:{n}")])

    def task_text(n: int) -> str:
        return f"<b>Tâche {n}</b>\n\n{animals[n % 2]}"

    while not stop.is_set():
        updates = await bot.get_updates(offset=offset, timeout=1)
        for update in updates:
            offset = update.update_id + 1
            if update.message is not None and update.message.text == "/start":
                await bot.send_message(
                    update.message.chat.id,
                    "Acceptez-vous ?",
                    reply_markup=keyboard([("J'accepte", "consent:yes")]),
                )
            query = update.callback_query
            if query is None or query.data is None or query.message is None:
                continue
            uid = query.from_user.id
            presses.append((uid, query.data))
            await query.answer()
            chat_id, message_id = query.message.chat.id, query.message.message_id
            if query.data.startswith("consent"):
                await bot.edit_message_text("Merci.", chat_id=chat_id, message_id=message_id)
                progress[uid] = 0
                await bot.send_message(
                    chat_id, task_text(0), parse_mode="HTML", reply_markup=task_markup(0)
                )
            elif query.data.startswith(("a:", "s:")):
                n = progress[uid] = progress[uid] + 1
                if n < tasks:
                    await bot.edit_message_text(
                        task_text(n),
                        chat_id=chat_id,
                        message_id=message_id,
                        parse_mode="HTML",
                        reply_markup=task_markup(n),
                    )
                elif n == tasks:
                    await bot.edit_message_text("Fini !", chat_id=chat_id, message_id=message_id)
                    await bot.send_message(
                        chat_id, "Du travail !", reply_markup=keyboard([("Go", "go:more")])
                    )
            elif query.data.startswith("go"):
                await bot.send_message(chat_id, "Plus rien pour l'instant.")
    return presses


async def test_crowd_answers_a_fake_bot(sim: SimulatorServer, bot: Bot) -> None:
    sim.rate_limits = False
    oracle = truth_oracle({"miaou": "chat", "ouaf": "chien"})
    crowd = Crowd(sim, oracle, seed=3)
    perfect = AgentProfile("careful", 1.0, skip_rate=0.0, think=(0.0, 0.01))
    careful_ids = crowd.add(perfect, 3, "careful")
    first_ids = crowd.add(AgentProfile("spammer_first", 0.0, skip_rate=0.0), 2, "first")
    skipper = crowd.add(AgentProfile("careless", 0.7, skip_rate=1.0), 1, "skip")
    stop = asyncio.Event()
    fake = asyncio.create_task(run_fake_bot(bot, tasks=4, stop=stop))
    await crowd.start()
    try:
        # per worker: consent + 4 tasks + go = 6 presses
        await crowd.wait_presses(6 * 6, timeout=10)
        await asyncio.sleep(0.2)  # nothing more should be pressed
    finally:
        await crowd.stop()
        stop.set()
        presses = await fake
    assert crowd.total_presses == 36 == len(presses)
    for uid in careful_ids:
        st = crowd.stats[uid]
        assert (st.answers, st.correct, st.wrong, st.consent_presses, st.go_presses) == (
            4,
            4,
            0,
            1,
            1,
        )
        assert st.answers_by_label == {"chat": 2, "chien": 2}
    for uid in first_ids:
        assert crowd.stats[uid].answers_by_label == {"chat": 4}
    assert crowd.stats[skipper[0]].skips == 4 and crowd.stats[skipper[0]].answers == 0
    # every press of a worker is on a distinct task version
    per_user: dict[int, list[str]] = {}
    for uid, data in presses:
        per_user.setdefault(uid, []).append(data)
    assert per_user[careful_ids[0]] == [
        "consent:yes",
        "a:0:0",
        "a:1:1",
        "a:2:0",
        "a:3:1",
        "go:more",
    ]
    summary = crowd.summary()
    assert summary["by_kind"]["careful"]["correct"] == 12


async def test_crowd_survives_block_and_stops(sim: SimulatorServer, bot: Bot) -> None:
    crowd = Crowd(sim, None, first_user_id=5000, max_answers=2)
    [uid] = crowd.add(AgentProfile("spammer_random", 0.0, skip_rate=0.0), 1)
    await crowd.start()
    updates = await bot.get_updates(offset=2)
    assert updates[-1].message is not None and updates[-1].message.text == "/start"
    sim.block(uid)
    with pytest.raises(Forbidden):
        await bot.send_message(uid, "t", reply_markup=keyboard([("x", "a:1:0")]))
    sim.unblock(uid)
    for n in (1, 2):
        await bot.send_message(uid, f"task {n}", reply_markup=keyboard([("x", f"a:{n}:0")]))
        await crowd.wait_presses(n, timeout=2)
    await crowd.wait_done(timeout=2)  # max_answers reached: the agent ended by itself
    assert crowd.stats[uid].answers == 2
    await crowd.stop()


async def test_standalone_process(tmp_path: Path) -> None:
    truth = tmp_path / "truth.json"
    truth.write_text(json.dumps({"miaou": "chat"}), encoding="utf-8")
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "simulator",
        "--port",
        "0",
        "--workers",
        "4",
        "--rate-limits",
        "off",
        "--truth",
        str(truth),
        "--seed",
        "1",
        stdout=asyncio.subprocess.PIPE,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert proc.stdout is not None
    try:
        line = (await asyncio.wait_for(proc.stdout.readline(), 10)).decode().strip()
        assert line.startswith("ready http://127.0.0.1:")
        base = line.split()[1]
        token = "123456:SIMULATED"
        async with ClientSession() as http:
            async with http.post(f"{base}/sim/start") as resp:
                assert (await resp.json())["workers"] == 4
            async with http.post(f"{base}/bot{token}/getUpdates") as resp:
                body = await resp.json()
            assert len(body["result"]) == 4
            chat_id = body["result"][0]["message"]["chat"]["id"]
            markup = {"inline_keyboard": [[{"text": "chat", "callback_data": "a:1:0"}]]}
            params = {"chat_id": chat_id, "text": "miaou", "reply_markup": markup}
            async with http.post(f"{base}/bot{token}/sendMessage", json=params) as resp:
                assert resp.status == 200
            for _ in range(100):
                async with http.get(f"{base}/sim/stats") as resp:
                    stats = await resp.json()
                if stats["presses_total"] == 1:
                    break
                await asyncio.sleep(0.02)
            assert stats["presses_total"] == 1
            assert stats["calls"]["sendMessage"] == 1
            async with http.post(f"{base}/sim/stop") as resp:
                assert resp.status == 200
    finally:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM)
        out, _ = await asyncio.wait_for(proc.communicate(), 10)
    assert proc.returncode == 0
    final = json.loads(out.decode().strip().splitlines()[-1])
    assert final["presses_total"] == 1
