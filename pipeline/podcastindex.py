"""The Podcasting 2.0 namespace (podcastindex.org) as a feedgen extension: guid, locked, funding, medium, person, …"""

from __future__ import annotations

from dataclasses import dataclass

from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.util import xml_elem

from .records import Panelist

PODCAST_NS = "https://podcastindex.org/namespace/1.0"
# Clients must treat the namespace's first address as the same namespace (some parsers know only this one).
LEGACY_PODCAST_NS = "https://github.com/Podcastindex-org/podcast-namespace/blob/main/docs/1.0.md"

# panelpress roles → the Podcast Taxonomy's roles (group "cast"). The taxonomy has no "moderator":
# its Host is "the on-air master of ceremonies … conducting interviews", which is what a panel's moderator does.
ROLES = {"host": "host", "guest": "guest", "moderator": "host"}

TRANSCRIPT_TYPES = ("text/vtt", "application/x-subrip", "application/json", "text/html", "text/plain")
CHAPTERS_TYPE = "application/json+chapters"


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


class PodcastIndexExtension(BaseExtension):
    """Channel elements: podcast:guid, podcast:locked, podcast:funding, podcast:medium."""

    def __init__(self) -> None:
        self.guid: str | None = None
        self.locked: bool | None = None
        self.owner: str = ""
        self.funding: tuple[str, str] | None = None  # (url, text)
        self.medium: str | None = None

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
        return rss_feed


class PodcastIndexEntryExtension(BaseEntryExtension):
    """Item elements: podcast:season, podcast:episode, podcast:person, podcast:transcript, podcast:chapters."""

    def __init__(self) -> None:
        self.season: int | None = None
        self.episode: int | None = None
        self.persons: tuple[Panelist, ...] = ()  # roles from the Podcast Taxonomy (see ROLES), URLs absolute
        self.transcripts: tuple[Link, ...] = ()
        self.chapters: Link | None = None

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
        return entry
