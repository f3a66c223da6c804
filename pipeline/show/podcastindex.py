"""The Podcasting 2.0 namespace (podcastindex.org) as a feedgen extension: guid, locked, funding, medium, person, …
(The rules its values follow, checked in the settings and the notes before any work, are in `namespace_rules.py`.)"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime

import lxml.etree  # noqa: F401  (feedgen.util reads lxml.etree without importing it)
from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.util import xml_elem

from .. import layout
from ..namespace_rules import seconds
from ..records import Alternate, Location, Panelist, RemoteItem, Social, Soundbite

PODCAST_NS = "https://podcastindex.org/namespace/1.0"
# Clients must treat the namespace's first address as the same namespace (some parsers know only this one).
LEGACY_PODCAST_NS = "https://github.com/Podcastindex-org/podcast-namespace/blob/main/docs/1.0.md"

# panelpress roles → the Podcast Taxonomy's roles (group "cast"). The taxonomy has no "moderator":
# its Host is "the on-air master of ceremonies … conducting interviews", which is what a panel's moderator does.
ROLES = {"host": "host", "guest": "guest", "moderator": "host"}

TRANSCRIPT_TYPES = (layout.VTT_TYPE, layout.SRT_TYPE, layout.TRANSCRIPT_JSON_TYPE, "text/html", "text/plain")

# --- the feedgen extension ------------------------------------------------------------------------------------------


def _tag(name: str) -> str:
    return f"{{{PODCAST_NS}}}{name}"


def _element(parent, name: str, text: str | None = None, **attrs: str):
    element = xml_elem(_tag(name), parent)
    for key, value in attrs.items():
        if value:
            element.attrib[key] = value
    if text is not None:
        element.text = text
    return element


@dataclass(frozen=True)
class Link:
    """A podcast:transcript or podcast:chapters link."""

    url: str
    type: str
    language: str = ""
    rel: str = ""


@dataclass(frozen=True)
class Image:
    """One size of the show's artwork: its address, width in pixels and type."""

    url: str
    width: int
    type: str = "image/jpeg"


@dataclass(frozen=True)
class Trailer:
    """A trailer episode, as podcast:trailer names it in the channel."""

    title: str
    url: str
    pub_date: datetime
    length: int
    type: str
    season: int | None = None


@dataclass(frozen=True)
class Edition:
    """An edition of an episode's audio at an address (podcast:alternateEnclosure): the enclosure itself, or another."""

    url: str
    alternate: Alternate
    default: bool = False


def _location(parent, location: Location) -> None:
    _element(
        parent,
        "location",
        location.name,
        rel=location.rel,
        geo=location.geo,
        osm=location.osm,
        country=location.country.lower(),
    )


class PodcastIndexExtension(BaseExtension):
    """Channel elements: guid, locked, funding, medium, txt, podroll, license, location, updateFrequency, images, trailer."""

    def __init__(self) -> None:
        self.guid: str | None = None
        self.locked: bool | None = None
        self.owner: str = ""
        self.funding: tuple[str, str] | None = None  # (url, text)
        self.medium: str | None = None
        self.txt: tuple[tuple[str, str], ...] = ()  # (purpose, text)
        self.podroll: tuple[RemoteItem, ...] = ()
        self.license: tuple[str, str] | None = None  # (identifier, url)
        self.location: Location | None = None
        self.update_frequency: tuple[str, str, bool] | None = None  # (rrule, text, complete)
        self.images: tuple[Image, ...] = ()  # largest first
        self.trailers: tuple[Trailer, ...] = ()

    def extend_ns(self):
        return {"podcast": PODCAST_NS}

    def extend_rss(self, rss_feed):
        channel = rss_feed[0]
        if self.guid:
            _element(channel, "guid", self.guid)
        if self.locked is not None:
            _element(channel, "locked", "yes" if self.locked else "no", owner=self.owner)
        if self.funding:
            url, text = self.funding
            _element(channel, "funding", text, url=url)
        if self.medium:
            _element(channel, "medium", self.medium)
        for purpose, text in self.txt:
            _element(channel, "txt", text, purpose=purpose)
        if self.podroll:
            roll = _element(channel, "podroll")
            for item in self.podroll:
                _element(roll, "remoteItem", feedGuid=item.feed_guid, feedUrl=item.feed_url, title=item.title)
        if self.license:
            identifier, url = self.license
            _element(channel, "license", identifier, url=url)
        if self.location:
            _location(channel, self.location)
        if self.update_frequency:
            rule, text, complete = self.update_frequency
            _element(channel, "updateFrequency", text, rrule=rule, complete="true" if complete else "")
        if self.images:
            # podcast:images (srcset) is what Podcast Index apps read today; podcast:image, its successor, says the same per size
            _element(channel, "images", srcset=", ".join(f"{image.url} {image.width}w" for image in self.images))
            for image in self.images:
                _element(channel, "image", href=image.url, width=str(image.width), type=image.type, purpose="artwork")
        for trailer in self.trailers:
            _element(
                channel,
                "trailer",
                trailer.title,
                pubdate=format_datetime(trailer.pub_date),
                url=trailer.url,
                length=str(trailer.length),
                type=trailer.type,
                season=str(trailer.season) if trailer.season else "",
            )
        return rss_feed


class PodcastIndexEntryExtension(BaseEntryExtension):
    """Item elements: season, episode, person, transcript, chapters, soundbite, location, socialInteract,
    alternateEnclosure."""

    def __init__(self) -> None:
        self.season: int | None = None
        self.episode: int | None = None
        self.persons: tuple[Panelist, ...] = ()  # roles from the Podcast Taxonomy (see ROLES), URLs absolute
        self.transcripts: tuple[Link, ...] = ()
        self.chapters: Link | None = None
        self.soundbites: tuple[Soundbite, ...] = ()
        self.location: Location | None = None
        self.social: Social | None = None
        self.editions: tuple[Edition, ...] = ()

    def extend_ns(self):
        return {"podcast": PODCAST_NS}

    def extend_rss(self, entry):
        if self.season is not None:
            _element(entry, "season", str(self.season))
        if self.episode is not None:
            _element(entry, "episode", str(self.episode))
        for person in self.persons:
            _element(entry, "person", person.name, role=person.role, group="cast", img=person.img, href=person.href)
        for link in self.transcripts:
            _element(entry, "transcript", url=link.url, type=link.type, language=link.language, rel=link.rel)
        if self.chapters:
            _element(entry, "chapters", url=self.chapters.url, type=self.chapters.type)
        for bite in self.soundbites:
            _element(
                entry, "soundbite", bite.title or None, startTime=seconds(bite.start), duration=seconds(bite.duration)
            )
        if self.location:
            _location(entry, self.location)
        if self.social and self.social.protocol == "disabled":
            _element(entry, "socialInteract", protocol="disabled")
        elif self.social and self.social.protocol:
            social = self.social
            _element(
                entry,
                "socialInteract",
                protocol=social.protocol,
                uri=social.url,
                accountId=social.account,
                accountUrl=social.account_url,
            )
        for edition in self.editions:
            alt = edition.alternate
            element = _element(
                entry,
                "alternateEnclosure",
                type=alt.mime,
                length=str(alt.length),
                bitrate=str(alt.bitrate),
                title=alt.title,
                rel=alt.rel,
                codecs=alt.codecs,
                default="true" if edition.default else "",
            )
            _element(element, "source", uri=edition.url)
            _element(element, "integrity", type="sri", value=alt.integrity)
        return entry
