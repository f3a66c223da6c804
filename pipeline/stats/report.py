"""What the counts say, read from the state file: per episode and edition, per day, app and platform; the feed.

`downloads_by_day` and `downloads_by_app` are the read-only doors for other parts of panelpress (the studio page):
they open the state file read-only and never count anything.
"""

from __future__ import annotations

import csv
import json
import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import TextIO

from .store import NAME, read_only

MILESTONES = (1, 7, 30)  # day 1 / day 7 / day 30: downloads in the first N days (UTC) from the first publish
CSV_COLUMNS = ("slug", "edition", "day", "app", "platform", "downloads")


@dataclass
class Episode:
    """One episode's edition as the counts show it."""

    slug: str
    edition: str
    released: str = ""  # YYYY-MM-DD (UTC) of its first publish; "" when the ledger does not say
    by_day: dict[str, int] = field(default_factory=dict)
    apps: dict[str, int] = field(default_factory=dict)
    platforms: dict[str, int] = field(default_factory=dict)

    @property
    def downloads(self) -> int:
        return sum(self.by_day.values())

    def within(self, days: int) -> int:
        """Downloads in the first `days` days from its release (from its first download when the release is unknown)."""
        first = self.released or min(self.by_day, default="")
        if not first:
            return 0
        last = (date.fromisoformat(first) + timedelta(days=days)).isoformat()
        return sum(n for day, n in self.by_day.items() if first <= day < last)


@dataclass
class Report:
    """Every episode's counts and the feed's."""

    episodes: list[Episode]
    feed: dict

    def as_json(self) -> dict:
        """The `--format json` document."""
        return {
            "episodes": [
                {
                    "slug": e.slug,
                    "edition": e.edition,
                    "released": e.released or None,
                    "downloads": e.downloads,
                    **{f"day_{n}": e.within(n) for n in MILESTONES},
                    "by_day": dict(sorted(e.by_day.items())),
                    "apps": _ranked(e.apps),
                    "platforms": _ranked(e.platforms),
                }
                for e in self.episodes
            ],
            "feed_fetches": self.feed,
        }


def write_csv(rows: Iterable[tuple], stream: TextIO) -> None:
    """The `--format csv` table of the state's `rows` (one row per episode, edition, day, app and platform), written
    as they come: a show's years of rows are never all in memory."""
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerows(rows)


def _ranked(counts: dict[str, int]) -> dict[str, int]:
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def _connect(path: Path) -> sqlite3.Connection | None:
    """The state file, read-only (None when stats never ran)."""
    if not path.is_file():
        return None
    return read_only(path)


def rows(state: Path) -> Iterator[tuple]:
    """Every (slug, edition, day, app, platform, downloads) row of the state, sorted (the table's key: no sort), one
    at a time."""
    yield from _summed(state, "day, app, platform")


def _summed(state: Path, by: str) -> Iterator[tuple]:
    """The state's downloads summed per episode, edition and `by` (columns of the downloads table), in that order."""
    db = _connect(state)
    if db is None:
        return
    try:
        yield from db.execute(
            f"SELECT slug, edition, {by}, sum(n) FROM downloads GROUP BY slug, edition, {by} ORDER BY slug, edition, {by}"
        )
    finally:
        db.close()


def report(state: Path, published: dict[tuple[str, str], str]) -> Report:
    """The report of the state; `published` lists the show's episodes and editions with their release day, so one
    with no download yet is shown with zeros. The sums per day, app and platform are SQLite's: a report reads a row
    per episode and day, not one per day, app and platform."""
    episodes = {key: Episode(*key, released=released) for key, released in published.items()}
    for part, column in (("by_day", "day"), ("apps", "app"), ("platforms", "platform")):
        for slug, edition, value, n in _summed(state, column):
            episode = episodes.get((slug, edition)) or episodes.setdefault((slug, edition), Episode(slug, edition))
            getattr(episode, part)[value] = n
    ordered = sorted(episodes.values(), key=lambda e: (e.released or "9999", e.slug, e.edition != "mp3", e.edition))
    return Report(ordered, _feed(state))


def _feed(state: Path) -> dict:
    """The feed's fetches per day and the subscribers they suggest: what aggregators report of theirs, plus the
    listeners (address and agent, not bots) that fetched it on the last whole day."""
    db = _connect(state)
    empty = {"requests": 0, "by_day": {}, "subscribers": {"estimate": 0, "aggregators": {}, "direct": 0}}
    if db is None:
        return empty
    try:
        by_day: dict[str, int] = defaultdict(int)
        for day, n in db.execute("SELECT day, sum(requests) FROM feed_days GROUP BY day ORDER BY day"):
            by_day[day] = n
        aggregators = dict(db.execute("SELECT name, subscribers FROM aggregators ORDER BY name"))
        days = [day for (day,) in db.execute("SELECT DISTINCT day FROM feed_listeners ORDER BY day DESC LIMIT 2")]
        # the last day may be cut short by the end of the log: the one before it, when there is one, is whole
        whole = days[-1] if days else ""
        direct = db.execute("SELECT count(*) FROM feed_listeners WHERE day = ?", (whole,)).fetchone()[0]
    finally:
        db.close()
    return {
        "requests": sum(by_day.values()),
        "by_day": dict(by_day),
        "subscribers": {
            "estimate": sum(aggregators.values()) + direct,
            "aggregators": _ranked(aggregators),
            "direct": direct,
        },
    }


def _state(show_or_cache_dir: Path) -> Path:
    """The state file of a show folder (its [build] cache) or of a cache folder."""
    folder = Path(show_or_cache_dir)
    if (folder / NAME).is_file():
        return folder / NAME
    from ..config import load

    return load(folder).cache_dir / NAME


def downloads_by_day(show_or_cache_dir: Path) -> dict[tuple[str, str], dict[str, int]]:
    """Downloads per (slug, edition) per UTC day ("YYYY-MM-DD" → count), as `panelpress stats` last counted them;
    {} before the first run. Read-only: it opens the state file read-only and reads no log."""
    found: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
    for slug, edition, day, n in _summed(_state(show_or_cache_dir), "day"):
        found[(slug, edition)][day] = n
    return dict(found)


def downloads_by_app(show_or_cache_dir: Path) -> dict[tuple[str, str], dict[str, int]]:
    """Downloads per (slug, edition) per app (the OPAWG list's name, e.g. "Apple Podcasts" → count), most first;
    {} before the first run. Read-only, as `downloads_by_day`."""
    found: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
    for slug, edition, app, n in _summed(_state(show_or_cache_dir), "app"):
        found[(slug, edition)][app] = n
    return {key: _ranked(apps) for key, apps in found.items()}


def as_text(document: dict) -> str:
    """The JSON document as printed by `--format json`."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
