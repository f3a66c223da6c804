"""The guard: compare what a build would publish with what subscribers already have (ledger and site feed)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

from lxml import etree

from .. import layout, namespace_rules
from ..errors import GuardError
from ..records import Identity
from .ledger import Ledger
from .podcastindex import LEGACY_PODCAST_NS, PODCAST_NS

ATOM_NS = "http://www.w3.org/2005/Atom"


EVERY = "*"  # `--allow-move '*'`: every episode (a new site_url or media_url moves them all)


@dataclass(frozen=True)
class Allow:
    """Changes the host asked for on purpose (`panelpress build --allow-…`), by episode slug or GUID."""

    remove: frozenset[str] = field(default_factory=frozenset)
    move: frozenset[str] = field(default_factory=frozenset)
    redate: frozenset[str] = field(default_factory=frozenset)
    new_guid: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class FeedItem:
    """An item of a feed as subscribers' apps have it."""

    guid: str
    title: str
    enclosure_url: str
    length: int
    pub_date: datetime | None
    link: str = ""


def parse(path: Path, data: bytes | None = None):
    """An RSS feed file's root element (from `data` when given); raise GuardError if it is not RSS 2.0."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    try:
        root = etree.fromstring(data, parser) if data is not None else etree.parse(str(path), parser).getroot()
    except (OSError, etree.XMLSyntaxError) as err:
        raise GuardError(
            path, f"cannot be read as a feed ({err})", "restore the published feed, or delete it if the ledger is right"
        ) from err
    if root.tag != "rss" or root.find("channel") is None:
        raise GuardError(path, "is not an RSS feed", "pass an RSS 2.0 podcast feed")
    return root


def read_items(path: Path, data: bytes | None = None) -> list[FeedItem]:
    """The items of an RSS feed file (or of its bytes, read already); raise GuardError if it cannot be read as RSS."""
    root = parse(path, data)
    return [feed_item(item) for item in root.iterfind("channel/item")]


@dataclass(frozen=True)
class Archive:
    """An archive document of a feed (RFC 5005), as found in the site folder."""

    path: Path
    url: str
    data: bytes
    root: object  # its <rss> element


def archives(folder: Path, site_url: str, root) -> tuple[list[Archive], GuardError | None]:
    """The archive documents a feed links to, newest first, found by following `prev-archive` links to files of the
    site folder (never fetched); the chain as far as it goes, and what stopped it, if anything did."""
    found: list[Archive] = []
    seen: set[str] = set()
    where, href = "the feed", archive_link(root, "prev-archive")
    while href:
        if href in seen:
            return found, GuardError(
                found[-1].path,
                f"its archive links go round in a loop (back to {href})",
                "rebuild with `panelpress build`",
            )
        seen.add(href)
        rel = href[len(site_url) :] if href.startswith(site_url) else ""
        if not rel or rel.startswith("/") or ".." in rel.split("/"):
            return found, GuardError(
                found[-1].path if found else None,
                f"{where} links the archive {href}, which is not under site_url {site_url}",
                "rebuild with `panelpress build`",
            )
        path = folder.joinpath(*rel.split("/"))
        try:
            data = path.read_bytes()
            document = parse(path, data)
        except OSError:
            return found, GuardError(
                path, f"is missing, but {where} links it as its previous archive", "rebuild with `panelpress build`"
            )
        except GuardError as err:
            return found, err
        found.append(Archive(path, href, data, document))
        where, href = f"the archive {rel}", archive_link(document, "prev-archive")
    return found, None


def archive_link(root, rel: str) -> str:
    """A feed document's `atom:link` of relation `rel` (prev-archive, next-archive, current): its address, or ''."""
    for link in root.find("channel").iterfind(f"{{{ATOM_NS}}}link"):
        if link.get("rel") == rel:
            return (link.get("href") or "").strip()
    return ""


def published_items(
    folder: Path, site_url: str, path: Path, data: bytes, media_url: str = "", read: list[Path] | None = None
) -> list[FeedItem]:
    """Every item subscribers can reach from a published feed: its own, and those of its archive documents (an
    episode moved to an archive is still published); each enclosure's address as the ledger keeps it, without an
    analytics prefix (`[deploy] prefix` changes the feed's addresses, not where the audio is). `read`: the archive
    files it read are added to it."""
    root = parse(path, data)
    found = [feed_item(item) for item in root.iterfind("channel/item")]
    for archive in archives(folder, site_url, root)[0]:
        found += [feed_item(item) for item in archive.root.iterfind("channel/item")]
        if read is not None:
            read.append(archive.path)
    return [replace(i, enclosure_url=layout.unmeasured(i.enclosure_url, site_url, media_url)) for i in found]


