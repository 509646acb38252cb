"""A gold key corrected after a dispute survives a later `load-pack --replace` of the old file:
the correction wins, and the operator is told that the file disagrees with it."""

from __future__ import annotations

from pathlib import Path

from db import Database
from tasks.clock import FakeClock
from tasks.packs import load_pack
from tasks.quality.disputes import DisputeService
from tests.helpers import GoldPack, value


async def test_a_corrected_key_survives_a_replace_of_the_old_file(
    db: Database,
    clock: FakeClock,
    gold_pack: GoldPack,
    disputes: DisputeService,
    tmp_path: Path,
) -> None:
    await gold_pack(tasks=10, gold=8, wrong_key=0)  # g00's key is wrong: "neg" for "pos"
    assert await value(db, "SELECT gold FROM tasks WHERE task_id = 'g00'") == "neg"
    resolution = await disputes.review("checked", "g00", "correct", "pos")
    assert resolution.ok, resolution.message
    retired = await disputes.review("checked", "g01", "retire", None)
    assert retired.ok, retired.message

    # The operator loads the file again, still with the old key and the retired item.
    report = await load_pack(db, tmp_path / "checked.json", replace=True, clock=clock)
    assert report.ok, report.errors
    assert await value(db, "SELECT gold FROM tasks WHERE task_id = 'g00'") == "pos"
    assert await value(db, "SELECT retired FROM tasks WHERE task_id = 'g01'") == 1
    assert any(
        "task g00: the file says gold 'neg', but it was corrected to 'pos'" in warning
        and "the correction is kept" in warning
        for warning in report.warnings
    ), report.warnings
    assert any("task g01" in w and "stays retired" in w for w in report.warnings)

    # A file that agrees with the decisions says nothing about them.
    fixed = (tmp_path / "checked.json").read_text(encoding="utf-8")
    fixed = fixed.replace(
        '"id": "g00", "text": "gold 0", "gold": "neg"',
        '"id": "g00", "text": "gold 0", "gold": "pos"',
    )
    assert '"gold": "pos"' in fixed
    (tmp_path / "checked.json").write_text(fixed, encoding="utf-8")
    again = await load_pack(db, tmp_path / "checked.json", replace=True, clock=FakeClock())
    assert again.ok and not any("g00" in w for w in again.warnings), again.warnings


async def test_packs_written_for_the_window_rule_still_load_and_are_told_so(
    db: Database, clock: FakeClock, gold_pack: GoldPack, tmp_path: Path
) -> None:
    await gold_pack(quality={"window": 20, "min_accuracy": 0.7, "pass_mark": 0.8})
    header = await value(db, "SELECT header FROM packs WHERE id = 'checked'")
    assert '"window": 20' in header  # kept as written
    report = await load_pack(db, tmp_path / "checked.json", replace=True, clock=clock)
    assert report.ok
    assert any(
        "quality.pass_mark, quality.min_accuracy, quality.window: superseded by the sequential"
        " test" in warning
        for warning in report.warnings
    ), report.warnings
