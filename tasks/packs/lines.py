"""A pack file before it is parsed: whether it is a file that may be opened at all, and its lines,
none longer than MAX_LINE_BYTES held in memory (reader.py reads JSONL and CSV packs through them).
"""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path
from typing import IO

# The longest JSONL line read: a task at its limits (3,500 characters of text, a 1,000-character
# explanation, a 128-character id), every character written as a \uXXXX escape pair, takes about
# 60 KB; a header at its limits a little less. A longer line is refused with its line number,
# read and dropped 1 MiB at a time: a 200 MB line never sits in memory.
MAX_LINE_BYTES = 256 * 1024
_SKIP_CHUNK = 1024 * 1024


def _too_long(size: int) -> str:
    return (
        f"the line has {size:,} bytes, more than the {MAX_LINE_BYTES:,} a line may have"
        " (a task at its limits takes far less)"
    )


def _rest_of_line(file: IO[bytes]) -> int:
    """Reads past the rest of an over-long line, a chunk at a time; returns its bytes."""
    skipped = 0
    while chunk := file.readline(_SKIP_CHUNK):
        skipped += len(chunk)
        if chunk.endswith(b"\n"):
            break
    return skipped


def bounded_lines(file: IO[bytes]) -> Iterator[tuple[bytes | None, int]]:
    """The lines of a file as (bytes, size); (None, size) for a line over MAX_LINE_BYTES, which
    is never held whole."""
    readline = file.readline
    limit = MAX_LINE_BYTES + 1  # the content and its newline
    while raw := readline(limit):
        if len(raw) == limit and not raw.endswith(b"\n"):
            yield None, len(raw) + _rest_of_line(file)
        else:
            yield raw, len(raw)


def pack_file_problem(file: Path) -> str | None:
    """Why `file` cannot be read as a pack, said as what it is; None for a regular file.

    Only stat() is called: a FIFO is never opened (opening one blocks until a writer comes)."""
    try:
        mode = file.stat().st_mode
    except FileNotFoundError:
        return f"no such file: {file}"
    except NotADirectoryError:
        return f"no such file: {file} (a part of the path is a file, not a folder)"
    except OSError as exc:
        return f"cannot read {file}: {exc.strerror or exc}"
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return f"{file} is a folder, not a pack file"
    kinds = (
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
    )
    kind = next((name for test, name in kinds if test(mode)), "a special file")
    return f"{file} is not a regular file ({kind}): give a .json, .jsonl or .csv pack file"
