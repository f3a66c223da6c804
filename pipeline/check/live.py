"""Live: the published site as podcast apps fetch it over HTTP(S), for `panelpress check --url`.

What files on disk cannot show: that the feed and every enclosure answer GET and HEAD with 200, that enclosures
answer byte-range requests (206 and the right Content-Range: Apple Podcasts requires it, and apps seek and resume
with it), that Content-Type and Content-Length are what the feed says, where the server redirects, and that the
feed apps get is the one panelpress last published (not a stale copy in a cache or CDN).

The standard library's urllib is the client: no dependency, timeouts, HTTPS with the system's certificates, and a
redirect handler that can say where it went.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path

from lxml import etree

from .. import __version__
from ..errors import LiveError
from ..show.podcastindex import PODCAST_NS

TIMEOUT = 20.0  # seconds for one request
WORKERS = 4  # enclosures checked at once: a server should not take it for an attack
TAIL = 16  # bytes of each enclosure asked for by a range request (its last ones)
USER_AGENT = f"panelpress/{__version__} check (+https://pypi.org/project/panelpress/)"
FEED_TYPES = ("application/rss+xml", "application/xml", "text/xml", "application/atom+xml")
PERMANENT = (301, 308)
_SERVER_FIX = "check the web server (or CDN) that serves the site folder"


@dataclass(frozen=True)
class Answer:
    """What a server answered, after following its redirects."""

    status: int  # 0: no answer at all
    url: str  # where the answer came from
    headers: Message = field(default_factory=Message)
    body: bytes = b""  # what was read of it
    hops: tuple[tuple[int, str, str], ...] = ()  # (status, from, to) of every redirect followed
    problem: str = ""  # why there is no answer


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


class _Hops(urllib.request.HTTPRedirectHandler):
    """Follows redirects as urllib does, and keeps each one (apps follow them too; the host should know)."""

    def __init__(self) -> None:
        self.hops: list[tuple[int, str, str]] = []

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        self.hops.append((code, req.full_url, newurl))
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def fetch(
    url: str, method: str = "GET", headers: dict[str, str] | None = None, limit: int = -1, timeout: float = TIMEOUT
) -> Answer:
    """One request, redirects followed; reads at most `limit` bytes of the body (-1: all, 0: none)."""
    hops = _Hops()
    opener = urllib.request.build_opener(hops)
    request = urllib.request.Request(url, method=method, headers={"User-Agent": USER_AGENT, **(headers or {})})
    try:
        with opener.open(request, timeout=timeout) as answer:
            body = answer.read(limit) if limit else b""
            return Answer(answer.status, answer.url, answer.headers, body, tuple(hops.hops))
    except urllib.error.HTTPError as err:
        return Answer(err.code, err.url or url, err.headers or Message(), b"", tuple(hops.hops))
    except (urllib.error.URLError, OSError, ValueError) as err:
        reason = getattr(err, "reason", err)
        said = (
            "no answer within the timeout"
            if isinstance(reason, TimeoutError) or "timed out" in str(reason)
            else f"it cannot be reached ({reason})"
        )
        return Answer(0, url, hops=tuple(hops.hops), problem=said)


def check(url: str, published: bytes | None, local: Callable[[str], Path | None]) -> Findings:
    """The live feed at `url` and every enclosure it names; `published` is the feed panelpress last wrote (None:
    there is none here to compare), `local(url)` the site folder's copy of a file of the site."""
    found = Findings()
    feed = _feed(found, url, published)
    if feed is None:
        return found
    media = _media(found, url, feed)
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        for part in pool.map(lambda item: _enclosure(item, local(item.url)), media):
            found.problems += part.problems
            found.warnings += part.warnings
    found.done.append(
        f"fetched {url} and checked {len(media)} enclosure{'s' if len(media) != 1 else ''} with GET, HEAD and a byte-range request"
    )
    return found


