"""`python -m bot run --webhook URL --port N`: updates arrive by webhook, with the secret token."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import aiohttp

from bot.simulator import SimulatorServer
from tests.helpers import has_button


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_updates_come_by_webhook_and_a_wrong_secret_is_refused(
    sim: SimulatorServer, tmp_path: Path
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram"
    env = {
        **os.environ,
        "BOT_TOKEN": sim.token,
        "TELEGRAM_API_URL": sim.base_url,
        "DATABASE_PATH": str(tmp_path / "hook.sqlite3"),
        "WEBHOOK_SECRET": "s3cret-token",
        "PTB_TIMEDELTA": "1",
    }
    bot = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bot",
            "run",
            "--webhook",
            url,
            "--listen",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        sim.add_user(5, "Noor", language_code="en")
        sim.send_text(5, "/start")  # the simulator delivers it to the webhook, with the secret
        welcome = await sim.wait_for(5, has_button("consent"), timeout=20)
        assert welcome.message is not None and "Welcome" in welcome.message.text

        async with aiohttp.ClientSession() as http:
            forged = await http.post(
                url,
                json={"update_id": 999_999, "message": {}},
                headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"},
            )
        assert forged.status == 403
    finally:
        bot.terminate()
        try:
            bot.wait(timeout=15)
        except subprocess.TimeoutExpired:
            bot.kill()
            bot.wait()
