"""The other side of bench_operator's press-latency measurement, in its own process: the Bot API
simulator, a crowd of workers answering, and an operator who sends pack files.

    python -m bench.upload_world --truth FILE --workers 40 --think-ms 100-400 --operator 900

Prints ``ready <base_url>``, then reads one command a line on stdin and answers each with one
JSON line on stdout:

- ``start``: the crowd starts (each worker sends /start, consents, answers tasks).
- ``floor SECONDS``: the crowd answers for that long; the presses' latencies.
- ``upload FILE``: the operator sends FILE as a document and waits for the bot's summary
  (``loaded``); the presses' latencies meanwhile and the seconds it took.
- ``replace FILE``: the same file again: the operator waits for the question, presses Replace,
  waits for ``replaced``; the presses' latencies from the send to the last answer.

The latencies are press-to-toast (from a worker's press to the bot's answer to it), measured
here, in a process the bot's event loop cannot stall: a press made while the bot is busy counts
its whole wait.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from simulator import CAREFUL, Crowd, SimulatorServer, truth_oracle
from simulator.__main__ import latency_summary, load_truth, parse_think


async def _lines() -> asyncio.StreamReader:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    return reader


def _say(value: dict[str, Any]) -> None:
    print(json.dumps(value), flush=True)


async def run(args: argparse.Namespace) -> None:
    sim = SimulatorServer(rate_limits=False)
    crowd = Crowd(sim, truth_oracle(load_truth(args.truth)), seed=1, first_user_id=10_000)
    crowd.add(replace(CAREFUL, think=args.think_ms, skip_rate=0.0), args.workers, "w")
    operator = args.operator
    await sim.start()
    sim.add_user(operator, "Olga", language_code="en")
    print(f"ready {sim.base_url}", flush=True)
    reader = await _lines()

    def toasts() -> dict[str, Any]:
        values = list(sim.toast_latencies)
        sim.toast_latencies.clear()
        return latency_summary(values)

    try:
        while line := (await reader.readline()).decode().strip():
            command, _, argument = line.partition(" ")
            if command == "start":
                await crowd.start()
                _say({"ok": True})
            elif command == "floor":
                toasts()
                await asyncio.sleep(float(argument))
                _say({"toast": toasts(), "seconds": float(argument)})
            elif command in ("upload", "replace"):
                path = Path(argument)
                data = path.read_bytes()
                toasts()
                started = time.perf_counter()
                sim.send_document(operator, data, path.name)
                if command == "replace":
                    question = await sim.wait_for_text(operator, "already exists", 300)
                    button = question.buttons[0].callback_data
                    assert button is not None
                    asked = time.perf_counter() - started
                    sim.press(operator, question.message_id, button)
                    await sim.wait_for_text(operator, "replaced", 300)
                else:
                    asked = None
                    await sim.wait_for_text(operator, "loaded", 300)
                seconds = time.perf_counter() - started
                _say({"toast": toasts(), "seconds": seconds, "asked": asked})
            else:
                _say({"error": f"unknown command {command!r}"})
    finally:
        await crowd.stop()
        await sim.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--truth", required=True)
    parser.add_argument("--workers", type=int, default=40)
    parser.add_argument("--think-ms", type=parse_think, default=(0.1, 0.4))
    parser.add_argument("--operator", type=int, default=900)
    asyncio.run(run(parser.parse_args()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
