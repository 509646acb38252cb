"""The house's rooms, checked: data flows handlers -> tasks -> db, and each room keeps to itself.

- handlers/ (Telegram I/O) imports nothing from bot/ (the wiring) and nothing from db/;
- tasks/ (the domain, tasks/operator/ and tasks/quality/ included) never imports telegram,
  sqlite3 or aiosqlite;
- db/ imports nothing above it (tasks, handlers, bot) and no telegram;
- bot/transport/ (the traffic with Telegram) knows nothing of the domain (tasks);
- simulator/ (the Bot API simulator, a test and demo tool) imports nothing from the bot, and the
  bot imports it only for its demo (bot/demo.py); bot/cli/ may import anything;
- SQL is written only in db/ (tests and benchmarks may read the database directly);
- no module is over MAX_LINES lines.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = {
    "handlers": {"bot", "db", "simulator"},
    "tasks": {"telegram", "sqlite3", "aiosqlite", "bot", "handlers", "simulator"},
    "db": {"telegram", "tasks", "handlers", "bot", "simulator"},
    "bot/transport": {"tasks"},
    "simulator": {"bot", "handlers", "tasks", "db"},
}
# The one module of the bot that may import the simulator: the demo runs on it.
SIMULATOR_USERS = {"bot/demo.py"}
MAX_LINES = 600
SQL = re.compile(
    r"\b(SELECT\s+.+\s+FROM|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|CREATE\s+TABLE)\b",
    re.IGNORECASE | re.DOTALL,
)


def modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def imported(path: Path) -> set[str]:
    """The top-level packages a module imports, wherever in the module the import stands."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_each_room_imports_only_what_is_below_it(package: str) -> None:
    found = {
        str(path.relative_to(ROOT)): sorted(imported(path) & FORBIDDEN[package])
        for path in modules(package)
    }
    assert {path: names for path, names in found.items() if names} == {}


def test_the_bot_imports_the_simulator_only_for_its_demo() -> None:
    users = {
        str(path.relative_to(ROOT)) for path in modules("bot") if "simulator" in imported(path)
    }
    assert users == SIMULATOR_USERS


def test_no_module_is_over_600_lines() -> None:
    """A module that outgrows this holds more than one idea: split it along a seam."""
    rooms = ("bot", "handlers", "tasks", "db", "simulator", "bench", "tests")
    long = {
        str(path.relative_to(ROOT)): lines
        for room in rooms
        for path in modules(room)
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}


def test_sql_is_written_only_in_db() -> None:
    offenders = []
    for package in ("bot", "handlers", "tasks", "simulator"):
        for path in modules(package):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Constant) and isinstance(node.value, str):
                    if SQL.search(node.value):
                        offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []


def test_the_checks_see_a_forbidden_import_and_a_query(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("import telegram\nfrom db.core import Tx\nq = 'SELECT id FROM tasks'\n")
    assert imported(sample) == {"telegram", "db"}
    assert SQL.search("SELECT id FROM tasks") and not SQL.search("select the best option")
