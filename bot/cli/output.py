"""Files the CLI writes (exports, payout lists): whole or not at all, and never over something
that was there unless asked.

The output goes to a temporary file beside the target, renamed over it only once everything is
written; a mistyped command (an unknown pack, a full disk, Ctrl-C) leaves the target as it was.
An existing file is replaced only with --force, and the live database never."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO


class OutputError(Exception):
    """The output file cannot be written; the message says why, in one line."""


@contextmanager
def output_file(
    target: Path | None, *, force: bool = False, protected: Iterable[Path] = ()
) -> Iterator[TextIO]:
    """Yields where to write: stdout when `target` is None, else a temporary file that becomes
    `target` when the block ends without an error."""
    if target is None:
        yield sys.stdout
        return
    check_target(target, force=force, protected=protected)
    try:
        handle, temporary = tempfile.mkstemp(
            prefix=f".{target.name}.", suffix=".part", dir=target.parent
        )
    except OSError as exc:
        raise OutputError(f"cannot write in {target.parent}: {exc.strerror}") from exc
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, target)
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        raise OutputError(f"cannot write {target}: {exc.strerror or exc}") from exc
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def check_target(target: Path, *, force: bool, protected: Iterable[Path] = ()) -> None:
    """Refuses, before any work is done, an output that would fail or destroy something."""
    if target.is_dir():
        raise OutputError(f"{target} is a folder: name a file to write")
    if not target.parent.is_dir():
        raise OutputError(f"{target.parent} is not an existing folder")
    resolved = target.resolve()
    for path in protected:
        base = path.resolve()
        if resolved in (base, Path(f"{base}-wal"), Path(f"{base}-shm"), Path(f"{base}-journal")):
            raise OutputError(f"{target} is the bot's database: choose another file")
    if target.exists() and not force:
        raise OutputError(f"{target} exists: add --force to replace it")
