"""Storage: the SQLite schema, its numbered migrations, and the queries behind small functions."""

from db.core import (
    Database,
    DatabaseUnavailable,
    Tx,
    from_db_time,
    read_only,
    to_db_time,
    unit_of_work,
)

__all__ = [
    "Database",
    "DatabaseUnavailable",
    "Tx",
    "from_db_time",
    "read_only",
    "to_db_time",
    "unit_of_work",
]
