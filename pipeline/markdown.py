"""Markdown: the engine of notes bodies (CommonMark, raw HTML kept as text) and the rules of the links in them.

Notes are read by the per-episode stages and rendered by the pages and the feed; both use this one engine.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from urllib.parse import unquote, urlsplit

from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.token import Token


def markdown() -> MarkdownIt:
    """The Markdown of notes bodies: CommonMark with tables and strikethrough; raw HTML stays text (notes may be
    pasted from anywhere). Rendered with env {"relink": {url: new_url}}, links and images point to new places."""
    return MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"]).use(_relink)


def urls(tokens: list[Token]) -> Iterator[tuple[Token, Token, str]]:
    """(block, token, attribute) of every link and image in parsed Markdown."""
    for block in tokens:
        for token in block.children or ():
            if token.type in ("image", "link_open"):
                yield block, token, "src" if token.type == "image" else "href"


def _relink(md: MarkdownIt) -> None:
    # Links and images whose URL is a key of env["relink"] are rendered pointing where it says.
    def rule(state: StateCore) -> None:
        moved = state.env.get("relink") if isinstance(state.env, dict) else None
        for _, token, attribute in urls(state.tokens) if moved else ():
            if token.attrGet(attribute) in moved:
                token.attrSet(attribute, moved[token.attrGet(attribute)])

    md.core.ruler.push("relink", rule)


def local_name(url: str | None) -> str | None:
    """The file a relative URL names, relative to the notes' folder (`slides.pdf#page=2` names `slides.pdf`);
    None for web addresses, site paths and anchors."""
    parts = urlsplit(url or "")
    if parts.scheme or parts.netloc or not parts.path or parts.path.startswith("/"):
        return None
    return posixpath.normpath(unquote(parts.path))


def relinked(url: str, target: str) -> str:
    """`url` pointed at `target` instead, keeping its query and fragment."""
    parts = urlsplit(url)
    return target + (f"?{parts.query}" if parts.query else "") + (f"#{parts.fragment}" if parts.fragment else "")


def mentioned_slug(url: str) -> str:
    """The episode a link to a notes file beside these names (`other-episode.md` → `other-episode`), or ''."""
    name = local_name(url) or ""
    return name[:-3] if name.lower().endswith(".md") and "/" not in name and len(name) > 3 else ""
