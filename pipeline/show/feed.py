"""Feed: show + published episodes → RSS 2.0 with the iTunes namespace. Pure: returns bytes."""

from __future__ import annotations

import html
import posixpath
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote, urljoin, urlsplit

import nh3
from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.feed import FeedGenerator
from feedgen.util import formatRFC2822, xml_elem
from lxml import etree
from markdown_it.common.utils import escapeHtml

from .. import __version__, layout
from .. import namespace_rules as rules
from ..config import Config
from ..layout import FEED_FILE, FEED_STYLE
from ..markdown import LINK_SCHEMES, relinked
from ..markdown import markdown as notes_markdown
from ..records import Alternate, Chapter, Panelist, Published
from .podcastindex import (
    ROLES,
    TRANSCRIPT_TYPES,
    Edition,
    Image,
    Link,
    PodcastIndexEntryExtension,
    PodcastIndexExtension,
    Trailer,
)

ITUNES_NS = "http://www.itunes.com/dtds/podcast-1.0.dtd"
ATOM_NS = "http://www.w3.org/2005/Atom"
FH_NS = "http://purl.org/syndication/history/1.0"  # RFC 5005, Feed Paging and Archiving
# Apple turns timestamps in an episode's notes into chapters when there are three or more.
APPLE_MIN_CHAPTERS = 3
# A line of notes that starts with a timestamp (`04:10 Title`, `- (1:02:03) Title`): the host wrote a chapter list.
_TIMESTAMP_LINE = re.compile(r"^\s*(?:[-*+]\s+|\d+[.)]\s+)?[(\[]?(?:\d{1,2}:)?\d{1,2}:\d{2}\b", re.MULTILINE)

# What podcast apps render in show notes. Apple documents <p> <ol> <ul> <li> <a> (and honours <br>);
# Overcast, Pocket Casts, AntennaPod and Podverse also show emphasis, quotes and code, which Apple shows
# as plain text, so those stay. Headings become bold paragraphs (Apple runs them into the next line);
# images, tables, rules and anything else are dropped, keeping their text.
FEED_TAGS = {"p", "br", "a", "ul", "ol", "li", "strong", "b", "em", "i", "blockquote", "code", "pre"}
FEED_ATTRIBUTES = {"a": {"href"}}
URL_SCHEMES = set(LINK_SCHEMES)  # what a link of the notes may be (relative ones are made absolute)

_feed_markdown = notes_markdown()


def _feed_rule(name: str):
    def register(rule):
        _feed_markdown.add_render_rule(name, rule)
        return rule

    return register


@_feed_rule("image")
def _image_as_link(self, tokens, idx, options, env) -> str:
    # apps drop <img>; a link to the picture keeps it one tap away
    token = tokens[idx]
    alt = escapeHtml(self.renderInlineAsText(token.children or [], options, env) or token.attrGet("src") or "")
    return f'<a href="{escapeHtml(token.attrGet("src") or "")}">{alt}</a>'


for _name, _html in {
    "heading_open": "<p><strong>",
    "heading_close": "</strong></p>\n",
    "table_open": "",
    "table_close": "",
    "thead_open": "",
    "thead_close": "",
    "tbody_open": "",
    "tbody_close": "",
    "tr_open": "<p>",
    "tr_close": "</p>\n",
    "th_close": "",
    "td_close": "",
}.items():
    _feed_markdown.add_render_rule(_name, lambda self, tokens, idx, options, env, html=_html: html)


@_feed_rule("th_open")
@_feed_rule("td_open")
def _cell(self, tokens, idx, options, env) -> str:
    # a table row becomes a paragraph of cells: apps render no tables
    return "" if tokens[idx - 1].type == "tr_open" else " | "


# What an HTML parser could read as markup: a tag, comment or declaration opening.
_MARKUP = re.compile(r"<[A-Za-z/!?]")


def as_text(text: str) -> str:
    """Plain text (a summary, the show's description) for the elements apps read as HTML (`description`,
    `itunes:summary`). Text without markup is written as it is; text with some becomes one paragraph of escaped
    HTML, so every app shows `<script>` as the words it is, never runs or renders it (and apps that guess whether
    the element is HTML or text guess HTML, and unescape it)."""
    return f"<p>{html.escape(text, quote=False)}</p>" if _MARKUP.search(text) else text


