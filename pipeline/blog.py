"""Episodes as posts of the host's own blog (`[blog]`): each engine's conventions in one table, the post's URL
from the engine's permalink rule, and the post itself in the engine's native format. Pure: returns text.

The site folder (feed, audio, chapters, transcripts, the show's own small pages) goes into the blog's static
folder, which the engine copies to the published site unchanged; the posts go among the blog's own, and for an
engine that drops raw HTML from Markdown (Hugo) a shortcode of panelpress's own carries the player.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from jinja2 import Environment

from . import layout
from .records import PlanFile, Published

ENGINES = ("hugo", "jekyll", "pelican", "eleventy")
TAG = "podcast"  # every post's tag (Eleventy: its collection)
CATEGORY = "Podcast"  # Pelican's category of the posts
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


HEAD = '<link rel="alternate" type="application/rss+xml" title="{title}" href="{href}">\n'
ENGINE = {
    "hugo": Engine(
        "hugo", "content/posts", "static", "posts/:slug/", ("hugo.toml", "hugo.yaml", "hugo.json", "config.toml", "config.yaml", "config.json"),
        installs=(
            # Hugo drops raw HTML from Markdown unless the host loosens it: the player comes through this shortcode.
            ("layouts/shortcodes/panelpress.html", "{{/* panelpress: the episode's player, chapters and transcript, as panelpress wrote them (HTML it escaped). */}}{{ .Inner }}"),
            ("layouts/partials/panelpress-head.html", "{{ with .Params.podcast_feed }}" + HEAD.format(title="{{ $.Params.podcast_title }}", href="{{ . }}") + "{{ end }}"),
        ),
    ),
    "jekyll": Engine(
        "jekyll", "_posts", ".", ":year/:month/:day/:slug.html", ("_config.yml", "_config.yaml", "_config.toml"), dated_name=True,
        installs=(("_includes/panelpress-head.html", "{% if page.podcast_feed %}" + HEAD.format(title="{{ page.podcast_title | escape }}", href="{{ page.podcast_feed | escape }}") + "{% endif %}"),),
    ),
    "pelican": Engine("pelican", "content/episodes", "content", ":slug.html", ("pelicanconf.py",)),
    "eleventy": Engine(
        "eleventy", "posts", ".", "posts/:slug/", ("eleventy.config.js", "eleventy.config.mjs", "eleventy.config.cjs", ".eleventy.js"),
        installs=(("_includes/panelpress-head.njk", "{% if podcast_feed %}" + HEAD.format(title="{{ podcast_title | escape }}", href="{{ podcast_feed | escape }}") + "{% endif %}"),),
    ),
}


def looks_like(engine: str, folder: Path) -> bool:
    """Whether `folder` holds one of the files a blog of `engine` has."""
    return any((folder / mark).is_file() for mark in ENGINE[engine].marks)


def post_path(engine: str, posts: str, slug: str, date: datetime) -> str:
    """Where an episode's post goes, relative to the blog's folder."""
    name = layout.name(slug)
    if ENGINE[engine].dated_name:
        name = f"{_utc(date):%Y-%m-%d}-{name}"
    return f"{posts.strip('/')}/{name}.md"


def post_url(blog_url: str, permalink: str, slug: str, date: datetime) -> str:
    """The post's public address: the permalink pattern (`posts/:slug/`, `:year/:month/:day/:slug.html`) filled in."""
    when = _utc(date)
    values = {":year": f"{when:%Y}", ":month": f"{when:%m}", ":day": f"{when:%d}", ":slug": layout.name(slug), ":title": layout.name(slug)}
    path = re.sub("|".join(sorted(TOKENS, key=len, reverse=True)), lambda m: values[m.group()], permalink.lstrip("/"))
    return blog_url + path


def unknown_tokens(permalink: str) -> list[str]:
    """The `:words` of a permalink pattern panelpress cannot fill in."""
    return [token for token in re.findall(r":[a-z_]+", permalink) if token not in TOKENS]


