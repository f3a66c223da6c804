"""Import: GUIDs, dates and the podcast GUID from an existing feed, so a show moving to panelpress keeps its subscribers."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urljoin, urlsplit

import nh3
import yaml
from markdownify import markdownify

from . import layout, ledger, notes
from .config import Config
from .discover import Recording, discover, web_slug
from .errors import FeedError, GuardError, NotesError, PanelpressError
from .feed import ITUNES_NS
from .guard import FeedItem, channel_guid, feed_item, parse

@dataclass(frozen=True)
class Match:
    """A feed item paired with a local recording."""

    slug: str
    item: FeedItem
    by: str  # "file name" or "title"
    new_url: str  # where panelpress will publish its audio


@dataclass(frozen=True)
class ImportResult:
    """What `panelpress import` took from the feed, and what it could not place."""

    matched: tuple[Match, ...] = ()
    unmatched: tuple[FeedItem, ...] = ()
    problems: tuple[PanelpressError, ...] = ()  # entries left as they were
    hints: tuple[PanelpressError, ...] = ()  # things to fix before the first build
    started_notes: tuple[Path, ...] = ()
    podcast_guid: str = ""


def run(config: Config, feed_path: Path) -> ImportResult:
    """Write the feed's GUIDs, first-publish dates and podcast GUID into the ledger for the recordings that match."""
    try:
        root = parse(feed_path)
    except GuardError as err:
        raise FeedError(feed_path, err.problem, "pass the old feed as a file (save it from your old host first)") from err
    channel = root.find("channel")
    recordings, _ = discover(config)
    titles = _titles(recordings)
    book = ledger.load(config.ledger_path)
    episodes = dict(book.episodes)
    claimed: dict[str, FeedItem] = {}
    matched, unmatched, problems, hints, started = [], [], [], [], []
    for element in channel.iterfind("item"):
        item = feed_item(element)
        slug, by = _match(item, recordings, titles)
        if slug is None:
            unmatched.append(item)
            continue
        if slug in claimed:
            problems.append(FeedError(feed_path, f"items {claimed[slug].title!r} and {item.title!r} both match the recording {slug!r}", "rename the recording after the enclosure file name of the right item"))
            continue
        claimed[slug] = item
        old = episodes.get(slug)
        if old is not None and old.guid != item.guid:
            problems.append(FeedError(config.ledger_path, f"the ledger already gives {slug!r} the GUID {old.guid}; the feed says {item.guid}", "if the feed is right, delete the episode's entry from the ledger and import again"))
            continue
        match = Match(slug, item, by, layout.url(config.site_url, layout.media(slug, config.audio.format)))
        episodes[slug] = ledger.Entry(guid=item.guid, first_published=item.pub_date.isoformat() if item.pub_date else "", enclosure_url=match.new_url, length=item.length, sha256=old.sha256 if old else "")
        matched.append(match)
        recording = next(r for r in recordings if r.slug == slug)
        if not recording.notes_path.exists():
            if notes.write_starter(recording.notes_path, _notes_text(element, item, item.link or (channel.findtext("link") or "").strip())):
                started.append(recording.notes_path)
        else:
            hint = _date_hint(recording, item)
            if hint:
                hints.append(hint)
    podcast = channel_guid(channel) or book.podcast_guid
    ledger.save(config.ledger_path, replace(book, podcast_guid=podcast, episodes=episodes))
    return ImportResult(tuple(matched), tuple(unmatched), tuple(problems), tuple(hints), tuple(started), podcast)


def _titles(recordings: list[Recording]) -> dict[str, str]:
    """Normalized notes titles → slug, for the recordings whose notes can be read."""
    found = {}
    for rec in recordings:
        try:
            found[_norm(notes.read(rec.notes_path).title)] = rec.slug
        except (OSError, NotesError):
            continue
    return found


def _norm(title: str) -> str:
    return re.sub(r"\s+", " ", title).strip().casefold()


