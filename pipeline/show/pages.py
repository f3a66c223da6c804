"""Render: published episodes → HTML pages (Jinja2, autoescaped), the feed's stylesheet, the site's CSS and script.
Pure: renders from template sources it is given, and writes nothing (`templates` reads them, for the build)."""

from __future__ import annotations

import hashlib
import json
import posixpath
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

from jinja2 import BytecodeCache, DictLoader, Environment, StrictUndefined
from markupsafe import Markup, escape

from .. import layout
from ..config import Config, SubscribeSettings
from ..errors import ConfigError
from ..layout import FEED_FILE, INDEX_PAGE
from ..markdown import markdown as notes_markdown
from ..markdown import relinked
from ..records import Published, Turn
from .artwork import cover_width

_markdown = notes_markdown()

# A transcript longer than this many lines is folded (a <details> element) so it does not take over the page.
FOLD_LINES = 40
# Files served as they are (a show may override them in its templates folder, like the pages).
STATIC = {layout.STYLESHEET: "site.css", layout.SCRIPT: "site.js", layout.APP_ICONS: "icons.svg"}
LOCK_SCREEN_SIZES = (192, 400, 600)  # the covers the player offers the Media Session (lock screens, cars, watches)
TEMPLATE_SUFFIXES = (".html", ".css", ".js", ".xsl", ".svg")  # the packaged templates' files


@dataclass(frozen=True)
class Site:
    """What every page shows besides its episode: the show's artwork and the icons made from it (names of
    `artwork.ICONS` that were made)."""

    artwork: str | None = None
    icons: tuple[str, ...] = ()
    width: int = 0  # the artwork's side in pixels (0: not known)
    locale: str = ""  # the show's language as Open Graph writes it (`og_locale`), when it is known already


def notes_html(item: Published, root: str | None = None) -> Markup:
    """The notes body as safe HTML (raw HTML in notes is shown as text); files it names point to their published
    copies (and links to other episodes' notes to their pages), relative to the episode's page, or to `root`
    (the site folder, as a page's templates know it); a blog post's address is used whole."""
    here = posixpath.dirname(item.page_path)
    moved = {
        url: relinked(
            url,
            path if "://" in path else root + quote(path) if root is not None else quote(posixpath.relpath(path, here)),
        )
        for url, path in item.relinks
    }
    return Markup(_markdown.render(item.episode.notes.body, {"relink": moved}))


def clock(seconds: float) -> str:
    """Seconds as H:MM:SS or M:SS, cut to the second as audio players show them (9.88 s is 0:09)."""
    total = int(round(seconds, 3))  # whole milliseconds first: 62.9999999 is 63 s written as a float
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def media_time(seconds: float) -> str:
    """Seconds as a media-fragment time (`#t=` value): no trailing zeros."""
    return f"{seconds:.3f}".rstrip("0").rstrip(".")


def iso_duration(seconds: float) -> str:
    """Seconds as an ISO 8601 duration (schema.org's Duration): PT1H2M5S."""
    hours, rest = divmod(int(round(seconds)), 3600)
    minutes, secs = divmod(rest, 60)
    return (
        "PT"
        + (f"{hours}H" if hours else "")
        + (f"{minutes}M" if minutes else "")
        + (f"{secs}S" if secs or not (hours or minutes) else "")
    )


def file_size(length: int) -> str:
    """A byte count as people read it: 845 KB, 12.3 MB (decimal units, as operating systems show downloads)."""
    if length < 1_000_000:
        return f"{max(1, round(length / 1000))} KB"
    return f"{length / 1_000_000:.1f} MB"


# What a URL may hold in each part as written (RFC 3986), besides letters, digits and "%XX" escapes.
_PATH_SAFE = "/:@!$&'()*+,;=-._~%"
_QUERY_SAFE = _PATH_SAFE + "?"
_LONE_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")


def href(url: str) -> str:
    """A URL as an attribute value every validator accepts: characters no URL may hold (`"`, `<`, `>`, spaces, a
    second `#`, non-ASCII letters) percent-encoded, the rest as written. Escaping for HTML is Jinja's job."""
    parts = urlsplit(url)
    encoded = urlunsplit(
        (
            parts.scheme,
            parts.netloc,
            quote(parts.path, _PATH_SAFE),
            quote(parts.query, _QUERY_SAFE),
            quote(parts.fragment, _QUERY_SAFE),
        )
    )
    return _LONE_PERCENT.sub("%25", encoded)


def breakable(text: str) -> Markup:
    """An address with places to break the line after its slashes (`<wbr>`): a phone wraps `…/show/` `feed.xml`,
    not `feed.x` `ml`; copied, it is the address as it is."""
    return Markup("/<wbr>").join(escape(part) for part in text.split("/"))