def apple_bool(value: bool) -> str:
    """Apple's current spelling of a flag: true/false (not yes/no/clean)."""
    return "true" if value else "false"


class AppleExtension(BaseExtension):
    """Channel elements feedgen's podcast extension gets wrong or lacks: explicit, category, type, new-feed-url, block, complete."""

    def __init__(self) -> None:
        self.explicit: bool | None = None
        self.category: tuple[str, str] | None = None
        self.show_type: str | None = None
        self.new_feed_url: str | None = None
        self.block = False
        self.complete = False

    def extend_ns(self):
        return {"itunes": ITUNES_NS}

    def extend_rss(self, rss_feed):
        channel = rss_feed[0]
        if self.category:
            main, sub = self.category
            element = xml_elem(f"{{{ITUNES_NS}}}category", channel)
            element.attrib["text"] = main
            if sub:
                xml_elem(f"{{{ITUNES_NS}}}category", element).attrib["text"] = sub
        if self.explicit is not None:
            xml_elem(f"{{{ITUNES_NS}}}explicit", channel).text = apple_bool(self.explicit)
        if self.show_type:
            xml_elem(f"{{{ITUNES_NS}}}type", channel).text = self.show_type
        if self.new_feed_url:
            xml_elem(f"{{{ITUNES_NS}}}new-feed-url", channel).text = self.new_feed_url
        # Apple: "Specifying any value other than Yes has no effect", so these are written only when set.
        if self.block:
            xml_elem(f"{{{ITUNES_NS}}}block", channel).text = "Yes"
        if self.complete:
            xml_elem(f"{{{ITUNES_NS}}}complete", channel).text = "Yes"
        return rss_feed


class AppleEntryExtension(BaseEntryExtension):
    """Item elements feedgen lacks: explicit true/false, title, episode, season, episodeType, image."""

    def __init__(self) -> None:
        self.explicit: bool | None = None
        self.title: str | None = None
        self.episode: int | None = None
        self.season: int | None = None
        self.episode_type: str | None = None
        self.image: str | None = None

    def extend_ns(self):
        return {"itunes": ITUNES_NS}

    def extend_rss(self, entry):
        values = (
            ("title", self.title),
            ("explicit", None if self.explicit is None else apple_bool(self.explicit)),
            ("episodeType", self.episode_type),
            ("season", self.season),
            ("episode", self.episode),
        )
        for name, value in values:
            if value is not None:
                xml_elem(f"{{{ITUNES_NS}}}{name}", entry).text = str(value)
        if self.image:
            xml_elem(f"{{{ITUNES_NS}}}image", entry).attrib["href"] = self.image
        return entry


class WebSubExtension(BaseExtension):
    """The channel's WebSub hubs (`<atom:link rel="hub">`): where apps subscribe to hear of a new episode at once."""

    def __init__(self) -> None:
        self.hubs: tuple[str, ...] = ()

    def extend_ns(self):
        return {"atom": ATOM_NS}

    def extend_rss(self, rss_feed):
        for hub in self.hubs:
            xml_elem(f"{{{ATOM_NS}}}link", rss_feed[0], href=hub, rel="hub")
        return rss_feed


@dataclass(frozen=True)
class Paging:
    """Where a feed document stands among the show's archives (RFC 5005 section 4): its own path in the site, the
    next older and next newer archive document ("" for none), and whether it is an archive (else the feed itself)."""

    path: str = FEED_FILE
    prev: str = ""
    next: str = ""
    archive: bool = False


class ArchiveExtension(BaseExtension):
    """RFC 5005 archived feeds: the feed links its newest archive (`prev-archive`); an archive is marked
    `<fh:archive/>` and links the feed (`current`) and its neighbours (`prev-archive`, `next-archive`)."""

    def __init__(self) -> None:
        self.links: tuple[tuple[str, str], ...] = ()  # (rel, absolute URL)
        self.archive = False

    def extend_ns(self):
        return {"atom": ATOM_NS, "fh": FH_NS}

    def extend_rss(self, rss_feed):
        channel = rss_feed[0]
        if self.archive:
            xml_elem(f"{{{FH_NS}}}archive", channel)
        for rel, href in self.links:
            xml_elem(f"{{{ATOM_NS}}}link", channel, href=href, rel=rel, type="application/rss+xml")
        return rss_feed