def _feed(found: Findings, url: str, published: bytes | None) -> etree._Element | None:
    """The feed by GET and HEAD, compared with the one panelpress published; its root element, or None."""
    got = fetch(url)
    _hops(found, url, got, feed=True)
    if got.status != 200:
        found.problems.append(
            LiveError(
                None,
                f"{url}: {_said(got, 'GET')}",
                "publish the site folder at this address (or pass the feed's address to --url)",
            )
        )
        return None
    head = fetch(url, "HEAD", limit=0)
    if head.status != 200:
        found.problems.append(
            LiveError(
                None,
                f"{url}: {_said(head, 'HEAD')}, but 200 to GET; apps ask with HEAD before they download",
                _SERVER_FIX,
            )
        )
    kind = _mime(got.headers)
    if kind not in FEED_TYPES:
        found.problems.append(
            LiveError(
                None,
                f"{url}: is served as {kind or 'no Content-Type'}, not as a feed",
                "serve feed.xml as application/rss+xml (or application/xml)",
            )
        )
    length = got.headers.get("Content-Length")
    if length is not None and length.strip() != str(len(got.body)):
        found.problems.append(
            LiveError(None, f"{url}: Content-Length says {length} bytes, but {len(got.body)} came", _SERVER_FIX)
        )
    if published is None:
        found.warnings.append(
            LiveError(
                None,
                f"{url}: there is no feed panelpress published in the site folder to compare it with",
                "run check in the show folder that published it (or with --out DIR)",
            )
        )
    elif got.body != published:
        live, ours = _last_build(got.body), _last_build(published)
        when = f" (its lastBuildDate is {live or 'not there'}; the published one's is {ours or 'not there'})"
        found.problems.append(
            LiveError(
                None,
                f"{url}: is not the feed panelpress last published{when}",
                "upload the site folder again, or purge the cache or CDN in front of it",
            )
        )
    try:
        return etree.fromstring(got.body, etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as err:
        found.problems.append(
            LiveError(None, f"{url}: is not well-formed XML ({err})", "serve the feed.xml panelpress wrote, unchanged")
        )
        return None


def _media(found: Findings, url: str, root: etree._Element) -> list[Media]:
    """Every enclosure and alternate enclosure the live feed names, each address once."""
    media: dict[str, Media] = {}
    for number, item in enumerate(root.iterfind("channel/item"), start=1):
        title = (item.findtext("title") or "").strip()
        label = f"item {number} ({title!r})" if title else f"item {number}"
        enclosure = item.find("enclosure")
        if enclosure is not None and enclosure.get("url"):
            media.setdefault(
                enclosure.get("url"),
                Media(
                    enclosure.get("url"),
                    enclosure.get("length", ""),
                    enclosure.get("type", ""),
                    f"the enclosure of {label}",
                ),
            )
        for alternate in item.iterfind(f"{{{PODCAST_NS}}}alternateEnclosure"):
            for source in alternate.iterfind(f"{{{PODCAST_NS}}}source"):
                uri = source.get("uri", "")
                if uri.startswith(("http://", "https://")):
                    media.setdefault(
                        uri,
                        Media(
                            uri,
                            alternate.get("length", ""),
                            alternate.get("type", ""),
                            f"an alternate enclosure of {label}",
                        ),
                    )
    if not media:
        found.warnings.append(LiveError(None, f"{url}: names no enclosure to check", "publish an episode first"))
    return list(media.values())


def _enclosure(media: Media, local: Path | None) -> Findings:
    """One enclosure: HEAD, GET and a range request for its last bytes, each against what the feed says."""
    found, url = Findings(), media.url
    head = fetch(url, "HEAD", limit=0)
    _hops(found, url, head, feed=False)
    if head.status != 200:
        found.problems.append(
            LiveError(
                None, f"{url}: {_said(head, 'HEAD')} ({media.label}); apps ask with HEAD for its size", _SERVER_FIX
            )
        )
    else:
        _entity(found, media, head.headers)
    got = fetch(url, "GET", limit=0)  # the status line and headers only: the file is not downloaded
    if got.status != 200:
        found.problems.append(
            LiveError(None, f"{url}: {_said(got, 'GET')} ({media.label}); apps cannot download it", _SERVER_FIX)
        )
        return found
    if not media.length.isdigit() or int(media.length) < TAIL:
        return found
    size = int(media.length)
    first, last = size - TAIL, size - 1
    part = fetch(url, "GET", {"Range": f"bytes={first}-{last}"}, limit=TAIL + 1)
    if part.status == 200:
        found.problems.append(
            LiveError(
                None,
                f"{url}: answers a byte-range request with the whole file (200, not 206) ({media.label}); Apple Podcasts refuses such episodes, and apps cannot seek or resume",
                "enable range requests (Accept-Ranges: bytes) on the web server or CDN; a script in front of the files must pass them on",
            )
        )
    elif part.status != 206:
        found.problems.append(
            LiveError(None, f"{url}: {_said(part, 'a byte-range request')} ({media.label}), not 206", _SERVER_FIX)
        )
    else:
        wanted = f"bytes {first}-{last}/{size}"
        said = (part.headers.get("Content-Range") or "").strip()
        if said != wanted:
            found.problems.append(
                LiveError(
                    None,
                    f"{url}: answers the range {first}-{last} with Content-Range {said or 'missing'!r}, not {wanted!r} ({media.label})",
                    "the file on the server is not the one the feed describes: upload the site folder again",
                )
            )
        elif local is not None and local.is_file() and part.body != _tail(local):
            found.problems.append(
                LiveError(
                    None,
                    f"{url}: its last bytes differ from the published file's ({media.label})",
                    "upload the site folder again, or purge the cache or CDN in front of it",
                )
            )
    return found


def _entity(found: Findings, media: Media, headers: Message) -> None:
    """Content-Type and Content-Length against the feed's type and length."""
    kind, length = _mime(headers), (headers.get("Content-Length") or "").strip()
    if media.mime and kind != media.mime.lower():
        found.problems.append(
            LiveError(
                None,
                f"{media.url}: is served as {kind or 'no Content-Type'}, but the feed says {media.mime} ({media.label})",
                f"serve .{media.url.rsplit('.', 1)[-1]} files as {media.mime}",
            )
        )
    if not length:
        found.problems.append(
            LiveError(
                None,
                f"{media.url}: sends no Content-Length ({media.label}); apps cannot show its size or check the download",
                _SERVER_FIX,
            )
        )
    elif media.length and length != media.length:
        found.problems.append(
            LiveError(
                None,
                f"{media.url}: Content-Length is {length}, but the feed says {media.length} bytes ({media.label})",
                "upload the site folder again, or purge the cache or CDN in front of it",
            )
        )


def _hops(found: Findings, url: str, answer: Answer, feed: bool) -> None:
    """Each redirect, as a warning: apps follow them, and a feed's temporary redirect never moves a subscription."""
    for code, origin, target in answer.hops:
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


def _said(answer: Answer, what: str) -> str:
    return answer.problem if answer.status == 0 else f"answers {answer.status} to {what}"


def _mime(headers: Message) -> str:
    return (headers.get("Content-Type") or "").split(";")[0].strip().lower()


def _last_build(feed: bytes) -> str:
    try:
        root = etree.fromstring(feed, etree.XMLParser(resolve_entities=False, no_network=True, recover=True))
    except etree.XMLSyntaxError:
        return ""
    return (root.findtext("channel/lastBuildDate") or "").strip() if root is not None else ""


def _tail(path: Path) -> bytes:
    with path.open("rb") as handle:
        handle.seek(-TAIL, 2)
        return handle.read()