def channel_guid(channel) -> str:
    """A feed's podcast:guid, else the UUIDv5 of its own address (what the Podcast Index would have given it)."""
    for namespace in (PODCAST_NS, LEGACY_PODCAST_NS):
        text = (channel.findtext(f"{{{namespace}}}guid") or "").strip()
        if text:
            try:
                return str(uuid.UUID(text))
            except ValueError:
                continue
    for link in channel.iterfind(f"{{{ATOM_NS}}}link"):
        if link.get("rel") == "self" and link.get("href"):
            return namespace_rules.podcast_guid(link.get("href").strip())
    return ""


def feed_item(item) -> FeedItem:
    """One RSS <item> element as a FeedItem."""
    enclosure = item.find("enclosure")
    url = ((enclosure.get("url") if enclosure is not None else "") or "").strip()
    guid = (
        item.findtext("guid") or ""
    ).strip() or url  # Apple: without a GUID, the enclosure URL identifies the episode
    try:
        length = int((enclosure.get("length") if enclosure is not None else "") or 0)
    except ValueError:
        length = 0
    return FeedItem(
        guid=guid,
        title=(item.findtext("title") or "").strip(),
        enclosure_url=url,
        length=length,
        pub_date=_date(item.findtext("pubDate")),
        link=(item.findtext("link") or "").strip(),
    )


def _date(text: str | None) -> datetime | None:
    try:
        value = parsedate_to_datetime(text.strip()) if text and text.strip() else None
    except (TypeError, ValueError):
        return None
    return value if value is None or value.tzinfo else value.replace(tzinfo=UTC)  # "-0000": UTC, source unknown


def _rfc2822(value: datetime) -> str:
    return value.strftime("%a, %d %b %Y %H:%M:%S %z")


def check(
    book: Ledger, published: Sequence[FeedItem], items: Sequence[Identity], allow: Allow = Allow()
) -> list[GuardError]:
    """What this build would break for subscribers, judged by the ledger and the feed now in the site folder.
    Everything it compares is known from the notes and the ledger, so it runs before any audio work too."""
    problems: dict[tuple[str, str], GuardError] = {}  # one message per episode and kind of change

    def allowed(kind: frozenset[str], slug: str, guid: str) -> bool:
        return slug in kind or guid in kind or (kind is allow.move and EVERY in kind)

    by_guid: dict[str, list[Identity]] = {}
    for item in items:
        by_guid.setdefault(item.guid, []).append(item)
    for guid, same in by_guid.items():
        if len(same) > 1:
            slugs = ", ".join(repr(i.slug) for i in same)
            problems[(guid, "duplicate")] = GuardError(
                None,
                f"episodes {slugs} share the GUID {guid}: apps would show only one of them",
                "give all but one a new GUID: delete their entries from the ledger (panelpress mints new ones), then build again",
            )

    by_slug = {item.slug: item for item in items}
    slug_of = {entry.guid: slug for slug, entry in book.episodes.items()}

    def compare(slug: str, guid: str, item: Identity, url: str, when: datetime | None) -> None:
        if url and item.media_url != url and not allowed(allow.move, slug, guid):
            problems[(slug, "move")] = GuardError(item.recording, *moved(slug, "audio", url, item.media_url))
        if when is not None and item.pub_date != when and not allowed(allow.redate, slug, guid):
            problems[(slug, "redate")] = GuardError(
                item.notes_path,
                f"episode {slug!r} would change its pubDate from {_rfc2822(when)} to {_rfc2822(item.pub_date)}",
                f"set `date: {when.isoformat()}` in its notes; to re-date it on purpose, build with --allow-redate {slug}",
            )

    for slug, entry in sorted(book.episodes.items()):
        item = by_slug.get(slug)
        if item is None:
            if not allowed(allow.remove, slug, entry.guid):
                problems[(slug, "remove")] = GuardError(
                    None,
                    f"episode {slug!r} (GUID {entry.guid}) was published but is not in this build: subscribers would lose it",
                    f"fix the episode's error above, or restore its recording and notes; to withdraw it on purpose, build with --allow-remove {slug}",
                )
            continue
        if item.guid != entry.guid and not allowed(allow.new_guid, slug, entry.guid):
            problems[(slug, "guid")] = GuardError(
                item.notes_path,
                f"episode {slug!r} would change its GUID from {entry.guid} to {item.guid}: every app would download it again as new",
                f"restore the ledger from version control; to give it a new GUID on purpose, build with --allow-new-guid {slug}",
            )
        compare(slug, entry.guid, item, entry.enclosure_url, _iso(entry.first_published))

    for old in published:
        same = by_guid.get(old.guid)
        if same:
            compare(same[0].slug, old.guid, same[0], old.enclosure_url, old.pub_date)
            continue
        slug = slug_of.get(old.guid, "")
        # the ledger lost this episode: find it again by its audio or its page
        match = by_slug.get(slug) or next(
            (i for i in items if i.media_url == old.enclosure_url or (old.link and i.page_url == old.link)), None
        )
        if match is not None:
            slug = match.slug
            if not allowed(allow.new_guid, slug, old.guid) and (slug, "guid") not in problems:
                problems[(slug, "guid")] = GuardError(
                    match.notes_path,
                    f"episode {slug!r} was published with GUID {old.guid} but would now be {match.guid}: every app would download it again as new",
                    "restore the ledger from version control, or run `panelpress import` on the published feed: it takes the GUIDs subscribers have back into the ledger",
                )
        elif not allowed(allow.remove, slug, old.guid) and (slug, "remove") not in problems:
            name = f"episode {slug!r}" if slug else f"the published episode {old.title!r}"
            problems[(slug or old.guid, "remove")] = GuardError(
                None,
                f"{name} (GUID {old.guid}) is in the published feed but not in this build: subscribers would lose it",
                f"restore its recording and notes (and the ledger); to withdraw it on purpose, build with --allow-remove {slug or old.guid}",
            )
    return list(problems.values())


