"""Writes the media sample packs' files: small PNGs of shapes and short two-tone voice notes.

    python -m bot.samples.make_media            # rewrites bot/samples/media/*

Everything is made here, by this code: the images are drawn pixel by pixel and written with
zlib + struct (no imaging library); the tones are sine waves encoded as MP3 (a format Telegram
plays both as audio and as a voice note) with LAME through the small `lameenc` wheel, needed
only to regenerate the files (`pip install -e '.[samples]'`): the files themselves are in git.
Each file is a few hundred bytes to a few KB. The packs (shapes.json, tones.json) and their
truth files (file name -> right label, for the simulated crowd) are written beside them.
"""

from __future__ import annotations

import hashlib
import json
import math
import struct
import sys
import zlib
from array import array
from collections.abc import Callable
from pathlib import Path

FOLDER = Path(__file__).resolve().parent / "media"
SIZE = 48
COLOURS = {"red": (220, 40, 40), "blue": (40, 80, 220), "green": (30, 160, 60)}
SHAPES = ("circle", "square", "triangle")
SHAPE_LABELS = {"circle": "Cercle / Circle", "square": "Carré / Square", "triangle": "Triangle"}
RATE = 16_000
# (first tone Hz, second tone Hz): which of the two is higher is the question.
TONE_PAIRS = (
    (440, 660),
    (660, 440),
    (330, 392),
    (523, 440),
    (300, 600),
    (700, 350),
    (494, 587),
    (784, 659),
    (262, 330),
    (880, 440),
)
SCALES = (1.0, 0.8, 0.6)  # each shape drawn at three sizes
TONE_LABELS = {"first": "Le 1er / The 1st", "second": "Le 2e / The 2nd"}


def png(width: int, height: int, pixel: Callable[[int, int], tuple[int, int, int]]) -> bytes:
    """An 8-bit RGB PNG, drawn by `pixel(x, y)`."""
    rows = bytearray()
    for y in range(height):
        rows.append(0)  # filter: none
        for x in range(width):
            rows.extend(pixel(x, y))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes(rows), 9))
        + chunk(b"IEND", b"")
    )


def inside(shape: str, x: int, y: int, scale: float = 1.0) -> bool:
    c = (SIZE - 1) / 2
    r = SIZE * scale
    if shape == "circle":
        return (x - c) ** 2 + (y - c) ** 2 <= (r * 0.38) ** 2
    if shape == "square":
        return abs(x - c) <= r * 0.32 and abs(y - c) <= r * 0.32
    top, bottom = c - r * 0.37, c + r * 0.37  # an upward triangle
    if not top <= y <= bottom:
        return False
    half = (y - top) / (bottom - top) * r * 0.4
    return abs(x - c) <= half


def shape_png(shape: str, colour: tuple[int, int, int], scale: float = 1.0) -> bytes:
    white = (255, 255, 255)
    return png(SIZE, SIZE, lambda x, y: colour if inside(shape, x, y, scale) else white)


def tones_pcm(first: float, second: float) -> bytes:
    """Two 0.3 s sine tones with 0.15 s of silence between, 16-bit mono at RATE."""
    samples = array("h")
    for frequency in (first, None, second):
        length = int(RATE * (0.15 if frequency is None else 0.3))
        fade = int(RATE * 0.01)
        for i in range(length):
            if frequency is None:
                samples.append(0)
                continue
            envelope = min(1.0, i / fade, (length - i) / fade)
            value = 0.5 * envelope * math.sin(2 * math.pi * frequency * i / RATE)
            samples.append(int(value * 32767))
    if sys.byteorder != "little":
        samples.byteswap()
    return samples.tobytes()


def mp3(pcm: bytes) -> bytes:
    try:
        import lameenc  # type: ignore[import-untyped,import-not-found,unused-ignore]
    except ImportError:
        raise SystemExit("the tones need lameenc: pip install -e '.[samples]'") from None
    encoder = lameenc.Encoder()
    encoder.set_bit_rate(32)
    encoder.set_in_sample_rate(RATE)
    encoder.set_channels(1)
    encoder.set_quality(7)
    return bytes(encoder.encode(pcm)) + bytes(encoder.flush())