class StylesheetExtension(BaseExtension):
    """The `<?xml-stylesheet?>` processing instruction before the root: a browser opening the feed shows it through
    the site's XSL stylesheet as a page with subscribe help; podcast apps and feed parsers skip it."""

    def extend_rss(self, rss_feed):
        href = posixpath.relpath(FEED_STYLE, posixpath.dirname(FEED_FILE) or ".")
        rss_feed.addprevious(etree.ProcessingInstruction("xml-stylesheet", f'type="text/xsl" href="{href}"'))
        return rss_feed


def feed_html(item: Published) -> str:
    """The notes body as the HTML subset podcast apps render; relative links made absolute."""
    moved = {
        url: relinked(url, path if "://" in path else layout.url(item.site_url, quote(path)))
        for url, path in item.relinks
    }  # a post's address is whole
    raw = _feed_markdown.render(item.episode.notes.body, {"relink": moved})

    def absolute(tag: str, attribute: str, value: str) -> str | None:
        return urljoin(item.page_url, value) if tag == "a" and attribute == "href" else value

    body = nh3.clean(
        raw,
        tags=FEED_TAGS,
        attributes=FEED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        attribute_filter=absolute,
        link_rel=None,
    ).strip()
    listed = chapter_list(item.chapters, item.media.duration) if not has_timestamps(item.episode.notes.body) else ""
    return f"{body}\n{listed}" if body and listed else body or listed


def has_timestamps(body: str) -> bool:
    """Whether notes already list chapters as timestamped lines (three or more, as Apple reads them)."""
    return len(_TIMESTAMP_LINE.findall(body)) >= APPLE_MIN_CHAPTERS


def chapter_list(chapters: Sequence[Chapter], duration: float) -> str:
    """The chapters as the timestamped lines Apple Podcasts reads from an episode's notes ('' for fewer than three)."""
    if len(chapters) < APPLE_MIN_CHAPTERS:
        return ""
    long = duration >= 3600

    def clock(seconds: float) -> str:
        whole = int(seconds)
        hours, rest = divmod(whole, 3600)
        return f"{hours:02d}:{rest // 60:02d}:{rest % 60:02d}" if long else f"{rest // 60:02d}:{rest % 60:02d}"

    lines = "<br>\n".join(f"{clock(c.start)} {html.escape(c.title, quote=False)}" for c in chapters)
    return f"<p><strong>Chapters</strong></p>\n<p>{lines}</p>"


def _absolute(site_url: str, value: str) -> str:
    """A URL from the notes (a panelist's picture or page) made absolute against the site."""
    return urljoin(site_url, value) if value and urlsplit(urljoin(site_url, value)).scheme in ("http", "https") else ""


def _links(item: Published) -> tuple[tuple[Link, ...], Link | None]:
    """The episode's transcripts and chapters, from the files published beside it."""
    transcripts = tuple(
        Link(item.address(a.path), a.mime, a.language, a.rel) for a in item.own_files if a.mime in TRANSCRIPT_TYPES
    )
    chapters = next(
        (Link(item.address(a.path), a.mime) for a in item.own_files if a.mime == layout.CHAPTERS_TYPE),
        None,
    )
    return transcripts, chapters


def render(
    config: Config,
    items: Sequence[Published],
    build_date: datetime,
    artwork: str | None,
    podcast_guid: str = "",
    notes_html: Callable[[Published], str] = feed_html,
    artwork_sizes: Sequence[tuple[str, int]] = (),
    paging: Paging = Paging(),
) -> bytes:
    """The RSS feed (or one of its archive documents) as UTF-8 bytes; items are written in the order given (newest first)."""
    return xml(generator(config, items, artwork, podcast_guid, notes_html, artwork_sizes, paging), build_date)


def xml(fg: FeedGenerator, build_date: datetime) -> bytes:
    """A feed's bytes with its lastBuildDate (one generator serves several dates)."""
    fg.lastBuildDate(build_date)
    return fg.rss_str(pretty=True, encoding="UTF-8", xml_declaration=True)


