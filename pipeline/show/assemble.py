"""Assemble: every episode record + the show's settings + the ledger + what the build read for it → the site plan.

Pure: it opens no file and writes none. The build gathers what it needs from disk beforehand (`Inputs`: the
template sources, the artwork's checksum and icons, HTML rendered by earlier builds) and keeps what it returns (the
plan, the ledger, the HTML it rendered). The plan names every file of the site with its checksum (pages, the
stylesheet, script, icons and the feed as bytes; audio, pictures and transcripts as files of the records, by
path), so a target can apply it, a preview server can serve it, and `check` can compare it with a site. (The one
thing rendering takes from a record's files is an episode's transcript, which its page shows: it is read from the
record's content-addressed copy only when that page is rendered anew.)
"""

from __future__ import annotations

import base64
import hashlib
import pickle
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from jinja2 import BytecodeCache
from jinja2.bccache import Bucket

from .. import cache, layout, markdown, namespace_rules
from ..config import Config
from ..records import PlanFile, Published, SitePlan
from . import artwork as artwork_
from . import feed, ledger, pages, posts

# lastBuildDate is left out of the feed's content hash by rendering it with this fixed date.
_HASH_DATE = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Inputs:
    """What assemble needs of the disk, read by the build: the template sources (`pages.templates`), the artwork's
    checksum, width and icons (`artwork.icons`), and what earlier builds rendered, by the digest of everything it was
    rendered from: the episode pages as the files they were kept in (`pages`), the other texts as texts."""

    templates: Mapping[str, str]
    artwork_sha: str = ""
    artwork_width: int = 0
    icons: tuple[tuple[str, bytes], ...] = ()
    rendered: Mapping[str, str] = field(default_factory=dict)
    pages: Mapping[str, PlanFile] = field(default_factory=dict)  # episode pages kept as files, by the same keys


@dataclass(frozen=True)
class Episode:
    """A publishable episode and the fingerprint of its record (the key of what is rendered from it). `whole`: given
    when `item` is the record's summary (`Published.summary`), the whole record, asked for only when a text of the
    episode must be rendered anew (none was kept under its key)."""

    item: Published
    key: str
    whole: Callable[[], Published] | None = None


@dataclass(frozen=True)
class ShowPlan:
    """The site as it should be, and the ledger that goes with it."""

    site: SitePlan
    ledger: ledger.Ledger
    items: tuple[Published, ...]  # newest first, as the feed lists them
    # The texts rendered anew (the episode pages aside), by key, for the build to keep; that of a file as its bytes.
    html: Mapping[str, str | bytes] = field(default_factory=dict)
    used: frozenset[str] = frozenset()  # the keys of every text the plan is made of, rendered anew or reused
    pages: Mapping[str, PlanFile] = field(default_factory=dict)  # every episode page, by its key: for the build to keep


def newest_first(items: Sequence[Published]) -> list[Published]:
    """Items in the feed's order: newest pubDate first, then by slug (never by file time)."""
    return sorted(items, key=lambda item: (item.pub_date, item.episode.slug), reverse=True)


