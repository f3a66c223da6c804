"""The ledger: what was published, per episode. It keeps GUIDs stable; `guard.py` compares a build with it.

Publishing is one transaction, and the ledger is its write-ahead log: before the feed changes, the ledger is
written with the new entries and a `pending` record (the feed about to be published, the episodes it publishes
for the first time, the GUIDs it withdraws); after the feed, the ledger is written again without it. A build
killed in between leaves `pending` behind, and the next build reads from it what the interrupted one did."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from pathlib import Path

from ..errors import PanelpressError
from ..files import write_if_changed
from ..records import Published


@dataclass(frozen=True)
class Entry:
    """One published episode as subscribers have it."""

    guid: str
    first_published: str  # ISO 8601 pubDate of the first publication
    enclosure_url: str
    length: int
    sha256: str


@dataclass(frozen=True)
class Pending:
    """A publish in progress: written before the feed changes, cleared after."""

    feed_sha256: str  # of the feed file this publish writes
    new: tuple[str, ...] = ()  # slugs it publishes for the first time (not public until the feed is written)
    withdrawn: tuple[str, ...] = ()  # GUIDs it removes from the feed, as the host asked


@dataclass(frozen=True)
class Feed:
    """A second feed of the show (the clean feed): its own podcast GUID, lastBuildDate and episodes."""

    podcast_guid: str = ""
    feed_hash: str = ""
    last_build: str = ""
    episodes: Mapping[str, Entry] = field(default_factory=dict)


@dataclass(frozen=True)
class Ledger:
    """Everything that must not change under subscribers' feet."""

    podcast_guid: str = ""
    feed_hash: str = ""
    last_build: str = ""
    episodes: Mapping[str, Entry] = field(default_factory=dict)
    pending: Pending | None = None
    clean: Feed | None = None  # the clean feed ([clean] edition), once published


def load(path: Path) -> Ledger:
    """Read the ledger (an empty one if the show has never been built)."""
    if not path.is_file():
        return Ledger()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        episodes = {slug: Entry(**entry) for slug, entry in data.get("episodes", {}).items()}
        pending = data.get("pending")
        pending = (
            Pending(pending["feed_sha256"], tuple(pending.get("new", ())), tuple(pending.get("withdrawn", ())))
            if pending
            else None
        )
        clean = data.get("clean")
        clean = (
            Feed(
                clean.get("podcast_guid", ""),
                clean.get("feed_hash", ""),
                clean.get("last_build", ""),
                {slug: Entry(**entry) for slug, entry in clean.get("episodes", {}).items()},
            )
            if clean is not None
            else None
        )
        return Ledger(
            podcast_guid=data.get("podcast_guid", ""),
            feed_hash=data.get("feed_hash", ""),
            last_build=data.get("last_build", ""),
            episodes=episodes,
            pending=pending,
            clean=clean,
        )
    except (ValueError, TypeError, AttributeError, KeyError) as err:
        raise PanelpressError(
            path, f"the ledger is damaged ({err})", "restore it from version control; it holds your episodes' GUIDs"
        ) from err


def save(path: Path, ledger: Ledger) -> None:
    """Write the ledger atomically, in a stable order (it is committed with the show)."""
    head = {"podcast_guid": ledger.podcast_guid, "feed_hash": ledger.feed_hash, "last_build": ledger.last_build}
    parts = [f"  {_json(key)}: {_json(value)}" for key, value in head.items()]
    episodes = ",\n".join(
        f"    {_json(slug)}: {_mapping(vars(entry), 4)}" for slug, entry in sorted(ledger.episodes.items())
    )
    parts.append(f'  "episodes": {{\n{episodes}\n  }}' if episodes else '  "episodes": {}')
    if ledger.clean is not None:
        clean = ledger.clean
        head = {"podcast_guid": clean.podcast_guid, "feed_hash": clean.feed_hash, "last_build": clean.last_build}
        inner = [f"    {_json(key)}: {_json(value)}" for key, value in head.items()]
        entries = ",\n".join(
            f"      {_json(slug)}: {_mapping(vars(entry), 6)}" for slug, entry in sorted(clean.episodes.items())
        )
        inner.append(f'    "episodes": {{\n{entries}\n    }}' if entries else '    "episodes": {}')
        parts.append('  "clean": {\n' + ",\n".join(inner) + "\n  }")
    if ledger.pending is not None:
        parts.append(
            f'  "pending": {json.dumps(asdict(ledger.pending), indent=2, ensure_ascii=False).replace(chr(10), chr(10) + "  ")}'
        )
    write_if_changed(path, ("{\n" + ",\n".join(parts) + "\n}\n").encode("utf-8"), durable=True)