def redated(xml_: bytes, was: datetime, build_date: datetime) -> bytes:
    """A feed's bytes from `xml` with another lastBuildDate: the same as writing it again, at none of the cost."""
    tag = lambda date: f"<lastBuildDate>{formatRFC2822(date)}</lastBuildDate>".encode()  # noqa: E731
    return xml_.replace(tag(was), tag(build_date), 1)


def generator(
    config: Config,
    items: Sequence[Published],
    artwork: str | None,
    podcast_guid: str = "",
    notes_html: Callable[[Published], str] = feed_html,
    artwork_sizes: Sequence[tuple[str, int]] = (),
    paging: Paging = Paging(),
    feed_file: str = FEED_FILE,
) -> FeedGenerator:
    """The feed, built and ready to write: items in the order given (newest first). `notes_html(item)` gives an
    item's notes as feed HTML (a memo of `feed_html` may stand in for it); `artwork_sizes`: (path, width) of every
    size of the artwork the site publishes, largest first; `paging`: where the document stands among the archives;
    `feed_file`: where this feed is published (the clean feed's)."""
    fg = channel(config, items, artwork, podcast_guid, artwork_sizes, paging, feed_file)
    _entries(fg, items, _show_guid(config, podcast_guid, feed_file), _prefix(config, feed_file), notes_html)
    return fg


def channel(
    config: Config,
    items: Sequence[Published],
    artwork: str | None,
    podcast_guid: str = "",
    artwork_sizes: Sequence[tuple[str, int]] = (),
    paging: Paging = Paging(),
    feed_file: str = FEED_FILE,
) -> FeedGenerator:
    """The feed's channel without its items (`items`: the episodes it will list, for the trailers it names);
    `spliced` writes it with the items `item_texts` wrote."""
    show = config.show
    fg = FeedGenerator()
    fg.load_extension("podcast", atom=False, rss=True)
    fg.register_extension("apple", AppleExtension, AppleEntryExtension, atom=False, rss=True)
    fg.register_extension("podcastindex", PodcastIndexExtension, PodcastIndexEntryExtension, atom=False, rss=True)
    fg.register_extension("websub", WebSubExtension, atom=False, rss=True)
    if not paging.archive:  # an archive is no place to subscribe: a browser shows it as the XML it is
        fg.register_extension("stylesheet", StylesheetExtension, atom=False, rss=True)
    fg.title(show.title)
    # feedgen writes the last link as RSS <link>: the self link (atom:link) must come first.
    fg.link(
        href=layout.url(config.site_url, paging.path if paging.archive else feed_file),
        rel="self",
        type="application/rss+xml",
    )
    fg.link(href=config.site_url, rel="alternate")
    fg.description(as_text(show.description))
    fg.language(show.language)
    fg.generator(f"panelpress {__version__}", uri="https://pypi.org/project/panelpress/")
    if show.copyright:
        fg.copyright(show.copyright)
    fg.podcast.itunes_author(show.author)
    fg.podcast.itunes_owner(name=config.owner_name, email=show.owner_email)
    fg.podcast.itunes_summary(as_text(show.description))
    if artwork:
        fg.image(url=layout.url(config.site_url, artwork), title=show.title, link=config.site_url)
        fg.podcast.itunes_image(layout.url(config.site_url, artwork))
    fg.apple.explicit = bool(show.explicit)  # not set: Apple requires a value, and clean is the default
    fg.apple.category = (show.category, show.subcategory)
    fg.apple.show_type = show.type
    fg.apple.new_feed_url = show.new_feed_url or None
    fg.apple.block = show.block
    fg.apple.complete = show.complete
    fg.podcastindex.guid = _show_guid(config, podcast_guid, feed_file)
    fg.podcastindex.locked = config.podcast.locked
    fg.podcastindex.owner = show.owner_email
    if config.podcast.funding_url:
        fg.podcastindex.funding = (config.podcast.funding_url, config.podcast.funding_text)
    fg.podcastindex.medium = config.podcast.medium
    _channel_extras(fg, config, items, artwork_sizes)
    _paging(fg, config, paging)
    return fg


# Items are written this many to a document: a first build of a thousand episodes never holds the whole tree.
ITEMS_AT_ONCE = 50
_ITEM_OPEN, _ITEM_CLOSE, _CHANNEL_CLOSE = "    <item>\n", "    </item>\n", "  </channel>\n"


