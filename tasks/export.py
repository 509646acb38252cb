"""Exports of a pack: aggregated results or raw answers, as CSV or JSONL, streamed.

Results: one row per task in service (task, label, confidence, answers, votes per option, gold
flag), the label from every answer: each worker's skill learned by the pack's EM
(tasks/quality/skills.py, refreshed as the export starts), plus Dawid-Skene over the whole pack
(ds_label, ds_confidence), and the method and when its fit was computed (method, computed_at);
rating adds the median and IQR, multi_choice and text have their own columns (`_typed_rows`).
Raw: one row per stored answer (task, worker, label, seconds, gold, correct,
counted, time); `task`, `worker`, `label` are the columns crowd-kit reads as they are.

Memory: rows are written as the database yields them. Dawid-Skene needs every answer at once:
it holds them as three integer arrays (24 bytes per answer), never as Python objects.
"""

from __future__ import annotations

import itertools
import json
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal, TextIO

import numpy as np

from db import Database, Tx, to_db_time
from db import exports as exports_db
from db import packs as packs_db
from db import skills as skills_db
from db.exports import TaskAnswer
from tasks import answer_types
from tasks.answer_types import multi_choice
from tasks.answer_types import text as text_type
from tasks.clock import Clock
from tasks.packs import PackInfo
from tasks.quality.dawid_skene import dawid_skene
from tasks.quality.rules import LabelVote, posterior_vote, trust_weight
from tasks.quality.skills import SkillService
from tasks.spreadsheet import csv_line, neutralise

Format = Literal["csv", "jsonl"]


class UnknownPack(Exception):
    pass


# The `method` column of a results export, per answer type (docs/quality.md).
METHODS = {
    "single_choice": "one_coin_em",  # the label of highest posterior under the EM's skills
    "rating": "one_coin_em_weighted_median",  # the median, weighed by the EM's skills
    "multi_choice": "one_coin_em_per_option",  # options kept by the EM's skills
    "text": "gold_trust_medoid",  # no fit: the medoid, weighed by the gold accuracy
}


@dataclass(frozen=True)
class ExportCount:
    rows: int
    method: str | None = None  # results: how the labels were computed ...
    computed_at: str | None = None  # ... and when (the fit's time; a text pack: the export's)


async def check_pack(db: Database, pack_id: str) -> None:
    """Raises UnknownPack if there is no such pack: checked before any output is opened."""
    if await db.run_read(packs_db.pack_by_id, pack_id) is None:
        raise UnknownPack(pack_id)


async def export_pack(
    db: Database,
    pack_id: str,
    out: TextIO,
    *,
    fmt: Format = "csv",
    raw: bool = False,
    clock: Clock | None = None,
) -> ExportCount:
    """Writes the pack's results (or raw answers) to `out` in one consistent read. Results are
    re-aggregated first: the pack's skills are fitted again on every answer given so far (off
    the event loop; stored, as `packs reaggregate` does), unless the stored fit read exactly
    the answers there are now."""
    clock = clock or Clock()
    if not raw:
        pack = await db.run_read(packs_db.pack_by_id, pack_id)
        if pack is None:
            raise UnknownPack(pack_id)
        await SkillService(db, clock).refresh_if_changed(pack)
    return await db.run_read(_export, pack_id, out, fmt, raw, to_db_time(clock.now()))


def _export(tx: Tx, pack_id: str, out: TextIO, fmt: Format, raw: bool, now: str) -> ExportCount:
    pack = packs_db.pack_by_id(tx, pack_id)
    if pack is None:
        raise UnknownPack(pack_id)
    method: str | None = None
    computed_at: str | None = None
    priors: dict[str, float] = {}
    if not raw:
        run = skills_db.latest_run(tx, pack.pk)
        method = METHODS.get(pack.type, "gold_trust")
        computed_at = run.computed_at if run is not None and pack.type != "text" else now
        priors = json.loads(run.priors) if run is not None else {}
    if raw:
        columns = ["task", "worker", "label", "seconds", "gold", "correct", "counted", "time"]
        if pack.type == "multi_choice":
            columns.append("jaccard")  # against the gold, on gold tasks
        elif pack.type == "text":
            columns += ["text", "cer"]  # crowd-kit's text aggregators read `text`
        records: Iterator[dict[str, Any]] = _raw_rows(tx, pack)
    elif pack.type in ("multi_choice", "text"):
        columns = ["task", "label", "confidence", "answers"]
        columns += [f"share_{option.id}" for option in pack.options]
        columns += [f"confidence_{option.id}" for option in pack.options]  # multi_choice
        columns += ["gold", "method", "computed_at"]
        records = _typed_rows(tx, pack)
    else:
        columns = ["task", "label", "confidence", "answers"]
        if pack.type == "rating":
            columns += ["median", "iqr"]  # median position (1 = first option), spread
        columns += [f"votes_{option.id}" for option in pack.options]
        columns += ["gold", "ds_label", "ds_confidence", "method", "computed_at"]
        records = _result_rows(tx, pack, priors)
    if not raw:
        records = _stamped(records, method, computed_at)
    return ExportCount(_write(records, columns, out, fmt), method, computed_at)


def _stamped(
    records: Iterator[dict[str, Any]], method: str | None, computed_at: str | None
) -> Iterator[dict[str, Any]]:
    for record in records:
        yield {**record, "method": method, "computed_at": computed_at}


def _accuracy(row: TaskAnswer) -> float:
    """A vote's accuracy in the export: the worker's learned skill, else (a worker who answered
    after the fit) their gold accuracy, else 0.5."""
    if row.skill is not None:
        return row.skill
    return 0.5 if row.accuracy is None else row.accuracy


