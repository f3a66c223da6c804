"""Check: validate a show and its built site without publishing anything.

Every problem is a PanelpressError (file, problem, fix); the CLI prints one line each. What the engine remembers
(`cache.py`) spares the work a build already did: an episode whose files are unchanged since the last build is
taken as it was made, not read again; the site is compared with what panelpress published there (the manifest of
its last plan); feed items and published files that passed a check before, unchanged, are not parsed again.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import io
import json
import logging
import os
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

import feedparser
import podcastparser
from lxml import etree

from .. import namespace_rules, cache, config, layout, lock
from ..show import artwork, guard, ledger
from ..episode import transcript

# notes, probe and explicit (Markdown, mutagen, the profanity lists) are imported where an episode changed since the
# last build needs them: a check of a thousand unchanged episodes reads none of them.
from ..audio.ffmpeg import MIME
from ..config import DESCRIPTION_BYTES
from ..episode.discover import discover
from ..errors import ConfigError, FeedError, PanelpressError, TranscriptError
from ..show.feed import FH_NS, ITUNES_NS, apple_bool, as_text
from ..files import file_sha256, write_if_changed
from ..layout import FEED_FILE
from ..show.podcastindex import PODCAST_NS
from ..records import Notes
from ..targets.folder import Folder, Manifest

# podcastparser logs what it cannot read; check reports it in its own words instead.
logging.getLogger("podcastparser").addHandler(logging.NullHandler())
logging.getLogger("podcastparser").propagate = False

NS = {"itunes": ITUNES_NS, "podcast": PODCAST_NS}
DURATION_SLACK = 1.5  # seconds between itunes:duration and the file's own length
REBUILD = "rebuild with `panelpress build`; never edit feed.xml by hand"
_RFC2822 = re.compile(
    r"(?:(Mon|Tue|Wed|Thu|Fri|Sat|Sun), )?\d{1,2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} "
    r"\d{2}:\d{2}(?::\d{2})? (?:[+-]\d{4}|UT|GMT|[ECMP][SD]T)"
)
# What common podcast apps and services take of one feed document (README, "Paged archives"): Apple Podcasts' directory
# lists at most 300 episodes of a show; FeedBurner, which many shows still publish through, refuses feeds over 1 MB.
FEED_ITEMS_LIMIT = 300
FEED_BYTES_LIMIT = 1_000_000


@dataclass(frozen=True)
class CheckReport:
    """What `panelpress check` found."""

    problems: tuple[PanelpressError, ...] = ()
    done: tuple[str, ...] = ()  # what --fix-artwork wrote, and what to do with it
    config_ok: bool = True
    warnings: tuple[PanelpressError, ...] = ()  # allowed, but the host should know (not counted as problems)


@dataclass
class _Item:
    """One <item> as written in the feed (lxml), for comparing with what was meant and with the parsers."""

    index: int
    element: etree._Element
    title: str
    guid: str
    url: str
    length: str
    mime: str
    slug: str = ""
    duration: float | None = None  # of the media file in the site folder
    broken: bool = False  # already reported: the parsers' view of it is not compared

    @property
    def label(self) -> str:
        return f"item {self.index} ({self.title!r})" if self.title else f"item {self.index}"


@dataclass
class _Memory:
    """What the engine remembers of the show: episodes unchanged since the last build, what it published, and what
    earlier checks found good (feed items and published files by checksum)."""

    unchanged: dict[str, cache.Entry]
    changed: dict[str, list[str]]  # episodes made before whose files changed since: which files (as stamped)
    settings_changed: bool
    manifest: Manifest
    checked_items: set[str]
    checked_files: dict[str, str]
    file: Path

    @classmethod
    def load(cls, settings: config.Config) -> "_Memory":
        try:
            book = ledger.load(settings.ledger_path)
        except PanelpressError:
            book = ledger.Ledger()
        store = cache.Store(settings.cache_dir, book.podcast_guid or namespace_rules.podcast_guid(layout.feed_url(settings.site_url)))
        state, context = store.state(), cache.episode_context(settings)
        changed = {slug: cache.changed(settings.root, e.inputs) for slug, e in state.entries.items()}
        unchanged = {slug: e for slug, e in state.entries.items() if e.context == context and not changed[slug]}
        moved = any(e.context != context for e in state.entries.values())
        try:
            manifest = Folder(settings.output_dir).manifest()
        except PanelpressError:
            manifest = Manifest()
        file = store.folder / "checked.json"
        try:
            data = json.loads(file.read_bytes())
            checked = (set(data["items"]), dict(data["files"])) if data.get("format") == cache.format_stamp() else (set(), {})
        except (OSError, ValueError, KeyError, TypeError):
            checked = (set(), {})
        return cls(unchanged, {slug: files for slug, files in changed.items() if files}, moved, manifest, *checked, file)

    def published_sha(self, rel: str, site: Path) -> str | None:
        """The checksum of a published file while it is as panelpress wrote it (by size and time), else None."""
        written = self.manifest.files.get(rel)
        if written is None:
            return None
        try:
            info = os.stat(f"{site}/{rel}")
        except OSError:
            return None
        return written.sha256 if written and (info.st_size, info.st_mtime_ns) == (written.size, written.mtime_ns) else None

    def remember(self, items: set[str], files: dict[str, str]) -> None:
        """Keep what this check found good (it writes only the cache)."""
        try:
            write_if_changed(self.file, json.dumps({"format": cache.format_stamp(), "items": sorted(items), "files": dict(sorted(files.items()))}).encode())
        except OSError:
            pass


@dataclass
class _Checker:
    config: config.Config
    memory: _Memory
    problems: list[PanelpressError] = field(default_factory=list)
    warnings: list[PanelpressError] = field(default_factory=list)

    def add(self, path: Path | None, problem: str, fix: str = REBUILD) -> None:
        self.problems.append(FeedError(path, problem, fix))


def run(root: Path, fix_artwork: bool = False, site: Path | None = None, waiting: Callable[[str], None] = lambda message: None, url: str | None = None) -> CheckReport:
    """Validate the config, notes, transcripts, artwork and the built feed of the show in `root`. With `fix_artwork`,
    it writes a file into the show, so it waits for a running build (telling `waiting` why). With `url` (a feed's
    address; "" for the show's own), the live site is checked too, over HTTP(S)."""
    try:
        settings = config.load(root)
    except ConfigError as err:
        return CheckReport(problems=(err,), config_ok=False)
    try:
        settings = config.with_output(settings, site) if site is not None else settings
    except ConfigError as err:
        return CheckReport(problems=(err,), config_ok=False)
    checker = _Checker(settings, _Memory.load(settings))
    checker.warnings += settings.warnings
    if fix_artwork:
        with lock.hold(lock.show_lock(settings), "this show", waiting=waiting):
            done = _artwork(checker, fix_artwork)
    else:
        done = _artwork(checker, fix_artwork)
    by_slug = _notes(checker)
    transcripts = _transcripts(checker, by_slug)
    _site(checker, by_slug, transcripts)
    if url is not None:
        done += _live(checker, url or layout.feed_url(settings.site_url))
    return CheckReport(problems=tuple(checker.problems), done=tuple(done), warnings=tuple(checker.warnings))


def _live(checker: _Checker, url: str) -> list[str]:
    """The site as apps fetch it (live.py), against the feed panelpress last published into the site folder."""
    from . import live

    settings = checker.config
    try:
        published = Folder(settings.output_dir).published_feed()
    except PanelpressError:
        published = None  # a damaged manifest is reported with the site's problems
    found = live.check(url, published, lambda address: _local(settings, address))
    checker.problems += found.problems
    checker.warnings += found.warnings
    return found.done


def _covered(checker: _Checker, slug: str) -> bool:
    """Whether an episode is unchanged since the last build: its sources were checked then."""
    return slug in checker.memory.unchanged


def _artwork(checker: _Checker, fix: bool) -> list[str]:
    """The show artwork by Apple's rules; with `fix`, a copy that fits. Returns what was done."""
    settings = checker.config
    path = settings.artwork_path
    if path is None:
        return ["--fix-artwork: there is no [show] artwork to fix"] if fix else []
    found = artwork.problems(path)
    checker.problems += found
    if not fix:
        return []
    if not found:
        return [f"{_shown(path, settings.root)} already fits: nothing to fix"]
    try:
        fixed = _shown(artwork.fix(path), settings.root)
    except PanelpressError as err:
        checker.problems.append(err)
        return []
    return [f"wrote {fixed}: set `artwork = \"{fixed}\"` under [show] in panelpress.toml, then run `panelpress check` again"]


def _shown(path: Path, root: Path) -> str:
    if path.is_relative_to(root):  # most paths are built from the show folder: no need to resolve them
        return str(path.relative_to(root))
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)


