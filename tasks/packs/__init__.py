"""Task packs: the file format an operator loads, its validation, loading, and packs in service.

A pack is a file of annotation tasks with a header that says how to answer them and what an
answer pays: JSON (the header fields plus a ``tasks`` array) or JSONL (the header on the first
line, then one task per line). Header fields: ``id`` (a slug), ``title``, ``instructions``,
optional ``description``, ``type``, ``options``, ``reward`` (a decimal string), ``currency``,
``overlap``, ``lease_seconds``, optional ``quality`` and ``top_up``. Task fields: ``id``,
``text``, optional ``gold`` and ``explanation``. Unknown fields are errors (usually typos).

One module per idea:

- format.py: the header and task fields as pydantic models; adding an answer type starts there.
- errors.py: PackError (line, task id, field, message) and the capped ErrorList.
- reader.py: PackReader, the header then the tasks in batches (jsonscan.py: JSON positions).
- lines.py: a pack file before it is parsed: a regular file or not, its lines (bounded).
- loading.py: load_pack, all or nothing, read in a worker thread and written in short steps;
  load_checks.py: its checks beyond the file, its warnings and its LoadReport; replacing.py:
  a replace applied a step at a time, and the loads a crash left (recover_loads).
- catalogue.py: PackInfo (a pack in service), pack_progress, and pausing, resuming, closing.

The names other modules use are importable from here: ``from tasks.packs import load_pack``.
"""

from tasks.packs.catalogue import (
    Option,
    PackInfo,
    PackProgress,
    StatusChange,
    pack_progress,
    set_pack_status,
)
from tasks.packs.errors import MAX_ERRORS, ErrorList, PackError
from tasks.packs.format import (
    TYPE_RULES,
    OptionSpec,
    PackHeader,
    QualityBlock,
    TaskSpec,
    TaskType,
    TypeRules,
    task_content,
)
from tasks.packs.load_checks import LoadReport
from tasks.packs.loading import ProgressCallback, load_pack
from tasks.packs.reader import PackReader, TaskBatch

__all__ = [
    "MAX_ERRORS",
    "TYPE_RULES",
    "ErrorList",
    "LoadReport",
    "Option",
    "OptionSpec",
    "PackError",
    "PackHeader",
    "PackInfo",
    "PackProgress",
    "PackReader",
    "ProgressCallback",
    "QualityBlock",
    "StatusChange",
    "TaskBatch",
    "TaskSpec",
    "TaskType",
    "TypeRules",
    "load_pack",
    "pack_progress",
    "set_pack_status",
    "task_content",
]
