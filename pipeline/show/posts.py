"""Episodes as posts of the host's own blog (`[blog]`): each engine's conventions in one table, the post's URL
from the engine's permalink rule, and the post itself in the engine's native format. Pure: returns text.

The site folder (feed, audio, chapters, transcripts, the show's own small pages) goes into the blog's static
folder, which the engine copies to the published site unchanged; the posts go among the blog's own, and for an
engine that drops raw HTML from Markdown (Hugo) a shortcode of panelpress's own carries the player.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from html.entities import html5

from jinja2 import Environment

from .. import layout
from ..engines import ENGINE, Engine
from ..records import PlanFile, Published

TAG = "podcast"  # every post's tag (Eleventy: its collection)
CATEGORY = "Podcast"  # Pelican's category of the posts


# What YAML's double-quoted scalars may not hold as they are: DEL, the C1 controls, its line breaks, a BOM.
_YAML_UNPRINTABLE = re.compile("[\x7f-\x9f\u2028\u2029\ufeff]")


def _quoted(text: str) -> str:
    """A string as YAML reads it: JSON's double-quoted form (YAML's too), with every character but the few YAML cannot
    hold written as itself (JSON's `\\ud83d\\ude00` pairs for an emoji are two lone halves to Hugo and Jekyll)."""
    return _YAML_UNPRINTABLE.sub(lambda m: f"\\u{ord(m.group()):04x}", json.dumps(text, ensure_ascii=False))


def _line(text: str) -> str:
    return " ".join(text.split())


# Where HTML could start a tag after a `<` (a letter, `/`, `!`, `?`), and what opens a quotation before a quote mark.
_TAG_START = re.compile(r"[A-Za-z/!?]")
_OPENS = "([{<“‘«-–—/"
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9]*;?")
WORD_JOINER = "\u2060"


def _reference_follows(rest: str) -> bool:
    """Whether an `&` before `rest` would be read by HTML as the start of a character reference."""
    name = _NAME.match(rest)
    return rest.startswith("#") or bool(
        name and any(name.group()[:n] in html5 for n in range(2, len(name.group()) + 1))
    )


def inert(text: str, guard: bool = True) -> str:
    """Text as HTML that shows it: `<` written `&lt;`, and `&` as `&amp;` where it would start a character reference.
    With `guard` it stays text however a theme shows it, also unescaped once (Pelican's `striptags`) or inside a
    quoted attribute: a word joiner (invisible) after a `<` that could open a tag, and typographic quotes for " and '."""
    out = []
    for i, char in enumerate(text):
        before, rest = text[i - 1] if i else " ", text[i + 1 : i + 40]  # a reference's name is shorter
        if char == "<":
            out.append("&lt;" + (WORD_JOINER if guard and _TAG_START.match(rest) else ""))
        elif char == "&" and _reference_follows(rest):
            out.append("&amp;")
        elif char in "\"'" and guard:
            opening = before.isspace() or before in _OPENS
            out.append(("“" if opening else "”") if char == '"' else ("‘" if opening else "’"))
        else:
            out.append(char)
    return "".join(out)


def _shown(engine: Engine, text: str) -> str:
    """A text of the post's metadata (its title, its description) as the engine's themes should get it: as it is where
    they escape it, else as HTML that stays text (`inert`)."""
    return _line(text) if engine.escapes else inert(_line(text))


def _summary(engine: Engine, text: str) -> str:
    """The summary as the engine should get it: shown text, and where the engine renders it as Markdown (Hugo,
    Pelican), Markdown that says the text, with no link, picture, raw HTML or other mark of its own."""
    if not engine.summary_marks:
        return _shown(engine, text)
    html = inert(_line(text), guard=not engine.escapes)
    return "".join("\\" + char if char in engine.summary_marks else char for char in html)


def front_matter(engine: str, item: Published, feed_url: str, show_title: str) -> str:
    """The post's metadata in the engine's own keys: YAML front matter, or Pelican's `Key: value` header. Text from the
    notes is written so that no theme of the engine shows it as markup (`_shown`, `_summary`)."""
    notes, rules = item.episode.notes, ENGINE[engine]
    title, summary, date = (
        _shown(rules, notes.title),
        _summary(rules, notes.summary or notes.title),
        layout.utc(item.pub_date),
    )
    description = _shown(rules, notes.summary or notes.title)
    if engine == "pelican":  # one `Key: value` line each: _line leaves no line break in a value
        fields = {
            "Title": title,
            "Date": f"{date:%Y-%m-%d %H:%M}",
            "Slug": layout.name(item.episode.slug),
            "Summary": summary,
            "Category": CATEGORY,
            "Tags": TAG,
            "Status": "published",
            "Podcast_feed": feed_url,
            "Podcast_title": _shown(rules, show_title),
        }
        return "".join(f"{key}: {value}\n" for key, value in fields.items()) + "\n"
    stamp = f"{date:%Y-%m-%dT%H:%M:%SZ}"
    lines = {"title": _quoted(title), "date": stamp, "description": _quoted(description)}
    if engine == "hugo":
        lines |= {"summary": _quoted(summary), "slug": _quoted(layout.name(item.episode.slug)), "draft": "false"}
    if engine == "jekyll":
        lines |= {"layout": "post", "published": "true"}
    if engine == "eleventy":
        lines |= {"draft": "false"}
    lines |= {
        "tags": f"[{_quoted(TAG)}]",
        "podcast_feed": _quoted(feed_url),
        "podcast_title": _quoted(_line(show_title)),  # panelpress's own head snippet escapes it
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
