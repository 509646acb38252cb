"""Quality's messages: each queued in the one outbox (db/outbox.py), in the transaction of the
fact it tells of.

The rest of quality's SQL lives by table: db/gold.py, db/answers.py, db/standings.py,
db/disputes.py, db/pending_input.py, db/exports.py.
"""

from __future__ import annotations

import json
from uuid import uuid4

from db import outbox as outbox_db
from db.core import Tx


def add_message(
    tx: Tx,
    worker_id: int | None,
    text_key: str,
    params: str,
    now: str,
    dedupe_key: str | None = None,
) -> bool:
    """Queues a message of the text catalogue in the one outbox, interactive lane (worker_id
    None: every operator); False if its dedupe key was used.

    Without a dedupe key the message is one of its own (a fresh key): it is queued in the
    transaction of the fact it tells of, which happens once, so it exists exactly once; a key
    is only needed where the same fact may be met again (an alert per pack and gold count)."""
    return outbox_db.enqueue(
        tx,
        recipient=worker_id,
        kind=text_key,
        params=json.loads(params),
        dedupe_key=f"quality:{dedupe_key}" if dedupe_key else f"quality:{text_key}:{uuid4().hex}",
        now=now,
    )