def jsonld(data: dict) -> Markup:
    """JSON-LD as the content of a <script> element: `<`, `>` and `&` escaped, so no text of the show can close the
    element or open a comment in it."""
    text = json.dumps(data, ensure_ascii=False)
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


@dataclass(frozen=True)
class App:
    """A subscribe button: the app's icon (a name of `_icons.html`), its name, and the link that opens the show."""

    icon: str
    name: str
    link: str


NO_IDS = SubscribeSettings()  # a show that gave no app its ID


def subscribe_links(feed_url: str, title: str, ids: SubscribeSettings = NO_IDS) -> tuple[App, ...]:
    """The buttons that open the show in podcast apps: the show's own page in an app whose ID the host gave
    (`[subscribe]`), each app's way of opening a feed by its address otherwise, and the generic `podcast://`
    scheme last. Apps that cannot open a feed (Spotify, YouTube Music, Fountain) only with their ID."""
    bare = feed_url.split("://", 1)[-1]
    whole = quote(feed_url, safe="")
    apple = ids.apple_podcasts
    apps = [
        # Apple Podcasts alone answers pcast: (iOS, iPadOS, macOS)
        App("apple", "Apple Podcasts", f"https://podcasts.apple.com/podcast/id{apple}" if apple else f"pcast://{bare}"),
        App("spotify", "Spotify", f"https://open.spotify.com/show/{ids.spotify}" if ids.spotify else ""),
        App(
            "youtube",
            "YouTube Music",
            f"https://music.youtube.com/playlist?list={ids.youtube_music}" if ids.youtube_music else "",
        ),
        App(
            "overcast",
            "Overcast",
            f"https://overcast.fm/itunes{apple}" if apple else f"overcast://x-callback-url/add?url={whole}",
        ),
        App("pocketcasts", "Pocket Casts", f"https://pca.st/itunes/{apple}" if apple else f"pktc://subscribe/{bare}"),
        App(
            "antennapod",
            "AntennaPod",
            f"https://antennapod.org/deeplink/subscribe?url={whole}&title={quote(title, safe='')}",
        ),
        App("podcastaddict", "Podcast Addict", f"podcastaddict://{bare}"),
        App("castro", "Castro", f"https://castro.fm/itunes/{apple}" if apple else f"castro://subscribe/{bare}"),
        App("fountain", "Fountain", f"https://fountain.fm/show/{ids.fountain}" if ids.fountain else ""),
        App(
            "podcastindex",
            "Podcast Index",
            f"https://podcastindex.org/podcast/{ids.podcast_index}"
            if ids.podcast_index
            else f"https://podcastindex.org/search?q={whole}",
        ),
        App("rss", "Another app", f"podcast://{bare}"),
    ]
    return tuple(app for app in apps if app.link)


def og_locale(language: str) -> str:
    """A BCP 47 language tag as Open Graph writes a locale, language_TERRITORY: en-GB is en_GB; a tag without a
    territory takes its most likely one (en is en_US, fr is fr_FR), as Open Graph's readers would."""
    import langcodes  # its registry of likely subtags: loaded by the builds that render a page, and kept (assemble)

    tag = langcodes.Language.get(language)
    territory = tag.territory or tag.maximize().territory
    return f"{tag.language}_{territory}" if territory else tag.language


# The templates the packaged index page is made of. While a show replaces none of them, the index shows only what an
# episode's summary keeps (`Published.summary`), so an edit assembles the unchanged episodes from their summaries.
INDEX_ROW = "_episode_row.html"
INDEX_TEMPLATES = ("index.html", INDEX_ROW, "base.html", "_player.html", "_subscribe.html", "_icons.html", "icons.svg")


def index_from_summaries(folder: Path | None) -> bool:
    """Whether the index page is rendered by the packaged templates alone (`folder`: the show's templates)."""
    return folder is None or not any((folder / name).is_file() for name in INDEX_TEMPLATES)


def templates(folder: Path | None) -> dict[str, str]:
    """The sources of the templates a show's pages are rendered from: the packaged ones, and the show's own
    templates folder (its files replace the packaged ones of the same name, and may add others). ConfigError when a
    template of the show's cannot be read as UTF-8 text."""
    found = {
        path.name: path.read_text(encoding="utf-8")
        for path in files("pipeline").joinpath("templates").iterdir()
        if path.name.endswith(TEMPLATE_SUFFIXES)
    }
    for path in sorted(folder.iterdir()) if folder is not None and folder.is_dir() else ():
        if (
            not path.is_file()
            or not path.name.endswith(TEMPLATE_SUFFIXES)
            or (path.suffix == ".svg" and path.name not in found)
        ):
            continue  # not a template (a picture beside them, say): the pages never name it
        try:
            found[path.name] = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            problem = "is not UTF-8 text" if isinstance(err, UnicodeDecodeError) else f"cannot be read ({err.strerror})"
            raise ConfigError(
                path, f"{problem}, so the pages cannot be rendered from it", "save it as UTF-8 text"
            ) from err
    return found


