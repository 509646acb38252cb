"""`load-pack` and `packs` as a careless or hostile operator meets them: odd paths, and packs
paused, resumed and closed from the shell. One clear line and an exit code, never a hang."""

from __future__ import annotations

import os
import socket
from pathlib import Path

from tests.helpers import cli


def test_load_pack_names_a_folder_a_fifo_and_a_socket_and_never_hangs_on_a_fifo(
    tmp_path: Path,
) -> None:
    db = tmp_path / "db.sqlite3"
    folder = tmp_path / "packs"
    folder.mkdir()
    fifo = tmp_path / "pack.json"
    os.mkfifo(fifo)
    sock_path = tmp_path / "pack.sock"
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(sock_path))
    try:
        cases = [
            (folder, "is a folder, not a pack file"),
            (fifo, "is not a regular file (a FIFO)"),  # the helper would time out on a hang
            (sock_path, "is not a regular file (a socket)"),
            (tmp_path / "missing.json", "no such file"),
        ]
        for path, said in cases:
            result = cli("load-pack", str(path), db=db)
            assert result.returncode == 1, result.stderr
            lines = result.stderr.strip().splitlines()
            assert len(lines) == 1 and said in lines[0], result.stderr
            assert "Traceback" not in result.stderr
    finally:
        sock.close()
