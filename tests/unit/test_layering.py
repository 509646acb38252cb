"""The house's rooms, checked: data flows handlers -> tasks -> db, and each room keeps to itself.

- handlers/ (Telegram I/O) imports nothing from bot/ (the wiring) and nothing from db/;
- tasks/ (the domain, tasks/operator/ and tasks/quality/ included) never imports telegram,
  sqlite3 or aiosqlite;
- db/ imports nothing above it (tasks, handlers, bot) and no telegram;
- bot/transport/ (the traffic with Telegram) knows nothing of the domain (tasks);
- simulator/ (the Bot API simulator, a test and demo tool) imports nothing from the bot, and the
  bot imports it only for its demo (bot/demo.py); bot/cli/ may import anything;
- SQL is written only in db/ (tests and benchmarks may read the database directly);
- only the presenter (handlers/presenter/) puts something in a chat or changes it: no other
  module of bot/, handlers/ or tasks/ calls a Bot API method of CHAT_CALLS;
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


# Every Bot API method that puts something in a chat or changes it, by PTB's name: the Bot's
# methods, the lean edit of our Bot (handlers/telegram_bot.py), and PTB's shortcuts on a Message
# or a CallbackQuery that call them. Not in the list, and so allowed anywhere: the calls that set
# the bot up or read, and put nothing in a chat: setMyCommands (the command menus, bot/app.py and
# handlers/operator/help.py), setWebhook / deleteWebhook / getUpdates (receiving,
# bot/transport/receive.py), getMe (PTB's initialize), getFile and the download (a pack file an
# operator sent, handlers/telegram_bot.py `download_file`).
BOT_METHODS = frozenset(
    {
        "send_message", "send_photo", "send_audio", "send_voice", "send_document",
        "send_video", "send_animation", "send_video_note", "send_sticker", "send_media_group",
        "send_location", "send_venue", "send_contact", "send_poll", "send_dice",
        "send_chat_action", "send_invoice", "send_game", "send_paid_media",
        "copy_message", "copy_messages", "forward_message", "forward_messages",
        "edit_message_text", "edit_message_caption", "edit_message_media",
        "edit_message_reply_markup", "edit_message_live_location", "stop_message_live_location",
        "stop_poll", "delete_message", "delete_messages", "answer_callback_query",
        "pin_chat_message", "unpin_chat_message", "unpin_all_chat_messages",
        "set_message_reaction",
    }
)  # fmt: skip
SHORTCUTS = frozenset(
    {
        "edit_text_lean",  # our Bot's editMessageText (handlers/telegram_bot.py)
        "reply_text", "reply_html", "reply_markdown", "reply_markdown_v2", "reply_photo",
        "reply_audio", "reply_voice", "reply_document", "reply_video", "reply_animation",
        "reply_sticker", "reply_media_group", "reply_copy", "edit_text", "edit_caption",
        "edit_media", "edit_reply_markup", "set_reaction",
    }
)  # fmt: skip
CHAT_CALLS = BOT_METHODS | SHORTCUTS
# `query.answer()` (answerCallbackQuery) and `message.delete()` have names the domain uses too
# (`work.answer`): they count when called on something named like a query or a message.
AMBIGUOUS = frozenset({"answer", "delete", "copy", "forward", "pin", "unpin"})
PTB_OBJECTS = re.compile(r"(query|message)\Z")
# The same methods as the Bot API spells them, passed to a raw call (`bot._post("sendMessage")`).
API_NAMES = frozenset(
    name.split("_")[0] + "".join(part.title() for part in name.split("_")[1:])
    for name in BOT_METHODS
)
PRESENTER = "handlers/presenter/"
# The one call outside the presenter allowed to name one: the lean editMessageText defined on
# our Bot (a Bot method, as `edit_message_text` is PTB's; calling it is checked like theirs).
RAW_CALLS_ALLOWED = {("handlers/telegram_bot.py", "edit_text_lean")}


def chat_calls(path: Path, relative: str = "") -> list[str]:
    """Where a module calls the Bot API to put something in a chat or change it:
    "line: name" for each call, outside the allowed raw call."""
    found = []
    tree = ast.parse(path.read_text(encoding="utf-8"))
    allowed: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            if (relative, node.name) in RAW_CALLS_ALLOWED:
                allowed.update(id(inner) for inner in ast.walk(node))
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or id(node) in allowed:
            continue
        func = node.func
        if isinstance(func, ast.Attribute):
            name = func.attr
            if name in CHAT_CALLS:
                found.append(f"{node.lineno}: {name}")
                continue
            if name in AMBIGUOUS and PTB_OBJECTS.search(ast.unparse(func.value)):
                found.append(f"{node.lineno}: {ast.unparse(func)}")
                continue
        first = node.args[0] if node.args else None
        if isinstance(first, ast.Constant) and first.value in API_NAMES:
            found.append(f"{node.lineno}: {first.value}")
    return found


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


def test_only_the_presenter_puts_something_in_a_chat() -> None:
    """Every message, edit, deletion, toast and file the bot shows goes through the presenter
    (handlers/presenter/): its faults handled once, its state in one place."""
    offenders = {
        relative: calls
        for package in ("bot", "handlers", "tasks")
        for path in modules(package)
        if not (relative := str(path.relative_to(ROOT))).startswith(PRESENTER)
        and (calls := chat_calls(path, relative))
    }
    assert offenders == {}
    presenter = [call for path in modules(PRESENTER) for call in chat_calls(path)]
    assert len(presenter) >= 10  # the scan sees the presenter's own calls


def test_the_checks_see_a_forbidden_import_and_a_query(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("import telegram\nfrom db.core import Tx\nq = 'SELECT id FROM tasks'\n")
    assert imported(sample) == {"telegram", "db"}
    assert SQL.search("SELECT id FROM tasks") and not SQL.search("select the best option")


def test_the_check_sees_a_call_that_shows_something_in_a_chat(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "async def f(context, query, update, work, d, bot):\n"
        "    await context.bot.send_message(1, 'hi')\n"
        "    await query.answer()\n"
        "    await update.effective_message.reply_text('hi')\n"
        "    await bot._post('editMessageText', {})\n"
        "    await bot.edit_text_lean(1, 2, 'x', None)\n"
        "    await work.answer(worker_id=1)\n"  # the domain's answer: not a chat call
        "    d.copy()\n"
        "    await bot.set_my_commands([])\n"  # set-up, not a chat message
        "    await bot._post('getFile', {})\n"
    )
    assert chat_calls(sample) == [
        "2: send_message",
        "3: query.answer",
        "4: reply_text",
        "5: editMessageText",
        "6: edit_text_lean",
    ]
    lean = tmp_path / "lean.py"
    lean.write_text(
        "class B:\n"
        "    async def edit_text_lean(self):\n"
        "        await self._post('editMessageText', {})\n"
        "    async def other(self):\n"
        "        await self._post('editMessageText', {})\n"
    )
    assert chat_calls(lean, "handlers/telegram_bot.py") == ["5: editMessageText"]
