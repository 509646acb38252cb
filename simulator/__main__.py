"""Run the simulator and a crowd in their own process (for benchmarks and demos).

    python -m simulator --port 8081 --workers 50 --think-ms 0 --rate-limits off \\
        --truth FILE.json --seed 1 [--mix careful=0.5,careless=0.3,spammer_random=0.1,...] \\
        [--latency-ms 20-80]

Prints ``ready <base_url>`` once listening. Control endpoints on the same port:
``POST /sim/start`` starts the crowd, ``POST /sim/stop`` stops it, ``GET /sim/stats`` returns
statistics as JSON, ``GET /sim/latency?reset=1`` the press-to-next-screen latencies since the
last reset (count, p50, p95, p99, max in ms; under "toast", the same for press-to-toast:
from a press to the bot's answer to it), ``POST /sim/users?first=ID&count=N`` adds N users
who already started the bot (broadcast benchmarks). SIGTERM/SIGINT stop everything and print
the final statistics (JSON).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import signal
import sys
from dataclasses import replace
from typing import Any

from aiohttp import web

from .crowd import Crowd
from .profiles import PROFILES, truth_oracle
from .server import SimulatorServer

DEFAULT_MIX = "careful=0.5,careless=0.3,spammer_random=0.1,spammer_first=0.1"


def parse_mix(text: str) -> dict[str, float]:
    mix: dict[str, float] = {}
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        kind, _, weight = part.partition("=")
        kind = kind.strip()
        if kind not in PROFILES:
            raise argparse.ArgumentTypeError(
                f"unknown worker kind {kind!r} (expected one of {', '.join(PROFILES)})"
            )
        try:
            mix[kind] = float(weight)
        except ValueError:
            raise argparse.ArgumentTypeError(f"bad weight in {part!r}") from None
    if not mix or sum(mix.values()) <= 0:
        raise argparse.ArgumentTypeError("empty mix")
    return mix


def allocate(workers: int, mix: dict[str, float]) -> dict[str, int]:
    """Split ``workers`` between kinds by largest remainder."""
    total = sum(mix.values())
    exact = {k: workers * w / total for k, w in mix.items()}
    counts = {k: math.floor(v) for k, v in exact.items()}
    rest = workers - sum(counts.values())
    for k in sorted(exact, key=lambda k: exact[k] - counts[k], reverse=True)[:rest]:
        counts[k] += 1
    return counts


def parse_think(text: str) -> tuple[float, float]:
    low, sep, high = text.partition("-")
    try:
        a = float(low) / 1000.0
        b = float(high) / 1000.0 if sep else a
    except ValueError:
        raise argparse.ArgumentTypeError(f"bad --think-ms {text!r}") from None
    return (min(a, b), max(a, b))


def parse_latency(text: str) -> tuple[float, float]:
    """--latency-ms: "50" (every call 50 ms) or "20-80" (each call drawn from 20 to 80 ms)."""
    low, sep, high = text.partition("-")
    try:
        a = float(low) / 1000.0
        b = float(high) / 1000.0 if sep else a
    except ValueError:
        raise argparse.ArgumentTypeError(f"bad --latency-ms {text!r}: MS or MIN-MAX") from None
    if not (0 <= a <= b <= 10):
        raise argparse.ArgumentTypeError(f"bad --latency-ms {text!r}: 0 <= MIN <= MAX <= 10000")
    return a, b


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m simulator", description="Telegram Bot API simulator and crowd."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--token", default="123456:SIMULATED")
    parser.add_argument("--workers", type=int, default=50)
    parser.add_argument(
        "--think-ms", type=parse_think, default=(0.0, 0.0), help="think time: MS or MIN-MAX"
    )
    parser.add_argument("--rate-limits", choices=("on", "off"), default="on")
    parser.add_argument(
        "--latency-ms",
        type=parse_latency,
        default=(0.0, 0.0),
        help="network delay added to every Bot API call: MS or MIN-MAX (default 0)",
    )
    parser.add_argument("--truth", help="JSON file {task text: correct label}")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--mix", type=parse_mix, default=parse_mix(DEFAULT_MIX))
    parser.add_argument("--skip-rate", type=float, default=None, help="override every profile")
    parser.add_argument("--max-answers", type=int, default=None, help="per worker")
    parser.add_argument("--first-user-id", type=int, default=1000)
    parser.add_argument("--repress-after", type=float, default=None, help="seconds")
    return parser


def latency_summary(values: list[float]) -> dict[str, Any]:
    if not values:
        return {"count": 0}
    ordered = sorted(values)

    def pick(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 1)

    return {
        "count": len(ordered),
        "p50_ms": pick(0.50),
        "p95_ms": pick(0.95),
        "p99_ms": pick(0.99),
        "max_ms": round(ordered[-1] * 1000, 1),
    }


def full_stats(sim: SimulatorServer, crowd: Crowd) -> dict[str, Any]:
    summary = crowd.summary()
    return {
        "calls": dict(sim.calls),
        "calls_ok": dict(sim.calls_ok),
        "presses_total": summary["presses_total"],
        "by_kind": summary["by_kind"],
        "callback_answers": len(sim.callback_answers),
        "pending_updates": sim.pending_updates(),
        "crowd_running": crowd.running,
    }


def load_truth(path: str | None) -> dict[str, str]:
    if not path:
        return {}
    with open(path, encoding="utf-8") as fh:
        loaded = json.load(fh)
    if not isinstance(loaded, dict):
        raise SystemExit("--truth must hold a JSON object {task text: label}")
    return {str(k).strip(): str(v) for k, v in loaded.items()}


async def run(args: argparse.Namespace, truth: dict[str, str]) -> dict[str, Any]:
    sim = SimulatorServer(
        token=args.token,
        host=args.host,
        port=args.port,
        rate_limits=args.rate_limits == "on",
        latency=args.latency_ms,
    )
    crowd = Crowd(
        sim,
        truth_oracle(truth),
        seed=args.seed,
        first_user_id=args.first_user_id,
        max_answers=args.max_answers,
        repress_after=args.repress_after,
    )
    for kind, count in allocate(args.workers, args.mix).items():
        if count <= 0:
            continue
        profile = PROFILES[kind]
        changes: dict[str, Any] = {"think": args.think_ms}
        if args.skip_rate is not None:
            changes["skip_rate"] = args.skip_rate
        crowd.add(replace(profile, **changes), count, kind)

    async def start_crowd(request: web.Request) -> web.Response:
        if not crowd.running:
            await crowd.start()
        return web.json_response({"ok": True, "workers": len(crowd.user_ids)})

    async def stop_crowd(request: web.Request) -> web.Response:
        await crowd.stop()
        return web.json_response({"ok": True})

    async def stats(request: web.Request) -> web.Response:
        return web.json_response(full_stats(sim, crowd))

    async def latency(request: web.Request) -> web.Response:
        values, toasts = list(sim.press_latencies), list(sim.toast_latencies)
        if request.query.get("reset"):
            sim.press_latencies.clear()
            sim.toast_latencies.clear()
        return web.json_response({**latency_summary(values), "toast": latency_summary(toasts)})

    async def add_users(request: web.Request) -> web.Response:
        first, count = int(request.query["first"]), int(request.query["count"])
        sim.add_started_users(first, count)
        return web.json_response({"ok": True, "users": len(sim.users)})

    sim.app.router.add_get("/sim/latency", latency)
    sim.app.router.add_post("/sim/users", add_users)
    sim.app.router.add_post("/sim/start", start_crowd)
    sim.app.router.add_post("/sim/stop", stop_crowd)
    sim.app.router.add_get("/sim/stats", stats)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)

    await sim.start()
    print(f"ready {sim.base_url}", flush=True)
    try:
        await stop.wait()
    finally:
        await crowd.stop()
        result = full_stats(sim, crowd)
        await sim.stop()
    return result


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    result = asyncio.run(run(args, load_truth(args.truth)))
    print(json.dumps(result, ensure_ascii=False, sort_keys=True), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
