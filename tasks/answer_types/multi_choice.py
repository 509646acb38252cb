"""multi_choice: toggle buttons with a check mark, then Done; an optional "none of these".

Stored (answer and gold alike): the selected option ids as a JSON list, in the pack's option
order (`encode`), so equal sets are equal strings. Gold scores 1 for the exact set, else 0
(the Jaccard index is shown in the export). Results: each option's trust-weighted share of the
answers, kept above one half; the confidence is the least sure of those per-label decisions.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

from db.packs import PackInfo
from tasks.answer_types.base import LAZY_ACCURACY, Given, Nudge, Result, Selection, Vote

MAX_OPTIONS = 10  # a selection is a bit per option index (callback_data: one digit)


def none_option(pack: PackInfo) -> str | None:
    """The pack's "none of these" option id (header `none_of_these`), if any."""
    value = pack.header.get("none_of_these")
    return value if isinstance(value, str) else None


def encode(option_ids: Sequence[str], chosen: Iterable[str]) -> str:
    wanted = set(chosen)
    return json.dumps([option for option in option_ids if option in wanted])


def decode(stored: str) -> list[str]:
    try:
        value = json.loads(stored)
    except ValueError:
        return []
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def toggled(pack: PackInfo, mask: int, index: int) -> int:
    """The selection after a tap on option `index`: "none of these" clears the others, any
    other option clears "none of these"."""
    mask ^= 1 << index
    none = none_option(pack)
    if none is None or not mask & (1 << index):
        return mask
    ids = [option.id for option in pack.options]
    none_bit = 1 << ids.index(none)
    return none_bit if ids[index] == none else mask & ~none_bit


def store(pack: PackInfo, given: Given) -> str | Nudge | None:
    if not isinstance(given, Selection):
        return Nudge("nudge_buttons")
    if given.mask >> len(pack.options):
        return None
    if given.mask == 0:
        return Nudge("nudge_select_first")
    ids = [option.id for option in pack.options]
    return encode(ids, [ids[i] for i in range(len(ids)) if given.mask & (1 << i)])


def canonical_gold(option_ids: Sequence[str], none: str | None, gold: str | list[str]) -> str:
    items = [gold] if isinstance(gold, str) else gold
    unknown = [item for item in items if item not in option_ids]
    if unknown:
        raise ValueError(f'"{unknown[0]}" is not one of the options ({", ".join(option_ids)})')
    if not items:
        raise ValueError(
            "the gold of a multi_choice task names at least one option"
            + (f' (nothing applies: ["{none}"])' if none else "")
        )
    if len(set(items)) != len(items):
        raise ValueError("an option appears twice in the gold")
    if none is not None and none in items and len(items) > 1:
        raise ValueError(f'"{none}" (none of these) cannot go with other options')
    return encode(option_ids, items)


def gold_score(answer: str, gold: str) -> float:
    return 1.0 if set(decode(answer)) == set(decode(gold)) else 0.0


def jaccard(answer: str, gold: str) -> float:
    given, expected = set(decode(answer)), set(decode(gold))
    union = given | expected
    return 1.0 if not union else len(given & expected) / len(union)


def chance_score(pack: PackInfo) -> float:
    """The accuracy the sequential test must catch: a random toggler hits the exact set once in
    2^n - 1, but always giving the commonest set scores far more, so LAZY_ACCURACY."""
    return max(1.0 / float(2 ** len(pack.options) - 1), LAZY_ACCURACY)


def aggregate(pack: PackInfo, votes: Sequence[Vote]) -> Result:
    total = sum(vote.weight for vote in votes)
    if not votes or total <= 0:
        return Result(None, 0.0)
    shares = {option.id: 0.0 for option in pack.options}
    for vote in votes:
        for option in decode(vote.answer):
            if option in shares:
                shares[option] += vote.weight / total
    kept = [option for option, share in shares.items() if share > 0.5]
    confidence = min(max(share, 1 - share) for share in shares.values())
    label = encode(list(shares), kept)
    return Result(label, confidence, {"shares": {k: round(v, 4) for k, v in shares.items()}})
