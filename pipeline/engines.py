"""Blog engines (`[blog]`): each engine's conventions in one table, read by the settings, the layout and the posts."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ENGINES = ("hugo", "jekyll", "pelican", "eleventy")
# Permalink tokens, as Hugo and Jekyll write them; the pub date is taken in UTC.
TOKENS = (":year", ":month", ":day", ":slug", ":title")


@dataclass(frozen=True)
class Engine:
    """A blog engine's conventions: where posts and files copied unchanged go, how a post is named and addressed,
    what says a folder is one of its blogs, and the small files panelpress installs for it."""

    name: str
    posts: str  # folder of the posts, in the blog
    static: str  # folder copied to the published site unchanged ("." the blog's own folder)
    permalink: str  # the post's address below the blog's, from the engine's default rule
    marks: tuple[str, ...]  # files one of which a blog of this engine has
    dated_name: bool = False  # Jekyll: _posts/YYYY-MM-DD-<slug>.md
    installs: tuple[tuple[str, str], ...] = ()  # (path in the blog, text): panelpress's own helper files
    # Its templates escape the text of a post's metadata (Hugo's Go templates always do). Elsewhere themes show it as
    # HTML, as it is (Jekyll's Liquid, Pelican's Jinja), or through filters that unescape it (Pelican's `striptags`).
    escapes: bool = False
    # It renders the metadata's summary as Markdown (Hugo, Pelican): the characters a summary's text escapes with a
    # backslash, those its Markdown reads as marks (Python-Markdown's escapable ones; CommonMark escapes any). `<` and
    # `&` are written as HTML's character references instead.
    summary_marks: str = ""


HEAD = '<link rel="alternate" type="application/rss+xml" title="{title}" href="{href}">\n'
ENGINE = {
    "hugo": Engine(
        "hugo",
        "content/posts",
        "static",
        "posts/:slug/",
        ("hugo.toml", "hugo.yaml", "hugo.json", "config.toml", "config.yaml", "config.json"),
        escapes=True,
        summary_marks="\\`*_{}[]()>#+-.!|~",
        installs=(
            # Hugo drops raw HTML from Markdown unless the host loosens it: the player comes through this shortcode.
            (
                "layouts/shortcodes/panelpress.html",
                "{{/* panelpress: the episode's player, chapters and transcript, as panelpress wrote them (HTML it escaped). */}}{{ .Inner }}",
            ),
            (
                "layouts/partials/panelpress-head.html",
                "{{ with .Params.podcast_feed }}"
                + HEAD.format(title="{{ $.Params.podcast_title }}", href="{{ . }}")
                + "{{ end }}",
            ),
        ),
    ),
    "jekyll": Engine(
        "jekyll",
        "_posts",
        ".",
        ":year/:month/:day/:slug.html",
        ("_config.yml", "_config.yaml", "_config.toml"),
        dated_name=True,
        installs=(
            (
                "_includes/panelpress-head.html",
                "{% if page.podcast_feed %}"
                + HEAD.format(title="{{ page.podcast_title | escape }}", href="{{ page.podcast_feed | escape }}")
                + "{% endif %}",
            ),
        ),
    ),
    "pelican": Engine(
        "pelican", "content/episodes", "content", ":slug.html", ("pelicanconf.py",), summary_marks="\\`*_{}[]()>#+-.!"
    ),
    "eleventy": Engine(
        "eleventy",
        "posts",
        ".",
        "posts/:slug/",
        ("eleventy.config.js", "eleventy.config.mjs", "eleventy.config.cjs", ".eleventy.js"),
        installs=(
            (
                "_includes/panelpress-head.njk",
                "{% if podcast_feed %}"
                + HEAD.format(title="{{ podcast_title | escape }}", href="{{ podcast_feed | escape }}")
                + "{% endif %}",
            ),
        ),
    ),
}


def looks_like(engine: str, folder: Path) -> bool:
    """Whether `folder` holds one of the files a blog of `engine` has."""
    return any((folder / mark).is_file() for mark in ENGINE[engine].marks)


def unknown_tokens(permalink: str) -> list[str]:
    """The `:words` of a permalink pattern panelpress cannot fill in."""
    return [token for token in re.findall(r":[a-z_]+", permalink) if token not in TOKENS]


# A folder of a post's address (or of `[blog] folder`) as written in it: unreserved characters of RFC 3986 only, so
# the address is the same to every engine, web server and podcast app, and never holds markup.
URL_SEGMENT = re.compile(r"[A-Za-z0-9._~-]+")
_TOKEN = re.compile("|".join(sorted(TOKENS, key=len, reverse=True)))


def segment_problem(path: str, what: str = "a post's address") -> str:
    """Why a relative path (`a/b/`) is not one of the blog's addresses below its own, folders of URL_SEGMENT
    characters ('' when it is); a trailing `/` is allowed. `what`: what the path is, for the message."""
    segments = path.split("/")
    for segment in segments[:-1] + ([segments[-1]] if segments[-1] else []):
        if segment in ("", ".", ".."):
            return "climbs out of the blog with '..'" if segment == ".." else "has an empty or '.' folder ('//', '/./')"
        odd = next((c for c in segment if not URL_SEGMENT.fullmatch(c)), None)
        if odd is not None:
            shown = "a space" if odd.isspace() else repr(odd)
            return f"holds {shown}, which {what} cannot hold as it is (letters, digits, - _ . ~ and / only)"
    return ""


def permalink_problem(permalink: str) -> str:
    """Why a permalink pattern cannot make every post an address of its own inside the blog ('' when it can): only
    known tokens, a path below the blog's address (one leading `/` aside) and a :slug or :title in it."""
    unknown = unknown_tokens(permalink)
    if unknown:
        return f"holds {', '.join(unknown)}, which panelpress cannot fill in"
    if "://" in permalink or permalink.startswith("//"):
        return "is a whole address, not a path below the blog's"
    path = permalink.removeprefix("/")
    if not re.search(":slug|:title", path):
        return "names no post of its own (it has neither :slug nor :title): every post would have the same address"
    return segment_problem(_TOKEN.sub("x", path))
