"""The site's layout: every path and URL panelpress publishes is decided here, and nowhere else.

Published addresses must never move (subscribers' apps and the ledger hold them), so neither may these rules.
"""

from __future__ import annotations

import functools
import mimetypes
import posixpath
import re
import unicodedata
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from .engines import ENGINE, TOKENS

MEDIA_DIR = "media"
PAGES_DIR = "episodes"
INDEX_PAGE = "index.html"
FEED_FILE = "feed.xml"
ARCHIVE_DIR = "archive"
CLEAN_FEED_FILE = "feed-clean.xml"  # the clean edition's feed ([clean] edition)
FEED_STYLE = (
    "feed.xsl"  # the feed's stylesheet: what a browser shows for feed.xml (beside it: the feed names it relatively)
)
SUBSCRIBE_PAGE = "subscribe.html"
ASSETS_DIR = "assets"
STYLESHEET = f"{ASSETS_DIR}/site.css"
SCRIPT = f"{ASSETS_DIR}/site.js"
APP_ICONS = f"{ASSETS_DIR}/icons.svg"
ICONS_DIR = "icons"
# The types of the files published beside an episode's page (its transcripts and chapters), as feed and pages name them.
VTT_TYPE = "text/vtt"
SRT_TYPE = "application/x-subrip"
TRANSCRIPT_JSON_TYPE = "application/json"  # the Podcasting 2.0 JSON transcript
CHAPTERS_TYPE = "application/json+chapters"
# The enclosure types of the audio formats, as the feed and the tags name them (Ogg Opus is audio/ogg: RFC 7845).
AUDIO_TYPES = {"mp3": "audio/mpeg", "m4a": "audio/mp4", "opus": "audio/ogg"}
# What each published file is served with, by its name's ending: the object metadata a deploy sets and what the
# preview server sends (browsers and apps go by these, not by the name; `served_type` guesses the rest).
SERVED_TYPES = {
    ".mp3": AUDIO_TYPES["mp3"],
    ".m4a": AUDIO_TYPES["m4a"],
    ".opus": "audio/ogg; codecs=opus",
    ".ogg": "audio/ogg",
    ".xml": "application/rss+xml",
    ".xsl": "text/xsl; charset=utf-8",
    ".vtt": f"{VTT_TYPE}; charset=utf-8",
    ".srt": f"{SRT_TYPE}; charset=utf-8",
    ".json": TRANSCRIPT_JSON_TYPE,
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".webp": "image/webp",
    ".gif": "image/gif",
    ".svg": "image/svg+xml",
    ".ico": "image/vnd.microsoft.icon",
    ".webmanifest": "application/manifest+json",
    ".pdf": "application/pdf",
    ".txt": "text/plain; charset=utf-8",
}
# A transcript's files beside the page, by kind; "json" is the Podcasting 2.0 JSON transcript.
TRANSCRIPT_SUFFIXES = {"vtt": ".vtt", "srt": ".srt", "json": ".transcript.json"}
CLEAN = "clean"  # the label of the clean edition's files (`media/<name>.clean.mp3`) and its alternateEnclosure rel
# The preview server's own address (`panelpress serve`), outside any site path: a site never publishes hidden names.
PREVIEW_EVENTS = "/.panelpress/events"
PREVIEW_STUDIO = "/.panelpress/studio/"  # the studio page for hosts: served to this machine alone, never published
MANIFEST = ".panelpress-manifest.json"
LOCK = ".panelpress-lock"
# What `panelpress deploy` last put at a destination (kept there, beside the site, as MANIFEST is in the folder).
DEPLOY_MANIFEST = ".panelpress-deploy.json"
REDIRECTS = "_redirects"  # a move's redirect, for Pages hosts (Netlify, Cloudflare Pages) that read it
HEADERS = "_headers"  # response headers (CORS), for the same Pages hosts
# Files of panelpress's own bookkeeping in the site folder: never part of a plan, never published as content.
RESERVED = (MANIFEST, LOCK, LOCK + ".pid", DEPLOY_MANIFEST)


@functools.lru_cache(maxsize=8192)  # asked for each episode's every path, on every build
def web_slug(slug: str) -> str:
    """A slug safe in any URL: lower-case ASCII letters, digits and hyphens."""
    ascii_text = unicodedata.normalize("NFKD", slug).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-") or "episode"


def name(slug: str) -> str:
    """The episode's name in URLs: its slug made safe for any web server."""
    return web_slug(slug)


def media(slug: str, fmt: str) -> str:
    """Where an episode's audio is published."""
    return f"{MEDIA_DIR}/{name(slug)}.{fmt}"


def edition(slug: str, fmt: str, label: str = "") -> str:
    """Where another edition of an episode's audio is published, beside its enclosure: `media/<name>.opus`, or with
    a label for other content (`media/<name>.clean.mp3`)."""
    return f"{MEDIA_DIR}/{name(slug)}{_label(label)}.{fmt}"


# A clip's frame by shape ([clips] shapes): square for feeds, vertical for stories and reels.
CLIP_SIZES = {"square": (1080, 1080), "vertical": (1080, 1920)}
CLIPS_MANIFEST = ".panelpress-clips.json"  # in [clips] folder: the clips panelpress wrote there, by name and checksum


def clip_name(slug: str, number: int, shape: str) -> str:
    """The file name of soundbite `number`'s clip (1-based, in the notes' order) of one `shape`."""
    return f"{name(slug)}.clip-{number}.{shape}.mp4"


def clip(slug: str, number: int, shape: str, suffix: str = ".mp4") -> str:
    """Where a clip is published: beside the episode's audio (`media/<name>.clip-1.vertical.mp4`); with `suffix`
    `.vtt`, its captions beside it."""
    return f"{MEDIA_DIR}/{clip_name(slug, number, shape).removesuffix('.mp4')}{suffix}"


