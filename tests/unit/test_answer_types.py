"""The answer types' domain: pack validation per type (with lines), gold shapes, scoring and
chance, aggregation, toggles, text normalisation, and the worker loop with typed answers."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from db import Database
from db.packs import Option, PackInfo
from tasks import answer_types
from tasks.answer_types import Vote, multi_choice, rating, text
from tasks.clock import FakeClock
from tasks.packs import load_pack
from tasks.work import NotText, Reply, Selection, WorkService
from tasks.work_results import Outcome, TaskCard
from tests.helpers import check_pack, json_task_line, write_pack_file

EMOTIONS = [
    {"id": "joy", "label": "Joy"},
    {"id": "anger", "label": "Anger"},
    {"id": "fear", "label": "Fear"},
    {"id": "none", "label": "None of these"},
]
SCALE = [{"id": str(n), "label": f"{n} · level {n}"} for n in range(1, 6)]


def info(task_type: str, options: list[dict[str, str]] | None = None, **header: Any) -> PackInfo:
    return PackInfo(
        pk=1,
        id="p",
        title="P",
        instructions="I",
        type=task_type,
        options=tuple(Option(o["id"], o["label"]) for o in options or []),
        reward_micros=20_000,
        currency="EUR",
        overlap=3,
        lease_seconds=300,
        status="active",
        description=None,
        header=dict(header),
    )


# -- pack validation -------------------------------------------------------------------------


def test_each_type_loads_with_its_gold_shape(tmp_path: Path) -> None:
    multi = write_pack_file(
        tmp_path / "m.json",
        [{"id": "a", "text": "x", "gold": ["anger", "joy"]}, {"id": "b", "text": "y"}],
        type="multi_choice",
        options=EMOTIONS,
        none_of_these="none",
    )
    assert check_pack(multi).ok
    scale = write_pack_file(
        tmp_path / "r.jsonl",
        [{"id": "a", "text": "x", "gold": "4"}],
        type="rating",
        options=SCALE,
        tolerance=1,
    )
    assert check_pack(scale).ok
    texts = write_pack_file(
        tmp_path / "t.json",
        [{"id": "a", "text": "x", "gold": ["Le chat", "Un chat"]}, {"id": "b", "text": "y"}],
        type="text",
        options=[],
        min_length=2,
        max_length=80,
        max_cer=0.1,
        accents=False,
    )
    check = check_pack(texts)
    assert check.ok and check.header is not None and check.header.max_cer == 0.1


def test_gold_of_the_wrong_shape_is_refused_with_its_line(tmp_path: Path) -> None:
    tasks = [
        {"id": "a", "text": "x", "gold": ["joy", "sadness"]},
        {"id": "b", "text": "x", "gold": ["none", "joy"]},
        {"id": "c", "text": "x", "gold": []},
        {"id": "d", "text": "x", "gold": "joy"},  # one id alone: accepted
    ]
    path = write_pack_file(
        tmp_path / "m.json", tasks, type="multi_choice", options=EMOTIONS, none_of_these="none"
    )
    errors = check_pack(path).errors
    header_fields = 7  # PACK_HEADER and none_of_these
    assert [(e.line, e.task_id) for e in errors] == [
        (json_task_line(0, header_fields), "a"),
        (json_task_line(1, header_fields), "b"),
        (json_task_line(2, header_fields), "c"),
    ]
    assert '"sadness" is not one of the options' in errors[0].message
    assert "cannot go with other options" in errors[1].message
    assert "at least one option" in errors[2].message
    rating_pack = write_pack_file(
        tmp_path / "r.jsonl",
        [{"id": "a", "text": "x", "gold": "6"}, {"id": "b", "text": "x", "gold": ["1"]}],
        type="rating",
        options=SCALE,
    )
    errors = check_pack(rating_pack).errors
    assert [(e.line, e.field) for e in errors] == [(2, "gold"), (3, "gold")]
    assert '"6" is not one of the options' in errors[0].message
    assert "one option id" in errors[1].message
    # A gold of neither shape: one line, not one per shape pydantic tried.
    text_pack = write_pack_file(
        tmp_path / "t.jsonl", [{"id": "a", "text": "x", "gold": 5}], type="text", options=[]
    )
    errors = check_pack(text_pack).errors
    assert [(e.line, e.field, e.message) for e in errors] == [
        (2, "gold", "must be a string or an array of strings, not the number 5")
    ]


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ({"type": "text", "options": EMOTIONS}, "a text pack has no options, not 4"),
        ({"type": "rating", "options": SCALE[:1]}, "a rating pack has 2 to 10 options, not 1"),
        ({"type": "rating", "options": SCALE, "tolerance": 5}, "accepts every answer"),
        ({"type": "single_choice", "tolerance": 1}, '"tolerance" belongs to rating packs'),
        ({"type": "rating", "options": SCALE, "max_cer": 0.1}, '"max_cer" belongs to text'),
        (
            {"type": "multi_choice", "options": EMOTIONS, "none_of_these": "nope"},
            'none_of_these "nope" is not one of the options',
        ),
        (
            {"type": "text", "options": [], "min_length": 50, "max_length": 10},
            "min_length (50) is more than max_length (10)",
        ),
        # Optional bounded fields say their bounds (they once read "between None and None").
        ({"type": "rating", "options": SCALE, "tolerance": -1}, "must be between 0 and 9 (got -1)"),
        ({"type": "text", "options": [], "max_cer": 2}, "must be between 0 and 1 (got 2)"),
    ],
)
def test_type_fields_are_checked(tmp_path: Path, header: dict[str, Any], message: str) -> None:
    path = write_pack_file(tmp_path / "p.json", [{"id": "a", "text": "x"}], **header)
    errors = check_pack(path).errors
    assert errors and message in errors[0].message, errors


# -- scoring, chance, aggregation ------------------------------------------------------------


def test_rating_tolerance_and_chance() -> None:
    strict, lenient = info("rating", SCALE), info("rating", SCALE, tolerance=1)
    assert answer_types.gold_score(strict, "3", "4") == 0.0
    assert answer_types.gold_score(lenient, "3", "4") == 1.0
    assert answer_types.gold_score(lenient, "2", "4") == 0.0
    assert answer_types.chance_score(strict) == pytest.approx(1 / 5)
    # tolerance 1 on 5 points: windows of 2, 3, 3, 3, 2 positions out of 5
    assert answer_types.chance_score(lenient) == pytest.approx(13 / 25)


def test_rating_median_and_iqr() -> None:
    pack = info("rating", SCALE)
    votes = [Vote("1", 1.0), Vote("4", 1.0), Vote("4", 1.0), Vote("5", 1.0)]
    result = answer_types.aggregate(pack, votes)
    assert result.label == "4" and result.details == {"iqr": 3, "median": 4}
    assert result.confidence == pytest.approx(0.5)
    # trust decides: one heavy vote outweighs two light ones
    heavy = answer_types.aggregate(pack, [Vote("2", 3.0), Vote("5", 1.0), Vote("5", 1.0)])
    assert heavy.label == "2"


def test_multi_choice_encoding_scoring_and_shares() -> None:
    pack = info("multi_choice", EMOTIONS, none_of_these="none")
    ids = [o["id"] for o in EMOTIONS]
    gold = answer_types.canonical_gold("multi_choice", ids, ["fear", "joy"], "none")
    assert gold == '["joy", "fear"]'  # the pack's option order: equal sets, equal strings
    assert answer_types.gold_score(pack, '["joy", "fear"]', gold) == 1.0
    assert answer_types.gold_score(pack, '["joy"]', gold) == 0.0
    assert multi_choice.jaccard('["joy"]', gold) == 0.5
    assert answer_types.chance_score(pack) == 0.5  # LAZY_ACCURACY: 1 / 15 by chance
    votes = [Vote('["joy", "anger"]', 1.0), Vote('["joy"]', 1.0), Vote('["none"]', 1.0)]
    result = answer_types.aggregate(pack, votes)
    assert result.label == '["joy"]'
    assert result.details["shares"] == {"joy": 0.6667, "anger": 0.3333, "fear": 0.0, "none": 0.3333}
    assert result.confidence == pytest.approx(2 / 3)


def test_none_of_these_clears_the_others() -> None:
    pack = info("multi_choice", EMOTIONS, none_of_these="none")
    mask = multi_choice.toggled(pack, 0, 0)  # joy
    mask = multi_choice.toggled(pack, mask, 1)  # anger
    assert mask == 0b0011
    mask = multi_choice.toggled(pack, mask, 3)  # none of these
    assert mask == 0b1000
    assert multi_choice.toggled(pack, mask, 2) == 0b0100  # fear clears "none"
    assert multi_choice.toggled(pack, 0b0100, 2) == 0  # a second tap unticks
    assert answer_types.store(pack, Selection(0)) == answer_types.Nudge("nudge_select_first")
    assert answer_types.store(pack, Selection(1 << 4)) is None  # no such option: forged


def test_text_normalisation_accents_and_cer() -> None:
    assert text.normalise("  L’Élève,  est  LÀ ! ") == "l élève est là"
    assert text.normalise("ﬁn") == "fin"  # NFKC
    plain = info("text")
    loose = info("text", accents=False)
    gold = answer_types.canonical_gold("text", [], ["L'élève est là"])
    assert answer_types.gold_score(plain, "l'eleve est la", gold) == 0.0
    assert answer_types.gold_score(loose, "l'eleve est la", gold) == 1.0
    assert answer_types.gold_score(plain, "L ÉLÈVE EST LÀ.", gold) == 1.0
    typo = info("text", max_cer=0.1)
    assert answer_types.gold_score(typo, "l'élève est lá", gold) == 1.0  # 1 error in 14
    assert answer_types.gold_score(typo, "un élève était là", gold) == 0.0
    assert answer_types.chance_score(plain) == 0.5  # LAZY_ACCURACY


def test_text_medoid_and_agreement() -> None:
    pack = info("text", max_cer=0.1)
    votes = [
        Vote("Le chat dort sur le canapé", 1.0),
        Vote("le chat dort sur le canape", 1.0),
        Vote("Le chat dort sur le canapé.", 1.0),
        Vote("asdfgh", 1.0),
    ]
    result = answer_types.aggregate(pack, votes)
    assert result.label == "Le chat dort sur le canapé"
    assert result.confidence == pytest.approx(0.75)


def test_text_length_bounds_and_wrong_input() -> None:
    pack = info("text", min_length=3, max_length=10)
    nudge = answer_types.store(pack, Reply("ab"))
    assert nudge == answer_types.Nudge("nudge_length", {"low": 3, "high": 10, "got": 2})
    assert answer_types.store(pack, Reply("  abcd  ")) == "abcd"
    assert isinstance(answer_types.store(pack, NotText()), answer_types.Nudge)
    assert answer_types.store(info("single_choice", EMOTIONS), Reply("joy")) == (
        answer_types.Nudge("nudge_buttons")
    )


def test_rating_weights_follow_its_options() -> None:
    assert answer_types.vote_options(info("rating", SCALE)) == 5
    assert answer_types.vote_options(info("text")) == 2
    assert rating.tolerance(info("rating", SCALE, tolerance=2)) == 2


# -- the worker loop with typed answers ------------------------------------------------------


async def _load(db: Database, clock: FakeClock, tmp_path: Path, **header: Any) -> None:
    pack = {
        "id": "typed",
        "title": "Typed",
        "instructions": "Answer.",
        "reward": "0.05",
        "overlap": 2,
        **header,
    }
    path = tmp_path / "typed.json"
    path.write_text(json.dumps(pack), encoding="utf-8")
    report = await load_pack(db, path, clock=clock)
    assert report.ok, report


async def _first_card(work: WorkService, worker: int) -> TaskCard:
    await work.meet(
        worker, first_name="W", username=None, language_code="en", default_language="en"
    )
    consented = await work.consent(worker)
    assert consented is not None and isinstance(consented[1], TaskCard)
    return consented[1]


async def test_multi_choice_toggles_then_done_pays_once(
    db: Database, clock: FakeClock, tmp_path: Path
) -> None:
    tasks = [{"id": f"m{i}", "text": f"message {i}"} for i in range(3)]
    await _load(
        db,
        clock,
        tmp_path,
        type="multi_choice",
        options=EMOTIONS,
        none_of_these="none",
        tasks=tasks,
    )
    work = WorkService(db, clock, rng=random.Random(1))
    card = await _first_card(work, 1)
    aid = card.assignment_id
    empty = await work.answer(worker_id=1, assignment_id=aid, choice=Selection(0))
    assert empty.outcome is Outcome.NUDGE and empty.nudge is not None
    assert empty.nudge.key == "nudge_select_first"
    for index in (0, 2):
        toggled = await work.toggle(worker_id=1, assignment_id=aid, index=index)
        assert toggled.outcome is Outcome.TOGGLED
    assert isinstance(toggled.next, TaskCard) and toggled.next.selection == 0b101
    stale = await work.answer(worker_id=1, assignment_id=aid, choice=Selection(0b001))
    assert stale.outcome is Outcome.NUDGE  # Done from an older keyboard: shown again
    other = await work.toggle(worker_id=2, assignment_id=aid, index=1)
    assert other.outcome in (Outcome.UNKNOWN_WORKER, Outcome.NOT_YOURS)
    done = await work.answer(worker_id=1, assignment_id=aid, choice=Selection(0b101))
    assert done.outcome is Outcome.RECORDED and done.shown == "Joy, Fear"
    again = await work.answer(worker_id=1, assignment_id=aid, choice=Selection(0b101))
    assert again.outcome is Outcome.ALREADY
    stored = await db.run_read(
        lambda tx: tx.all("SELECT answer FROM assignments WHERE id = ?", (aid,))
    )
    assert [row[0] for row in stored] == ['["joy", "fear"]']
    paid = await db.run_read(
        lambda tx: tx.value("SELECT COUNT(*) FROM ledger WHERE assignment_id = ?", (aid,))
    )
    assert paid == 1


async def test_text_answer_bound_to_the_task_it_answers(
    db: Database, clock: FakeClock, tmp_path: Path
) -> None:
    tasks = [{"id": f"x{i}", "text": f"transcribe {i}"} for i in range(3)]
    await _load(
        db, clock, tmp_path, type="text", options=[], min_length=3, max_length=40, tasks=tasks
    )
    work = WorkService(db, clock, rng=random.Random(1))
    card = await _first_card(work, 1)
    short = await work.answer_message(worker_id=1, given=Reply("no"))
    assert short.outcome is Outcome.NUDGE and short.nudge is not None
    assert short.nudge.params == {"low": 3, "high": 40, "got": 2}
    sticker = await work.answer_message(worker_id=1, given=NotText())
    assert sticker.outcome is Outcome.NUDGE
    done = await work.answer_message(worker_id=1, given=Reply(" the text "))
    assert done.outcome is Outcome.RECORDED and done.shown == "the text"
    # A reply to the task already answered: it counts once.
    again = await work.answer_message(
        worker_id=1, given=Reply("again"), assignment_id=card.assignment_id
    )
    assert again.outcome is Outcome.ALREADY
    # The next task's lease runs out: a late answer is refused, by reply or plain message.
    assert isinstance(done.next, TaskCard)
    clock.advance(seconds=301)
    await work.expire_leases()
    late = await work.answer_message(worker_id=1, given=Reply("too late"))
    assert late.outcome is Outcome.EXPIRED
    answers = await db.run_read(
        lambda tx: tx.all("SELECT answer FROM assignments WHERE status = 'answered'")
    )
    assert [row[0] for row in answers] == ["the text"]


def test_the_documented_example_packs_load(tmp_path: Path) -> None:
    page = (Path(__file__).resolve().parents[2] / "docs" / "answer-types.md").read_text(
        encoding="utf-8"
    )
    start = page.index("One complete example pack per type")
    blocks = page[start:].split("```json\n")[1:4]
    types = []
    for number, block in enumerate(blocks):
        path = tmp_path / f"example{number}.json"
        path.write_text(block.split("```")[0], encoding="utf-8")
        check = check_pack(path)
        assert check.ok, check.errors
        assert check.header is not None
        types.append(check.header.type)
    assert types == ["multi_choice", "rating", "text"]


@pytest.mark.parametrize("name", ["demo-emotions", "demo-coherence", "demo-corrections"])
def test_the_sample_packs_load_and_their_truth_covers_them(name: str) -> None:
    samples = Path(__file__).resolve().parents[2] / "bot" / "samples"
    check = check_pack(samples / f"{name}.json")
    assert check.ok, check.errors
    pack = json.loads((samples / f"{name}.json").read_text(encoding="utf-8"))
    truth = json.loads((samples / f"{name}.truth.json").read_text(encoding="utf-8"))
    assert {task["text"] for task in pack["tasks"]} == set(truth)


def test_a_csv_gold_cell_holds_a_list_as_json(tmp_path: Path) -> None:
    header = {
        "id": "emo",
        "title": "Emotions",
        "instructions": "Tick.",
        "type": "multi_choice",
        "options": EMOTIONS,
        "reward": "0.02",
    }
    (tmp_path / "emo.header.json").write_text(json.dumps(header), encoding="utf-8")
    csv_path = tmp_path / "emo.csv"
    csv_path.write_text(
        'id,text,gold\na,"happy, scared","[""joy"", ""fear""]"\nb,calm,none\nc,x,"[""sad""]"\n',
        encoding="utf-8",
    )
    check = check_pack(csv_path)
    assert [(e.line, e.field) for e in check.errors] == [(4, "gold")]
    assert '"sad" is not one of the options' in check.errors[0].message


async def test_a_replace_rescores_stored_gold_verdicts(
    db: Database, clock: FakeClock, tmp_path: Path
) -> None:
    tasks = [{"id": "g", "text": "coherent?", "gold": "4"}, {"id": "t", "text": "x"}]
    header = {"type": "rating", "options": SCALE, "quality": {"qualification": 1}}
    await _load(db, clock, tmp_path, tasks=tasks, **header)
    work = WorkService(db, clock, rng=random.Random(1))
    card = await _first_card(work, 1)
    await work.answer(worker_id=1, assignment_id=card.assignment_id, choice=2)  # "3": a miss
    verdict = "SELECT correct FROM assignments WHERE answer IS NOT NULL"
    assert await db.run_read(lambda tx: tx.value(verdict)) == 0
    pack = {"id": "typed", "title": "Typed", "instructions": "Answer.", "reward": "0.05"}
    pack.update(overlap=2, tolerance=1, tasks=tasks, **header)  # type: ignore[arg-type]
    path = tmp_path / "typed.json"
    path.write_text(json.dumps(pack), encoding="utf-8")
    assert (await load_pack(db, path, clock=clock, replace=True)).ok
    assert await db.run_read(lambda tx: tx.value(verdict)) == 1  # within the new tolerance


async def test_an_accepted_text_dispute_adds_the_answer_to_the_accepted_ones(
    db: Database, clock: FakeClock, tmp_path: Path
) -> None:
    from tasks.quality.disputes import DisputeOutcome, DisputeService

    tasks = [{"id": "g", "text": "Il pleu.", "gold": ["Il pleut."]}, {"id": "t", "text": "x"}]
    quality = {"qualification": 1, "gold_ratio": 0}
    await _load(db, clock, tmp_path, type="text", options=[], quality=quality, tasks=tasks)
    work = WorkService(db, clock, rng=random.Random(1))
    disputes = DisputeService(db, work.quality, clock)
    card = await _first_card(work, 1)
    # A right answer (equal after normalisation) cannot be disputed.
    await _first_card(work, 2)
    right = await work.answer_message(worker_id=2, given=Reply("il pleut"))
    assert right.outcome is Outcome.RECORDED
    ids = await db.run_read(
        lambda tx: tx.all("SELECT id, worker_id FROM assignments WHERE answer IS NOT NULL")
    )
    mine = {row[1]: row[0] for row in ids}
    assert await disputes.open_dispute(2, mine[2]) is DisputeOutcome.NOT_ALLOWED
    missed = await work.answer_message(worker_id=1, given=Reply("Il pleuvait."))
    assert missed.outcome is Outcome.RECORDED
    aid = card.assignment_id
    assert await disputes.open_dispute(1, aid) is DisputeOutcome.OPENED
    dispute_id = await db.run_read(lambda tx: tx.value("SELECT id FROM disputes"))
    resolution = await disputes.accept(int(dispute_id))
    assert resolution.ok, resolution.message
    gold = await db.run_read(lambda tx: tx.value("SELECT gold FROM tasks WHERE task_id = 'g'"))
    assert json.loads(gold) == ["Il pleut.", "Il pleuvait."]
    verdict = await db.run_read(
        lambda tx: tx.value("SELECT correct FROM assignments WHERE id = ?", (aid,))
    )
    assert verdict == 1
