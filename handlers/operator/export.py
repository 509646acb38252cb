"""/export PACK: the results file as a document, CSV or JSONL, aggregated or raw, chosen by
button. The file is written by the same code as `python -m bot export` (tasks/export.py) to a
temporary file, then streamed to Telegram: the same bytes as the CLI's, never whole in memory."""

from __future__ import annotations

import logging
import shutil
import tempfile
from pathlib import Path

from telegram import InputFile, Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from handlers.deps import services
from handlers.incidents import logged
from handlers.operator.access import Action, issue, operator_language, operator_or_refuse
from handlers.operator.help import megabytes
from handlers.render import esc
from handlers.texts import t
from tasks.export import UnknownPack, check_pack, export_pack
from tasks.telegram_limits import DOCUMENT_UPLOAD_BYTES

log = logging.getLogger(__name__)
Context = ContextTypes.DEFAULT_TYPE

CHOICES = (
    ("export_results_csv", "csv", False),
    ("export_results_jsonl", "jsonl", False),
    ("export_raw_csv", "csv", True),
    ("export_raw_jsonl", "jsonl", True),
)


async def export_command(update: Update, context: Context) -> None:
    """/export PACK: which file (four buttons)."""
    operator = await operator_or_refuse(update, context, "/export")
    if operator is None:
        return
    lang = await operator_language(context, operator)
    if not context.args or len(context.args) != 1:
        text = t(lang, "op_usage", usage="/export PACK")
        await services(context).presenter.say(operator, text)
        return
    await export_choice(context, operator, context.args[0])


async def export_choice(context: Context, operator: int, pack_id: str) -> None:
    deps = services(context)
    lang = await operator_language(context, operator)
    try:
        await check_pack(deps.work.db, pack_id)
    except UnknownPack:
        await deps.presenter.say(operator, t(lang, "op_no_pack", pack=esc(pack_id)))
        return
    data = await issue(
        context, operator, *[("export_file", pack_id, fmt, raw) for _, fmt, raw in CHOICES]
    )
    buttons = [(t(lang, key), item) for (key, _, _), item in zip(CHOICES, data, strict=True)]
    keyboard = (tuple(buttons[:2]), tuple(buttons[2:]))
    text = t(lang, "export_choose", pack=esc(pack_id))
    await deps.presenter.say(operator, (text, keyboard))


async def send_export(update: Update, context: Context, action: Action, token: str) -> None:
    """A format button: the file, written then sent as a document."""
    query = update.callback_query
    assert query is not None
    await services(context).presenter.toast(query)
    deps = services(context)
    operator = action.operator_id
    lang = await operator_language(context, operator)
    pack_id, fmt, raw = str(action.args[0]), str(action.args[1]), bool(action.args[2])
    folder = Path(tempfile.mkdtemp(prefix="petites-mains-export-"))
    kind = "raw" if raw else "results"
    path = folder / f"{pack_id}-{kind}.{fmt}"
    try:
        try:
            # Opened exactly as the CLI opens its --out file (bot/cli/output.py): the same bytes.
            with path.open("w", encoding="utf-8", newline="") as out:
                count = await export_pack(deps.work.db, pack_id, out, fmt=fmt, raw=raw)  # type: ignore[arg-type]
        except UnknownPack:
            await deps.presenter.say(operator, t(lang, "op_no_pack", pack=esc(pack_id)))
            return
        size = path.stat().st_size
        if size > DOCUMENT_UPLOAD_BYTES:
            limit = megabytes(DOCUMENT_UPLOAD_BYTES)
            text = t(lang, "export_too_big", size=megabytes(size), limit=limit)
            await deps.presenter.say(operator, text)
            return
        caption = t(
            lang,
            "export_caption",
            pack=esc(pack_id),
            rows=count.rows,
            kind=t(lang, f"export_kind_{kind}"),
        )
        with path.open("rb") as handle:
            document = InputFile(handle, filename=path.name, read_file_handle=False)
            try:
                await deps.presenter.show_file(operator, document, caption)
            except TelegramError as exc:  # a sentence for the operator, the details logged
                ref = logged(log, exc, "export of %s to operator %s not sent", pack_id, operator)
                text = t(lang, "export_failed", ref=ref)
                await deps.presenter.say(operator, text)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