def item_texts(
    config: Config,
    items: Sequence[Published],
    podcast_guid: str = "",
    notes_html: Callable[[Published], str] = feed_html,
    feed_file: str = FEED_FILE,
) -> list[str]:
    """Each item's `<item>` element as a feed document writes it, indented and with its line end: what `spliced`
    joins into the channel, byte for byte what `generator` writes (so an item can be kept and written again
    without being made again)."""
    show_guid, prefix = _show_guid(config, podcast_guid, feed_file), _prefix(config, feed_file)
    texts: list[str] = []
    for start in range(0, len(items), ITEMS_AT_ONCE):
        chunk = items[start : start + ITEMS_AT_ONCE]
        found = _cut(_items_document(chunk, show_guid, prefix, notes_html))
        if len(found) != len(chunk):  # cannot happen with sanitised notes; written one to a document, it is exact
            found = [_cut(_items_document([item], show_guid, prefix, notes_html))[0] for item in chunk]
        texts += found
    return texts


def _items_document(
    items: Sequence[Published], show_guid: str, prefix: str, notes_html: Callable[[Published], str]
) -> str:
    """A bare document of these items, with the namespaces of every feed's root (items use no others)."""
    fg = FeedGenerator()
    fg.load_extension("podcast", atom=False, rss=True)
    fg.register_extension("apple", AppleExtension, AppleEntryExtension, atom=False, rss=True)
    fg.register_extension("podcastindex", PodcastIndexExtension, PodcastIndexEntryExtension, atom=False, rss=True)
    fg.title("items")
    fg.link(href="https://example.invalid/")
    fg.description("items")
    _entries(fg, items, show_guid, prefix, notes_html)
    return fg.rss_str(pretty=True, encoding="UTF-8", xml_declaration=True).decode()


def _cut(document: str) -> list[str]:
    """The item elements of a document (the last children of its channel), each with its indentation and line end."""
    start = document.find("\n" + _ITEM_OPEN) + 1 + len(_ITEM_OPEN)
    end = document.rfind(_ITEM_CLOSE + _CHANNEL_CLOSE)
    if start == len(_ITEM_OPEN) or end < start:
        return []
    return [_ITEM_OPEN + part + _ITEM_CLOSE for part in document[start:end].split(_ITEM_CLOSE + _ITEM_OPEN)]


def spliced(fg: FeedGenerator, build_date: datetime, texts: Sequence[str]) -> bytes:
    """A feed's bytes: its channel (`channel`, with its lastBuildDate) and the items `item_texts` wrote, in order."""
    shell = xml(fg, build_date)
    at = shell.rfind(_CHANNEL_CLOSE.encode())
    return shell[:at] + "".join(texts).encode() + shell[at:]


def item_context(config: Config, podcast_guid: str = "", feed_file: str = FEED_FILE) -> tuple[str, str]:
    """What an item shows besides its own record: the podcast GUID and the analytics prefix of its enclosure."""
    return _show_guid(config, podcast_guid, feed_file), _prefix(config, feed_file)


def _show_guid(config: Config, podcast_guid: str, feed_file: str) -> str:
    return podcast_guid or rules.podcast_guid(layout.url(config.site_url, feed_file))


def _prefix(config: Config, feed_file: str) -> str:
    """The analytics prefix of the enclosures ([deploy] prefix), left off the clean feed's where the host says so."""
    return config.deploy.prefix if feed_file != layout.CLEAN_FEED_FILE or config.deploy.prefix_clean else ""