def _utc(date: datetime) -> datetime:
    return date.astimezone(timezone.utc) if date.tzinfo else date


def _quoted(text: str) -> str:
    """A string as YAML reads it: JSON's double-quoted form is YAML's too."""
    return json.dumps(text)


def _line(text: str) -> str:
    return " ".join(text.split())


def front_matter(engine: str, item: Published, feed_url: str, show_title: str) -> str:
    """The post's metadata in the engine's own keys: YAML front matter, or Pelican's `Key: value` header."""
    notes = item.episode.notes
    title, summary, date = _line(notes.title), _line(notes.summary or notes.title), _utc(item.pub_date)
    if engine == "pelican":  # Pelican's themes show the title and summary as HTML, unescaped
        title, summary = html.escape(title, quote=False), html.escape(summary, quote=False)
        fields = {
            "Title": title, "Date": f"{date:%Y-%m-%d %H:%M}", "Slug": layout.name(item.episode.slug), "Summary": summary,
            "Category": CATEGORY, "Tags": TAG, "Status": "published", "Podcast_feed": feed_url, "Podcast_title": _line(show_title),
        }  # fmt: skip
        return "".join(f"{key}: {value}\n" for key, value in fields.items()) + "\n"
    stamp = f"{date:%Y-%m-%dT%H:%M:%SZ}"
    lines = {"title": _quoted(title), "date": stamp, "description": _quoted(summary)}
    if engine == "hugo":
        lines |= {"summary": _quoted(summary), "slug": _quoted(layout.name(item.episode.slug)), "draft": "false"}
    if engine == "jekyll":
        lines |= {"layout": "post", "published": "true"}
    if engine == "eleventy":
        lines |= {"draft": "false"}
    lines |= {"tags": f"[{_quoted(TAG)}]", "podcast_feed": _quoted(feed_url), "podcast_title": _quoted(_line(show_title)), "podcast_audio": _quoted(item.media_url)}
    return "---\n" + "".join(f"{key}: {value}\n" for key, value in lines.items()) + "---\n"


_PRE = re.compile(r"<pre\b.*?</pre>", re.DOTALL)


def one_block(html: str) -> str:
    """HTML that every engine's Markdown passes through as one raw block: no blank line or indented line (either
    would end the block or start a code block), line breaks inside <pre> written as `&#10;`, and no `{` or `}` that
    Liquid, Nunjucks or Hugo's shortcodes would read as their own syntax."""
    html = _PRE.sub(lambda m: m.group().replace("\n", "&#10;"), html)
    lines = (line.strip() for line in html.splitlines())
    return "\n".join(line for line in lines if line).replace("{", "&#123;").replace("}", "&#125;") + "\n"


def post(env: Environment, engine: str, item: Published, site_url: str, show_title: str, clean_mode: str = "bleep") -> str:
    """An episode's post: front matter and a body with the player, the explicit badge, the download link, the notes,
    chapters, transcript and the podcast feed's link; its files are addressed from the blog's root."""
    feed_url = layout.url(site_url, layout.FEED_FILE)
    root = layout.path_prefix(site_url)
    html = one_block(env.get_template("post.html").render(item=item, root=root, feed_url=feed_url, subscribe_url=root + layout.SUBSCRIBE_PAGE, clean_mode=clean_mode))
    body = f"{{{{< panelpress >}}}}\n{html}{{{{< /panelpress >}}}}\n" if engine == "hugo" else html
    return front_matter(engine, item, feed_url, show_title) + body


def files(env: Environment, engine: str, posts: str, items: Sequence[Published], site_url: str, show_title: str, clean_mode: str = "bleep") -> dict[str, PlanFile]:
    """Every file panelpress writes into the blog besides its site folder: a post per episode, and its helper files."""
    from .files import sha256

    out = {path: text.encode() for path, text in ENGINE[engine].installs}
    for item in items:
        out[post_path(engine, posts, item.episode.slug, item.pub_date)] = post(env, engine, item, site_url, show_title, clean_mode).encode()
    return {path: PlanFile(data, sha256(data)) for path, data in out.items()}