# One encoder for every value (json.dumps makes one per call: a ledger of a thousand episodes has 10,000 values).
_json = json.JSONEncoder(ensure_ascii=False).encode


def _mapping(values: dict, indent: int) -> str:
    """A record's fields laid out as `json.dumps(indent=2)` would at this depth (its C encoder does not indent, and a
    ledger of a thousand episodes is written twice per build). Its keys are field names: plain words, quoted as they are."""
    pad = " " * (indent + 2)
    return "{\n" + ",\n".join(f'{pad}"{k}": {_json(v)}' for k, v in values.items()) + "\n" + " " * indent + "}"


def guid(ledger: Ledger, slug: str, unpublished: str = "") -> str:
    """The episode's GUID: the one already published, else `unpublished` (minted by an earlier build that did not
    publish it), else a new random one."""
    entry = ledger.episodes.get(slug)
    return entry.guid if entry else unpublished or str(uuid.uuid4())


def record(
    ledger: Ledger, items: Iterable[Published], feed_hash: str, last_build: str, podcast: str, clean: Feed | None = None
) -> Ledger:
    """The ledger after publishing `items` (and, with `clean`, the clean feed of that record's episodes); an episode
    left out was withdrawn on purpose (the guard saw to that)."""
    return replace(
        ledger,
        podcast_guid=ledger.podcast_guid or podcast,
        feed_hash=feed_hash,
        last_build=last_build,
        episodes=_entries(ledger.episodes, items),
        pending=None,
        clean=clean or ledger.clean,
    )


def record_clean(ledger: Ledger, items: Iterable[Published], feed_hash: str, last_build: str, podcast: str) -> Feed:
    """The clean feed's part of the ledger after publishing its `items`."""
    old = ledger.clean or Feed()
    return Feed(
        podcast_guid=old.podcast_guid or podcast,
        feed_hash=feed_hash,
        last_build=last_build,
        episodes=_entries(old.episodes, items),
    )


def clean_guid(ledger: Ledger, slug: str, made: str) -> str:
    """An episode's GUID in the clean feed: the one published, else `made` (its clean edition's own)."""
    entry = ledger.clean.episodes.get(slug) if ledger.clean else None
    return entry.guid if entry else made


def _entries(old: Mapping[str, Entry], items: Iterable[Published]) -> dict[str, Entry]:
    episodes = {}
    for item in items:
        before = old.get(item.episode.slug)
        # the pubDate subscribers have; it moves only with --allow-redate (same instant: keep the text as it was)
        first = (
            before.first_published
            if before and _instant(before.first_published) == item.pub_date
            else item.pub_date.isoformat()
        )
        episodes[item.episode.slug] = Entry(
            guid=item.guid,
            first_published=first,
            enclosure_url=item.media_url,
            length=item.media.length,
            sha256=item.media.sha256,
        )
    return episodes


def begin(old: Ledger, new: Ledger, feed_sha256: str) -> Ledger:
    """`new` as the write-ahead record of publishing a feed with checksum `feed_sha256` over what `old` holds."""
    withdrawn = tuple(sorted(entry.guid for slug, entry in old.episodes.items() if slug not in new.episodes))
    fresh = tuple(sorted(slug for slug in new.episodes if slug not in old.episodes))
    return replace(new, pending=Pending(feed_sha256, fresh, withdrawn))


def recover(book: Ledger, feed_sha256: str | None) -> tuple[Ledger, frozenset[str]]:
    """The ledger after an interrupted publish (given the checksum of the feed now in the site folder), and the
    GUIDs it was withdrawing: if its feed was written, it is complete; if not, its new episodes were never public."""
    if book.pending is None:
        return book, frozenset()
    if book.pending.feed_sha256 == feed_sha256:
        return replace(book, pending=None), frozenset()
    episodes = {slug: entry for slug, entry in book.episodes.items() if slug not in book.pending.new}
    clean = book.clean
    if clean is not None:  # its new episodes' clean editions were never public either
        clean = replace(
            clean, episodes={slug: entry for slug, entry in clean.episodes.items() if slug not in book.pending.new}
        )
    return replace(book, episodes=episodes, pending=None, clean=clean), frozenset(book.pending.withdrawn)


def _instant(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None