def environment(templates: Mapping[str, str], compiled: BytecodeCache | None = None) -> Environment:
    """Jinja2 over these template sources (`templates()`): nothing is read from disk while rendering. `compiled`:
    where the templates' compiled code is kept between builds (assemble's), so that an edit compiles none."""
    env = Environment(
        loader=DictLoader(dict(templates)),
        autoescape=True,
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        bytecode_cache=compiled,
    )
    env.filters["clock"] = clock
    env.filters["media_time"] = media_time
    env.filters["file_size"] = file_size
    env.filters["href"] = href
    env.filters["jsonld"] = jsonld
    env.filters["breakable"] = breakable
    env.globals["notes_html"] = notes_html
    env.globals["transcript_lines"] = transcript_lines_of
    env.globals["fold_lines"] = FOLD_LINES
    # Pages name the stylesheet and script with a digest of their content, so no browser keeps an old copy.
    versioned = {rel: f"{rel}?v={hashlib.sha256(data).hexdigest()[:10]}" for rel, data in static_files(env).items()}
    env.globals["stylesheet"], env.globals["script"] = versioned[layout.STYLESHEET], versioned[layout.SCRIPT]
    env.globals["app_icons"] = versioned[layout.APP_ICONS]
    env.globals["talk_time"] = talk_time
    return env


def static_files(env: Environment) -> dict[str, bytes]:
    """The stylesheet, the script and the icons, as they are published (the show's own copies when it has them)."""
    return {rel: env.loader.get_source(env, name)[0].encode() for rel, name in STATIC.items()}


def episode_page(env: Environment, config: Config, item: Published, site: Site) -> str:
    """The show-notes page of one episode."""
    root = layout.depth_root(item.page_path)
    context = _common(config, site, root, item.page_url)
    if item.image:  # the episode's own art stands for it when it is shared (its size is not known here)
        context["image_url"], context["image_width"] = layout.url(config.site_url, item.image), 0
    return env.get_template("episode.html").render(
        item=item, ld=_episode_ld(config, item, context["image_url"]), **context
    )


def index_row(env: Environment, item: Published) -> str:
    """One episode in the index page's list (`_episode_row.html`): what an index keeps of each episode, rendered once."""
    return env.get_template(INDEX_ROW).render(item=item, root=layout.depth_root(INDEX_PAGE))


def index_page(
    env: Environment, config: Config, items: Sequence[Published], site: Site, rows: Sequence[str] | None = None
) -> str:
    """The index page: every episode, newest first (`rows`: each one's `index_row`, when they are kept)."""
    context = _common(config, site, layout.depth_root(INDEX_PAGE), config.site_url)
    context["subscribe_in_main"] = True
    rows = [index_row(env, item) for item in items] if rows is None else rows
    return env.get_template("index.html").render(
        items=items, rows=[Markup(row) for row in rows], ld=_series_ld(config, context["image_url"]), **context
    )


def subscribe_page(env: Environment, config: Config, site: Site) -> str:
    """The page that helps a listener subscribe: the feed's address to copy, and links that open it in apps."""
    context = _common(
        config, site, layout.depth_root(layout.SUBSCRIBE_PAGE), layout.url(config.site_url, layout.SUBSCRIBE_PAGE)
    )
    context["subscribe_in_main"] = True
    return env.get_template("subscribe.html").render(ld=_series_ld(config, context["image_url"]), **context)


def feed_style(env: Environment, config: Config, site: Site) -> str:
    """The feed's XSL stylesheet: what a browser shows for feed.xml (the same help as the subscribe page)."""
    context = _common(config, site, layout.depth_root(layout.FEED_STYLE), layout.feed_url(config.site_url))
    return env.get_template("feed.xsl").render(**{**context, "in_stylesheet": True})


