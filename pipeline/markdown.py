"""Markdown: the engine of notes bodies (CommonMark, raw HTML kept as text) and the rules of the links in them and
of every web address panelpress publishes (what a feed, a page or a blog post may link to).

Notes are read by the per-episode stages and rendered by the pages and the feed; both use this one engine.
"""

from __future__ import annotations

import posixpath
import re
import unicodedata
from collections.abc import Iterator
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from . import web

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.rules_core import StateCore
    from markdown_it.token import Token

# The schemes a web address panelpress publishes may have, and those a link of the notes' body may have besides a
# relative address (a file beside the notes, a page of the site): what browsers and podcast apps open as a page or a
# message, never a script (javascript:, vbscript:), a document made of the link itself (data:) or a local file.
WEB_SCHEMES = ("http", "https")
LINK_SCHEMES = (*WEB_SCHEMES, "mailto")
# A scheme as browsers read it (WHATWG URL): after leading spaces and controls, with tabs and line breaks removed.
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
_IGNORED = re.compile(r"[\t\n\r]")
_LEADING = "".join(map(chr, range(33)))  # C0 controls and the space
# A backslash is read as a slash by browsers and not by urllib, which would then disagree about the host; a host
# holds none of the characters a path may hold written as they are (the pages percent-encode those, `pages.href`).
_BACKSLASH = "\\"
_NOT_IN_HOST = re.compile(r'[<>"\'`{}|^]')


def address_problem(value: object) -> str:
    """Why a value is not a web address panelpress publishes, as a clause that follows "is not a web address: "
    ('' when it is one). A web address is an absolute http:// or https:// URL with a host (and a port from 1 to
    65535, if any) that urllib reads as browsers do: without a user name or password, a space, a control or
    invisible character or a backslash, and with no quote, angle bracket or brace in its host; and one the client
    (`web.refusal`) asks, so that what is published and what panelpress fetches follow one rule."""
    if not isinstance(value, str):
        return "it is not text"
    if not value:
        return "it is empty"
    scheme = _SCHEME.match(value)
    if scheme is None:
        return "it is not an absolute http:// or https:// address"
    if scheme.group(1).lower() not in WEB_SCHEMES:
        return f"it is a {scheme.group(1)}: address; only http:// and https:// ones are published"
    odd = next((c for c in value if c.isspace() or unicodedata.category(c) in ("Cc", "Cf")), None)
    if odd is not None:
        return f"it holds {_invisible(odd)}, which no address holds as it is (percent-encode it, or delete it)"
    if _BACKSLASH in value:
        return "it holds a backslash, which browsers read as a slash (write / instead)"
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        return "its host or port cannot be read"
    if not value[scheme.end() :].startswith("//") or not parts.hostname:
        return "it has no host"
    odd = _NOT_IN_HOST.search(parts.netloc)
    if odd:
        return f"its host holds {odd.group()!r}, which no host holds"
    if port is not None and not 0 < port < 65536:
        return f"its port {port} is not one from 1 to 65535"
    if parts.username is not None or parts.password is not None:
        return "it holds a user name or password, which would be published"
    return web.refusal(value)  # and one panelpress's own client would ask (its length, its host name's spelling)


def _invisible(char: str) -> str:
    if char == " ":
        return "a space"
    category = unicodedata.category(char)
    kind = "a control character" if category == "Cc" else "a space" if char.isspace() else "an invisible character"
    return f"{kind} (U+{ord(char):04X})"


def is_web_address(value: object) -> bool:
    """Whether a value is a web address panelpress publishes (see `address_problem`)."""
    return not address_problem(value)


def link_allowed(url: str) -> bool:
    """Whether a link of a notes body may be published as a link: a relative address, or one of LINK_SCHEMES (a
    browser's reading of the scheme: leading spaces and controls skipped, tabs and line breaks ignored)."""
    scheme = _SCHEME.match(_IGNORED.sub("", url.lstrip(_LEADING)))
    return scheme is None or scheme.group(1).lower() in LINK_SCHEMES


def markdown() -> MarkdownIt:
    """The Markdown of notes bodies: CommonMark with tables and strikethrough; raw HTML stays text (notes may be
    pasted from anywhere), and a link or image of another scheme than LINK_SCHEMES stays text too. Rendered with env
    {"relink": {url: new_url}}, links and images point to new places."""
    from markdown_it import MarkdownIt  # here: the settings check addresses with this module, and render no Markdown

    md = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"]).use(_relink)
    md.validateLink = link_allowed  # markdown-it's own lets data:image/png (and every other scheme) through
    return md


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