def _match(item: FeedItem, recordings: list[Recording], titles: dict[str, str]) -> tuple[str | None, str]:
    stem = PurePosixPath(unquote(urlsplit(item.enclosure_url).path)).stem
    by_name = {web_slug(r.slug): r.slug for r in recordings}
    if stem and web_slug(stem) in by_name:
        return by_name[web_slug(stem)], "file name"
    if item.title and _norm(item.title) in titles:
        return titles[_norm(item.title)], "title"
    return None, ""


def _notes_text(element, item: FeedItem, base: str) -> str:
    """Notes for an imported episode: what the old feed said, published as before (not a draft)."""
    meta: dict = {"title": item.title or "Untitled"}
    if item.pub_date:
        meta["date"] = item.pub_date
    description = _markdown(element.findtext("{http://purl.org/rss/1.0/modules/content/}encoded") or element.findtext("description") or "", base)
    summary = _plain(element.findtext("description") or "").split("\n\n")[0]
    if summary:
        meta["summary"] = summary
    explicit = (element.findtext(f"{{{ITUNES_NS}}}explicit") or "").strip().lower()
    if explicit in ("true", "yes", "explicit", "false", "no", "clean"):
        meta["explicit"] = explicit in ("true", "yes", "explicit")
    for key, tag in (("season", "season"), ("episode", "episode")):
        text = (element.findtext(f"{{{ITUNES_NS}}}{tag}") or "").strip()
        if text.isdigit() and int(text) > 0:
            meta[key] = int(text)
    kind = (element.findtext(f"{{{ITUNES_NS}}}episodeType") or "").strip().lower()
    if kind in ("full", "trailer", "bonus"):
        meta["episode_type"] = kind
    meta["draft"] = False
    head = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, default_flow_style=False)
    return f"---\n# imported from the old feed: already published, so not a draft\n{head}---\n\n{description or 'Write the show notes of this episode here, in Markdown.'}\n"


def _markdown(text: str, base: str) -> str:
    """Show notes from a feed as Markdown: links, lists and emphasis kept; relative addresses made absolute."""

    def absolute(tag: str, attribute: str, value: str) -> str | None:
        if attribute not in ("href", "src"):
            return value
        value = urljoin(base, value) if base else value
        # A picture whose address is still relative would be looked for beside the notes: keep its words only.
        return value if tag != "img" or urlsplit(value).scheme in ("http", "https") else None

    clean = nh3.clean(text, attribute_filter=absolute, link_rel=None)  # scripts, styles and event handlers go
    markdown = markdownify(clean, heading_style="ATX", bullets="-", newline_style="BACKSLASH")
    markdown = re.sub(r"!\[([^\]]*)\]\(\)", r"\1", markdown)  # an image left without an address: its alt text
    return re.sub(r"\n{3,}", "\n\n", "\n".join(line.rstrip() if line.strip() else "" for line in markdown.splitlines())).strip()


def _plain(text: str) -> str:
    """HTML from a feed as plain text with paragraph breaks."""
    text = re.sub(r"(?i)<br\s*/?>", "\n", text)
    text = re.sub(r"(?i)</(p|li|h[1-6]|blockquote)>", "\n\n", text)
    text = html.unescape(nh3.clean(text, tags=set()))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(line.strip() for line in text.splitlines())).strip()


def _date_hint(recording: Recording, item: FeedItem) -> PanelpressError | None:
    try:
        parsed = notes.read(recording.notes_path)
    except NotesError as err:
        return err
    if item.pub_date is None or parsed.date == item.pub_date:
        return None
    said = parsed.date.isoformat() if parsed.date else "no date"
    return NotesError(recording.notes_path, f"says {said}, the old feed published it at {item.pub_date.isoformat()}", f"set `date: {item.pub_date.isoformat()}` so it keeps its place; to re-date it on purpose, build with --allow-redate {recording.slug}")
