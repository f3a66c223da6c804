"""The ledger: what was published, per episode. It keeps GUIDs stable, and guards them."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from .errors import GuardError, PanelpressError
from .records import Published

# Podcasting 2.0: podcast:guid is a UUIDv5 of the feed URL (no scheme, no trailing slash) in this namespace.
PODCAST_GUID_NAMESPACE = uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6")


@dataclass(frozen=True)
class Entry:
    """One published episode as subscribers have it."""

    guid: str
    first_published: str  # ISO 8601 pubDate of the first publication
    enclosure_url: str
    length: int
    sha256: str


@dataclass(frozen=True)
class Ledger:
    """Everything that must not change under subscribers' feet."""

    podcast_guid: str = ""
    feed_hash: str = ""
    last_build: str = ""
    episodes: Mapping[str, Entry] = field(default_factory=dict)


def podcast_guid(feed_url: str) -> str:
    """The Podcasting 2.0 GUID of a feed URL."""
    bare = feed_url.split("://", 1)[-1].rstrip("/")
    return str(uuid.uuid5(PODCAST_GUID_NAMESPACE, bare))


def load(path: Path) -> Ledger:
    """Read the ledger (an empty one if the show has never been built)."""
    if not path.is_file():
        return Ledger()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        episodes = {slug: Entry(**entry) for slug, entry in data.get("episodes", {}).items()}
        return Ledger(podcast_guid=data.get("podcast_guid", ""), feed_hash=data.get("feed_hash", ""), last_build=data.get("last_build", ""), episodes=episodes)
    except (ValueError, TypeError, AttributeError) as err:
        raise PanelpressError(path, f"the ledger is damaged ({err})", "restore it from version control; it holds your episodes' GUIDs") from err


def save(path: Path, ledger: Ledger) -> None:
    """Write the ledger atomically, in a stable order (it is committed with the show)."""
    data = {
        "podcast_guid": ledger.podcast_guid,
        "feed_hash": ledger.feed_hash,
        "last_build": ledger.last_build,
        "episodes": {slug: asdict(entry) for slug, entry in sorted(ledger.episodes.items())},
    }
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return
    temp = path.with_name(f".{path.name}.tmp")
    temp.write_text(text, encoding="utf-8")
    os.replace(temp, path)


def guid(ledger: Ledger, slug: str) -> str:
    """The episode's GUID: the one already published, else a new random one."""
    entry = ledger.episodes.get(slug)
    return entry.guid if entry else str(uuid.uuid4())


def guard(ledger: Ledger, items: Iterable[Published]) -> list[GuardError]:
    """What this build would break for subscribers: vanished GUIDs, changed GUIDs or enclosure URLs."""
    by_slug = {item.episode.slug: item for item in items}
    problems = []
    for slug, entry in sorted(ledger.episodes.items()):
        item = by_slug.get(slug)
        if item is None:
            problems.append(GuardError(None, f"episode {slug!r} (GUID {entry.guid}) was published but is not in this build", "fix the episode's error above, or restore its recording and notes"))
        elif item.guid != entry.guid:
            problems.append(GuardError(item.episode.notes.path, f"episode {slug!r} would change its GUID from {entry.guid} to {item.guid}", "restore the ledger from version control"))
        elif item.media_url != entry.enclosure_url:
            problems.append(GuardError(item.episode.recording, f"episode {slug!r} would move its audio from {entry.enclosure_url} to {item.media_url}", "keep site_url and the recording's name as they were"))
    return problems


def record(ledger: Ledger, items: Iterable[Published], feed_hash: str, last_build: str, podcast: str) -> Ledger:
    """The ledger after publishing `items`."""
    episodes = dict(ledger.episodes)
    for item in items:
        old = episodes.get(item.episode.slug)
        first = old.first_published if old else item.pub_date.isoformat()
        episodes[item.episode.slug] = Entry(guid=item.guid, first_published=first, enclosure_url=item.media_url, length=item.media.length, sha256=item.media.sha256)
    return replace(ledger, podcast_guid=ledger.podcast_guid or podcast, feed_hash=feed_hash, last_build=last_build, episodes=episodes)
