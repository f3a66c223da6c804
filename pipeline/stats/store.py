"""The state of `stats` between runs: an SQLite file in the cache (`stats.sqlite`).

It keeps how far each log was read (a log is known by the hash of its first line, so a rotated log, renamed or
gzipped, is still known), the downloads counted (per episode, edition, day, app and platform), the listeners' open
24-hour windows, and the feed's fetches. A run reads the windows of the listeners its new lines name only (`Recall`),
and writes the rows it changed: its cost follows the new lines, not the state's size. No address is ever written:
listeners are keyed hashes, and the key (the salt) is kept for the day it was made only; a run on a later day makes a
new one and forgets the old one with the windows hashed with it. A run's downloads that pile up wait in spool files
(`Spool`) that the save adds.

SQLite rather than DuckDB: the state is small and written in many small transactions; docs/benchmarks.md has the
figures that chose it.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from collections.abc import Iterator, Sequence
from datetime import date, timedelta
from pathlib import Path

from ..errors import PanelpressError
from .agents import LIST_VERSION, Agent
from .rules import DAY, LATE, Counts, day_of

NAME = "stats.sqlite"
ADD_DOWNLOADS = "INSERT INTO downloads {} ON CONFLICT DO UPDATE SET n = n + excluded.n"
VERSION = "1"
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS salt (day TEXT NOT NULL, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS logs (
    identity TEXT PRIMARY KEY, name TEXT NOT NULL, offset INTEGER NOT NULL, lines INTEGER NOT NULL,
    size INTEGER NOT NULL, format TEXT NOT NULL, header TEXT NOT NULL, complete INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS downloads (
    slug TEXT NOT NULL, edition TEXT NOT NULL, day TEXT NOT NULL, app TEXT NOT NULL, platform TEXT NOT NULL,
    n INTEGER NOT NULL, PRIMARY KEY (slug, edition, day, app, platform));
CREATE TABLE IF NOT EXISTS windows (
    listener BLOB PRIMARY KEY, rel TEXT NOT NULL, start INTEGER NOT NULL, audio INTEGER NOT NULL,
    counted INTEGER NOT NULL, app TEXT NOT NULL, platform TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS served (
    address BLOB NOT NULL, rel TEXT NOT NULL, ts INTEGER NOT NULL, app TEXT NOT NULL, PRIMARY KEY (address, rel))
    WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS agents (
    shape BLOB PRIMARY KEY, kind TEXT NOT NULL, name TEXT NOT NULL, platform TEXT NOT NULL, list TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS feed_days (feed TEXT NOT NULL, day TEXT NOT NULL, requests INTEGER NOT NULL,
    PRIMARY KEY (feed, day));
CREATE TABLE IF NOT EXISTS feed_listeners (day TEXT NOT NULL, listener BLOB NOT NULL, PRIMARY KEY (day, listener));
CREATE TABLE IF NOT EXISTS aggregators (name TEXT PRIMARY KEY, ts INTEGER NOT NULL, subscribers INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS media (rel TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime INTEGER NOT NULL,
    header INTEGER NOT NULL, bitrate INTEGER NOT NULL);
"""


