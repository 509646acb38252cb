"""Storage: the SQLite schema, its numbered migrations, and the queries behind small functions."""

from db.core import Database, SyncTx, Tx, from_db_time, to_db_time

__all__ = ["Database", "SyncTx", "Tx", "from_db_time", "to_db_time"]