def _iso(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if value else None
    except ValueError:
        return None


def moved(slug: str, what: str, old: str, new: str) -> tuple[str, str]:
    """What a changed enclosure address says (problem, fix): a new base address ([show] site_url, [deploy] media_url)
    moves every episode's audio and says so; a renamed recording moves one."""
    if old.rsplit("/", 2)[-2:] == new.rsplit("/", 2)[-2:]:
        return (
            f"episode {slug!r} would move its {what} from {old} to {new}: the audio's address changed ([show] site_url or [deploy] media_url), and apps that have the episode fetch it from the old one",
            f"restore site_url or media_url as they were; to move the audio on purpose, deploy the media to the new address, then build with --allow-move {EVERY!r} (every episode) or --allow-move {slug}: the GUIDs stay, so apps download nothing again",
        )
    return (
        f"episode {slug!r} would move its {what} from {old} to {new}",
        f"keep site_url and the recording's name as they were; to move it on purpose, build with --allow-move {slug}",
    )


def slugs(values: Iterable[str] | None) -> frozenset[str]:
    """The slugs (or GUIDs) named by a repeatable --allow-… option."""
    return frozenset(v.strip() for v in values or () if v.strip())


def check_clean(book: Ledger, after: Ledger, allow: Allow = Allow()) -> list[GuardError]:
    """What the clean feed's subscribers would lose: an episode of it left out, a GUID or an audio address changed
    (`after` is the ledger this build would write)."""
    before = book.clean.episodes if book.clean else {}
    now = after.clean.episodes if after.clean else {}
    problems = []
    for slug, entry in sorted(before.items()):
        new = now.get(slug)
        if new is None:
            if slug not in allow.remove and entry.guid not in allow.remove and slug in after.episodes:
                problems.append(
                    GuardError(
                        None,
                        f"episode {slug!r} (GUID {entry.guid}) is in the clean feed but its clean edition is not in this build: the clean feed's subscribers would lose it",
                        f"fix its clean edition's error above and build again; to take it out of the clean feed on purpose, build with --allow-remove {slug}",
                    )
                )
            continue
        if new.guid != entry.guid and slug not in allow.new_guid:
            problems.append(
                GuardError(
                    None,
                    f"episode {slug!r} would change its GUID in the clean feed from {entry.guid} to {new.guid}",
                    f"restore the ledger from version control; on purpose: --allow-new-guid {slug}",
                )
            )
        if new.enclosure_url != entry.enclosure_url and not {slug, EVERY} & allow.move:
            problems.append(GuardError(None, *moved(slug, "clean edition", entry.enclosure_url, new.enclosure_url)))
    return problems