class Store:
    """The open state file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(path)
            # one transaction: a new state file is made with one sync to the disk, not one per table
            self.db.executescript(
                f"BEGIN; {SCHEMA} INSERT OR IGNORE INTO meta VALUES ('version', '{VERSION}'); COMMIT;"
            )
        except sqlite3.DatabaseError as err:
            raise PanelpressError(
                path, f"the stats state cannot be read ({err})", "delete it: the next `stats` reads the logs again"
            ) from err

    def close(self) -> None:
        """Close the file."""
        self.db.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Everything written inside, or nothing (a run cut short leaves the state of the last whole log)."""
        try:
            with self.db:
                yield self.db
        except sqlite3.DatabaseError as err:
            raise PanelpressError(self.path, f"the stats state cannot be written ({err})", "check the disk") from err

    def salt(self, today: str | None = None) -> tuple[bytes, bool]:
        """The day's salt, and whether it is the one the windows were hashed with (a new day: a new salt)."""
        today = today or day_of(int(time.time()))
        row = self.db.execute("SELECT day, value FROM salt").fetchone()
        if row is not None and row[0] == today:
            return bytes(row[1]), True
        value = os.urandom(32)
        with self.transaction() as db:
            db.execute("DELETE FROM salt")
            db.execute("INSERT INTO salt VALUES (?, ?)", (today, value))
            db.execute("DELETE FROM windows")  # hashed with a salt that is gone: they can never match again
            db.execute("DELETE FROM served")
            db.execute("DELETE FROM feed_listeners")
        return value, False

    def log(self, identity: str) -> tuple[int, int, int, str, str, bool] | None:
        """How far a log was read: (offset, lines, size, format, its #Fields header, complete)."""
        row = self.db.execute(
            "SELECT offset, lines, size, format, header, complete FROM logs WHERE identity = ?", (identity,)
        ).fetchone()
        return None if row is None else (row[0], row[1], row[2], row[3], row[4], bool(row[5]))

    def recall(self) -> Recall | None:
        """What the last run left open, to be read as the new lines need it (None when it left nothing)."""
        db = self.db
        if not db.execute("SELECT EXISTS (SELECT 1 FROM windows) OR EXISTS (SELECT 1 FROM served)").fetchone()[0]:
            return None
        latest = db.execute("SELECT value FROM meta WHERE key = 'latest'").fetchone()
        if latest is None:  # a state an earlier version wrote
            latest = db.execute(
                "SELECT max(coalesce((SELECT max(start) FROM windows), 0), coalesce((SELECT max(ts) FROM served), 0))"
            ).fetchone()
        return Recall(self.path, int(latest[0]))

    def agents(self) -> dict[bytes, Agent]:
        """The user agents' shapes (numbers taken out) already matched against this version of the list."""
        rows = self.db.execute("SELECT shape, kind, name, platform FROM agents WHERE list = ?", (LIST_VERSION,))
        return {bytes(shape): Agent(kind, name, platform) for shape, kind, name, platform in rows}

    def save(
        self,
        counts: Counts,
        windows: list[tuple],
        logs: list[tuple],
        served: list[tuple],
        shapes: dict | None = None,
        measured: dict[str, tuple[int, int, int, int]] | None = None,
        spools: Sequence[Path] = (),
    ) -> None:
        """Add a run's counts, keep the windows and apps seen it opened or moved on (as rows of their tables, in the
        order of their keys: `Rules.open_windows`, `Rules.open_served`), forget those that closed (a day and an hour
        before its latest request, `counts.last`), and record how far each log was read: one transaction. A run over a
        few new lines writes a few rows, not every open window again. `measured`: the published files' measures
        (`media.show`) that are new since `measured()`; `spools`: the downloads the run's processes moved out of
        memory (`Spool`), added to the state's by SQLite."""
        edge = counts.last - DAY - LATE
        for at, spool in enumerate(spools):  # (a file is attached outside a transaction)
            try:
                self.db.execute(f"ATTACH DATABASE ? AS spool{at}", (str(spool),))
            except sqlite3.DatabaseError as err:
                raise PanelpressError(
                    spool, f"a stats spool cannot be read ({err})", "run `panelpress stats` again"
                ) from err
        with self.transaction() as db:
            db.executemany(
                "INSERT OR REPLACE INTO agents VALUES (?, ?, ?, ?, ?)",
                [(shape, a.kind, a.name, a.platform, LIST_VERSION) for shape, a in sorted((shapes or {}).items())],
            )
            if counts.last:
                db.execute("DELETE FROM served WHERE ts < ?", (edge,))
                db.execute("DELETE FROM windows WHERE start < ?", (edge,))
            db.executemany(
                "INSERT OR REPLACE INTO served VALUES (?, ?, ?, ?)",
                [row for row in served if row[2] >= edge],  # (hashed address, rel, ts, app)
            )
            _add_downloads(db, counts.downloads)
            for at in range(len(spools)):
                db.execute(ADD_DOWNLOADS.format(f"SELECT * FROM spool{at}.downloads WHERE true"))
            db.executemany(
                "INSERT INTO feed_days VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET requests = requests + excluded.requests",
                [(*key, n) for key, n in counts.feed_days.items()],
            )
            db.executemany("INSERT OR IGNORE INTO feed_listeners VALUES (?, ?)", _last_two_days(counts.feed_listeners))
            db.executemany(
                "INSERT INTO aggregators VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET ts = excluded.ts, "
                "subscribers = excluded.subscribers WHERE excluded.ts >= ts",
                [(name, ts, n) for name, (ts, n) in counts.aggregators.items()],
            )
            latest = db.execute("SELECT max(day) FROM feed_listeners").fetchone()[0]
            if latest:  # the last two days are enough for the estimate
                db.execute("DELETE FROM feed_listeners WHERE day < date(?, '-1 day')", (latest,))
            # (hashed listener, rel, start, audio, counted, app, platform)
            db.executemany(
                "INSERT OR REPLACE INTO windows VALUES (?, ?, ?, ?, ?, ?, ?)", [w for w in windows if w[2] >= edge]
            )
            db.executemany("INSERT OR REPLACE INTO logs VALUES (?, ?, ?, ?, ?, ?, ?, ?)", logs)
            # the latest request counted: no window or app seen kept began after it (`recall`)
            db.execute(
                "INSERT INTO meta VALUES ('latest', ?) ON CONFLICT DO UPDATE SET value = "
                "max(CAST(value AS INTEGER), CAST(excluded.value AS INTEGER))",
                (str(counts.last),),
            )
            db.executemany(
                "INSERT OR REPLACE INTO media VALUES (?, ?, ?, ?, ?)",
                [(rel, *stamp) for rel, stamp in sorted((measured or {}).items())],
            )
        for at in range(len(spools)):
            self.db.execute(f"DETACH DATABASE spool{at}")

    def reset(self) -> None:
        """Forget everything (`stats --reset`): the next run reads every log from its start."""
        self.db.close()
        self.path.unlink(missing_ok=True)
        self.__init__(self.path)


