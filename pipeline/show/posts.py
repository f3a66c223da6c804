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

from jinja2 import Environment

from .. import layout
from ..engines import ENGINE
from ..records import PlanFile, Published

TAG = "podcast"  # every post's tag (Eleventy: its collection)
CATEGORY = "Podcast"  # Pelican's category of the posts


def _quoted(text: str) -> str:
    """A string as YAML reads it: JSON's double-quoted form is YAML's too."""
    return json.dumps(text)


def _line(text: str) -> str:
    return " ".join(text.split())


def front_matter(engine: str, item: Published, feed_url: str, show_title: str) -> str:
    """The post's metadata in the engine's own keys: YAML front matter, or Pelican's `Key: value` header."""
    notes = item.episode.notes
    title, summary, date = _line(notes.title), _line(notes.summary or notes.title), layout.utc(item.pub_date)
    if engine == "pelican":  # Pelican's themes show the title and summary as HTML, unescaped
        title, summary = html.escape(title, quote=False), html.escape(summary, quote=False)
        fields = {
            "Title": title,
            "Date": f"{date:%Y-%m-%d %H:%M}",
            "Slug": layout.name(item.episode.slug),
            "Summary": summary,
            "Category": CATEGORY,
            "Tags": TAG,
            "Status": "published",
            "Podcast_feed": feed_url,
            "Podcast_title": _line(show_title),
        }
        return "".join(f"{key}: {value}\n" for key, value in fields.items()) + "\n"
    stamp = f"{date:%Y-%m-%dT%H:%M:%SZ}"
    lines = {"title": _quoted(title), "date": stamp, "description": _quoted(summary)}
    if engine == "hugo":
        lines |= {"summary": _quoted(summary), "slug": _quoted(layout.name(item.episode.slug)), "draft": "false"}
    if engine == "jekyll":
        lines |= {"layout": "post", "published": "true"}
    if engine == "eleventy":
        lines |= {"draft": "false"}
    lines |= {
        "tags": f"[{_quoted(TAG)}]",
        "podcast_feed": _quoted(feed_url),
        "podcast_title": _quoted(_line(show_title)),
        "podcast_audio": _quoted(item.media_url),
    }
    return "---\n" + "".join(f"{key}: {value}\n" for key, value in lines.items()) + "---\n"


_PRE = re.compile(r"<pre\b.*?</pre>", re.DOTALL)


def one_block(html: str) -> str:
    """HTML that every engine's Markdown passes through as one raw block: no blank line or indented line (either
    would end the block or start a code block), line breaks inside <pre> written as `&#10;`, and no `{` or `}` that
    Liquid, Nunjucks or Hugo's shortcodes would read as their own syntax."""
    html = _PRE.sub(lambda m: m.group().replace("\n", "&#10;"), html)
    lines = (line.strip() for line in html.splitlines())
    return "\n".join(line for line in lines if line).replace("{", "&#123;").replace("}", "&#125;") + "\n"


def post(
    env: Environment, engine: str, item: Published, site_url: str, show_title: str, clean_mode: str = "bleep"
) -> str:
    """An episode's post: front matter and a body with the player, the explicit badge, the download link, the notes,
    chapters, transcript and the podcast feed's link; its files are addressed from the blog's root."""
    feed_url = layout.feed_url(site_url)
    root = layout.path_prefix(site_url)
    html = one_block(
        env.get_template("post.html").render(
            item=item, root=root, feed_url=feed_url, subscribe_url=root + layout.SUBSCRIBE_PAGE, clean_mode=clean_mode
        )
    )
    body = f"{{{{< panelpress >}}}}\n{html}{{{{< /panelpress >}}}}\n" if engine == "hugo" else html
    return front_matter(engine, item, feed_url, show_title) + body


def files(
    env: Environment,
    engine: str,
    posts: str,
    items: Sequence[Published],
    site_url: str,
    show_title: str,
    clean_mode: str = "bleep",
) -> dict[str, PlanFile]:
    """Every file panelpress writes into the blog besides its site folder: a post per episode, and its helper files."""
    from ..files import sha256

    out = {path: text.encode() for path, text in ENGINE[engine].installs}
    for item in items:
        out[layout.post(engine, posts, item.episode.slug, item.pub_date)] = post(
            env, engine, item, site_url, show_title, clean_mode
        ).encode()
    return {path: PlanFile(data, sha256(data)) for path, data in out.items()}
