"""Import: GUIDs, dates and the podcast GUID from an existing feed, so a show moving to panelpress keeps its subscribers.

Old feeds are read as leniently as podcast apps read them: RSS or Atom (entries with enclosure links), a namespace
prefix used without its declaration (`itunes:` with no `xmlns:itunes`), and markup errors a recovering parser reads
past; what was repaired is said. GUIDs and dates are taken exactly as the old feed has them: an item whose GUID, date
or enclosure sits where the markup was broken is not imported, and a feed that ends early is refused.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urljoin, urlsplit

import nh3
import yaml
from lxml import etree
from markdownify import markdownify

from . import inputs, layout, lock
from .config import Config
from .episode import notes, starter
from .episode.discover import Recording, discover
from .errors import FeedError, NotesError, PanelpressError, PublishError
from .layout import web_slug
from .show import ledger
from .show.feed import ATOM_NS, ITUNES_NS
from .show.guard import FeedItem, channel_guid, feed_item
from .show.podcastindex import PODCAST_NS

CONTENT_NS = "http://purl.org/rss/1.0/modules/content/"
# Prefixes feeds use without declaring them, and the namespaces podcast apps take them for.
KNOWN_PREFIXES = {
    "itunes": ITUNES_NS,
    "podcast": PODCAST_NS,
    "content": CONTENT_NS,
    "atom": ATOM_NS,
    "media": "http://search.yahoo.com/mrss/",
    "googleplay": "http://www.google.com/schemas/play-podcasts/1.0",
    "dc": "http://purl.org/dc/elements/1.1/",
    "psc": "http://podlove.org/simple-chapters",
    "sy": "http://purl.org/rss/1.0/modules/syndication/",
}
# libxml2's errors that mean the file ends early (saved before it finished downloading): items may be missing.
_CUT_SHORT = (
    "ERR_TAG_NOT_FINISHED",
    "ERR_DOCUMENT_END",
    "ERR_DOCUMENT_EMPTY",
    "ERR_LTSLASH_REQUIRED",
    "ERR_GT_REQUIRED",
)
_FEED_FIX = "pass the old feed as a file (save it from your old host first)"


@dataclass(frozen=True)
class OldItem:
    """An episode of the old feed: what identifies it, and what its notes are made from."""

    item: FeedItem
    line: int  # where it starts in the feed file
    label: str
    notes_html: str = ""  # content:encoded, Atom content, or the description
    summary_html: str = ""  # the description (or Atom summary)
    explicit: str = ""
    season: str = ""
    episode: str = ""
    episode_type: str = ""
    broken: str = ""  # why its GUID, date or enclosure cannot be taken exactly ("" when they can)


@dataclass(frozen=True)
class OldFeed:
    """A feed as panelpress reads it for an import."""

    items: tuple[OldItem, ...]
    podcast_guid: str
    link: str
    repaired: tuple[str, ...] = ()  # what reading it had to repair


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
    repaired: tuple[PanelpressError, ...] = ()  # what reading the old feed repaired (warnings)


def run(config: Config, feed_path: Path, now: datetime | None = None) -> ImportResult:
    """Write the feed's GUIDs, first-publish dates and podcast GUID into the ledger for the recordings that match,
    and notes for those that have none. What the next build would refuse is refused first, writing nothing: two items
    claiming one recording, or one GUID for two episodes (FeedError); an item it cannot take as subscribers have it
    is not imported, and said so."""
    old_feed = read(feed_path)
    repaired = [
        FeedError(feed_path, text, "check the imported episodes against the old feed") for text in old_feed.repaired
    ]
    now = now or datetime.now(UTC)
    recordings, found = discover(config)
    titles = _titles(recordings)
    book = ledger.load(config.ledger_path)
    episodes = dict(book.episodes)
    problems: list[PanelpressError] = [failure.error for failure in found]  # the build would fail these too
    chosen: dict[str, tuple[OldItem, str]] = {}  # slug → the item it takes, and how it matched
    unmatched, conflicts = [], []
    for old_item in old_feed.items:
        item = old_item.item
        if old_item.broken or not item.guid:
            why = old_item.broken or "has neither a GUID nor an enclosure: nothing identifies it to apps"
            problems.append(FeedError(feed_path, f"line {old_item.line}: {old_item.label} {why}", _ITEM_FIX))
            continue
        slug, by = _match(item, recordings, titles)
        if slug is None:
            if by:  # a title several recordings' notes have
                problems.append(FeedError(feed_path, f"line {old_item.line}: {old_item.label} {by}", _TITLE_FIX))
            else:
                unmatched.append(item)
            continue
        if slug in chosen:
            first = chosen[slug][0]
            if (first.item.guid, first.item.enclosure_url) == (item.guid, item.enclosure_url):
                repaired.append(
                    FeedError(
                        feed_path,
                        f"line {old_item.line}: {old_item.label} repeats {first.label} (the same GUID and audio): it was taken once",
                        "check the imported episodes against the old feed",
                    )
                )
            else:
                conflicts.append(
                    f"{first.label} and {old_item.label} both match the recording {slug!r}: the next build could keep only one"
                )
            continue
        if item.pub_date is not None and item.pub_date > now:
            problems.append(
                FeedError(
                    feed_path,
                    f"line {old_item.line}: {old_item.label} is dated {item.pub_date.isoformat()}, in the future: a build would hold it back as scheduled, and then refuse to leave a published episode out",
                    "correct its date in the old feed file (or import again once that day has come)",
                )
            )
            continue
        old = episodes.get(slug)
        if old is not None and old.guid != item.guid:
            problems.append(
                FeedError(
                    config.ledger_path,
                    f"the ledger already gives {slug!r} the GUID {old.guid}; the feed says {item.guid}",
                    "if the feed is right, delete the episode's entry from the ledger and import again",
                )
            )
            continue
        chosen[slug] = (old_item, by)
    conflicts += _shared_guids(chosen, episodes)
    if conflicts:
        shown = "; ".join(conflicts[:5]) + (f"; and {len(conflicts) - 5} more" if len(conflicts) > 5 else "")
        raise FeedError(
            feed_path,
            f"cannot be imported as it is: {shown}",
            "correct the old feed file (each episode once, each with its own GUID) or rename the recordings, then import again; nothing was written",
        )

    matched, hints, writes = [], [], {}
    for slug, (old_item, by) in chosen.items():
        item, recording = old_item.item, next(r for r in recordings if r.slug == slug)
        match = Match(slug, item, by, config.address(layout.media(slug, config.audio.format)))
        old = episodes.get(slug)
        if item.pub_date is None:
            hints.append(
                FeedError(
                    feed_path,
                    f"line {old_item.line}: {old_item.label} has no date panelpress can read",
                    f"give {recording.notes_path.name} the date the old feed published it (`date:`)",
                )
            )
        if recording.notes_path.exists() or recording.notes_path.is_symlink():
            hint = _date_hint(recording, item)
            if hint:
                hints.append(hint)
        else:
            text, cleaned = _notes_text(old_item, item.link or old_feed.link)
            try:  # the notes as the next build will read them: what it would refuse is not written
                notes.read(recording.notes_path, config.root, text=text)
            except NotesError as err:
                problems.append(
                    FeedError(
                        feed_path,
                        f"line {old_item.line}: {old_item.label} gives notes a build would refuse: {err.problem}",
                        _ITEM_FIX,
                    )
                )
                continue
            if cleaned:
                repaired.append(
                    FeedError(
                        feed_path,
                        f"line {old_item.line}: {old_item.label} holds characters a feed cannot carry; they were left out of {recording.notes_path.name}",
                        "check its notes",
                    )
                )
            writes[recording.notes_path] = text
        episodes[slug] = ledger.Entry(
            guid=item.guid,
            first_published=item.pub_date.isoformat() if item.pub_date else "",
            enclosure_url=match.new_url,
            length=item.length,
            sha256=old.sha256 if old else "",
        )
        matched.append(match)

    # Written only now, every check made: the notes, then the ledger (whole, or not at all).
    if writes:
        lock.writable(config.notes_dir, "the notes folder", "write the notes yourself, then import again")
    lock.writable(config.root, "the show folder", "keep the show in a folder you can write (the ledger is kept there)")
    started = []
    for path, text in writes.items():
        try:
            if starter.write_starter(path, text):
                started.append(path)
        except OSError as err:
            raise PublishError(path, f"could not be written: {err.strerror or err}", _WRITE_FIX) from err
    podcast = old_feed.podcast_guid or book.podcast_guid
    try:
        ledger.save(config.ledger_path, replace(book, podcast_guid=podcast, episodes=episodes))
    except OSError as err:
        raise PublishError(config.ledger_path, f"could not be written: {err.strerror or err}", _WRITE_FIX) from err
    return ImportResult(
        tuple(matched), tuple(unmatched), tuple(problems), tuple(hints), tuple(started), podcast, tuple(repaired)
    )


_ITEM_FIX = "correct the old feed file there, then import again"
_TITLE_FIX = "give the recording the enclosure's file name, or give the notes distinct titles, then import again"
_WRITE_FIX = "check the show folder's permissions and free space, then import again"


def _shared_guids(chosen: dict[str, tuple[OldItem, str]], episodes: dict[str, ledger.Entry]) -> list[str]:
    """One GUID for two episodes (two items of the feed, or an item and another episode of the ledger): apps would
    show only one of them, and the next build would refuse."""
    owners: dict[str, list[str]] = {}
    for slug, entry in episodes.items():
        if slug not in chosen:
            owners.setdefault(entry.guid, []).append(f"the ledger's episode {slug!r}")
    for slug, (old_item, _) in chosen.items():
        owners.setdefault(old_item.item.guid, []).append(f"{old_item.label} (for {slug!r})")
    return [
        f"{', '.join(who[:-1])} and {who[-1]} share the GUID {guid}: apps show only one of them"
        for guid, who in owners.items()
        if len(who) > 1
    ]


def read(path: Path) -> OldFeed:
    """An old feed file, RSS or Atom, read as leniently as podcast apps read it; FeedError when it cannot be."""
    try:
        data = path.read_bytes()
    except OSError as err:
        raise FeedError(path, f"cannot be read as a feed ({err.strerror or err})", _FEED_FIX) from err
    parser = etree.XMLParser(resolve_entities=False, no_network=True, recover=True, huge_tree=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as err:
        raise FeedError(path, f"cannot be read as a feed ({err})", _FEED_FIX) from err
    errors = [e for e in parser.error_log if e.level_name in ("ERROR", "FATAL")]
    cut = next((e for e in errors if e.type_name in _CUT_SHORT), None)
    if root is None:
        raise FeedError(path, "cannot be read as a feed: it holds no XML", _FEED_FIX)
    if cut is not None:
        raise FeedError(
            path,
            f"cannot be read as a feed: it ends before its last element (line {cut.line}: {cut.message.strip()}), so episodes may be missing",
            "save the old feed again, completely",
        )
    repaired = _declare(root, [e for e in errors if e.domain_name == "NAMESPACE"])
    broken = {e.line: e.message.strip() for e in errors if e.domain_name != "NAMESPACE"}
    if broken:
        lines = ", ".join(f"line {line} ({message})" for line, message in sorted(broken.items())[:5])
        more = f" and {len(broken) - 5} more" if len(broken) > 5 else ""
        repaired.append(
            f"is not well-formed XML; it was read past the errors at {lines}{more}, as podcast apps read it"
        )
    if root.tag == "rss" and root.find("channel") is not None:
        channel = root.find("channel")
        items = [_rss_item(element, index, broken) for index, element in enumerate(channel.iterfind("item"), start=1)]
        return OldFeed(tuple(items), channel_guid(channel), (channel.findtext("link") or "").strip(), tuple(repaired))
    if root.tag == f"{{{ATOM_NS}}}feed":
        items = [
            _atom_item(element, index, broken)
            for index, element in enumerate(root.iterfind(f"{{{ATOM_NS}}}entry"), start=1)
        ]
        return OldFeed(tuple(items), channel_guid(root), _atom_link(root), tuple(repaired))
    raise FeedError(path, "is not an RSS feed (nor an Atom feed)", "pass an RSS 2.0 or Atom podcast feed")


def _declare(root, errors) -> list[str]:
    """Give elements and attributes of undeclared, well-known prefixes (`itunes:explicit`) their namespace, as podcast
    apps do; returns what was repaired."""
    undeclared = sorted({match.group(1) for e in errors if (match := re.match(r"Namespace prefix (\S+)", e.message))})
    known = [prefix for prefix in undeclared if prefix in KNOWN_PREFIXES]
    for element in root.iter(tag=etree.Element):
        if ":" in element.tag and not element.tag.startswith("{"):
            prefix, local = element.tag.split(":", 1)
            if prefix in KNOWN_PREFIXES:
                element.tag = f"{{{KNOWN_PREFIXES[prefix]}}}{local}"
        for name in [name for name in element.attrib if ":" in name and not name.startswith("{")]:
            prefix, local = name.split(":", 1)
            if prefix in KNOWN_PREFIXES:
                element.attrib[f"{{{KNOWN_PREFIXES[prefix]}}}{local}"] = element.attrib.pop(name)
    found = (
        [
            f"uses the prefix{'es' if len(known) > 1 else ''} {', '.join(p + ':' for p in known)} without declaring {'them' if len(known) > 1 else 'it'}; it was read as the namespace podcast apps take it for"
        ]
        if known
        else []
    )
    other = [prefix for prefix in undeclared if prefix not in KNOWN_PREFIXES]
    if other:
        found.append(
            f"uses the prefix{'es' if len(other) > 1 else ''} {', '.join(p + ':' for p in other)} without declaring {'them' if len(other) > 1 else 'it'}; {'they were' if len(other) > 1 else 'it was'} left unread"
        )
    return found


def _broken(elements, broken: dict[int, str]) -> str:
    """Why an item's GUID, date or enclosure cannot be taken exactly: its line held a markup error ('' when none did)."""
    for what, element in elements:
        if element is not None and element.sourceline in broken:
            return f"has its {what} on line {element.sourceline}, where the markup is broken ({broken[element.sourceline]}): it cannot be taken exactly"
    return ""


