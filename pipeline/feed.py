"""Feed: show + published episodes → RSS 2.0 with the iTunes namespace. Pure: returns bytes."""

from __future__ import annotations

import html
import posixpath
import re
from collections.abc import Callable, Sequence
from datetime import datetime
from urllib.parse import quote, urljoin, urlsplit

import nh3
from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.feed import FeedGenerator
from feedgen.util import xml_elem
from lxml import etree
from markdown_it.common.utils import escapeHtml

from . import __version__, ledger
from .config import Config
from .notes import markdown as notes_markdown
from .notes import relinked
from .layout import FEED_FILE, FEED_STYLE
from .podcastindex import CHAPTERS_TYPE, ROLES, TRANSCRIPT_TYPES, Link, PodcastIndexEntryExtension, PodcastIndexExtension
from .records import Panelist, Published

ITUNES_NS = "http://www.itunes.com/dtds/podcast-1.0.dtd"

# What podcast apps render in show notes. Apple documents <p> <ol> <ul> <li> <a> (and honours <br>);
# Overcast, Pocket Casts, AntennaPod and Podverse also show emphasis, quotes and code, which Apple shows
# as plain text, so those stay. Headings become bold paragraphs (Apple runs them into the next line);
# images, tables, rules and anything else are dropped, keeping their text.
FEED_TAGS = {"p", "br", "a", "ul", "ol", "li", "strong", "b", "em", "i", "blockquote", "code", "pre"}
FEED_ATTRIBUTES = {"a": {"href"}}
URL_SCHEMES = {"http", "https", "mailto"}

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
    "heading_open": "<p><strong>", "heading_close": "</strong></p>\n",
    "table_open": "", "table_close": "", "thead_open": "", "thead_close": "", "tbody_open": "", "tbody_close": "",
    "tr_open": "<p>", "tr_close": "</p>\n", "th_close": "", "td_close": "",
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


class StylesheetExtension(BaseExtension):
    """The `<?xml-stylesheet?>` processing instruction before the root: a browser opening the feed shows it through
    the site's XSL stylesheet as a page with subscribe help; podcast apps and feed parsers skip it."""

    def extend_rss(self, rss_feed):
        href = posixpath.relpath(FEED_STYLE, posixpath.dirname(FEED_FILE) or ".")
        rss_feed.addprevious(etree.ProcessingInstruction("xml-stylesheet", f'type="text/xsl" href="{href}"'))
        return rss_feed


def feed_url(config: Config) -> str:
    """Where subscribers fetch the feed."""
    return config.site_url + FEED_FILE


def feed_html(item: Published) -> str:
    """The notes body as the HTML subset podcast apps render; relative links made absolute."""
    moved = {url: relinked(url, item.site_url + quote(path)) for url, path in item.relinks}
    raw = _feed_markdown.render(item.episode.notes.body, {"relink": moved})

    def absolute(tag: str, attribute: str, value: str) -> str | None:
        return urljoin(item.page_url, value) if tag == "a" and attribute == "href" else value

    return nh3.clean(raw, tags=FEED_TAGS, attributes=FEED_ATTRIBUTES, url_schemes=URL_SCHEMES, attribute_filter=absolute, link_rel=None).strip()


def _absolute(site_url: str, value: str) -> str:
    """A URL from the notes (a panelist's picture or page) made absolute against the site."""
    return urljoin(site_url, value) if value and urlsplit(urljoin(site_url, value)).scheme in ("http", "https") else ""


def _links(item: Published) -> tuple[tuple[Link, ...], Link | None]:
    """The episode's transcripts and chapters, from the files published beside it."""
    transcripts = tuple(Link(item.site_url + a.path, a.mime, a.language, a.rel) for a in item.own_files if a.mime in TRANSCRIPT_TYPES)
    chapters = next((Link(item.site_url + a.path, a.mime) for a in item.own_files if a.mime == CHAPTERS_TYPE), None)
    return transcripts, chapters


def render(config: Config, items: Sequence[Published], build_date: datetime, artwork: str | None, podcast_guid: str = "", notes_html: Callable[[Published], str] = feed_html) -> bytes:
    """The RSS feed as UTF-8 bytes; items are written in the order given (newest first)."""
    return xml(generator(config, items, artwork, podcast_guid, notes_html), build_date)


def xml(fg: FeedGenerator, build_date: datetime) -> bytes:
    """A feed's bytes with its lastBuildDate (one generator serves several dates)."""
    fg.lastBuildDate(build_date)
    return fg.rss_str(pretty=True, encoding="UTF-8", xml_declaration=True)


def generator(config: Config, items: Sequence[Published], artwork: str | None, podcast_guid: str = "", notes_html: Callable[[Published], str] = feed_html) -> FeedGenerator:
    """The feed, built and ready to write: items in the order given (newest first). `notes_html(item)` gives an
    item's notes as feed HTML (a memo of `feed_html` may stand in for it)."""
    show = config.show
    fg = FeedGenerator()
    fg.load_extension("podcast", atom=False, rss=True)
    fg.register_extension("apple", AppleExtension, AppleEntryExtension, atom=False, rss=True)
    fg.register_extension("podcastindex", PodcastIndexExtension, PodcastIndexEntryExtension, atom=False, rss=True)
    fg.register_extension("stylesheet", StylesheetExtension, atom=False, rss=True)
    fg.title(show.title)
    # feedgen writes the last link as RSS <link>: the self link (atom:link) must come first.
    fg.link(href=feed_url(config), rel="self", type="application/rss+xml")
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
        fg.image(url=config.site_url + artwork, title=show.title, link=config.site_url)
        fg.podcast.itunes_image(config.site_url + artwork)
    fg.apple.explicit = bool(show.explicit)  # not set: Apple requires a value, and clean is the default
    fg.apple.category = (show.category, show.subcategory)
    fg.apple.show_type = show.type
    fg.apple.new_feed_url = show.new_feed_url or None
    fg.apple.block = show.block
    fg.apple.complete = show.complete
    fg.podcastindex.guid = podcast_guid or ledger.podcast_guid(feed_url(config))
    fg.podcastindex.locked = config.podcast.locked
    fg.podcastindex.owner = show.owner_email
    if config.podcast.funding_url:
        fg.podcastindex.funding = (config.podcast.funding_url, config.podcast.funding_text)
    fg.podcastindex.medium = config.podcast.medium

    for item in items:
        notes = item.episode.notes
        entry = fg.add_entry(order="append")
        entry.title(notes.title)
        entry.guid(item.guid, permalink=False)
        entry.pubDate(item.pub_date)
        entry.link(href=item.page_url)
        entry.enclosure(item.media_url, str(item.media.length), item.media.mime)
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
        entry.apple.image = item.site_url + item.image if item.image else None
        entry.podcastindex.season = notes.season
        entry.podcastindex.episode = notes.episode
        entry.podcastindex.persons = tuple(Panelist(p.name, ROLES.get(p.role, "guest"), _absolute(item.site_url, p.img), _absolute(item.site_url, p.href)) for p in notes.panelists)
        entry.podcastindex.transcripts, entry.podcastindex.chapters = _links(item)
    return fg
