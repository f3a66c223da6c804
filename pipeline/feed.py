"""Feed: show + published episodes → RSS 2.0 with the iTunes namespace. Pure: returns bytes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.feed import FeedGenerator
from feedgen.util import xml_elem

from . import __version__
from .config import Config
from .pages import FEED_FILE, notes_html
from .records import Published

ITUNES_NS = "http://www.itunes.com/dtds/podcast-1.0.dtd"


def apple_bool(value: bool) -> str:
    """Apple's current spelling of a flag: true/false (not yes/no/clean)."""
    return "true" if value else "false"


class AppleExtension(BaseExtension):
    """Channel elements feedgen's podcast extension gets wrong or lacks: explicit, category, type."""

    def __init__(self) -> None:
        self.explicit: bool | None = None
        self.category: tuple[str, str] | None = None
        self.show_type: str | None = None

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
        return rss_feed


class AppleEntryExtension(BaseEntryExtension):
    """Item elements feedgen lacks: explicit true/false, title, episode, season, episodeType."""

    def __init__(self) -> None:
        self.explicit: bool | None = None
        self.title: str | None = None
        self.episode: int | None = None
        self.season: int | None = None
        self.episode_type: str | None = None

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
        return entry


def feed_url(config: Config) -> str:
    """Where subscribers fetch the feed."""
    return config.site_url + FEED_FILE


def render(config: Config, items: Sequence[Published], build_date: datetime, artwork: str | None) -> bytes:
    """The RSS feed as UTF-8 bytes; items are written in the order given (newest first)."""
    show = config.show
    fg = FeedGenerator()
    fg.load_extension("podcast", atom=False, rss=True)
    fg.register_extension("apple", AppleExtension, AppleEntryExtension, atom=False, rss=True)
    fg.title(show.title)
    # feedgen writes the last link as RSS <link>: the self link (atom:link) must come first.
    fg.link(href=feed_url(config), rel="self", type="application/rss+xml")
    fg.link(href=config.site_url, rel="alternate")
    fg.description(show.description)
    fg.language(show.language)
    fg.generator(f"panelpress {__version__}", uri="https://pypi.org/project/panelpress/")
    fg.lastBuildDate(build_date)
    if show.copyright:
        fg.copyright(show.copyright)
    fg.podcast.itunes_author(show.author)
    fg.podcast.itunes_owner(name=config.owner_name, email=show.owner_email)
    fg.podcast.itunes_summary(show.description)
    if artwork:
        fg.image(url=config.site_url + artwork, title=show.title, link=config.site_url)
        fg.podcast.itunes_image(config.site_url + artwork)
    fg.apple.explicit = show.explicit
    fg.apple.category = (show.category, show.subcategory)
    fg.apple.show_type = show.type

    for item in items:
        notes = item.episode.notes
        entry = fg.add_entry(order="append")
        entry.title(notes.title)
        entry.guid(item.guid, permalink=False)
        entry.pubDate(item.pub_date)
        entry.link(href=item.page_url)
        entry.enclosure(item.media_url, str(item.media.length), item.media.mime)
        entry.description(notes.summary or notes.title)
        body = str(notes_html(item))
        if body.strip():
            entry.content(body, type="CDATA")
        entry.podcast.itunes_duration(int(round(item.media.duration)))
        if notes.panelists:
            entry.podcast.itunes_author(", ".join(p.name for p in notes.panelists))
        entry.apple.title = notes.title
        entry.apple.explicit = item.explicit
        entry.apple.episode_type = notes.episode_type
        entry.apple.season = notes.season
        entry.apple.episode = notes.episode
    return fg.rss_str(pretty=True, encoding="UTF-8", xml_declaration=True)
