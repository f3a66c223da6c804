"""The site's layout: every path and URL panelpress publishes is decided here, and nowhere else.

Published addresses must never move (subscribers' apps and the ledger hold them), so neither may these rules.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from .discover import web_slug

MEDIA_DIR = "media"
PAGES_DIR = "episodes"
INDEX_PAGE = "index.html"
FEED_FILE = "feed.xml"
ARCHIVE_DIR = "archive"
CLEAN_FEED_FILE = "feed-clean.xml"  # the clean edition's feed ([clean] edition)
FEED_STYLE = "feed.xsl"  # the feed's stylesheet: what a browser shows for feed.xml (beside it: the feed names it relatively)
SUBSCRIBE_PAGE = "subscribe.html"
ASSETS_DIR = "assets"
STYLESHEET = f"{ASSETS_DIR}/site.css"
SCRIPT = f"{ASSETS_DIR}/site.js"
ICONS_DIR = "icons"
# The preview server's own address (`panelpress serve`), outside any site path: a site never publishes hidden names.
PREVIEW_EVENTS = "/.panelpress/events"
MANIFEST = ".panelpress-manifest.json"
LOCK = ".panelpress-lock"
# Files of panelpress's own bookkeeping in the site folder: never part of a plan, never published as content.
RESERVED = (MANIFEST, LOCK, LOCK + ".pid")


def name(slug: str) -> str:
    """The episode's name in URLs: its slug made safe for any web server."""
    return web_slug(slug)


def media(slug: str, fmt: str) -> str:
    """Where an episode's audio is published."""
    return f"{MEDIA_DIR}/{name(slug)}.{fmt}"


def edition(slug: str, fmt: str, label: str = "") -> str:
    """Where another edition of an episode's audio is published, beside its enclosure: `media/<name>.opus`, or with
    a label for other content (`media/<name>.clean.mp3`)."""
    return f"{MEDIA_DIR}/{name(slug)}{'.' + label if label else ''}.{fmt}"


def page(slug: str) -> str:
    """Where an episode's show-notes page is published."""
    return f"{PAGES_DIR}/{name(slug)}.html"


def beside_page(slug: str, suffix: str = "") -> str:
    """A file published beside the episode's page (`.vtt`, `.chapters.json`, `.jpg`); without `suffix`, the base path."""
    return f"{PAGES_DIR}/{name(slug)}{suffix}"


def linked(slug: str, local: str) -> str:
    """Where a file the notes link to (`slides.pdf`, relative to the notes) is published: a folder of the episode's own."""
    return f"{PAGES_DIR}/{name(slug)}/{local}"


def archive(number: int) -> str:
    """Where archive feed document `number` is published (RFC 5005; 1 holds the oldest episodes). An archive's address
    never moves: apps that followed the links keep them."""
    return f"{ARCHIVE_DIR}/feed-{number}.xml"


def artwork(source: Path | None) -> str | None:
    """Where the show's artwork is published (None without artwork)."""
    return f"artwork{source.suffix.lower()}" if source else None


def icon(name: str) -> str:
    """Where an icon made from the show's artwork is published (`favicon.ico`, `apple-touch-icon.png`, …)."""
    return f"{ICONS_DIR}/{name}"


def url(site_url: str, rel: str) -> str:
    """The public address of a path in the site folder (`site_url` ends with "/")."""
    return site_url + rel


def path_prefix(site_url: str) -> str:
    """The path the site folder is served under, from `site_url` ("/podcast/" for https://example.com/podcast/)."""
    path = urlsplit(site_url).path
    return path if path.endswith("/") else path + "/"


def depth_root(rel: str) -> str:
    """The relative way from a page at `rel` back to the site folder ("", "../", …)."""
    return "../" * rel.count("/")


def is_safe(rel: str) -> bool:
    """Whether a plan path stays inside the site folder and is not panelpress's own bookkeeping."""
    parts = rel.split("/")
    return bool(rel) and not rel.startswith("/") and "\\" not in rel and not {"..", ".", ""} & set(parts) and rel not in RESERVED
