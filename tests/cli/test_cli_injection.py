"""What workers write cannot act on the operator's side: a name that looks like a formula is
text in every CSV the bot writes (one function for all of them), and a comment or a name with
terminal escapes is shown, not obeyed, when the CLI prints it."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from bot.cli.quality import format_disputes
from bot.cli.terminal import terminal_safe
from db.gold import FlaggedGold
from tasks import export, payouts
from tasks.quality.disputes import DisputeView
from tasks.spreadsheet import csv_line
from tests.helpers import cli, workers_paid

ATTACKS = ['=HYPERLINK("http://x","y")', "+33 6 12", "-1+2", "@SUM(A1)", "\tcmd", "\rcmd"]
ESCAPES = "\x1b]0;pwned\x07\x1b[2J\x9bA"


async def test_payout_lists_neutralise_formula_names_like_the_results_export(
    tmp_path: Path,
) -> None:
    assert payouts.neutralise is export.neutralise  # one function for both exports
    path = tmp_path / "bot.sqlite3"
    await workers_paid(path, micros=20_000_000, names=[*ATTACKS, "Zoé"])
    out = tmp_path / "payouts.csv"
    result = cli("payouts", "export", "--min", "10", "--out", str(out), db=path)
    assert result.returncode == 0, result.stderr
    with out.open(encoding="utf-8", newline="") as stream:
        names = [row["name"] for row in csv.DictReader(stream)]
    assert names == [*("'" + name for name in ATTACKS), "Zoé"]
    paid = cli("payouts", "mark-paid", str(out), db=path)  # the file still pays as exported
    assert paid.returncode == 0 and "7 payouts recorded" in paid.stdout


def test_dispute_comments_and_texts_are_shown_not_obeyed_by_the_terminal() -> None:
    view = DisputeView(
        id=3,
        pack_id="reviews",
        task_id="t1",
        text=f"task {ESCAPES}",
        worker_id=7,
        answer="pos",
        answer_label="Positive",
        expected="neg",
        expected_label="Negative",
        explanation=None,
        comment=f"I was right {ESCAPES}\nreally",
        flagged=False,
    )
    printed = format_disputes([view], [FlaggedGold("reviews", f"t2{ESCAPES}", "neg")])
    assert not any(char in printed for char in "\x1b\x07\x9b\r")
    assert "comment:  I was right \\x1b]0;pwned\\x07\\x1b[2J\\x9bA really" in printed
    assert "text:     task \\x1b]0;pwned" in printed and "reviews/t2\\x1b]0;pwned" in printed


async def test_a_workers_name_in_a_statement_preview_is_shown_not_obeyed(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    await workers_paid(path, micros=20_000_000, names=[f"Eve{ESCAPES}"])
    result = cli("statements", "preview", "--week", "2026-W47", db=path)
    assert result.returncode == 0, result.stderr
    assert "--- worker 1 (Eve\\x1b]0;pwned\\x07\\x1b[2J\\x9bA) ---" in result.stdout
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_csv_printed_on_a_terminal_shows_escapes_and_a_pipe_gets_the_exact_data() -> None:
    terminal, pipe = Terminal(), io.StringIO()
    for stream in (terminal, pipe):
        payouts.write_csv(
            [payouts.PayoutRow(1, f"Eve{ESCAPES}", 1_000_000, "EUR")], terminal_safe(stream)
        )
    assert "\x1b" not in terminal.getvalue() and "Eve\\x1b]0;pwned" in terminal.getvalue()
    assert f"Eve{ESCAPES}" in pipe.getvalue()


async def test_a_name_with_a_carriage_return_cannot_forge_a_row_in_a_payout_list(
    tmp_path: Path,
) -> None:
    path = tmp_path / "bot.sqlite3"
    await workers_paid(path, micros=20_000_000, names=["x\r999,Mallory,500,EUR", "Ana"])
    out = tmp_path / "payouts.csv"
    assert cli("payouts", "export", "--min", "1", "--out", str(out), db=path).returncode == 0
    assert [(r.worker_id, r.name, r.amount_micros, r.currency) for r in payouts.read_csv(out)] == [
        (1, "x\r999,Mallory,500,EUR", 20_000_000, "EUR"),
        (2, "Ana", 20_000_000, "EUR"),
    ]


def test_csv_lines_are_what_the_csv_module_writes_except_that_a_cr_is_quoted() -> None:
    rows = [["task", "label"], ["a,b", 'say "hi"'], ["multi\nline", ""], [" x ", "é"]]
    expected = io.StringIO()
    csv.writer(expected, lineterminator="\n").writerows(rows)
    assert "".join(csv_line(row) for row in rows) == expected.getvalue()
    assert csv_line(["x\ry", "z"]) == '"x\ry",z\n'