def _write(records: Iterator[dict[str, Any]], columns: list[str], out: TextIO, fmt: Format) -> int:
    count = 0
    if fmt == "jsonl":
        for record in records:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
        return count
    out.write(csv_line(columns))
    for record in records:
        cells = []
        for name in columns:
            value = record.get(name)
            if name.startswith("votes_"):
                value = record["votes"].get(name[6:], 0)
            elif name.startswith("share_"):
                value = record["shares"].get(name[6:], 0)
            elif name.startswith("confidence_"):
                share = record["shares"].get(name[11:])
                value = None if share is None else round(max(share, 1 - share), 4)
            if value is None:
                cells.append("")
            elif isinstance(value, bool):
                cells.append("true" if value else "false")
            elif isinstance(value, str):
                cells.append(neutralise(value))
            else:
                cells.append(str(value))
        out.write(csv_line(cells))
        count += 1
    return count


def _raw_rows(tx: Tx, pack: PackInfo) -> Iterator[dict[str, Any]]:
    for row in exports_db.raw_answers(tx, pack.pk):
        gold = row.is_gold and row.gold is not None
        record: dict[str, Any] = {
            "task": row.task_id,
            "worker": row.worker_id,
            "label": row.answer,
            "seconds": None if row.seconds is None else round(row.seconds, 3),
            "gold": gold,
            "correct": (
                answer_types.gold_score(pack, row.answer, row.gold) >= 1
                if gold and row.gold is not None
                else None
            ),
            "counted": not row.excluded,
            "time": row.closed_at,
        }
        if pack.type == "multi_choice":
            record["jaccard"] = (
                round(multi_choice.jaccard(row.answer, row.gold), 4)
                if gold and row.gold is not None
                else None
            )
        elif pack.type == "text":
            record["text"] = row.answer
            record["cer"] = (
                round(text_type.best_cer(pack, row.answer, row.gold), 4)
                if gold and row.gold is not None
                else None
            )
        yield record


def _typed_rows(tx: Tx, pack: PackInfo) -> Iterator[dict[str, Any]]:
    """Results of multi_choice (label: the JSON list of options kept, share_<option>: each
    option's trust-weighted share, confidence: the least sure of them) and text (label: the
    medoid answer, confidence: the agreement), aggregated as tasks/answer_types/ does, each
    vote weighed by the worker's learned skill (multi_choice) or gold accuracy (text)."""
    outcomes = answer_types.vote_options(pack)
    for _, group in _grouped(tx, pack):
        votes = [
            answer_types.Vote(row.answer, trust_weight(_accuracy(row), outcomes))
            for row in group
            if row.answer is not None
        ]
        result = answer_types.aggregate(pack, votes)
        yield {
            "task": group[0].task_id,
            "label": result.label,
            "confidence": round(result.confidence, 4) if votes else None,
            "answers": len(votes),
            "shares": result.details.get("shares", {}),
            "gold": group[0].gold is not None,
        }


def _grouped(tx: Tx, pack: PackInfo) -> Iterator[tuple[int, list[TaskAnswer]]]:
    rows = exports_db.task_answers(tx, pack.pk)
    for pk, group in itertools.groupby(rows, key=lambda row: row.task_pk):
        yield pk, list(group)


def _dawid_skene(tx: Tx, pack: PackInfo) -> np.ndarray[Any, np.dtype[np.float64]]:
    """Dawid-Skene posteriors, one row per task in the order _grouped yields them."""
    labels_index = {option.id: i for i, option in enumerate(pack.options)}
    tasks, workers, labels = array("q"), array("q"), array("q")
    worker_index: dict[int, int] = {}
    n_tasks = 0
    for _, group in _grouped(tx, pack):
        for row in group:
            if row.answer is not None and row.answer in labels_index:
                assert row.worker_id is not None
                tasks.append(n_tasks)
                workers.append(worker_index.setdefault(row.worker_id, len(worker_index)))
                labels.append(labels_index[row.answer])
        n_tasks += 1
    return dawid_skene(
        np.frombuffer(tasks, dtype=np.int64),
        np.frombuffer(workers, dtype=np.int64),
        np.frombuffer(labels, dtype=np.int64),
        n_tasks,
        max(len(worker_index), 1),
        len(pack.options),
    )


def _result_rows(tx: Tx, pack: PackInfo, priors: dict[str, float]) -> Iterator[dict[str, Any]]:
    """single_choice: the label of highest posterior under the EM's skills and class priors
    (`rules.posterior_vote`), its posterior as the confidence; rating: the median weighed by
    the skills."""
    posterior = _dawid_skene(tx, pack)
    options = [option.id for option in pack.options]
    for index, (_, group) in enumerate(_grouped(tx, pack)):
        votes = [
            LabelVote(row.answer, trust_weight(_accuracy(row), len(options)))
            for row in group
            if row.answer is not None
        ]
        spread: dict[str, Any] = {}
        if pack.type == "rating":
            result = answer_types.aggregate(
                pack, [answer_types.Vote(vote.label, vote.weight) for vote in votes]
            )
            label, confidence = result.label, result.confidence
            spread = {"median": result.details.get("median"), "iqr": result.details.get("iqr")}
        else:
            label, confidence = posterior_vote(votes, options, priors)
        counts = {option: 0 for option in options}
        for vote in votes:
            counts[vote.label] = counts.get(vote.label, 0) + 1
        has_answers = bool(votes)
        yield {
            "task": group[0].task_id,
            "label": label,
            "confidence": round(confidence, 4) if has_answers else None,
            "answers": len(votes),
            "votes": counts,
            "gold": group[0].gold is not None,
            "ds_label": options[int(posterior[index].argmax())] if has_answers else None,
            "ds_confidence": round(float(posterior[index].max()), 4) if has_answers else None,
            **spread,
        }