def _rss_item(element, index: int, broken: dict[int, str]) -> OldItem:
    item = feed_item(element)
    label = f"item {index} ({item.title!r})" if item.title else f"item {index}"
    parts = [
        ("GUID", element.find("guid")),
        ("date", element.find("pubDate")),
        ("enclosure", element.find("enclosure")),
    ]
    return OldItem(
        item,
        element.sourceline or 0,
        label,
        notes_html=element.findtext(f"{{{CONTENT_NS}}}encoded") or element.findtext("description") or "",
        summary_html=element.findtext("description") or "",
        **_itunes(element),
        broken=_broken(parts, broken),
    )


def _atom_item(entry, index: int, broken: dict[int, str]) -> OldItem:
    """An Atom entry: its id is its GUID, its enclosure link its audio, its published (else updated) date its pubDate."""
    title = (entry.findtext(f"{{{ATOM_NS}}}title") or "").strip()
    enclosure = next(
        (link for link in entry.iterfind(f"{{{ATOM_NS}}}link") if link.get("rel") == "enclosure" and link.get("href")),
        None,
    )
    url = (enclosure.get("href") if enclosure is not None else "").strip()
    length = (enclosure.get("length") or "0") if enclosure is not None else "0"
    dated = entry.find(f"{{{ATOM_NS}}}published")
    dated = dated if dated is not None and (dated.text or "").strip() else entry.find(f"{{{ATOM_NS}}}updated")
    guid = (entry.findtext(f"{{{ATOM_NS}}}id") or "").strip() or url
    item = FeedItem(
        guid=guid,
        title=title,
        enclosure_url=url,
        length=int(length) if length.isdigit() else 0,
        pub_date=_iso(dated.text if dated is not None else ""),
        link=_atom_link(entry),
    )
    label = f"entry {index} ({title!r})" if title else f"entry {index}"
    parts = [("id", entry.find(f"{{{ATOM_NS}}}id")), ("date", dated), ("enclosure", enclosure)]
    return OldItem(
        item,
        entry.sourceline or 0,
        label,
        notes_html=_atom_text(entry.find(f"{{{ATOM_NS}}}content"))
        or entry.findtext(f"{{{CONTENT_NS}}}encoded")
        or _atom_text(entry.find(f"{{{ATOM_NS}}}summary")),
        summary_html=_atom_text(entry.find(f"{{{ATOM_NS}}}summary")),
        **_itunes(entry),
        broken=_broken(parts, broken),
    )