def _add_downloads(db: sqlite3.Connection, downloads: dict) -> None:
    """Add tallies, (slug, edition, day, app, platform) → n, to a downloads table's."""
    db.executemany(ADD_DOWNLOADS.format("VALUES (?, ?, ?, ?, ?, ?)"), [(*key, n) for key, n in downloads.items()])


def _last_two_days(listeners: set[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
    """A run's feed listeners of its last two days, in order (older ones are deleted: the estimate reads no others)."""
    if not listeners:
        return []
    since = (date.fromisoformat(max(listeners)[0]) - timedelta(days=1)).isoformat()
    return sorted(entry for entry in listeners if entry[0] >= since)


def read_only(path: Path) -> sqlite3.Connection:
    """The state file opened read-only (its path as a URI: a folder named with `?`, `#` or `%` is read as named)."""
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)


def measured_in(path: Path) -> dict[str, tuple[int, int, int, int]]:
    """The published files the state at `path` measured: rel → (size, mtime_ns, header, bitrate read) (`media.show`);
    {} when there is none (read-only: nothing is made)."""
    if not path.is_file():
        return {}
    try:
        db = read_only(path)
        try:
            return {rel: tuple(row) for rel, *row in db.execute("SELECT * FROM media")}
        finally:
            db.close()
    except sqlite3.DatabaseError:  # an earlier version's state (no such table), or a damaged one (said when opened)
        return {}


class Spool:
    """Where a process's downloads go once they are many (`KEYS`: per episode, edition, day, app and platform, a
    back catalogue's years of them would not fit in memory): a file of its own, made when first needed, whose rows
    the save adds to the state's (`Store.save`). Nothing in it but counts."""

    KEYS = 20_000

    def __init__(self, path: Path) -> None:
        self.path = path
        self.db: sqlite3.Connection | None = None

    def take(self, downloads: dict) -> None:
        """Move the tallies into the file (adding to its own), when they are `KEYS` or more."""
        if len(downloads) < self.KEYS:
            return
        if self.db is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(self.path)
            self.db.executescript(  # a run's scratch: a run cut short leaves it to be deleted, never to be read
                "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;"
                "CREATE TABLE downloads (slug TEXT, edition TEXT, day TEXT, app TEXT, platform TEXT, n INTEGER, "
                "PRIMARY KEY (slug, edition, day, app, platform)) WITHOUT ROWID;"
            )
        with self.db:
            _add_downloads(self.db, downloads)
        downloads.clear()

    def close(self) -> Path | None:
        """The file, when the tallies went into one."""
        if self.db is None:
            return None
        self.db.close()
        return self.path


class Recall:
    """The windows and apps seen that the last run left open, read by the keys the new lines name (`rules.Recall`),
    from the state opened read-only once in the process that asks (the workers ask too)."""

    BATCH = 500  # keys per query: SQLite takes up to 32,766 parameters; a few hundred is as fast per key

    def __init__(self, path: Path, until: int) -> None:
        self.path = path
        self.until = until
        self._db: sqlite3.Connection | None = None
        self._pid = 0

    def _rows(self, query: str, keys: list[bytes]) -> Iterator[tuple]:
        if self._pid != os.getpid():  # a connection is never carried into a forked worker
            self._db = read_only(self.path)
            self._pid = os.getpid()
        try:
            for at in range(0, len(keys), self.BATCH):
                part = keys[at : at + self.BATCH]
                yield from self._db.execute(query.format(", ".join("?" * len(part))), part)
        except sqlite3.DatabaseError as err:
            raise PanelpressError(
                self.path, f"the stats state cannot be read ({err})", "delete it: the next `stats` reads the logs again"
            ) from err

    def close(self) -> None:
        """Close this process's connection, if it made one."""
        if self._db is not None and self._pid == os.getpid():
            self._db.close()
        self._db, self._pid = None, 0

    def windows(self, listeners: list[bytes]) -> dict[bytes, tuple]:
        """The windows of these hashed listeners: (start, rel, audio, counted, app, platform) each."""
        query = "SELECT listener, start, rel, audio, counted, app, platform FROM windows WHERE listener IN ({})"
        return {row[0]: row[1:] for row in self._rows(query, listeners)}

    def served(self, addresses: list[bytes]) -> dict[tuple[bytes, str], tuple[int, str]]:
        """The apps seen asking from these hashed addresses: (address, rel) → (time, app)."""
        query = "SELECT address, rel, ts, app FROM served WHERE address IN ({})"
        return {(address, rel): (ts, app) for address, rel, ts, app in self._rows(query, addresses)}
