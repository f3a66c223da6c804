"""The published feed's form, as podcast apps read it: Apple's required elements and their formats, the GUIDs and
enclosures subscribers hold (against the ledger and the files of the site folder), the archives (RFC 5005), the
transcripts, chapters and other editions it links, and what two real podcast parsers (feedparser and gPodder's
podcastparser) make of it. Feed items and published files that passed an earlier check, unchanged, are not read
again."""

from __future__ import annotations

import base64
import copy
import hashlib
import io
import json
import logging
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path

import feedparser
import podcastparser
from lxml import etree

from .. import layout
from ..config import DESCRIPTION_BYTES, Config
from ..episode import transcript
from ..errors import FeedError, PanelpressError
from ..show import artwork, guard, ledger
from ..show.feed import FH_NS, ITUNES_NS
from ..show.podcastindex import PODCAST_NS
from ..targets.seam import Target
from .findings import REBUILD, REMAKE, Checker

# podcastparser logs what it cannot read; check reports it in its own words instead.
logging.getLogger("podcastparser").addHandler(logging.NullHandler())
logging.getLogger("podcastparser").propagate = False

NS = {"itunes": ITUNES_NS, "podcast": PODCAST_NS}
DURATION_SLACK = 1.5  # seconds between itunes:duration and the file's own length
_RFC2822 = re.compile(
    r"(?:(Mon|Tue|Wed|Thu|Fri|Sat|Sun), )?\d{1,2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} "
    r"\d{2}:\d{2}(?::\d{2})? (?:[+-]\d{4}|UT|GMT|[ECMP][SD]T)"
)
# What common podcast apps and services take of one feed document (docs, "Paged archives"): Apple Podcasts' directory
# lists at most 300 episodes of a show; FeedBurner, which many shows still publish through, refuses feeds over 1 MB.
FEED_ITEMS_LIMIT = 300
FEED_BYTES_LIMIT = 1_000_000
# Apple's required channel elements: what is missing of them is a problem.
REQUIRED = (
    "title",
    "description",
    "language",
    "link",
    "itunes:author",
    "itunes:owner/itunes:email",
    "itunes:explicit",
    "itunes:category",
    "itunes:image",
)


@dataclass
class Item:
    """One <item> as written in a feed document (lxml), for comparing with what was meant and with the parsers."""

    index: int
    element: etree._Element
    title: str
    guid: str
    url: str
    length: str
    mime: str
    document: Path  # the feed document it is in: the feed, or one of its archives
    slug: str = ""  # the ledger's episode it is (by its audio, else its GUID); "" for none
    broken: bool = False  # already reported: nothing more is said of it

    @property
    def label(self) -> str:
        return f"item {self.index} ({self.title!r})" if self.title else f"item {self.index}"


def text(element: etree._Element, name: str) -> str | None:
    """The stripped text of a child element (None: there is none)."""
    found = element.find(name, NS)
    return None if found is None else (found.text or "").strip()


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


def seconds(value: str) -> float | None:
    """An itunes:duration (seconds, MM:SS or HH:MM:SS) in seconds."""
    try:
        total = 0.0
        for part in value.split(":"):
            total = total * 60 + float(part)
        return total
    except ValueError:
        return None


def value(channel: etree._Element, name: str) -> str | None:
    """What a channel says in one of Apple's required elements (an image's href, a category's text); None: no element."""
    found = channel.find(name, NS)
    if found is None:
        return None
    if name == "itunes:image":
        return found.get("href")
    return found.get("text") if name == "itunes:category" else (found.text or "").strip()