def _itunes(element) -> dict[str, str]:
    return {
        key: (element.findtext(f"{{{ITUNES_NS}}}{tag}") or "").strip()
        for key, tag in (
            ("explicit", "explicit"),
            ("season", "season"),
            ("episode", "episode"),
            ("episode_type", "episodeType"),
        )
    }


def _atom_link(element) -> str:
    """An Atom element's page: its alternate link (a link without rel is one)."""
    for link in element.iterfind(f"{{{ATOM_NS}}}link"):
        if link.get("rel", "alternate") == "alternate" and link.get("href"):
            return link.get("href").strip()
    return ""


def _atom_text(element) -> str:
    """An Atom text construct as HTML: text and html as written, xhtml as its markup."""
    if element is None:
        return ""
    if element.get("type") == "xhtml":
        return "".join(etree.tostring(child, encoding="unicode") for child in element)
    text = element.text or ""
    return html.escape(text) if element.get("type", "text") == "text" else text


def _iso(text: str | None) -> datetime | None:
    """An Atom date (RFC 3339) as an aware datetime; None when it is none."""
    try:
        value = datetime.fromisoformat((text or "").strip())
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _titles(recordings: list[Recording]) -> dict[str, list[str]]:
    """Normalized notes titles → the slugs whose notes have it, for the recordings whose notes can be read."""
    found: dict[str, list[str]] = {}
    for rec in recordings:
        try:
            found.setdefault(_norm(notes.read(rec.notes_path).title), []).append(rec.slug)
        except (OSError, NotesError):
            continue
    return found