def assemble(
    config: Config, episodes: Sequence[Episode], book: ledger.Ledger, now: datetime, inputs: Inputs
) -> ShowPlan:
    """The site plan for these episodes: media, attachments, pages, artwork, and the feed; the ledger after it."""
    used: set[str] = set()
    made: dict[str, str | bytes] = {}

    def memo(key: str, make: Callable[[], str]) -> str:
        used.add(key)
        found = inputs.rendered.get(key)
        if found is None:
            found = made[key] = make()
        return found

    def rendered(key: str, make: Callable[[], str]) -> PlanFile:
        """A file of the site that is one kept text; one made anew is held once, as the file's bytes."""
        file = _text(memo(key, make))
        if key in made:
            made[key] = file.content
        return file

    def memo_many(wanted: Mapping[str, Published], make: Callable[[list[Published]], list[str]]) -> list[str]:
        """The texts of these keys, the missing ones made together (in `wanted`'s order)."""
        found = {key: inputs.rendered.get(key) for key in wanted}
        missing = [key for key, text in found.items() if text is None]
        fresh = dict(zip(missing, make([wanted[key] for key in missing])))
        found.update(fresh)
        made.update(fresh)
        used.update(found)
        return list(found.values())

    wholes = {e.item.guid: e.whole for e in episodes if e.whole is not None}

    def whole(item: Published) -> Published:
        """The item as its texts are rendered from: the whole record of one given as a summary, as this build
        places it (its links; its clips, when they are kept out of the site)."""
        found = wholes.get(item.guid)
        return item if found is None else _with(found(), links=item.links, clips=item.clips)

    pages_of = {
        e.item.episode.slug: e.item.post_url or e.item.page_path for e in episodes
    }  # on a blog: the post's address
    linked = [(_with(e.item, links=_links(e.item, pages_of)), e.key) for e in episodes]
    if not config.clips.publish:  # kept out of the site, for the host to upload (the build writes them apart)
        linked = [(_with(item, clips=()), key) for item, key in linked]
    ordered = sorted(linked, key=lambda pair: (pair[0].pub_date, pair[0].episode.slug), reverse=True)
    items = [item for item, _ in ordered]
    keys = {item.guid: _key(key, (item.links, _placed(item))) for item, key in ordered}
    artwork = layout.artwork(config.artwork_path)
    show_key = _show_key(config, inputs)

    files: dict[str, PlanFile] = {}
    for item in items:
        files[item.media_path] = PlanFile(item.media.path, item.media.sha256)
        files.update({a.path: PlanFile(a.content, a.sha256) for a in (*item.attachments, *item.alternates)})
        files.update({c.path: PlanFile(c.content, c.sha256) for c in item.clips})
        files.update({c.caption_path: PlanFile(c.caption_file, c.caption_sha256) for c in item.clips if c.caption_path})
    compiled = _Compiled(inputs.rendered, made, used)
    used.update(key for key in compiled.keys(inputs.templates) if key in inputs.rendered)  # kept, compiled or not
    env = pages.environment(inputs.templates, compiled)
    width, icons = (inputs.artwork_width, inputs.icons) if artwork else (0, ())
    language = config.show.language
    locale = memo(f"locale:{language}", lambda: pages.og_locale(language))  # kept: langcodes is loaded once a language
    site = pages.Site(artwork, tuple(name for name, _ in icons), width, locale)
    page_files: dict[str, PlanFile] = {}
    for item in items if not config.blog.engine else ():  # on a blog, the episode's page is its post
        key = f"page:{show_key}:{keys[item.guid]}"
        kept = inputs.pages.get(key)  # its file as kept: neither read nor decoded here
        if kept is None:
            kept = _text(pages.episode_page(env, config, whole(item), site))
        files[item.page_path] = page_files[key] = kept
    blog = (
        posts.files(
            env, config.blog.engine, config.blog_posts, items, config.site_url, config.show.title, config.clean.mode
        )
        if config.blog.engine
        else {}
    )
    # The index lists every episode: each one's row is kept like its page, so an edit renders its own row alone.
    rows = [memo(f"row:{show_key}:{keys[i.guid]}", lambda i=i: pages.index_row(env, i)) for i in items]
    files[layout.INDEX_PAGE] = _text(pages.index_page(env, config, items, site, rows))
    # The pages that show no episode, kept by all they show: an edit compiles and renders neither.
    site_key = cache.context_digest(show_key, config.site_url, repr(config.clean), site)
    files[layout.SUBSCRIBE_PAGE] = rendered(f"subscribe:{site_key}", lambda: pages.subscribe_page(env, config, site))
    files[layout.FEED_STYLE] = rendered(f"feed-style:{site_key}", lambda: pages.feed_style(env, config, site))
    files.update({rel: _bytes(data) for rel, data in pages.static_files(env).items()})
    files.update({layout.icon(name): _bytes(data) for name, data in icons})
    if artwork:
        files[artwork] = PlanFile(config.artwork_path, inputs.artwork_sha)
    # podcast:images: the original and the square covers, largest first
    covers = sorted(
        ((layout.icon(name), artwork_.cover_width(name)) for name, _ in icons if artwork_.cover_width(name)),
        key=lambda c: -c[1],
    )
    artwork_sizes = ([(artwork, width)] if artwork and width else []) + covers

    podcast_guid = book.podcast_guid or namespace_rules.podcast_guid(
        layout.feed_url(config.site_url)
    )  # an imported one is kept for life
    item_context = cache.context_digest(feed.item_context(config, podcast_guid))

    def texts(page: Sequence[Published]) -> list[str]:
        """The items' <item> elements, each kept by its record and what else an item shows; none made twice."""
        wanted = {f"item:{_key(keys[item.guid], item_context)}": item for item in page}
        return memo_many(wanted, lambda missing: feed.item_texts(config, [whole(i) for i in missing], podcast_guid))

    current, archived = archive_pages(items, config.feed.items)
    channel_key = cache.context_digest(show_key, repr(config.feed), podcast_guid, artwork_sizes)
    for number, page in enumerate(archived, start=1):
        paging = feed.Paging(
            layout.archive(number),
            layout.archive(number - 1) if number > 1 else "",
            layout.archive(number + 1) if number < len(archived) else "",
            archive=True,
        )
        # An archive's own date is its newest episode's, so a full archive page never changes again (RFC 5005).
        dated = max((item.pub_date for earlier in archived[:number] for item in earlier), default=_HASH_DATE)
        key = hashlib.sha256(
            repr((channel_key, paging, dated, [keys[item.guid] for item in page])).encode()
        ).hexdigest()[:32]
        files[paging.path] = rendered(
            f"archive:{key}",
            lambda page=page, paging=paging, dated=dated: feed.spliced(
                feed.channel(config, page, artwork, podcast_guid, artwork_sizes, paging), dated, texts(page)
            ).decode(),
        )
    newest = feed.Paging(prev=layout.archive(len(archived)) if archived else "")
    document = feed.channel(config, current, artwork, podcast_guid, artwork_sizes, newest)
    xml, feed_hash, last_build = _dated(document, texts(current), book.feed_hash, book.last_build, now)
    clean = (
        _clean_feed(config, items, keys, book, now, artwork, artwork_sizes, memo_many, files, whole)
        if config.clean.edition
        else None
    )
    site = SitePlan(
        files=files,
        feed_path=layout.FEED_FILE,
        feed=xml,
        digest=plan_digest({**files, **{f"blog:{rel}": file for rel, file in blog.items()}}, xml),
        blog=blog,
    )
    return ShowPlan(
        site=site,
        ledger=ledger.record(book, items, feed_hash, last_build, podcast_guid, clean),
        items=tuple(items),
        html=made,
        used=frozenset(used),
        pages=page_files,
    )


