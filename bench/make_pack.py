"""Generates task packs: the demo pack shipped in bot/samples, and big JSONL packs for benchmarks.

    python bench/make_pack.py --demo                      # bot/samples/demo-reviews(.truth).json
    python bench/make_pack.py --tasks 1000000 --out /tmp/big.jsonl [--random-ids]
    python bench/make_pack.py --tasks 200000 --out /tmp/big.json [--id ID]  # one JSON document

Everything is deterministic (seeded), so the generated files only change when this script does.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path
from typing import Any

SAMPLES = Path(__file__).resolve().parent.parent / "bot" / "samples"

OPTIONS = [
    {"id": "pos", "label": "Positif / Positive"},
    {"id": "neg", "label": "Négatif / Negative"},
    {"id": "neu", "label": "Neutre / Neutral"},
]
LABELS = {option["id"]: option["label"] for option in OPTIONS}

# (French, English) product names; the templates below slot them in.
PRODUCTS = [
    ("ce casque audio", "this headset"),
    ("cette bouilloire", "this kettle"),
    ("ce sac à dos", "this backpack"),
    ("cette lampe de bureau", "this desk lamp"),
    ("ce grille-pain", "this toaster"),
    ("cette coque de téléphone", "this phone case"),
    ("ce tapis de yoga", "this yoga mat"),
    ("cette cafetière", "this coffee maker"),
    ("ce chargeur USB-C", "this USB-C charger"),
    ("cette poêle", "this frying pan"),
    ("ce clavier", "this keyboard"),
    ("cette gourde", "this water bottle"),
]

TEMPLATES: dict[tuple[str, str], list[str]] = {
    ("pos", "fr"): [
        "J'adore {p}, exactement ce qu'on attend.",
        "Très content de mon achat, {p} : solide et pas cher.",
        "Prix < 10€ & livraison rapide : {p} est une super affaire !",
        "{P} a dépassé mes attentes, je recommande.",
        "Deuxième achat de {p}, toujours aussi satisfait.",
        "Rapport qualité/prix > concurrence : {p}, c'est un sans-faute.",
        "Ma fille a dit « le meilleur cadeau » en ouvrant {p}.",
    ],
    ("pos", "en"): [
        "Love {p}, works exactly as advertised.",
        "Really happy with {p}: sturdy, pretty and cheap.",
        "Five stars for {p}, I'd buy it again tomorrow.",
        'My son called {p} "the best gift ever" & he means it.',
        "{P} beat my expectations, highly recommended.",
        "Bought {p} for my office and everyone wants one now.",
        "Great value: {p} costs < $15 and feels premium.",
    ],
    ("neg", "fr"): [
        "{P} : en panne au bout d'une semaine.",
        "Très déçu par {p}, la qualité n'est pas au rendez-vous.",
        'On m\'a vendu {p} comme "haut de gamme" : quelle blague.',
        "Remboursement demandé : colis abîmé et {p} inutilisable.",
        "{P} chauffe, fait du bruit & sent le plastique. À éviter.",
        "Service client injoignable après l'achat de {p}.",
        "Ne perdez pas votre argent avec {p}.",
    ],
    ("neg", "en"): [
        "{P} broke after a week, total waste of money.",
        "Very disappointed with {p}, cheap materials.",
        'The box said "premium" but {p} feels like a toy.',
        "Returned {p}: it arrived damaged & nobody answered my emails.",
        "Avoid {p}, it stopped working on day 3.",
        "{P} is noisy, flimsy and overpriced.",
        "Worst purchase this year: {p} <1 star if I could>.",
    ],
    ("neu", "fr"): [
        "Reçu {p} hier, pas encore eu le temps de l'essayer.",
        "{P} est conforme à la description, sans plus.",
        "J'ai acheté {p} pour offrir, je ne sais pas si ça plaira.",
        "{P} existe en trois couleurs ; j'ai pris le gris.",
        "Livraison de {p} prévue entre lundi & mercredi.",
        "Quelqu'un sait si {p} est compatible avec l'ancien modèle ?",
        "Commande de {p} passée le 3/11, colis < 2 kg.",
    ],
    ("neu", "en"): [
        "Got {p} yesterday, haven't tried it yet.",
        "{P} matches the description, nothing more to say.",
        "Bought {p} as a gift, no idea if they'll like it.",
        "{P} comes in three colours; I picked grey.",
        "Does anyone know if {p} fits the older model?",
        "Ordered {p} on Monday & it should arrive Friday.",
        'The manual of {p} says "<see page 4>" for the warranty.',
    ],
}

EXPLANATIONS = {
    "pos": "L'avis est clairement satisfait. / The reviewer is clearly happy.",
    "neg": "L'avis se plaint d'un défaut ou du service. / The review complains about a defect "
    "or the service.",
    "neu": "L'avis décrit un fait sans juger le produit. / The review states a fact without "
    "judging the product.",
}


def _fill(template: str, product: str) -> str:
    return template.replace("{p}", product).replace("{P}", product[0].upper() + product[1:])


def demo_pack(tasks_per_group: int = 25, seed: int = 7) -> tuple[dict[str, Any], dict[str, str]]:
    """The demo pack (about 150 tasks) and its truth {task text: correct option label}."""
    rng = random.Random(seed)
    reviews: list[tuple[str, str]] = []  # (text, sentiment)
    for (sentiment, language), templates in TEMPLATES.items():
        products = [pair[0 if language == "fr" else 1] for pair in PRODUCTS]
        combos = [(t, p) for t in templates for p in products]
        for template, product in rng.sample(combos, tasks_per_group):
            reviews.append((_fill(template, product), sentiment))
    rng.shuffle(reviews)
    texts = [text for text, _ in reviews]
    assert len(set(texts)) == len(texts), "demo reviews must be distinct"
    tasks: list[dict[str, Any]] = []
    for number, (text, sentiment) in enumerate(reviews, 1):
        task: dict[str, Any] = {"id": f"r-{number:03d}", "text": text}
        if number % 10 == 0:
            task["gold"] = sentiment
            task["explanation"] = EXPLANATIONS[sentiment]
        tasks.append(task)
    pack = {
        "id": "demo-reviews",
        "title": "Avis clients : sentiment / Customer reviews: sentiment",
        "instructions": "Lisez l'avis et choisissez son sentiment. / "
        "Read the review and pick its sentiment.",
        "description": "Des avis courts sur des produits du quotidien, en français et en anglais."
        " / Short reviews of everyday products, in French and English.",
        "type": "single_choice",
        "options": OPTIONS,
        "reward": "0.02",
        "currency": "EUR",
        "overlap": 3,
        "lease_seconds": 120,
        "tasks": tasks,
    }
    truth = {text: LABELS[sentiment] for text, sentiment in reviews}
    return pack, truth


def write_demo(directory: Path) -> tuple[Path, Path]:
    pack, truth = demo_pack()
    directory.mkdir(parents=True, exist_ok=True)
    pack_path = directory / "demo-reviews.json"
    truth_path = directory / "demo-reviews.truth.json"
    pack_path.write_text(json.dumps(pack, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    truth_path.write_text(json.dumps(truth, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return pack_path, truth_path


def big_header(tasks: int, pack_id: str | None = None) -> dict[str, Any]:
    return {
        "id": pack_id or f"bench-{tasks}",
        "title": f"Benchmark pack ({tasks:,} tasks)",
        "instructions": "Read the review and pick its sentiment.",
        "type": "single_choice",
        "options": OPTIONS,
        "reward": "0.005",
        "currency": "EUR",
        "overlap": 3,
        "lease_seconds": 300,
    }


def write_jsonl(
    path: Path,
    tasks: int,
    *,
    random_ids: bool = False,
    seed: int = 1,
    pack_id: str | None = None,
) -> Path:
    """A JSONL pack of `tasks` review tasks (ids t-0000001.. or random hex), ~2% gold; a JSON
    pack (one document, one task a line) when `path` ends in .json."""
    rng = random.Random(seed)
    groups = [(key, templates) for key, templates in TEMPLATES.items()]
    path.parent.mkdir(parents=True, exist_ok=True)
    dumps = json.JSONEncoder(ensure_ascii=False).encode
    document = path.suffix == ".json"
    separator = ",\n" if document else "\n"
    with path.open("w", encoding="utf-8") as out:
        if document:
            out.write(dumps(big_header(tasks, pack_id))[:-1] + ', "tasks": [\n')
        else:
            out.write(dumps(big_header(tasks, pack_id)) + "\n")
        lines = []
        for number in range(1, tasks + 1):
            (sentiment, language), templates = groups[number % len(groups)]
            product = PRODUCTS[(number * 7) % len(PRODUCTS)][0 if language == "fr" else 1]
            text = _fill(templates[(number // 6) % len(templates)], product)
            task: dict[str, Any] = {
                "id": f"{rng.getrandbits(64):016x}-{number}" if random_ids else f"t-{number:07d}",
                "text": f"#{number} {text}",
            }
            if number % 50 == 0:
                task["gold"] = sentiment
                task["explanation"] = EXPLANATIONS[sentiment]
            lines.append(dumps(task))
            if len(lines) == 10_000 or number == tasks:
                out.write(("" if number <= 10_000 else separator) + separator.join(lines))
                lines = []
        out.write("\n]}\n" if document else "\n")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--demo", action="store_true", help="write the demo pack and its truth")
    what.add_argument("--tasks", type=int, help="write a JSONL pack of this many tasks")
    parser.add_argument("--out", type=Path, help="the .jsonl (or .json) file (with --tasks)")
    parser.add_argument("--out-dir", type=Path, default=SAMPLES, help="with --demo")
    parser.add_argument("--random-ids", action="store_true", help="random task ids (not sorted)")
    parser.add_argument("--id", help="the pack id (default: bench-TASKS)")
    args = parser.parse_args(argv)
    if args.demo:
        for path in write_demo(args.out_dir):
            print(path)
        return 0
    if args.out is None:
        parser.error("--tasks needs --out")
    print(write_jsonl(args.out, args.tasks, random_ids=args.random_ids, pack_id=args.id))
    return 0


if __name__ == "__main__":
    sys.exit(main())
