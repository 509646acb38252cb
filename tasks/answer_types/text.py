"""text: the worker replies with a message (transcribe, describe, correct).

Stored: the text as sent (trimmed). Pack fields: `min_length` / `max_length` (characters, 1 and
1000 by default), `max_cer` (0 by default: the character error rate within which an answer
matches an accepted one or another answer), `accents` (true by default: accents are
significant; false: "élève" matches "eleve"). Gold: a list of accepted answers, compared after
`normalise` or within `max_cer`. Results: the medoid (the answer with the least total
trust-weighted normalised edit distance to the others) with the agreement (the trust share of
answers matching it) as its confidence. Edit distances come from rapidfuzz.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from collections.abc import Sequence

from rapidfuzz.distance import Levenshtein

from db.packs import PackInfo
from tasks.answer_types.base import LAZY_ACCURACY, Given, NotText, Nudge, Reply, Result, Vote

DEFAULT_MIN_LENGTH = 1
DEFAULT_MAX_LENGTH = 1000
LENGTH_LIMIT = 4000  # a Telegram message holds 4,096 characters
MAX_ACCEPTED = 20  # accepted answers per gold task


def min_length(pack: PackInfo) -> int:
    return int(pack.header.get("min_length") or DEFAULT_MIN_LENGTH)


def max_length(pack: PackInfo) -> int:
    return int(pack.header.get("max_length") or DEFAULT_MAX_LENGTH)


def max_cer(pack: PackInfo) -> float:
    return float(pack.header.get("max_cer") or 0.0)


def accents(pack: PackInfo) -> bool:
    return pack.header.get("accents", True) is not False


def normalise(text: str, keep_accents: bool = True) -> str:
    """Unicode NFKC, case folded, punctuation dropped, runs of white space made one space;
    accents dropped too when they are not significant."""
    text = unicodedata.normalize("NFKC", text).casefold()
    if not keep_accents:
        decomposed = unicodedata.normalize("NFD", text)
        text = unicodedata.normalize(
            "NFC", "".join(c for c in decomposed if not unicodedata.combining(c))
        )
    text = "".join(" " if unicodedata.category(c).startswith("P") else c for c in text)
    return " ".join(text.split())


def cer(answer: str, reference: str) -> float:
    """Character error rate of `answer` against `reference` (both normalised already): edit
    operations per reference character."""
    if not reference:
        return 0.0 if not answer else 1.0
    return Levenshtein.distance(answer, reference) / len(reference)


def store(pack: PackInfo, given: Given) -> str | Nudge | None:
    if isinstance(given, NotText):
        return Nudge("nudge_text_expected", {"low": min_length(pack), "high": max_length(pack)})
    if not isinstance(given, Reply):
        return Nudge("nudge_reply_expected")
    text = given.text.strip()
    low, high = min_length(pack), max_length(pack)
    if not low <= len(text) <= high:
        return Nudge("nudge_length", {"low": low, "high": high, "got": len(text)})
    return text


def canonical_gold(gold: str | list[str]) -> str:
    accepted = [gold] if isinstance(gold, str) else gold
    if not accepted:
        raise ValueError("the gold of a text task lists at least one accepted answer")
    if len(accepted) > MAX_ACCEPTED:
        raise ValueError(f"at most {MAX_ACCEPTED} accepted answers, not {len(accepted)}")
    if any(not item.strip() for item in accepted):
        raise ValueError("an accepted answer is blank")
    return json.dumps(accepted, ensure_ascii=False)


def accepted_answers(gold: str) -> list[str]:
    try:
        value = json.loads(gold)
    except ValueError:
        return [gold]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str)]
    return [gold]


def matches(pack: PackInfo, answer: str, reference: str) -> bool:
    keep = accents(pack)
    given, expected = normalise(answer, keep), normalise(reference, keep)
    return given == expected or cer(given, expected) <= max_cer(pack)


def gold_score(pack: PackInfo, answer: str, gold: str) -> float:
    return 1.0 if any(matches(pack, answer, ok) for ok in accepted_answers(gold)) else 0.0


def best_cer(pack: PackInfo, answer: str, gold: str) -> float:
    """The answer's character error rate against the nearest accepted answer (for exports)."""
    keep = accents(pack)
    given = normalise(answer, keep)
    return min(cer(given, normalise(ok, keep)) for ok in accepted_answers(gold))


def chance_score(pack: PackInfo) -> float:
    """No one types an accepted answer by chance, but sending the text back as it came may
    pass: the test is built to catch a worker right half the time (LAZY_ACCURACY)."""
    return LAZY_ACCURACY


def streak_key(answer: str) -> str:
    """Same-answer streaks compare the normalised text (a short digest of it)."""
    return "t:" + hashlib.blake2b(normalise(answer).encode(), digest_size=8).hexdigest()


def aggregate(pack: PackInfo, votes: Sequence[Vote]) -> Result:
    if not votes:
        return Result(None, 0.0)
    keep = accents(pack)
    texts = [normalise(vote.answer, keep) for vote in votes]
    weights = [vote.weight for vote in votes]
    best, best_cost = 0, float("inf")
    for i, text in enumerate(texts):
        cost = sum(
            weights[j] * Levenshtein.normalized_distance(text, other)
            for j, other in enumerate(texts)
            if j != i
        )
        if cost < best_cost - 1e-12:
            best, best_cost = i, cost
    medoid = texts[best]
    limit = max_cer(pack)
    agree = sum(
        weights[j]
        for j, other in enumerate(texts)
        if other == medoid or cer(other, medoid) <= limit
    )
    return Result(votes[best].answer, agree / sum(weights))
