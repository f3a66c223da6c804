"""Render: published episodes → HTML pages (Jinja2, autoescaped). Pure: returns text, writes nothing."""

from __future__ import annotations

import posixpath
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import quote

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PackageLoader, StrictUndefined
from markupsafe import Markup

from . import layout, transcript
from .config import Config
from .layout import FEED_FILE, INDEX_PAGE
from .notes import markdown as notes_markdown
from .notes import relinked
from .records import Published

_markdown = notes_markdown()


def notes_html(item: Published, root: str | None = None) -> Markup:
    """The notes body as safe HTML (raw HTML in notes is shown as text); files it names point to their published
    copies (and links to other episodes' notes to their pages), relative to the episode's page, or to `root`
    (the site folder, as a page's templates know it)."""
    here = posixpath.dirname(item.page_path)
    moved = {url: relinked(url, root + quote(path) if root is not None else quote(posixpath.relpath(path, here))) for url, path in item.relinks}
    return Markup(_markdown.render(item.episode.notes.body, {"relink": moved}))


def clock(seconds: float) -> str:
    """Seconds as H:MM:SS or M:SS."""
    total = int(round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def environment(templates: Path | None) -> Environment:
    """Jinja2 with the show's own templates (if any) in front of the packaged ones."""
    loaders = [FileSystemLoader(str(templates))] if templates and templates.is_dir() else []
    env = Environment(
        loader=ChoiceLoader([*loaders, PackageLoader("pipeline", "templates")]),
        autoescape=True,
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )
    env.filters["clock"] = clock
    env.globals["notes_html"] = notes_html
    env.globals["transcript_lines"] = transcript.lines
    return env


def episode_page(env: Environment, config: Config, item: Published, artwork: str | None) -> str:
    """The show-notes page of one episode."""
    return env.get_template("episode.html").render(item=item, root=layout.depth_root(item.page_path), **_common(config, artwork))


def index_page(env: Environment, config: Config, items: Sequence[Published], artwork: str | None) -> str:
    """The index page: every episode, newest first."""
    return env.get_template("index.html").render(items=items, root=layout.depth_root(INDEX_PAGE), **_common(config, artwork))


def _common(config: Config, artwork: str | None) -> dict:
    clean_feed = layout.CLEAN_FEED_FILE if config.clean.edition else ""
    return {"show": config.show, "artwork": artwork, "feed_path": FEED_FILE, "clean_feed_path": clean_feed, "clean_mode": config.clean.mode}


def render(config: Config, items: Sequence[Published], artwork: str | None) -> dict[str, str]:
    """Every page of the site, keyed by its path in the site folder; items newest first."""
    env = environment(config.templates_dir)
    pages = {item.page_path: episode_page(env, config, item, artwork) for item in items}
    pages[INDEX_PAGE] = index_page(env, config, items, artwork)
    return pages