def clean_items(items: Sequence[Published], book: ledger.Ledger) -> list[Published]:
    """The episodes of the clean feed, newest first: each one's clean edition, under its GUID in the ledger."""
    return [
        replace(item.clean, guid=ledger.clean_guid(book, item.episode.slug, item.clean.guid))
        for item in items
        if item.clean is not None
    ]


def clean_config(config: Config) -> Config:
    """The show as its clean feed presents it: " (Clean)" after its title, never explicit, never moving."""
    show = replace(config.show, title=f"{config.show.title} (Clean)", explicit=False, new_feed_url="")
    return replace(config, show=show)


def _clean_feed(
    config: Config,
    items: Sequence[Published],
    keys: dict[str, str],
    book: ledger.Ledger,
    now: datetime,
    artwork: str | None,
    artwork_sizes,
    memo_many: Callable[[Mapping[str, Published], Callable[[list[Published]], list[str]]], list[str]],
    files: dict[str, PlanFile],
    whole: Callable[[Published], Published],
) -> ledger.Feed:
    """The clean feed (a file of the plan, written before the main feed) and its part of the ledger."""
    chosen = clean_items(items, book)
    origin = {clean.guid: item for item, clean in zip([i for i in items if i.clean is not None], chosen)}
    key_of = {guid: keys[item.guid] for guid, item in origin.items()}
    for item in chosen:
        files[item.media_path] = PlanFile(item.media.path, item.media.sha256)
        files.update({a.path: PlanFile(a.content, a.sha256) for a in item.attachments})
    shown = clean_config(config)
    podcast_guid = (book.clean.podcast_guid if book.clean else "") or namespace_rules.podcast_guid(
        layout.url(config.site_url, layout.CLEAN_FEED_FILE)
    )
    context = cache.context_digest(feed.item_context(shown, podcast_guid, layout.CLEAN_FEED_FILE))
    texts = memo_many(
        {f"item-clean:{_key(key_of[item.guid], (context, *_placed(item)))}": item for item in chosen},
        lambda missing: feed.item_texts(
            shown,
            [replace(whole(origin[c.guid]).clean, guid=c.guid) for c in missing],
            podcast_guid,
            feed_file=layout.CLEAN_FEED_FILE,
        ),
    )
    document = feed.channel(shown, chosen, artwork, podcast_guid, artwork_sizes, feed_file=layout.CLEAN_FEED_FILE)
    old = book.clean or ledger.Feed()
    xml, feed_hash, last_build = _dated(document, texts, old.feed_hash, old.last_build, now)
    files[layout.CLEAN_FEED_FILE] = _bytes(xml)
    return ledger.record_clean(book, chosen, feed_hash, last_build, podcast_guid)