def _common(config: Config, site: Site, root: str, canonical: str) -> dict:
    show = config.show
    feed_url = layout.feed_url(config.site_url)
    return {
        "show": show,
        "root": root,
        "canonical": canonical,
        "site_url": config.site_url,
        "artwork": site.artwork,
        "image_url": layout.url(config.site_url, site.artwork) if site.artwork else "",
        "image_width": site.width,
        "og_locale": site.locale or og_locale(show.language),
        "icons": {name: layout.icon(name) for name in site.icons},
        # the square covers, smallest first: the player's art on a lock screen (Media Session)
        "covers": sorted(
            (layout.icon(name), width) for name in site.icons if (width := cover_width(name)) in LOCK_SCREEN_SIZES
        ),
        "subscribe_in_main": False,
        "feed_path": FEED_FILE,
        "feed_url": feed_url,
        "subscribe_path": layout.SUBSCRIBE_PAGE,
        "subscribe_links": subscribe_links(feed_url, show.title, config.subscribe),
        "funding": (config.podcast.funding_url, config.podcast.funding_text) if config.podcast.funding_url else None,
        "clean_feed_path": layout.CLEAN_FEED_FILE if config.clean.edition else "",
        "clean_feed_url": layout.url(config.site_url, layout.CLEAN_FEED_FILE),
        "clean_mode": config.clean.mode,
        "in_stylesheet": False,
    }


def _person(name: str) -> dict:
    return {"@type": "Person", "name": name}


def _series_ld(config: Config, artwork_url: str) -> dict:
    """schema.org's PodcastSeries of the show."""
    show = config.show
    data = {
        "@context": "https://schema.org",
        "@type": "PodcastSeries",
        "name": show.title,
        "description": show.description,
        "url": config.site_url,
        "webFeed": layout.feed_url(config.site_url),
        "inLanguage": show.language,
        "author": _person(show.author),
    }
    if artwork_url:
        data["image"] = artwork_url
    return data


def _episode_ld(config: Config, item: Published, image_url: str) -> dict:
    """schema.org's PodcastEpisode: its audio (an AudioObject) and length, and the series it is part of."""
    notes = item.episode.notes
    series = {
        "@type": "PodcastSeries",
        "name": config.show.title,
        "url": config.site_url,
        "webFeed": layout.feed_url(config.site_url),
    }
    data = {
        "@context": "https://schema.org",
        "@type": "PodcastEpisode",
        "name": notes.title,
        "url": item.page_url,
        "datePublished": item.pub_date.isoformat(),
        "duration": iso_duration(item.media.duration),
        "inLanguage": config.show.language,
        "description": notes.summary or notes.title,
    }
    if notes.episode is not None:
        data["episodeNumber"] = notes.episode
    if notes.season is not None:
        data["partOfSeason"] = {"@type": "PodcastSeason", "seasonNumber": notes.season}
    data["partOfSeries"] = series
    if image_url:
        data["image"] = image_url
    if notes.panelists:
        data["actor"] = [_person(person.name) for person in notes.panelists]
    data["associatedMedia"] = {
        "@type": "AudioObject",
        "contentUrl": item.media_url,
        "encodingFormat": item.media.mime,
        "contentSize": file_size(item.media.length),
        "duration": iso_duration(item.media.duration),
    }
    return data


def render(
    config: Config, items: Sequence[Published], artwork: str | None, icons: tuple[str, ...] = ()
) -> dict[str, str]:
    """Every page of the site, keyed by its path in the site folder; items newest first (the show's templates
    read from its folder: for the tests and tools; a build renders through `assemble`)."""
    env = environment(templates(config.templates_dir))
    site = Site(artwork, icons)
    pages = {item.page_path: episode_page(env, config, item, site) for item in items}
    pages[INDEX_PAGE] = index_page(env, config, items, site)
    pages[layout.SUBSCRIBE_PAGE] = subscribe_page(env, config, site)
    return pages


@dataclass(frozen=True)
class Line:
    """A cue as the show-notes page shows it."""

    start: float  # seconds
    end: float
    speaker: str
    body: str

    @property
    def t(self) -> str:
        """The start as a media-fragment time (`#t=` value): seconds, no trailing zeros."""
        return f"{self.start:.3f}".rstrip("0").rstrip(".")


def transcript_lines_of(item: Published) -> list[Line]:
    """The published transcript of an episode, for its show-notes page (empty when it has none)."""
    found = next((a for a in item.own_files if a.mime == layout.TRANSCRIPT_JSON_TYPE), None)
    if found is None:
        return []
    data = json.loads(found.read())
    return [
        Line(start=s["startTime"], end=s["endTime"], speaker=s.get("speaker", ""), body=s["body"])
        for s in data["segments"]
    ]


def talk_time(turns: Sequence[Turn]) -> list[tuple[str, float]]:
    """Each speaker's seconds of speech, the most talkative first."""
    spoken: dict[str, float] = {}
    for turn in turns:
        spoken[turn.speaker] = spoken.get(turn.speaker, 0.0) + turn.end - turn.start
    return sorted(spoken.items(), key=lambda pair: (-pair[1], pair[0]))