def _norm(title: str) -> str:
    return re.sub(r"\s+", " ", title).strip().casefold()


def _match(item: FeedItem, recordings: list[Recording], titles: dict[str, list[str]]) -> tuple[str | None, str]:
    """The recording an item is, by its enclosure's file name, else by its title: (slug, how), or (None, why not)
    where a title matches several recordings ('' when nothing matches)."""
    by_name = {web_slug(r.slug): r.slug for r in recordings}
    stem = _stem(item)
    if stem and web_slug(stem) in by_name:
        return by_name[web_slug(stem)], "file name"
    slugs = titles.get(_norm(item.title), []) if item.title else []
    if len(slugs) > 1:
        return (
            None,
            f"has the title of {len(slugs)} recordings' notes ({', '.join(sorted(slugs))}): which one it is cannot be told",
        )
    return (slugs[0], "title") if slugs else (None, "")


def _stem(item: FeedItem) -> str:
    return PurePosixPath(unquote(urlsplit(item.enclosure_url).path)).stem


def _notes_text(old: OldItem, base: str) -> tuple[str, bool]:
    """Notes for an imported episode: what the old feed said, published as before (not a draft), without the
    characters a feed cannot carry; and whether some were left out."""
    item = old.item
    said = (item.title, _markdown(old.notes_html, base), _plain(old.summary_html).split("\n\n")[0])
    title, description, summary = (inputs.clean(text) for text in said)
    cleaned = (title, description, summary) != said
    meta: dict = {"title": title.strip() or "Untitled"}
    if item.pub_date:
        meta["date"] = item.pub_date
    if summary:
        meta["summary"] = summary
    explicit = old.explicit.lower()
    if explicit in ("true", "yes", "explicit", "false", "no", "clean"):
        meta["explicit"] = explicit in ("true", "yes", "explicit")
    for key, text in (("season", old.season), ("episode", old.episode)):
        if text.isdigit() and 0 < int(text) <= notes.MAX_NUMBER:
            meta[key] = int(text)
    kind = old.episode_type.lower()
    if kind in ("full", "trailer", "bonus"):
        meta["episode_type"] = kind
    meta["draft"] = False
    head = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, default_flow_style=False)
    body = description or "Write the show notes of this episode here, in Markdown."
    return f"---\n# imported from the old feed: already published, so not a draft\n{head}---\n\n{body}\n", cleaned


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
    return re.sub(
        r"\n{3,}", "\n\n", "\n".join(line.rstrip() if line.strip() else "" for line in markdown.splitlines())
    ).strip()


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
    return NotesError(
        recording.notes_path,
        f"says {said}, the old feed published it at {item.pub_date.isoformat()}",
        f"set `date: {item.pub_date.isoformat()}` so it keeps its place; to re-date it on purpose, build with --allow-redate {recording.slug}",
    )