def page(slug: str) -> str:
    """Where an episode's show-notes page is published."""
    return f"{PAGES_DIR}/{name(slug)}.html"


def transcript(slug: str, kind: str, label: str = "") -> str:
    """Where an episode's transcript is published beside its page, as `kind` (vtt, srt or json); `label`: another
    edition's (`episodes/<name>.clean.vtt`)."""
    return f"{PAGES_DIR}/{name(slug)}{_label(label)}{TRANSCRIPT_SUFFIXES[kind]}"


def chapters(slug: str, label: str = "") -> str:
    """Where an episode's Podcasting 2.0 chapters file is published beside its page."""
    return f"{PAGES_DIR}/{name(slug)}{_label(label)}.chapters.json"


def chapter_image(slug: str, number: int, suffix: str, label: str = "") -> str:
    """Where the picture of chapter `number` (1-based) is published, `suffix` its file's (`.jpg`, `.png`)."""
    return f"{PAGES_DIR}/{name(slug)}{_label(label)}.chapter-{number}{suffix.lower()}"


def episode_image(slug: str, suffix: str) -> str:
    """Where an episode's own art is published beside its page, `suffix` its file's (`.jpg`, `.png`)."""
    return f"{PAGES_DIR}/{name(slug)}{suffix.lower()}"


def _label(label: str) -> str:
    return f".{label}" if label else ""


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


def is_media(rel: str, transcripts: bool = True) -> bool:
    """Whether a site file is media, served from `[deploy] media_url` when it is set: the audio and its editions
    (`media/…`), and with `transcripts` the transcripts and chapters published beside a page (`episodes/<name>.vtt`,
    `….chapters.json`; not the files the notes link to, which sit in the episode's own folder)."""
    if rel.startswith(MEDIA_DIR + "/"):
        return True
    beside_page = rel.startswith(PAGES_DIR + "/") and rel.count("/") == 1
    return transcripts and beside_page and rel.endswith((*TRANSCRIPT_SUFFIXES.values(), ".chapters.json"))


def address(site_url: str, rel: str, media_url: str = "", transcripts: bool = True) -> str:
    """The public address of a site file: under `media_url` (`[deploy] media_url`, ends with "/") when it is media
    (`is_media`), else under `site_url`. The one rule for every enclosure, edition, player, transcript and tag."""
    return url(media_url if media_url and is_media(rel, transcripts) else site_url, rel)


def href(root: str, rel: str, media_url: str = "", transcripts: bool = True) -> str:
    """How a page links a site file: relative (`root` leads back to the site folder), or whole under `media_url`."""
    return address(root, rel, media_url, transcripts)


def site_path(url: str, site_url: str, media_url: str = "") -> str:
    """The site file a public address names (`address`'s inverse; "" when it is under neither address)."""
    for base in (media_url, site_url):
        if base and url.startswith(base):
            return url[len(base) :]
    return ""


def measured(prefix: str, url: str, podcast_guid: str) -> str:
    """An enclosure's address in the feed behind an analytics prefix (OP3, Podtrac, Blubrry: the prefix, then the
    address without its scheme; `{guid}` in the prefix is the show's podcast:guid); `url` itself without a prefix."""
    if not prefix:
        return url
    return prefix.replace("{guid}", podcast_guid) + url.split("://", 1)[-1]


def unmeasured(url: str, site_url: str, media_url: str = "") -> str:
    """The address behind an analytics prefix (`measured`'s inverse for addresses under `media_url` or `site_url`)."""
    for base in (media_url, site_url):
        if base and url.startswith(base):
            return url
    for base in (media_url, site_url):
        if not base:
            continue
        bare = base.split("://", 1)[-1]
        found = url.find(bare, len(urlsplit(url).scheme) + 3)
        if found > 0:
            return base + url[found + len(bare) :]
    return url


def feed_url(site_url: str) -> str:
    """The public address of the show's feed."""
    return url(site_url, FEED_FILE)


def served_type(rel: str) -> str:
    """The Content-Type a site file is served with (SERVED_TYPES by its ending; a guess by its name for the rest)."""
    suffix = posixpath.splitext(rel.lower())[1]
    return SERVED_TYPES.get(suffix) or mimetypes.guess_type(rel)[0] or "application/octet-stream"


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
    return (
        bool(rel)
        and not rel.startswith("/")
        and "\\" not in rel
        and not {"..", ".", ""} & set(parts)
        and rel not in RESERVED
    )


def post(engine: str, posts: str, slug: str, date: datetime) -> str:
    """Where an episode's post goes, relative to the blog's folder."""
    stem = name(slug)
    if ENGINE[engine].dated_name:
        stem = f"{utc(date):%Y-%m-%d}-{stem}"
    return f"{posts.strip('/')}/{stem}.md"


def post_url(blog_url: str, permalink: str, slug: str, date: datetime) -> str:
    """The post's public address: the permalink pattern (`posts/:slug/`, `:year/:month/:day/:slug.html`) filled in."""
    when = utc(date)
    values = {
        ":year": f"{when:%Y}",
        ":month": f"{when:%m}",
        ":day": f"{when:%d}",
        ":slug": name(slug),
        ":title": name(slug),
    }
    path = re.sub("|".join(sorted(TOKENS, key=len, reverse=True)), lambda m: values[m.group()], permalink.lstrip("/"))
    return blog_url + path


def utc(date: datetime) -> datetime:
    """A date in UTC (a blog's dates and permalinks are taken in UTC)."""
    return date.astimezone(UTC) if date.tzinfo else date