def parse(checker: Checker, path: Path, raw: bytes) -> etree._Element | None:
    """The feed's root element; None (and a problem) when it is not well-formed RSS 2.0."""
    try:
        root = etree.fromstring(raw, etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as err:
        checker.add(path, f"is not well-formed XML ({err})")
        return None
    if root.tag != "rss" or root.find("channel") is None:
        checker.add(path, "is not an RSS 2.0 feed (no <rss><channel>)")
        return None
    return root


def channel(checker: Checker, path: Path, element: etree._Element) -> None:
    """Apple's required channel elements and their formats; the artwork the channel names."""
    settings = checker.config
    for name in REQUIRED:
        written = value(element, name)
        if not written:
            fix = (
                "set [show] artwork in panelpress.toml (a square JPEG or PNG, 1400–3000 px), then rebuild"
                if name == "itunes:image" and not settings.artwork_path
                else REBUILD
            )
            checker.add(path, f"the channel has no <{name}>, which Apple Podcasts requires", fix)
        elif name == "itunes:explicit" and written not in ("true", "false"):
            checker.add(
                path, f"the channel's <itunes:explicit> is {written!r}; Apple accepts only true or false", REBUILD
            )
    description = text(element, "description") or ""
    if len(description.encode()) > DESCRIPTION_BYTES:
        checker.add(
            settings.path,
            f"[show] description is {len(description.encode())} bytes; Apple Podcasts takes at most {DESCRIPTION_BYTES}",
            "shorten it",
        )
    last = text(element, "lastBuildDate")
    problem = date_problem(last) if last is not None else ""
    if problem:
        checker.add(path, f"the channel's <lastBuildDate> {problem}")
    image = element.find("itunes:image", NS)
    name = layout.artwork(settings.artwork_path)
    if image is not None and name and image.get("href") == layout.url(settings.site_url, name):
        built = settings.output_dir / name
        if not built.is_file():
            checker.add(built, "is missing, but the feed's <itunes:image> points at it")
        elif built.read_bytes() != settings.artwork_path.read_bytes():  # the same file was already checked
            checker.problems += artwork.problems(built)


def size(checker: Checker, path: Path, raw: bytes, count: int) -> None:
    """A feed document larger, or with more items, than common apps take: a warning, with the setting that pages it."""
    if count <= FEED_ITEMS_LIMIT and len(raw) <= FEED_BYTES_LIMIT:
        return
    checker.warnings.append(
        FeedError(
            path,
            f"holds {count} items in {len(raw) / 1e6:.2f} MB: apps and services take less of one feed (Apple Podcasts lists at most {FEED_ITEMS_LIMIT} episodes, FeedBurner refuses feeds over {FEED_BYTES_LIMIT / 1e6:.0f} MB)",
            "keep the newest episodes in feed.xml and the older ones in archives: set `items = 100` under [feed] in panelpress.toml, then build",
        )
    )


def archives(checker: Checker, path: Path, root: etree._Element, book: ledger.Ledger) -> list[Item]:
    """The feed's archive documents (RFC 5005), followed from the feed: each found, parsed by the podcast parsers,
    marked as an archive and linked both ways; their items checked as the feed's are. Returns their items."""
    settings = checker.config
    found, trouble = guard.archives(settings.output_dir, settings.site_url, root)
    if trouble is not None:
        checker.add(trouble.path or path, trouble.problem, REBUILD)
    archived: list[Item] = []
    slugs = _slugs(book)
    newer = ""  # the address of the next newer archive ("" for the newest)
    feed_url = layout.feed_url(settings.site_url)
    for archive in found:
        where, element = archive.path, archive.root.find("channel")
        if element.find(f"{{{FH_NS}}}archive") is None:
            checker.add(where, "is linked as an archive of the feed but is not marked <fh:archive/> (RFC 5005)")
        if guard.archive_link(archive.root, "current") != feed_url:
            checker.add(where, f'does not link the feed {feed_url} as rel="current" (RFC 5005)')
        if guard.archive_link(archive.root, "next-archive") != newer:
            checker.add(
                where,
                f"links {guard.archive_link(archive.root, 'next-archive') or 'no'} next archive, not {newer or 'none'}: the archives must link both ways",
            )
        newer = archive.url
        elements = element.findall("item")
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
        size(checker, where, archive.data, len(elements))
        seen = {item.guid for item in archived}
        for index, element in enumerate(elements, start=1):
            item = _item(checker, where, index, element, book, slugs)
            if item.guid in seen:
                checker.add(
                    where,
                    f"{item.label} is in another archive too (GUID {item.guid}); apps would merge or drop it",
                    REBUILD,
                )
            archived.append(item)
    return archived


def items(
    checker: Checker, path: Path, element: etree._Element, book: ledger.Ledger, archived: list[Item]
) -> list[Item]:
    """Every <item> of the feed: Apple's required elements, the GUIDs and enclosures against the ledger and the
    site's files; every episode of the ledger in the feed or its archives."""
    slugs = _slugs(book)
    found = [_item(checker, path, index, item, book, slugs) for index, item in enumerate(element.findall("item"), 1)]
    in_archives = {item.guid for item in archived if item.guid}  # one each: duplicates among them are said already
    guids = Counter([item.guid for item in found if item.guid] + sorted(in_archives))
    for guid, count in sorted(guids.items()):
        if count > 1:
            checker.add(
                path,
                f"{count} items share the GUID {guid}{' (counting the archives)' if guid in in_archives else ''}; apps would merge or drop them",
                REBUILD,
            )
    seen = {item.slug for item in (*found, *archived)}
    for slug, entry in sorted(book.episodes.items()):
        if slug not in seen:
            checker.add(
                path,
                f"episode {slug!r} (GUID {entry.guid}) is in the ledger but neither in the feed nor in its archives",
                "rebuild with `panelpress build`; subscribers lose an episode that vanishes from the feed",
            )
    return found


def _slugs(book: ledger.Ledger) -> tuple[dict[str, str], dict[str, str]]:
    """The ledger's episodes by enclosure URL and by GUID."""
    return (
        {entry.enclosure_url: slug for slug, entry in book.episodes.items()},
        {entry.guid: slug for slug, entry in book.episodes.items()},
    )


def _item(
    checker: Checker,
    path: Path,
    index: int,
    element: etree._Element,
    book: ledger.Ledger,
    slugs: tuple[dict[str, str], dict[str, str]],
) -> Item:
    """One <item> of a feed document (`path`), checked as written and against the ledger and the site's files."""
    enclosure = element.find("enclosure")
    attrs = {} if enclosure is None else enclosure.attrib
    item = Item(
        index,
        element,
        text(element, "title") or "",
        text(element, "guid") or "",
        layout.unmeasured(
            attrs.get("url", ""), checker.config.site_url, checker.config.media_url
        ),  # behind an analytics prefix: the site's
        attrs.get("length", ""),
        attrs.get("type", ""),
        path,
    )
    count = len(checker.problems)
    _elements(checker, path, item, enclosure)
    # The audio says which episode an item is; a GUID may be the very thing that was damaged.
    by_url, by_guid = slugs
    item.slug = by_url.get(item.url) or by_guid.get(item.guid, "")
    if item.slug:
        _promised(checker, path, item, book.episodes[item.slug])
    elif book.episodes:
        checker.add(path, f"{item.label} is not in the ledger: panelpress did not publish it", REBUILD)
    item.broken = len(checker.problems) > count
    return item


def _elements(checker: Checker, path: Path, item: Item, enclosure: etree._Element | None) -> None:
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
    pub = text(element, "pubDate")
    if pub is None:
        checker.add(path, f"{item.label} has no <pubDate>")
    elif problem := date_problem(pub):
        checker.add(path, f"{item.label}: <pubDate> {problem}")
    explicit = text(element, "itunes:explicit")
    if explicit is not None and explicit not in ("true", "false"):
        checker.add(path, f"{item.label}: <itunes:explicit> is {explicit!r}; Apple accepts only true or false")


def _promised(checker: Checker, path: Path, item: Item, entry: ledger.Entry) -> None:
    """What subscribers hold of an item (its GUID and enclosure, in the ledger) and the enclosure's file."""
    settings = checker.config
    if item.guid and item.guid != entry.guid:
        checker.add(
            path,
            f"{item.label} has the GUID {item.guid}, but the ledger gave it {entry.guid}",
            "restore feed.xml by rebuilding; the ledger's GUID is the one subscribers have",
        )
    if item.url and item.url != entry.enclosure_url:
        checker.add(
            path, f"{item.label}: enclosure URL {item.url} differs from the published {entry.enclosure_url}", REBUILD
        )
    local = checker.local(item.url) if item.url else None
    if item.url and local is None:
        checker.add(path, f"{item.label}: enclosure URL {item.url} is not under {_homes(settings)}", REBUILD)
    elif local is not None and not local.is_file():
        checker.add(local, f"is missing, but {item.label} of the feed points at it", REMAKE)
    elif local is not None:
        length = local.stat().st_size
        if item.length.isdigit() and int(item.length) != length:
            checker.add(
                path,
                f"{item.label}: enclosure length is {item.length}, but {checker.shown(local)} is {length} bytes",
                REBUILD,
            )
        wanted = layout.AUDIO_TYPES.get(local.suffix.lower().lstrip("."))
        if wanted and item.mime != wanted:
            checker.add(path, f"{item.label}: enclosure type is {item.mime!r}, not {wanted!r}", REBUILD)


def parsers(checker: Checker, path: Path, root: etree._Element, every: list[Item]) -> set[str]:
    """What feedparser and gPodder's podcastparser read must be what the feed says. An item whose XML passed an
    earlier check is not parsed again (a parser reads each item on its own): the others are read in a copy of the
    feed that holds only them. Returns the checksums of the items that pass."""
    settings = checker.config
    digests = {item.index: hashlib.sha256(etree.tostring(item.element)).hexdigest() for item in every}
    todo = [item for item in every if digests[item.index] not in checker.memory.checked_items]
    document = copy.deepcopy(root)
    element = document.find("channel")
    wanted = {item.index for item in todo}
    for index, child in enumerate(element.findall("item"), start=1):
        if index not in wanted:
            element.remove(child)
    raw = etree.tostring(document, xml_declaration=True, encoding="UTF-8")
    before = len(checker.problems)
    parsed = feedparser.parse(raw)
    if parsed.bozo:
        checker.add(path, f"feedparser cannot read the feed cleanly ({parsed.bozo_exception})")
    try:
        gpodder = podcastparser.parse(layout.feed_url(settings.site_url), io.BytesIO(raw))
    except Exception as err:  # podcastparser raises its own and lxml/SAX errors alike
        checker.add(path, f"podcastparser (gPodder) cannot read the feed ({err})")
        gpodder = {"title": None, "episodes": []}
    written = text(element, "title") or ""
    if (parsed.feed.get("title") or "") != written:
        checker.add(path, f"feedparser reads the show title as {parsed.feed.get('title')!r}, not {written!r}")
    if gpodder.get("title") is not None and gpodder["title"] != written:
        checker.add(path, f"podcastparser reads the show title as {gpodder['title']!r}, not {written!r}")
    site_url, media_url = checker.config.site_url, checker.config.media_url
    by_url = {
        layout.unmeasured(episode["enclosures"][0]["url"], site_url, media_url): episode
        for episode in gpodder["episodes"]
        if episode.get("enclosures")
    }
    for item, entry in zip(todo, parsed.entries):
        if item.broken:
            continue
        enclosures = entry.get("enclosures") or [{}]
        _compare(
            checker,
            path,
            item,
            "feedparser",
            {
                "title": entry.get("title"),
                "guid": entry.get("id"),
                "url": layout.unmeasured(enclosures[0].get("href") or "", site_url, media_url) or None,
                "length": enclosures[0].get("length"),
            },
        )
        episode = by_url.get(item.url)
        if episode is None:
            checker.add(path, f"podcastparser (gPodder) skips {item.label}")
            continue
        enclosure = episode["enclosures"][0]
        seen = {
            "title": episode.get("title"),
            "length": str(enclosure.get("file_size")),
            "explicit": episode.get("explicit"),
        }
        if text(item.element, "itunes:duration"):
            seen["duration"] = episode.get("total_time")
        _compare(checker, path, item, "podcastparser", seen)
    if len(checker.problems) > before:  # only what passed before is known good
        return {digests[item.index] for item in every if item not in todo}
    return {digests[item.index] for item in every if not item.broken}


def _compare(checker: Checker, path: Path, item: Item, parser: str, seen: dict[str, object]) -> None:
    written = {
        "title": item.title,
        "guid": item.guid,
        "url": item.url,
        "length": item.length,
        "explicit": {"true": True, "false": False}.get(text(item.element, "itunes:explicit") or ""),
        "duration": seconds(text(item.element, "itunes:duration") or "") or 0,
    }
    for name, value in seen.items():
        want = written[name]
        if name == "duration":
            if abs(float(value or 0) - float(want)) > 1:
                checker.add(path, f"{parser} reads the duration of {item.label} as {value} s, not {want:.0f} s")
        elif value != want:
            checker.add(
                path,
                f"{parser} reads the {name} of {item.label} as {value!r}, but the feed means {want!r}",
                "this is a bug in panelpress if the feed was not edited by hand: please report it",
            )


def attachments(
    checker: Checker, path: Path, items: list[Item], target: Target, durations: dict[str, float]
) -> dict[str, str]:
    """Transcript and chapters files the feed links: present and valid (a file as panelpress wrote it that passed an
    earlier check is not read again). `durations`: each item's audio length, by its enclosure URL, where known.
    Returns the good ones' checksums."""
    settings, memory = checker.config, checker.memory
    wanted: dict[str, tuple[str, Callable[[], str], float | None]] = {}  # site path → (mime, who wants it, duration)
    for item in items:
        for tag in ("podcast:transcript", "podcast:chapters"):
            for link in item.element.findall(tag, NS):
                url, mime = link.get("url", ""), link.get("type", "")
                if not url or not mime:
                    checker.add(path, f"{item.label}: <{tag}> needs both url and type")
                    continue
                rel = checker.rel(url)
                if rel is None:
                    checker.add(path, f"{item.label}: <{tag}> {url} is not under {_homes(settings)}")
                    continue
                wanted.setdefault(rel, (mime, lambda item=item: f"{item.label} of the feed", durations.get(item.url)))
    good = {}
    for rel, (mime, who, duration) in sorted(wanted.items()):
        local = settings.output_dir.joinpath(*rel.split("/"))
        sha = target.checksum(rel)
        if sha is None:
            checker.add(local, f"is missing, but {who()} needs it", REMAKE)
            continue
        if memory.checked_files.get(rel) == sha:
            good[rel] = sha  # as it was when it was last checked, and good then
            continue
        found = _attachment_problems(local, mime, duration)
        checker.problems += found
        if not found:
            good[rel] = sha
    return good


def editions(checker: Checker, path: Path, items: list[Item], target: Target) -> None:
    """Every podcast:alternateEnclosure: a source in the site folder, of the length and integrity the feed gives."""
    settings = checker.config
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
                rel = checker.rel(uri)
                if rel is None:
                    continue  # another transport (IPFS, a mirror): nothing on disk to compare
                local = settings.output_dir.joinpath(*rel.split("/"))
                if not local.is_file():
                    checker.add(local, f"is missing, but {label} points at it", REMAKE)
                    continue
                if local.stat().st_size != int(length):
                    checker.add(
                        path, f"{label}: length is {length}, but {checker.shown(local)} is {local.stat().st_size} bytes"
                    )
                    continue
                value = integrity.get("value", "") if integrity is not None and integrity.get("type") == "sri" else ""
                if value.startswith("sha256-"):  # the hash panelpress writes (an SRI string may name others)
                    sha = target.checksum(rel) or ""
                    if value != "sha256-" + base64.b64encode(bytes.fromhex(sha)).decode("ascii"):
                        checker.add(
                            path,
                            f"{label}: its integrity hash does not match {checker.shown(local)}; apps would refuse the download",
                        )


def _attachment_problems(path: Path, mime: str, duration: float | None) -> list[PanelpressError]:
    """What is wrong with a published transcript or chapters file, read by its type."""
    fix = REMAKE
    if mime in (layout.VTT_TYPE, layout.SRT_TYPE):
        try:
            content = path.read_bytes().decode("utf-8-sig")
        except UnicodeDecodeError:
            return [FeedError(path, "is not UTF-8 text", fix)]
        cues, problems = transcript.parse(content, ".vtt" if mime == layout.VTT_TYPE else ".srt", path)
        return problems + transcript.timeline_problems(path, cues, duration)
    if mime in (layout.TRANSCRIPT_JSON_TYPE, layout.CHAPTERS_TYPE):
        try:
            data = json.loads(path.read_bytes())
        except ValueError as err:
            return [FeedError(path, f"is not valid JSON ({err})", fix)]
        if mime == layout.TRANSCRIPT_JSON_TYPE:
            return transcript.json_problems(data, path, duration)
        return _chapters_problems(data, path, duration)
    return []


def _chapters_problems(data: object, path: Path, duration: float | None) -> list[PanelpressError]:
    """A Podcasting 2.0 chapters file: version, chapters with increasing start times inside the audio."""
    fix = REMAKE
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("version"), str)
        or not isinstance(data.get("chapters"), list)
    ):
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
            problems.append(
                FeedError(path, f"chapter {index} starts at {start} s, after the audio ends ({duration:.0f} s)", fix)
            )
        previous = start
    return problems


def _homes(settings: Config) -> str:
    """Where the site's addresses may lie, for a message: site_url, and [deploy] media_url when it is set."""
    media = f" or media_url {settings.media_url}" if settings.media_url else ""
    return f"site_url {settings.site_url}{media}"
