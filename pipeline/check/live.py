"""Live: the published site as podcast apps fetch it over HTTP(S), for `panelpress check --url`.

What files on disk cannot show: that the feed and every enclosure answer GET and HEAD with 200, that enclosures
answer byte-range requests (206 and the right Content-Range: Apple Podcasts requires it, and apps seek and resume
with it), that Content-Type and Content-Length are what the feed says, where the server redirects, and that the
feed apps get is the one panelpress last published (not a stale copy in a cache or CDN).

Every request goes through the one client (`pipeline/web.py`): a total deadline per request (`--timeout`), a cap on
what is read (the feed up to FEED_BYTES; of an enclosure only its headers and last bytes: nothing is downloaded),
http(s) only, every redirect kept so the host is told where it went. An address that is not http(s) (`file:`,
`ftp:`, …) is a problem, never opened.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path

from lxml import etree

from .. import __version__, web
from ..errors import LiveError
from ..show.podcastindex import PODCAST_NS

WORKERS = 4  # enclosures checked at once: a server should not take it for an attack
TAIL = 16  # bytes of each enclosure asked for by a range request (its last ones)
USER_AGENT = f"panelpress/{__version__} check (+https://pypi.org/project/panelpress/)"
FEED_TYPES = ("application/rss+xml", "application/xml", "text/xml", "application/atom+xml")
PERMANENT = (301, 308)
_SERVER_FIX = "check the web server (or CDN) that serves the site folder"


@dataclass(frozen=True)
class Media:
    """A file the feed names: its address, and the length and type the feed gives it."""

    url: str
    length: str
    mime: str
    label: str


@dataclass
class Findings:
    """What the live site showed: problems, warnings and what was checked."""

    problems: list[LiveError] = field(default_factory=list)
    warnings: list[LiveError] = field(default_factory=list)
    done: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Asker:
    """The requests of one check, each within `seconds`."""

    seconds: float

    def __call__(
        self, url: str, method: str = "GET", headers: dict[str, str] | None = None, limit: int = 0, whole: bool = False
    ) -> web.Answer:
        return web.request(url, method, headers, limit=limit, whole=whole, seconds=self.seconds, agent=USER_AGENT)


def check(
    url: str, published: bytes | None, local: Callable[[str], Path | None], seconds: float = web.DEADLINE
) -> Findings:
    """The live feed at `url` and every enclosure it names; `published` is the feed panelpress last wrote (None:
    there is none here to compare), `local(url)` the site folder's copy of a file of the site; each request ends
    within `seconds`."""
    found, ask = Findings(), _Asker(seconds)
    feed = _feed(found, ask, url, published)
    if feed is None:
        return found
    media = _media(found, url, feed)
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        for part in pool.map(lambda item: _enclosure(ask, item, local(item.url)), media):
            found.problems += part.problems
            found.warnings += part.warnings
    found.done.append(
        f"fetched {web.shown(url)} and checked {len(media)} enclosure{'s' if len(media) != 1 else ''} with GET, HEAD and a byte-range request"
    )
    return found


def _feed(found: Findings, ask: _Asker, url: str, published: bytes | None) -> etree._Element | None:
    """The feed by GET and HEAD, compared with the one panelpress published; its root element, or None."""
    shown, refused = web.shown(url), web.refusal(url)
    if refused:
        found.problems.append(
            LiveError(
                None,
                f"{shown}: {refused}",
                "pass the feed's whole http(s) address to --url, e.g. https://example.org/podcast/feed.xml",
            )
        )
        return None
    got = ask(url, limit=web.FEED_BYTES, whole=True)
    _hops(found, got, feed=True)
    if got.status != 200:
        found.problems.append(
            LiveError(
                None,
                f"{shown}: {_said(got, 'GET')}",
                got.fix or "publish the site folder at this address (or pass the feed's address to --url)",
            )
        )
        return None
    head = ask(url, "HEAD")
    if head.status != 200:
        found.problems.append(
            LiveError(
                None,
                f"{shown}: {_said(head, 'HEAD')}, but 200 to GET; apps ask with HEAD before they download",
                head.fix or _SERVER_FIX,
            )
        )
    kind = _mime(got.headers)
    if kind not in FEED_TYPES:
        found.problems.append(
            LiveError(
                None,
                f"{shown}: is served as {web.shown(kind) or 'no Content-Type'}, not as a feed",
                "serve feed.xml as application/rss+xml (or application/xml)",
            )
        )
    length = got.headers.get("Content-Length")
    if length is not None and length.strip() != str(len(got.body)):
        found.problems.append(
            LiveError(
                None, f"{shown}: Content-Length says {web.shown(length)!r} bytes, but {len(got.body)} came", _SERVER_FIX
            )
        )
    if published is None:
        found.warnings.append(
            LiveError(
                None,
                f"{shown}: there is no feed panelpress published in the site folder to compare it with",
                "run check in the show folder that published it (or with --out DIR)",
            )
        )
    elif got.body != published:
        live, ours = _last_build(got.body), _last_build(published)
        when = f" (its lastBuildDate is {live or 'not there'}; the published one's is {ours or 'not there'})"
        found.problems.append(
            LiveError(
                None,
                f"{shown}: is not the feed panelpress last published{when}",
                "upload the site folder again, or purge the cache or CDN in front of it",
            )
        )
    try:
        return etree.fromstring(got.body, etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as err:
        found.problems.append(
            LiveError(
                None,
                f"{shown}: is not well-formed XML ({web.shown(str(err))})",
                "serve the feed.xml panelpress wrote, unchanged",
            )
        )
        return None


def _media(found: Findings, url: str, root: etree._Element) -> list[Media]:
    """Every enclosure and alternate enclosure the live feed names, each address once; one that apps cannot fetch
    (not http(s), not a web address at all) is a problem, and is not asked."""
    media: dict[str, Media] = {}
    for number, item in enumerate(root.iterfind("channel/item"), start=1):
        title = (item.findtext("title") or "").strip()
        label = f"item {number} ({web.shown(title)!r})" if title else f"item {number}"
        named = []
        enclosure = item.find("enclosure")
        if enclosure is not None and enclosure.get("url"):
            named.append((enclosure, enclosure.get("url"), f"the enclosure of {label}"))
        for alternate in item.iterfind(f"{{{PODCAST_NS}}}alternateEnclosure"):
            for source in alternate.iterfind(f"{{{PODCAST_NS}}}source"):
                named.append((alternate, source.get("uri", ""), f"an alternate enclosure of {label}"))
        for element, address, what in named:
            if address in media:
                continue
            refused = web.refusal(address)
            if refused:
                found.problems.append(
                    LiveError(
                        None,
                        f"{web.shown(address) or 'an empty address'}: {refused} ({what}); podcast apps cannot fetch it (and check does not open it)",
                        "publish every episode's audio at an http(s) address of the site (rebuild with `panelpress build`, and upload the site folder)",
                    )
                )
            media.setdefault(address, Media(address, element.get("length", ""), element.get("type", ""), what))
    if not media:
        found.warnings.append(
            LiveError(None, f"{web.shown(url)}: names no enclosure to check", "publish an episode first")
        )
    return [medium for medium in media.values() if not web.refusal(medium.url)]


def _enclosure(ask: _Asker, media: Media, local: Path | None) -> Findings:
    """One enclosure: HEAD, GET and a range request for its last bytes, each against what the feed says."""
    found, url, shown = Findings(), media.url, web.shown(media.url)
    head = ask(url, "HEAD")
    _hops(found, head, feed=False)
    if head.status != 200:
        found.problems.append(
            LiveError(
                None,
                f"{shown}: {_said(head, 'HEAD')} ({media.label}); apps ask with HEAD for its size",
                head.fix or _SERVER_FIX,
            )
        )
        if head.status == 0:
            return found  # no answer at all: asking again in other ways would only wait as long again
    else:
        _entity(found, media, head.headers)
    got = ask(url)  # the status line and headers only: the file is not downloaded
    if got.status != 200:
        found.problems.append(
            LiveError(
                None, f"{shown}: {_said(got, 'GET')} ({media.label}); apps cannot download it", got.fix or _SERVER_FIX
            )
        )
        return found
    if not media.length.isdigit() or int(media.length) < TAIL:
        return found
    size = int(media.length)
    first, last = size - TAIL, size - 1
    part = ask(url, headers={"Range": f"bytes={first}-{last}"}, limit=TAIL + 1)
    if part.status == 200:
        found.problems.append(
            LiveError(
                None,
                f"{shown}: answers a byte-range request with the whole file (200, not 206) ({media.label}); Apple Podcasts refuses such episodes, and apps cannot seek or resume",
                "enable range requests (Accept-Ranges: bytes) on the web server or CDN; a script in front of the files must pass them on",
            )
        )
    elif part.status != 206:
        found.problems.append(
            LiveError(
                None,
                f"{shown}: {_said(part, 'a byte-range request')} ({media.label}){', not 206' if part.status else ''}",
                part.fix or _SERVER_FIX,
            )
        )
    else:
        wanted = f"bytes {first}-{last}/{size}"
        said = web.shown((part.headers.get("Content-Range") or "").strip())
        if said != wanted:
            found.problems.append(
                LiveError(
                    None,
                    f"{shown}: answers the range {first}-{last} with Content-Range {said or 'missing'!r}, not {wanted!r} ({media.label})",
                    "the file on the server is not the one the feed describes: upload the site folder again",
                )
            )
        elif local is not None and local.is_file() and part.body != _tail(local):
            found.problems.append(
                LiveError(
                    None,
                    f"{shown}: its last bytes differ from the published file's ({media.label})",
                    "upload the site folder again, or purge the cache or CDN in front of it",
                )
            )
    return found


def _entity(found: Findings, media: Media, headers: Message) -> None:
    """Content-Type and Content-Length against the feed's type and length."""
    kind, length = _mime(headers), web.shown((headers.get("Content-Length") or "").strip())
    shown = web.shown(media.url)
    if media.mime and kind != media.mime.lower():
        found.problems.append(
            LiveError(
                None,
                f"{shown}: is served as {web.shown(kind) or 'no Content-Type'}, but the feed says {web.shown(media.mime)} ({media.label})",
                f"serve .{web.shown(media.url.rsplit('.', 1)[-1])} files as {web.shown(media.mime)}",
            )
        )
    if not length:
        found.problems.append(
            LiveError(
                None,
                f"{shown}: sends no Content-Length ({media.label}); apps cannot show its size or check the download",
                _SERVER_FIX,
            )
        )
    elif media.length and length != media.length:
        found.problems.append(
            LiveError(
                None,
                f"{shown}: Content-Length is {length}, but the feed says {web.shown(media.length)} bytes ({media.label})",
                "upload the site folder again, or purge the cache or CDN in front of it",
            )
        )


