"""The ledger: what was published, per episode. It keeps GUIDs stable; `guard.py` compares a build with it."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from pathlib import Path

from .errors import PanelpressError
from .files import write_if_changed
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
    write_if_changed(path, (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))


def guid(ledger: Ledger, slug: str) -> str:
    """The episode's GUID: the one already published, else a new random one."""
    entry = ledger.episodes.get(slug)
    return entry.guid if entry else str(uuid.uuid4())


def record(ledger: Ledger, items: Iterable[Published], feed_hash: str, last_build: str, podcast: str) -> Ledger:
    """The ledger after publishing `items`; an episode left out was withdrawn on purpose (the guard saw to that)."""
    episodes = {}
    for item in items:
        old = ledger.episodes.get(item.episode.slug)
        # the pubDate subscribers have; it moves only with --allow-redate (same instant: keep the text as it was)
        first = old.first_published if old and _instant(old.first_published) == item.pub_date else item.pub_date.isoformat()
        episodes[item.episode.slug] = Entry(guid=item.guid, first_published=first, enclosure_url=item.media_url, length=item.media.length, sha256=item.media.sha256)
    return replace(ledger, podcast_guid=ledger.podcast_guid or podcast, feed_hash=feed_hash, last_build=last_build, episodes=episodes)


def _instant(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None