def _notes(checker: _Checker) -> dict[str, Notes]:
    """Every notes file, read as a build would."""
    settings, problems = checker.config, checker.problems
    found = {}
    for path in sorted(settings.notes_dir.glob("*.md")) if settings.notes_dir.is_dir() else []:
        if _covered(checker, path.stem):
            continue
        try:
            from ..episode import notes

            found[path.stem] = notes.read(path, settings.root)
            checker.warnings += notes.warnings(found[path.stem])
        except PanelpressError as err:
            problems.append(err)
    return found


def _transcripts(checker: _Checker, by_slug: dict[str, Notes]) -> dict[str, Path]:
    """Every transcript a host dropped, validated against its recording; returns the good ones by slug."""
    settings, problems = checker.config, checker.problems
    recordings, failures = discover(settings)
    problems += [failure.error for failure in failures]
    good = {}
    slugs = {rec.slug for rec in recordings}
    for rec in recordings:
        if _covered(checker, rec.slug):  # its transcript was read by the build: what it held back, check reports
            entry = checker.memory.unchanged[rec.slug]
            withheld = [p for p in map(cache.decode, entry.problems) if isinstance(p, TranscriptError)]
            problems += withheld
            found = [settings.root / s.path for s in entry.inputs if s.size >= 0 and s.path.endswith(transcript.SUFFIXES)]
            if found and not withheld:
                good[rec.slug] = found[0]
            continue
        try:
            path = transcript.source(settings, rec.slug)
            if path is None:
                continue
            from ..episode import probe

            duration = probe.probe(rec.path).duration
        except PanelpressError as err:
            problems.append(err)
            continue
        found = by_slug.get(rec.slug)
        speakers = [p.name for p in found.panelists] if found else []
        _, trouble = transcript.check(path, duration, speakers)
        problems += trouble
        if not trouble:
            good[rec.slug] = path
    for folder in (settings.episodes_dir, settings.notes_dir):
        for suffix in transcript.SUFFIXES:
            for path in sorted(folder.glob(f"*{suffix}")) if folder.is_dir() else []:
                if path.stem not in slugs:
                    problems.append(PanelpressError(path, "belongs to no recording", f"name it after its recording, e.g. episodes/NAME.wav → {folder.name}/NAME{suffix}"))
    return good


