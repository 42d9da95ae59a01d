"""Resumable state in one sqlite3 file: each run's last saved progress and final
report, keyed by the work, the cursors of requirement polls, and the export switches
(TestRail's export turns itself off when its credentials stop working)."""

from __future__ import annotations

import json
import sqlite3
from typing import Any, Optional, Tuple, cast

from ._call import call

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    key TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    saved TEXT,
    report TEXT
);
CREATE TABLE IF NOT EXISTS cursors (
    key TEXT PRIMARY KEY,
    since TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS export_switch (
    target TEXT PRIMARY KEY,
    disabled_at TEXT NOT NULL,
    code TEXT NOT NULL,
    reason TEXT NOT NULL
);
"""


def work_key(kind: str, value: Any) -> str:
    """Recognises the same work when it comes again (a rerun of the same script): the
    core's key, the same in every runtime."""
    return cast(str, call("session.work_key", {"kind": kind, "work": value}))


class State:
    """The state file. Every write is committed before the call returns, so a script
    killed at any point finds what it last stored."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._db = sqlite3.connect(path, isolation_level=None)
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    def saved(self, key: str) -> Optional[str]:
        row = self._db.execute("SELECT saved FROM runs WHERE key = ?", (key,)).fetchone()
        return None if row is None else row[0]

    def report(self, key: str) -> Optional[str]:
        row = self._db.execute("SELECT report FROM runs WHERE key = ?", (key,)).fetchone()
        return None if row is None else row[0]

    def store(self, key: str, kind: str, saved: str) -> None:
        self._db.execute(
            "INSERT INTO runs (key, kind, saved) VALUES (?, ?, ?) "
            "ON CONFLICT(key) DO UPDATE SET saved = excluded.saved",
            (key, kind, saved),
        )

    def finish(self, key: str, kind: str, report: str) -> None:
        self._db.execute(
            "INSERT INTO runs (key, kind, report) VALUES (?, ?, ?) "
            "ON CONFLICT(key) DO UPDATE SET report = excluded.report",
            (key, kind, report),
        )

    def cursor(self, key: str) -> Optional[str]:
        row = self._db.execute("SELECT since FROM cursors WHERE key = ?", (key,)).fetchone()
        return None if row is None else row[0]

    def set_cursor(self, key: str, since: str) -> None:
        self._db.execute(
            "INSERT INTO cursors (key, since) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET since = excluded.since",
            (key, since),
        )

    def disabled(self, target: str) -> Optional[Tuple[str, str, str]]:
        """Since when, and why (code, reason), the export to ``target`` is switched off."""
        row = self._db.execute(
            "SELECT disabled_at, code, reason FROM export_switch WHERE target = ?", (target,)
        ).fetchone()
        return None if row is None else (str(row[0]), str(row[1]), str(row[2]))

    def disable(self, target: str, since: str, code: str, reason: str) -> None:
        self._db.execute(
            "INSERT INTO export_switch (target, disabled_at, code, reason) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(target) DO UPDATE SET disabled_at = excluded.disabled_at, "
            "code = excluded.code, reason = excluded.reason",
            (target, since, code, reason),
        )

    def enable(self, target: str) -> None:
        self._db.execute("DELETE FROM export_switch WHERE target = ?", (target,))
