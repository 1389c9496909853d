"""What a database error means, in words a person can act on (CLI errors)."""

from __future__ import annotations

# What a database error means, from words its driver uses (SQLite, psycopg/PostgreSQL).
_DATABASE_PROBLEMS = (
    (("database is locked", "lock timeout", "could not obtain lock", "deadlock detected"),
     "the database is locked by another process; try again when it is done"),
    (("no such table", "undefinedtable", "relation \"", "undefinedcolumn", "no such column"),
     "the database has no tables for this version yet: run `impactbot db upgrade`, then "
     "`impactbot import initiative.yml`"),
    (("password authentication failed", "authentication failed", "no password supplied",
      "role \""),
     "the database refused the user name or password in DATABASE_URL"),
    (("does not exist",), "the database named in DATABASE_URL does not exist"),
    (("unable to open database file", "readonly database", "read-only"),
     "the database file cannot be opened or written (check the path and its permissions)"),
)


def describe_database_error(exc: Exception) -> str:
    """Say what happened to the database, not always "unreachable"."""
    orig = getattr(exc, "orig", None)
    reason = str(orig or exc).strip().splitlines()[0] if str(orig or exc).strip() else ""
    words = f"{type(orig).__name__} {orig or exc}".lower()
    for needles, meaning in _DATABASE_PROBLEMS:
        if any(needle in words for needle in needles):
            return f"{meaning} ({reason})" if reason else meaning
    return f"the database is unreachable: {reason or type(exc).__name__}"