def _pack(
    pack_id: str, title: str, instructions: str, options: dict[str, str], gold_ratio: float
) -> dict[str, object]:
    return {
        "id": pack_id,
        "title": title,
        "instructions": instructions,
        "type": "single_choice",
        "options": [{"id": key, "label": label} for key, label in options.items()],
        "reward": "0.03",
        "currency": "EUR",
        "overlap": 3,
        "lease_seconds": 120,
        "quality": {"qualification": 2, "gold_ratio": gold_ratio, "min_overlap": 2},
    }


def write(folder: Path = FOLDER) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []

    def put(name: str, data: bytes) -> None:
        path = folder / name
        path.write_bytes(data)
        written.append(path)

    shapes = _pack(
        "demo-shapes",
        "Formes / Shapes",
        "Quelle forme voyez-vous ? La couleur ne compte pas. / Which shape do you see? The"
        " colour does not matter.",
        SHAPE_LABELS,
        0.2,
    )
    shape_tasks, shape_truth = [], {}
    drawings = [
        (s, c, z) for z in range(len(SCALES)) for s in SHAPES for c in enumerate(COLOURS.items())
    ]
    for n, (shape, (hue, (colour, rgb)), size) in enumerate(drawings):
        name = f"{shape}-{colour}-{size + 1}.png"
        put(name, shape_png(shape, rgb, SCALES[size]))
        task: dict[str, str] = {"id": f"shape-{n + 1:02d}", "image": name}
        if size * 3 + hue < 4:  # 4 checks per shape, 12 in all (what the sequential test needs)
            task["gold"] = shape
            task["explanation"] = f"{SHAPE_LABELS[shape]}."
        shape_tasks.append(task)
        shape_truth[name] = SHAPE_LABELS[shape]
    shapes["tasks"] = shape_tasks

    tones = _pack(
        "demo-tones",
        "Sons / Tones",
        "Écoutez les deux notes : laquelle est la plus aiguë ? / Listen to the two notes:"
        " which one is higher?",
        TONE_LABELS,
        0.0,  # two training questions, no checks after: too few tones for a sequential test
    )
    tone_tasks, tone_truth = [], {}
    for n, (first, second) in enumerate(TONE_PAIRS):
        name = f"tones-{first}-{second}.mp3"
        put(name, mp3(tones_pcm(first, second)))
        higher = "first" if first > second else "second"
        tone: dict[str, str] = {"id": f"tone-{n + 1:02d}", "voice": name}
        if n < 2:
            tone["gold"] = higher
        tone_tasks.append(tone)
        tone_truth[name] = TONE_LABELS[higher]
    tones["tasks"] = tone_tasks

    for stem, pack, truth in (("shapes", shapes, shape_truth), ("tones", tones, tone_truth)):
        text = json.dumps(pack, ensure_ascii=False, indent=2) + "\n"
        put(f"{stem}.json", text.encode())
        put(f"{stem}.truth.json", (json.dumps(truth, ensure_ascii=False, indent=2) + "\n").encode())
    return written


def sample_packs(folder: Path = FOLDER) -> list[Path]:
    """The media sample packs, as the demo loads them."""
    return [folder / "shapes.json", folder / "tones.json"]


def crowd_truth(folder: Path = FOLDER) -> dict[str, str]:
    """What a careful person sees or hears in each sample file: its SHA-256 -> the right label
    (the simulated crowd's `media_truth`)."""
    truth: dict[str, str] = {}
    for pack in sample_packs(folder):
        labels = json.loads(pack.with_suffix(".truth.json").read_text(encoding="utf-8"))
        for name, label in labels.items():
            truth[hashlib.sha256((folder / name).read_bytes()).hexdigest()] = label
    return truth


if __name__ == "__main__":
    for path in write():
        print(f"{path.stat().st_size:>6} bytes  {path.relative_to(FOLDER.parent.parent.parent)}")
