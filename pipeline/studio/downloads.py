"""What the studio shows of `panelpress stats`: downloads per day and per app of each episode's editions.

The counting is `stats`'s own (pipeline/stats/): the studio reads its state (`stats.report.downloads_by_day` and
`downloads_by_app`) and counts nothing itself. `Downloads.from_report` reads what `panelpress stats --format json`
prints:

    {"episodes": [{"slug": "ep1", "edition": "mp3", "downloads": 12,
                   "by_day": {"2026-03-01": 9, "2026-03-02": 3}, "apps": {"Overcast": 7, "Apple Podcasts": 5}}, …],
     "feed_fetches": …}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

from ..config import Config

Key = tuple[str, str]  # (slug, edition)


@dataclass(frozen=True)
class Downloads:
    """Downloads counted by `stats`: per (slug, edition), a count per day (ISO date) and a count per app."""

    by_day: Mapping[Key, Mapping[str, int]] = field(default_factory=dict)
    apps: Mapping[Key, Mapping[str, int]] = field(default_factory=dict)

    @classmethod
    def from_report(cls, data: Mapping) -> Downloads:
        """From what `panelpress stats --format json` prints."""
        by_day: dict[Key, dict[str, int]] = {}
        apps: dict[Key, dict[str, int]] = {}
        for row in data.get("episodes", ()):
            key = (str(row["slug"]), str(row.get("edition", "")))
            by_day[key] = {str(day): int(n) for day, n in (row.get("by_day") or {}).items()}
            apps[key] = {str(app): int(n) for app, n in (row.get("apps") or {}).items()}
        return cls(by_day, apps)

    def __bool__(self) -> bool:
        return bool(self.by_day or self.apps)

    def days(self, slug: str, since: date | None = None) -> list[tuple[str, int]]:
        """The episode's downloads (every edition) of each day from `since` (its release) to its last counted day,
        days without any included."""
        counted: dict[str, int] = {}
        for (name, _), days in self.by_day.items():
            if name == slug:
                for day, n in days.items():
                    counted[day] = counted.get(day, 0) + n
        if not counted:
            return []
        first = min([date.fromisoformat(day) for day in counted] + ([since] if since else []))
        last = max(date.fromisoformat(day) for day in counted)
        return [
            ((first + timedelta(n)).isoformat(), counted.get((first + timedelta(n)).isoformat(), 0))
            for n in range((last - first).days + 1)
        ]

    def by_app(self, slug: str) -> list[tuple[str, int]]:
        """The episode's downloads (every edition) per app, the most first."""
        counted: dict[str, int] = {}
        for (name, _), apps in self.apps.items():
            if name == slug:
                for app, n in apps.items():
                    counted[app] = counted.get(app, 0) + n
        return sorted(counted.items(), key=lambda pair: (-pair[1], pair[0]))

    def editions(self, slug: str) -> list[tuple[str, int]]:
        """The episode's downloads per edition (mp3, opus, clean …)."""
        return sorted((edition, sum(days.values())) for (name, edition), days in self.by_day.items() if name == slug)


def read(config: Config) -> Downloads:
    """What `panelpress stats` has counted for this show so far (nothing before it ever ran)."""
    from ..stats import report

    if not (config.cache_dir / report.NAME).is_file():
        return Downloads()
    return Downloads(report.downloads_by_day(config.cache_dir), report.downloads_by_app(config.cache_dir))