def _entries(
    fg: FeedGenerator, items: Sequence[Published], show_guid: str, prefix: str, notes_html: Callable[[Published], str]
) -> None:
    """The items of a feed, appended in the order given."""
    for item in items:
        notes = item.episode.notes
        entry = fg.add_entry(order="append")
        entry.title(notes.title)
        entry.guid(item.guid, permalink=False)
        entry.pubDate(item.pub_date)
        entry.link(href=item.page_url)
        entry.enclosure(layout.measured(prefix, item.media_url, show_guid), str(item.media.length), item.media.mime)
        entry.description(as_text(notes.summary or notes.title))
        body = notes_html(item)
        if body:
            # CDATA as Apple asks; "]]>" cannot occur in sanitized HTML text, but never let it end the section early
            entry.content(body, type="CDATA" if "]]>" not in body else None)
        entry.podcast.itunes_duration(int(round(item.media.duration)))
        if notes.panelists:
            entry.podcast.itunes_author(", ".join(p.name for p in notes.panelists))
        entry.apple.title = notes.title
        entry.apple.explicit = item.explicit
        entry.apple.episode_type = notes.episode_type
        entry.apple.season = notes.season
        entry.apple.episode = notes.episode
        entry.apple.image = layout.url(item.site_url, item.image) if item.image else None
        entry.podcastindex.season = notes.season
        entry.podcastindex.episode = notes.episode
        entry.podcastindex.persons = tuple(
            Panelist(
                p.name, ROLES.get(p.role, "guest"), _absolute(item.site_url, p.img), _absolute(item.site_url, p.href)
            )
            for p in notes.panelists
        )
        entry.podcastindex.transcripts, entry.podcastindex.chapters = _links(item)
        entry.podcastindex.soundbites = item.soundbites
        entry.podcastindex.location = notes.location
        entry.podcastindex.social = notes.comments
        if notes.comments and urlsplit(notes.comments.url).scheme in ("http", "https"):
            entry.comments(notes.comments.url)  # RSS's own comments link: every app that shows one
        entry.podcastindex.editions = _editions(item)


def _channel_extras(
    fg: FeedGenerator, config: Config, items: Sequence[Published], artwork_sizes: Sequence[tuple[str, int]]
) -> None:
    """The Podcasting 2.0 channel elements from the settings, the artwork sizes and the trailer episodes; the hubs."""
    podcast, ext = config.podcast, fg.podcastindex
    ext.txt = podcast.txt
    ext.podroll = podcast.podroll
    if podcast.license:
        ext.license = (podcast.license, podcast.license_url or rules.license_url(podcast.license))
    ext.location = podcast.location
    if podcast.update_frequency:
        rule, word = rules.frequency(podcast.update_frequency)
        ext.update_frequency = (rule, podcast.update_frequency_text or word, config.show.complete)
    ext.images = tuple(Image(layout.url(config.site_url, path), width) for path, width in artwork_sizes)
    ext.trailers = tuple(
        Trailer(
            _short(item.episode.notes.title, rules.TEXT_LIMIT),
            item.media_url,
            item.pub_date,
            item.media.length,
            item.media.mime,
            item.episode.notes.season,
        )
        for item in items
        if item.episode.notes.episode_type == "trailer"
    )
    fg.websub.hubs = config.notify.hubs


def _paging(fg: FeedGenerator, config: Config, paging: Paging) -> None:
    """The archive links of a document; an archive document is never a place to subscribe, so it names no hub. A feed
    without archives is written as it always was (no history namespace)."""
    if not (paging.archive or paging.prev or paging.next):
        return
    fg.register_extension("archives", ArchiveExtension, atom=False, rss=True)
    links = [("current", layout.feed_url(config.site_url))] if paging.archive else []
    links += [
        (rel, layout.url(config.site_url, path))
        for rel, path in (("prev-archive", paging.prev), ("next-archive", paging.next))
        if path
    ]
    fg.archives.links, fg.archives.archive = tuple(links), paging.archive
    if paging.archive:
        fg.websub.hubs = ()


def _short(text: str, limit: int) -> str:
    """Text cut to `limit` characters at a word, with an ellipsis (a hint for apps, never a title that is published whole elsewhere)."""
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0].rstrip() + "…"


_EDITION_TITLES = {"audio/mpeg": "MP3", "audio/mp4": "AAC"}  # what apps show to choose the enclosure's own edition


def _editions(item: Published) -> tuple[Edition, ...]:
    """The episode's audio editions for podcast:alternateEnclosure: the enclosure (the default) and the others."""
    if not item.alternates:
        return ()
    media = item.media
    bitrate = round(media.length * 8 / media.duration) if media.duration else 0
    own = Alternate(
        item.media_path,
        media.mime,
        media.length,
        bitrate,
        _EDITION_TITLES.get(media.mime, media.mime),
        media.sha256,
        duration=media.duration,
    )
    return (
        Edition(item.media_url, own, default=True),
        *(Edition(item.address(alt.path), alt) for alt in item.alternates),
    )