def archive_pages(items: Sequence[Published], size: int) -> tuple[list[Published], list[list[Published]]]:
    """The items of the feed (the newest `size`) and of each archive page, oldest page first, each newest first.
    Pages fill from the oldest episode on, `size` to a page, so a full page never changes when episodes are
    published; the newest page takes what moves out of the feed, and once it is full an empty one follows it, so
    that the page before it already links to it (`size` 0: every item in the feed, no archives)."""
    if not size or len(items) <= size:
        return list(items), []
    older = list(reversed(items[size:]))  # oldest first
    pages = [older[start : start + size] for start in range(0, len(older) // size * size + 1, size)]
    return list(items[:size]), [list(reversed(page)) for page in pages]


def _dated(document, texts: Sequence[str], feed_hash: str, last_build: str, now: datetime) -> tuple[bytes, str, str]:
    """A feed's bytes (its channel and its items' texts), the hash of its content and its lastBuildDate, which moves
    only when the content does (`feed_hash` and `last_build`: what the ledger has of the feed as last published)."""
    hashed = feed.spliced(document, _HASH_DATE, texts)
    new_hash = hashlib.sha256(hashed).hexdigest()
    date = last_build if new_hash == feed_hash and last_build else now.isoformat(timespec="seconds")
    return feed.redated(hashed, _HASH_DATE, datetime.fromisoformat(date)), new_hash, date


def plan_digest(files: dict[str, PlanFile], feed_xml: bytes) -> str:
    """Fingerprint of a whole site: every path and checksum, and the feed."""
    digest = hashlib.sha256(hashlib.sha256(feed_xml).digest())
    for rel in sorted(files):
        digest.update(f"{rel}\0{files[rel].sha256}\n".encode())
    return digest.hexdigest()[:32]


def _links(item: Published, pages_of: dict[str, str]) -> tuple[tuple[str, str], ...]:
    """Links of the notes to another episode's notes (`[last week](other-episode.md)`) point at its page, if it is published."""
    found = ((url, pages_of.get(markdown.mentioned_slug(url), "")) for url in item.episode.notes.mentions)
    return tuple((url, page) for url, page in found if page)


def _with(item: Published, **values) -> Published:
    """The item with these values, itself when it has them already (most do: a copy of each of a thousand is not free)."""
    return item if all(getattr(item, name) == value for name, value in values.items()) else replace(item, **values)


def _key(record: str, beside: object) -> str:
    """The key of a text made from a record and what else it shows (`beside`: plain values)."""
    return hashlib.sha256(repr((record, beside)).encode()).hexdigest()[:32]


def _placed(item: Published) -> tuple[str, str, str, bool]:
    """What an item shows that its record's key may not name: its GUID (a clean edition's is the ledger's) and its
    addresses (an episode kept as last published takes this build's)."""
    return item.guid, item.site_url, item.media_site, item.media_transcripts


class _Compiled(BytecodeCache):
    """The templates' compiled code (Jinja's bytecode), kept with the rendered texts under a key of the template's
    name and source and of panelpress itself: an edit compiles no template an earlier build compiled."""

    def __init__(self, kept: Mapping[str, str], made: dict[str, str | bytes], used: set[str]) -> None:
        self.kept, self.made, self.used = kept, made, used

    def keys(self, templates: Mapping[str, str]) -> set[str]:
        return {self._key(self.get_cache_key(name), self.get_source_checksum(text)) for name, text in templates.items()}

    @staticmethod
    def _key(name_key: str, checksum: str) -> str:
        return "template:" + cache.context_digest(name_key, checksum)

    def load_bytecode(self, bucket: Bucket) -> None:
        text = self.kept.get(self._key(bucket.key, bucket.checksum))
        if text is None:
            return
        try:  # code of another Python or Jinja2 is refused by the bucket itself
            bucket.bytecode_from_string(base64.b64decode(text, validate=True))
        except (ValueError, EOFError, TypeError, pickle.UnpicklingError):
            bucket.reset()  # a damaged line: compiled again, and kept again

    def dump_bytecode(self, bucket: Bucket) -> None:
        key = self._key(bucket.key, bucket.checksum)
        self.made[key] = base64.b64encode(bucket.bytecode_to_string()).decode()
        self.used.add(key)


def _show_key(config: Config, inputs: Inputs) -> str:
    """Everything an episode page shows besides its episode: the show's settings, templates (the stylesheet and
    script too: pages name them by their digest) and artwork."""
    sources = sorted((name, hashlib.sha256(text.encode()).hexdigest()) for name, text in inputs.templates.items())
    return cache.context_digest(
        repr(config.show), repr(config.podcast), repr(config.subscribe), inputs.artwork_sha, sources
    )


def _text(text: str) -> PlanFile:
    return _bytes(text.encode())


def _bytes(data: bytes) -> PlanFile:
    return PlanFile(data, hashlib.sha256(data).hexdigest())


def kept_item(
    item: Published, site: Path, site_url: str, media_site: str = "", media_transcripts: bool = True
) -> Published:
    """A published episode taken as it is in the site folder (it failed in this build): its files are the site's copies,
    its addresses this build's."""
    copies = tuple(replace(a, content=site / a.path) for a in item.attachments)
    editions = tuple(replace(a, content=site / a.path) for a in item.alternates)
    clips = tuple(
        replace(c, content=site / c.path, caption_file=site / c.caption_path if c.caption_path else c.caption_file)
        for c in item.clips
    )
    clean = kept_item(item.clean, site, site_url, media_site, media_transcripts) if item.clean is not None else None
    return replace(
        item,
        site_url=site_url,
        media_site=media_site,
        media_transcripts=media_transcripts,
        media=replace(item.media, path=site / item.media_path),
        attachments=copies,
        alternates=editions,
        clips=clips,
        clean=clean,
    )