def _site(checker: _Checker, by_slug: dict[str, Notes], transcripts: dict[str, Path]) -> None:
    """The built feed (if there is one), compared with what the show meant."""
    settings = checker.config
    path = settings.output_dir / FEED_FILE
    if not path.is_file():
        return
    raw = path.read_bytes()
    try:
        root = etree.fromstring(raw, etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as err:
        checker.add(path, f"is not well-formed XML ({err})")
        return
    channel = root.find("channel")
    if root.tag != "rss" or channel is None:
        checker.add(path, "is not an RSS 2.0 feed (no <rss><channel>)")
        return
    try:
        book = ledger.load(settings.ledger_path)
    except PanelpressError as err:
        checker.problems.append(err)
        book = ledger.Ledger()
    if not settings.ledger_path.is_file():
        checker.add(settings.ledger_path, "is missing, so the feed's GUIDs cannot be checked", "restore it from version control; it holds your episodes' GUIDs")
    _channel(checker, path, channel)
    _size(checker, path, raw, len(channel.findall("item")))
    archived = _archives(checker, path, root, book, by_slug)
    items = _items(checker, path, channel, book, by_slug, archived)
    good_items = _parsers(checker, path, root, items)
    good_files = _attachments(checker, path, items, transcripts)
    _editions(checker, path, items)
    _published(checker)
    _stale(checker, by_slug, book)
    checker.memory.remember(good_items, good_files)


def _published(checker: _Checker) -> None:
    """The site against the plan panelpress last published there (its manifest): every file present and as written."""
    site, memory = checker.config.output_dir, checker.memory
    reported = {p.path for p in checker.problems}
    for rel, written in sorted(memory.manifest.files.items()):
        path = site / rel
        if rel == FEED_FILE or path in reported or memory.published_sha(rel, site) is not None:
            continue  # the feed is checked above, element by element
        if not path.is_file():
            checker.add(path, "is missing, but panelpress published it", "rebuild with `panelpress build`")
        elif file_sha256(path) != written.sha256:
            checker.add(path, "is not what panelpress published (edited by hand?)", "move the change into the notes or a template, delete this file, then rebuild")


def _stale(checker: _Checker, by_slug: dict[str, Notes], book: ledger.Ledger) -> None:
    """What changed since the last build, which the site does not show yet: the settings, a file every episode
    uses (the artwork), an episode's own files. Each said once, and not when a problem of it is said already."""
    settings, memory = checker.config, checker.memory
    reported = {p.path.name for p in checker.problems if p.path is not None}
    fix = "build with `panelpress build`"
    if memory.settings_changed and settings.path.name not in reported:
        checker.problems.append(PanelpressError(settings.path, "changed since the last build: the site does not show the new settings yet", fix))
    jingles = [settings.root / name for name in (settings.audio.intro, settings.audio.outro) if name]
    shared = {str(path.relative_to(settings.root)) for path in (settings.artwork_path, *jingles) if path is not None}
    for rel in sorted({rel for files in memory.changed.values() for rel in files} & shared):
        if Path(rel).name not in reported:
            checker.problems.append(PanelpressError(settings.root / rel, "changed since the last build: the site does not show it yet", fix))
    for slug, files in sorted(memory.changed.items()):
        note = by_slug.get(slug)
        own = [rel for rel in files if rel not in shared]
        troubled = any(name.startswith(f"{slug}.") for name in reported)  # a problem of its own files is said already
        if own and note is not None and (slug in book.episodes or not note.draft) and not troubled:
            checker.problems.append(PanelpressError(note.path, f"episode {slug!r} changed since the last build ({', '.join(own)}): the site does not show it yet", fix))

def _text(element: etree._Element, name: str) -> str | None:
    found = element.find(name, NS)
    return None if found is None else (found.text or "").strip()


def _channel(checker: _Checker, path: Path, channel: etree._Element) -> None:
    """Apple's required channel elements, by value against panelpress.toml."""
    settings = checker.config
    show = settings.show
    image = channel.find("itunes:image", NS)
    category = channel.find("itunes:category", NS)
    owner_email = _text(channel, "itunes:owner/itunes:email")
    artwork_name = layout.artwork(settings.artwork_path)
    meant = {
        "title": (_text(channel, "title"), show.title),
        "description": (_text(channel, "description"), as_text(show.description)),
        "language": (_text(channel, "language"), show.language),
        "link": (_text(channel, "link"), settings.site_url),
        "itunes:author": (_text(channel, "itunes:author"), show.author),
        "itunes:owner/itunes:email": (owner_email, show.owner_email),
        "itunes:explicit": (_text(channel, "itunes:explicit"), apple_bool(show.explicit)),
        "itunes:category": (None if category is None else category.get("text"), show.category),
        "itunes:image": (None if image is None else image.get("href"), layout.url(settings.site_url, artwork_name) if artwork_name else None),
    }
    for name, (written, wanted) in meant.items():
        if written is None or written == "":
            fix = "set [show] artwork in panelpress.toml (a square JPEG or PNG, 1400–3000 px), then rebuild" if name == "itunes:image" and not wanted else REBUILD
            checker.add(path, f"the channel has no <{name}>, which Apple Podcasts requires", fix)
        elif name == "itunes:explicit" and written not in ("true", "false"):
            checker.add(path, f"the channel's <itunes:explicit> is {written!r}; Apple accepts only true or false", REBUILD)
        elif wanted is not None and written != wanted:
            checker.add(path, f"the channel's <{name}> is {written!r}, but panelpress.toml means {wanted!r}", REBUILD)
    description = _text(channel, "description") or ""
    if len(description.encode()) > DESCRIPTION_BYTES:
        checker.add(settings.path, f"[show] description is {len(description.encode())} bytes; Apple Podcasts takes at most {DESCRIPTION_BYTES}", "shorten it")
    last = _text(channel, "lastBuildDate")
    if last is not None:
        problem = date_problem(last)
        if problem:
            checker.add(path, f"the channel's <lastBuildDate> {problem}")
    if image is not None and artwork_name and image.get("href") == layout.url(settings.site_url, artwork_name):
        built = settings.output_dir / artwork_name
        if not built.is_file():
            checker.add(built, "is missing, but the feed's <itunes:image> points at it")
        elif built.read_bytes() != settings.artwork_path.read_bytes():  # the same file was already checked
            checker.problems += artwork.problems(built)


def date_problem(value: str) -> str:
    """Why a date is not an RFC 2822 date as podcast apps read it ('' when it is one)."""
    match = _RFC2822.fullmatch(value.strip())
    if not match:
        return f"{value!r} is not an RFC 2822 date such as 'Tue, 12 May 2026 08:30:00 +0000'"
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return f"{value!r} is not a real date"
    if match.group(1) and moment.strftime("%a") != match.group(1):
        return f"{value!r} names the wrong weekday (it is a {moment.strftime('%A')})"
    return ""


def _local(settings: config.Config, url: str) -> Path | None:
    """The file in the site folder that a URL of the site points at (None: the URL is elsewhere)."""
    rel = _rel(settings, url)
    return settings.output_dir.joinpath(*rel.split("/")) if rel else None


def _rel(settings: config.Config, url: str) -> str | None:
    """The path in the site folder that a URL of the site points at (None: the URL is elsewhere)."""
    if not url.startswith(settings.site_url):
        return None
    rel = url[len(settings.site_url) :]
    return rel if rel and not rel.startswith("/") and ".." not in rel.split("/") else None


def _items(checker: _Checker, path: Path, channel: etree._Element, book: ledger.Ledger, by_slug: dict[str, Notes], archived: dict[str, str] | None = None) -> list[_Item]:
    """Every <item>: Apple's required elements, values against the ledger, notes and site files. `archived`: the
    GUIDs of the items of the feed's archives and their slugs (published too, only not in feed.xml)."""
    archived = archived or {}
    maps = _slugs(book)
    items = [_item(checker, path, index, element, book, by_slug, maps) for index, element in enumerate(channel.findall("item"), start=1)]
    guids = Counter([item.guid for item in items if item.guid] + [guid for guid in archived if guid])
    for guid, count in sorted(guids.items()):
        if count > 1:
            checker.add(path, f"{count} items share the GUID {guid}{' (counting the archives)' if guid in archived else ''}; apps would merge or drop them", REBUILD)
    seen = {item.slug for item in items} | set(archived.values())
    for slug, entry in sorted(book.episodes.items()):
        if slug not in seen:
            checker.add(path, f"episode {slug!r} (GUID {entry.guid}) is in the ledger but neither in the feed nor in its archives", "rebuild with `panelpress build`; subscribers lose an episode that vanishes from the feed")
    return items


def _slugs(book: ledger.Ledger) -> tuple[dict[str, str], dict[str, str]]:
    """The ledger's episodes by enclosure URL and by GUID."""
    return {entry.enclosure_url: slug for slug, entry in book.episodes.items()}, {entry.guid: slug for slug, entry in book.episodes.items()}


def _item(checker: _Checker, path: Path, index: int, element: etree._Element, book: ledger.Ledger, by_slug: dict[str, Notes], maps: tuple[dict[str, str], dict[str, str]]) -> _Item:
    """One <item> of a feed document (`path`), checked as written and against what it should be."""
    enclosure = element.find("enclosure")
    attrs = {} if enclosure is None else enclosure.attrib
    item = _Item(index, element, _text(element, "title") or "", _text(element, "guid") or "", attrs.get("url", ""), attrs.get("length", ""), attrs.get("type", ""))
    count = len(checker.problems)
    _item_elements(checker, path, item, enclosure)
    # The audio says which episode an item is; a GUID may be the very thing that was damaged.
    by_url, by_guid = maps
    item.slug = by_url.get(item.url) or by_guid.get(item.guid, "")
    if item.slug:
        _item_meant(checker, path, item, book.episodes[item.slug], by_slug.get(item.slug))
    elif book.episodes:
        checker.add(path, f"{item.label} is not in the ledger: panelpress did not publish it", REBUILD)
    item.broken = len(checker.problems) > count
    return item


def _size(checker: _Checker, path: Path, raw: bytes, count: int) -> None:
    """A feed document larger, or with more items, than common apps take: a warning, with the setting that pages it."""
    if count <= FEED_ITEMS_LIMIT and len(raw) <= FEED_BYTES_LIMIT:
        return
    checker.warnings.append(FeedError(
        path, f"holds {count} items in {len(raw) / 1e6:.2f} MB: apps and services take less of one feed (Apple Podcasts lists at most {FEED_ITEMS_LIMIT} episodes, FeedBurner refuses feeds over {FEED_BYTES_LIMIT / 1e6:.0f} MB)",
        "keep the newest episodes in feed.xml and the older ones in archives: set `items = 100` under [feed] in panelpress.toml, then build",
    ))  # fmt: skip


def _archives(checker: _Checker, path: Path, root: etree._Element, book: ledger.Ledger, by_slug: dict[str, Notes]) -> dict[str, str]:
    """The feed's archive documents (RFC 5005), followed from the feed: each found, parsed by the podcast parsers,
    marked as an archive and linked both ways; their items checked as the feed's are. Returns their GUIDs → slugs."""
    settings = checker.config
    found, trouble = guard.archives(settings.output_dir, settings.site_url, root)
    if trouble is not None:
        checker.add(trouble.path or path, trouble.problem, REBUILD)
    archived: dict[str, str] = {}
    maps = _slugs(book)
    newer = ""  # the address of the next newer archive ("" for the newest)
    for archive in found:
        where, channel = archive.path, archive.root.find("channel")
        if channel.find(f"{{{FH_NS}}}archive") is None:
            checker.add(where, "is linked as an archive of the feed but is not marked <fh:archive/> (RFC 5005)")
        if guard.archive_link(archive.root, "current") != layout.feed_url(settings.site_url):
            checker.add(where, f"does not link the feed {layout.feed_url(settings.site_url)} as rel=\"current\" (RFC 5005)")
        if guard.archive_link(archive.root, "next-archive") != newer:
            checker.add(where, f"links {guard.archive_link(archive.root, 'next-archive') or 'no'} next archive, not {newer or 'none'}: the archives must link both ways")
        newer = archive.url
        elements = channel.findall("item")
        parsed = feedparser.parse(archive.data)
        if parsed.bozo:
            checker.add(where, f"feedparser cannot read this archive cleanly ({parsed.bozo_exception})")
        elif len(parsed.entries) != len(elements):
            checker.add(where, f"feedparser reads {len(parsed.entries)} of its {len(elements)} items")
        try:
            episodes = podcastparser.parse(archive.url, io.BytesIO(archive.data))["episodes"]
        except Exception as err:  # podcastparser raises its own and lxml/SAX errors alike
            checker.add(where, f"podcastparser (gPodder) cannot read this archive ({err})")
        else:
            if len(episodes) != len(elements):
                checker.add(where, f"podcastparser (gPodder) reads {len(episodes)} of its {len(elements)} items")
        _size(checker, where, archive.data, len(elements))
        for index, element in enumerate(elements, start=1):
            item = _item(checker, where, index, element, book, by_slug, maps)
            if item.guid in archived:
                checker.add(where, f"{item.label} is in another archive too (GUID {item.guid}); apps would merge or drop it", REBUILD)
            archived[item.guid] = item.slug
    return archived


def _item_elements(checker: _Checker, path: Path, item: _Item, enclosure: etree._Element | None) -> None:
    """Apple's required item elements and their formats."""
    element = item.element
    if not item.title:
        checker.add(path, f"{item.label} has no <title>")
    if not item.guid:
        checker.add(path, f"{item.label} has no <guid>; apps would take every change for a new episode")
    if enclosure is None or not item.url:
        checker.add(path, f"{item.label} has no <enclosure> with a url")
    elif not item.length.isdigit():
        checker.add(path, f"{item.label}: enclosure length {item.length!r} is not a number of bytes")
    pub = _text(element, "pubDate")
    if pub is None:
        checker.add(path, f"{item.label} has no <pubDate>")
    else:
        problem = date_problem(pub)
        if problem:
            checker.add(path, f"{item.label}: <pubDate> {problem}")
    explicit = _text(element, "itunes:explicit")
    if explicit is not None and explicit not in ("true", "false"):
        checker.add(path, f"{item.label}: <itunes:explicit> is {explicit!r}; Apple accepts only true or false")


def _item_meant(checker: _Checker, path: Path, item: _Item, entry: ledger.Entry, note: Notes | None) -> None:
    """An item against what the ledger, the notes and the site folder say it should be."""
    settings = checker.config
    if item.guid and item.guid != entry.guid:
        checker.add(path, f"{item.label} has the GUID {item.guid}, but the ledger gave it {entry.guid}", "restore feed.xml by rebuilding; the ledger's GUID is the one subscribers have")
    if item.url and item.url != entry.enclosure_url:
        checker.add(path, f"{item.label}: enclosure URL {item.url} differs from the published {entry.enclosure_url}", REBUILD)
    local = _local(settings, item.url) if item.url else None
    if item.url and local is None:
        checker.add(path, f"{item.label}: enclosure URL {item.url} is not under site_url {settings.site_url}", REBUILD)
    elif local is not None and not local.is_file():
        checker.add(local, f"is missing, but {item.label} of the feed points at it", "rebuild with `panelpress build`")
    elif local is not None:
        size = local.stat().st_size
        if item.length.isdigit() and int(item.length) != size:
            checker.add(path, f"{item.label}: enclosure length is {item.length}, but {_shown(local, settings.root)} is {size} bytes", REBUILD)
        wanted_mime = MIME.get(local.suffix.lower().lstrip("."))
        if wanted_mime and item.mime != wanted_mime:
            checker.add(path, f"{item.label}: enclosure type is {item.mime!r}, not {wanted_mime!r}", REBUILD)
        remembered = checker.memory.unchanged.get(item.slug)
        if remembered and checker.memory.published_sha(str(local.relative_to(settings.output_dir)), settings.output_dir) == entry.sha256:
            item.duration = remembered.duration  # the very file the build made and measured
        else:
            try:
                from ..episode import probe

                item.duration = probe.probe(local).duration
            except PanelpressError as err:
                checker.add(local, f"is not the episode's audio: {err.problem}", "rebuild with `panelpress build`")
    written = _text(item.element, "itunes:duration")
    if item.duration is not None and written is not None:
        seconds = _seconds(written)
        if seconds is None or abs(seconds - item.duration) > DURATION_SLACK:
            checker.add(path, f"{item.label}: <itunes:duration> is {written!r}, but the audio lasts {item.duration:.0f} s", REBUILD)
    remembered = checker.memory.unchanged.get(item.slug)
    if item.slug in checker.memory.changed:
        return  # its files changed since the build: said once, as a change the site does not show yet
    if note is not None:  # as the build publishes it, [explicit] flag included
        from ..episode.explicit import published_as

        title, date, explicit = note.title, note.date, published_as(note, settings, next(iter(transcript.sources(settings, item.slug)), None))
    elif remembered is not None and remembered.guid:  # unchanged since the build made it: as it was made
        title, date, explicit = remembered.title, datetime.fromisoformat(remembered.date), remembered.explicit
    else:
        notes_path = settings.notes_dir / f"{item.slug}.md"
        if not notes_path.is_file():  # an unreadable one is already reported
            checker.add(notes_path, f"is missing, but {item.label} of the feed was published from it", "restore the notes file from version control")
        return
    written_explicit = _text(item.element, "itunes:explicit")
    if item.title and item.title != title:
        checker.add(path, f"{item.label}: the title differs from the notes ({title!r})", REBUILD)
    if written_explicit in ("true", "false") and written_explicit != apple_bool(explicit):
        checker.add(path, f"{item.label}: <itunes:explicit> is {written_explicit}, but the notes mean {apple_bool(explicit)}", REBUILD)
    pub = _text(item.element, "pubDate")
    if pub and not date_problem(pub) and date is not None and parsedate_to_datetime(pub) != date:
        checker.add(path, f"{item.label}: <pubDate> {pub!r} differs from the notes' date ({date.isoformat()})", REBUILD)


def _seconds(value: str) -> float | None:
    """An itunes:duration (seconds, MM:SS or HH:MM:SS) in seconds."""
    try:
        total = 0.0
        for part in value.split(":"):
            total = total * 60 + float(part)
        return total
    except ValueError:
        return None


def _parsers(checker: _Checker, path: Path, root: etree._Element, every: list[_Item]) -> set[str]:
    """What feedparser and gPodder's podcastparser read must be what the feed says. An item whose XML passed an
    earlier check is not parsed again (a parser reads each item on its own): the others are read in a copy of the
    feed that holds only them. Returns the checksums of the items that pass."""
    settings = checker.config
    digests = {item.index: hashlib.sha256(etree.tostring(item.element)).hexdigest() for item in every}
    todo = [item for item in every if digests[item.index] not in checker.memory.checked_items]
    document = copy.deepcopy(root)
    channel = document.find("channel")
    wanted = {item.index for item in todo}
    for index, element in enumerate(channel.findall("item"), start=1):
        if index not in wanted:
            channel.remove(element)
    raw = etree.tostring(document, xml_declaration=True, encoding="UTF-8")
    before = len(checker.problems)
    items = todo
    parsed = feedparser.parse(raw)
    if parsed.bozo:
        checker.add(path, f"feedparser cannot read the feed cleanly ({parsed.bozo_exception})")
    try:
        gpodder = podcastparser.parse(layout.feed_url(settings.site_url), io.BytesIO(raw))
    except Exception as err:  # podcastparser raises its own and lxml/SAX errors alike
        checker.add(path, f"podcastparser (gPodder) cannot read the feed ({err})")
        gpodder = {"title": None, "episodes": []}
    if (parsed.feed.get("title") or "") != settings.show.title:
        checker.add(path, f"feedparser reads the show title as {parsed.feed.get('title')!r}, not {settings.show.title!r}")
    if gpodder.get("title") is not None and gpodder["title"] != settings.show.title:
        checker.add(path, f"podcastparser reads the show title as {gpodder['title']!r}, not {settings.show.title!r}")
    by_url = {episode["enclosures"][0]["url"]: episode for episode in gpodder["episodes"] if episode.get("enclosures")}
    for item, entry in zip(items, parsed.entries):
        if item.broken:
            continue
        enclosures = entry.get("enclosures") or [{}]
        seen = {"title": entry.get("title"), "guid": entry.get("id"), "url": enclosures[0].get("href"), "length": enclosures[0].get("length")}
        _compare(checker, path, item, "feedparser", seen)
        episode = by_url.get(item.url)
        if episode is None:
            checker.add(path, f"podcastparser (gPodder) skips {item.label}")
            continue
        enclosure = episode["enclosures"][0]
        seen = {"title": episode.get("title"), "length": str(enclosure.get("file_size")), "explicit": episode.get("explicit")}
        if item.duration is not None and _text(item.element, "itunes:duration"):
            seen["duration"] = episode.get("total_time")
        _compare(checker, path, item, "podcastparser", seen)
    if len(checker.problems) > before:  # only what passed before is known good
        return {digests[item.index] for item in every if item not in todo}
    return {digests[item.index] for item in every if not item.broken}


def _compare(checker: _Checker, path: Path, item: _Item, parser: str, seen: dict[str, object]) -> None:
    written = {
        "title": item.title,
        "guid": item.guid,
        "url": item.url,
        "length": item.length,
        "explicit": {"true": True, "false": False}.get(_text(item.element, "itunes:explicit") or "", None),
        "duration": _seconds(_text(item.element, "itunes:duration") or "") or 0,
    }
    for name, value in seen.items():
        want = written[name]
        if name == "duration":
            if abs(float(value or 0) - float(want)) > 1:
                checker.add(path, f"{parser} reads the duration of {item.label} as {value} s, not {want:.0f} s")
        elif value != want:
            checker.add(path, f"{parser} reads the {name} of {item.label} as {value!r}, but the feed means {want!r}", "this is a bug in panelpress if the feed was not edited by hand: please report it")


def _attachments(checker: _Checker, path: Path, items: list[_Item], transcripts: dict[str, Path]) -> dict[str, str]:
    """Transcript and chapters files: linked from the feed or made from the show, present and valid (a file as
    panelpress wrote it that passed an earlier check is not read again). Returns the good ones' checksums."""
    settings, memory = checker.config, checker.memory
    wanted: dict[str, tuple[str, Callable[[], str], float | None]] = {}  # site path → (mime, who wants it, duration)
    for item in items:
        for tag in ("podcast:transcript", "podcast:chapters"):
            for link in item.element.findall(tag, NS):
                url, mime = link.get("url", ""), link.get("type", "")
                if not url or not mime:
                    checker.add(path, f"{item.label}: <{tag}> needs both url and type")
                    continue
                rel = _rel(settings, url)
                if rel is None:
                    checker.add(path, f"{item.label}: <{tag}> {url} is not under site_url {settings.site_url}")
                    continue
                wanted.setdefault(rel, (mime, lambda item=item: f"{item.label} of the feed", item.duration))
        if item.slug in transcripts:
            for kind, mime in (("vtt", layout.VTT_TYPE), ("srt", layout.SRT_TYPE), ("json", layout.TRANSCRIPT_JSON_TYPE)):
                who = lambda source=transcripts[item.slug]: f"the transcript {_shown(source, settings.root)}"  # noqa: E731
                wanted.setdefault(layout.transcript(item.slug, kind), (mime, who, item.duration))
    good = {}
    for rel, (mime, who, duration) in sorted(wanted.items()):
        sha = memory.published_sha(rel, settings.output_dir)
        if sha is not None and memory.checked_files.get(rel) == sha:
            good[rel] = sha  # as panelpress wrote it, and good when it was last checked
            continue
        local = settings.output_dir.joinpath(*rel.split("/"))
        if not local.is_file():
            checker.add(local, f"is missing, but {who()} needs it", "rebuild with `panelpress build`")
            continue
        found = _attachment_problems(local, mime, duration)
        checker.problems += found
        if not found and sha is not None:
            good[rel] = sha
    return good


def _editions(checker: _Checker, path: Path, items: list[_Item]) -> None:
    """Every podcast:alternateEnclosure: a source in the site folder, of the length and integrity the feed gives."""
    settings, memory = checker.config, checker.memory
    for item in items:
        for number, element in enumerate(item.element.findall("podcast:alternateEnclosure", NS), start=1):
            label = f"{item.label}: alternate enclosure {number} ({element.get('title') or element.get('type')})"
            sources = [source.get("uri", "") for source in element.findall("podcast:source", NS)]
            length, mime = element.get("length", ""), element.get("type", "")
            if not mime or not length.isdigit() or not any(sources):
                checker.add(path, f"{label} needs a type, a length in bytes and a source")
                continue
            integrity = element.find("podcast:integrity", NS)
            for uri in sources:
                rel = _rel(settings, uri)
                if rel is None:
                    continue  # another transport (IPFS, a mirror): nothing on disk to compare
                local = settings.output_dir.joinpath(*rel.split("/"))
                if not local.is_file():
                    checker.add(local, f"is missing, but {label} points at it", "rebuild with `panelpress build`")
                    continue
                if local.stat().st_size != int(length):
                    checker.add(path, f"{label}: length is {length}, but {_shown(local, settings.root)} is {local.stat().st_size} bytes")
                    continue
                value = integrity.get("value", "") if integrity is not None and integrity.get("type") == "sri" else ""
                if value.startswith("sha256-"):  # the hash panelpress writes (an SRI string may name others)
                    sha = memory.published_sha(rel, settings.output_dir) or file_sha256(local)
                    if value != "sha256-" + base64.b64encode(bytes.fromhex(sha)).decode("ascii"):
                        checker.add(path, f"{label}: its integrity hash does not match {_shown(local, settings.root)}; apps would refuse the download")


def _attachment_problems(path: Path, mime: str, duration: float | None) -> list[PanelpressError]:
    """What is wrong with a published transcript or chapters file, read by its type."""
    if mime in (layout.VTT_TYPE, layout.SRT_TYPE):
        try:
            text = path.read_bytes().decode("utf-8-sig")
        except UnicodeDecodeError:
            return [FeedError(path, "is not UTF-8 text", "rebuild with `panelpress build`")]
        cues, problems = transcript.parse(text, ".vtt" if mime == layout.VTT_TYPE else ".srt", path)
        return problems + transcript.timeline_problems(path, cues, duration)
    if mime in (layout.TRANSCRIPT_JSON_TYPE, layout.CHAPTERS_TYPE):
        try:
            data = json.loads(path.read_bytes())
        except ValueError as err:
            return [FeedError(path, f"is not valid JSON ({err})", "rebuild with `panelpress build`")]
        if mime == layout.TRANSCRIPT_JSON_TYPE:
            return transcript.json_problems(data, path, duration)
        return _chapters_problems(data, path, duration)
    return []


def _chapters_problems(data: object, path: Path, duration: float | None) -> list[PanelpressError]:
    """A Podcasting 2.0 chapters file: version, chapters with increasing start times inside the audio."""
    fix = "rebuild with `panelpress build`"
    if not isinstance(data, dict) or not isinstance(data.get("version"), str) or not isinstance(data.get("chapters"), list):
        return [FeedError(path, 'is not a chapters file (needs "version" and a "chapters" list)', fix)]
    problems, previous = [], -1.0
    for index, chapter in enumerate(data["chapters"], start=1):
        start = chapter.get("startTime") if isinstance(chapter, dict) else None
        if not isinstance(start, (int, float)) or isinstance(start, bool):
            problems.append(FeedError(path, f"chapter {index} has no numeric startTime", fix))
            continue
        if start < previous:
            problems.append(FeedError(path, f"chapter {index} starts at {start} s, before the chapter before it", fix))
        if duration is not None and start > duration:
            problems.append(FeedError(path, f"chapter {index} starts at {start} s, after the audio ends ({duration:.0f} s)", fix))
        previous = start
    return problems


def summary(report: CheckReport) -> str:
    """The last line of `panelpress check`."""
    count = len(report.problems)
    return "all good" if not count else f"{count} problem{'s' if count != 1 else ''}"