def _hops(found: Findings, answer: web.Answer, feed: bool) -> None:
    """Each redirect, as a warning: apps follow them, and a feed's temporary redirect never moves a subscription."""
    for code, origin, target in dict.fromkeys(answer.hops):  # a loop is said once
        origin, target = web.shown(origin), web.shown(target)
        if feed and code not in PERMANENT:
            found.warnings.append(
                LiveError(
                    None,
                    f"{origin}: redirects ({code}, temporary) to {target}; apps keep asking the old address",
                    "when the feed has moved for good, redirect with 301 (permanent) and set [show] new_feed_url",
                )
            )
        else:
            kind = "permanent" if code in PERMANENT else "temporary"
            found.warnings.append(
                LiveError(
                    None, f"{origin}: redirects ({code}, {kind}) to {target}", "fine for apps; check that it is meant"
                )
            )


def _said(answer: web.Answer, what: str) -> str:
    return f"asked with {what}: {answer.problem}" if answer.status == 0 else f"answers {answer.status} to {what}"


def _mime(headers: Message) -> str:
    return (headers.get("Content-Type") or "").split(";")[0].strip().lower()


def _last_build(feed: bytes) -> str:
    try:
        root = etree.fromstring(feed, etree.XMLParser(resolve_entities=False, no_network=True, recover=True))
    except etree.XMLSyntaxError:
        return ""
    return web.shown((root.findtext("channel/lastBuildDate") or "").strip()) if root is not None else ""


def _tail(path: Path) -> bytes:
    try:
        with path.open("rb") as handle:
            handle.seek(-TAIL, 2)
            return handle.read()
    except OSError:  # shorter than the tail: it differs
        return b""
