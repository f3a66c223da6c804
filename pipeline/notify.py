"""Notify: after a publish that changed the feed, tell the WebSub hubs and Podcast Index, so apps hear of a new
episode at once instead of at their next poll.

A hub is told with the publisher's ping of PubSubHubbub 0.4, which hubs still take: a POST of
`hub.mode=publish&hub.url=<feed>`. Podcast Index is told with its `pubnotify` address (no key needed); it fetches the
feed again and relays the change as a Podping. Each is tried twice at most, each time within `[notify] timeout`
seconds; one that fails is a warning: the feed is published, and apps find the change when they next fetch it.
"""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from . import __version__, layout
from .config import Config
from .errors import NotifyError

USER_AGENT = f"panelpress/{__version__} (+https://pypi.org/project/panelpress/)"
ATTEMPTS = 2  # the ping and one retry
_FIX = "nothing is lost: the feed is published and apps see the change when they next fetch it; check the address in [notify] if it keeps failing"


@dataclass(frozen=True)
class Ping:
    """One notice to send: who gets it, and the request."""

    name: str  # as the host knows it: "the WebSub hub https://…", "Podcast Index"
    url: str
    data: bytes | None = None  # a form to POST; None: a GET


def pings(config: Config) -> tuple[Ping, ...]:
    """The notices a publish of this show sends: one per hub, and Podcast Index's when it is on."""
    feed = layout.feed_url(config.site_url)
    form = urllib.parse.urlencode({"hub.mode": "publish", "hub.url": feed}).encode()
    found = [Ping(f"the WebSub hub {hub}", hub, form) for hub in config.notify.hubs]
    if config.notify.podcastindex:
        base = config.notify.podcastindex_url
        found.append(
            Ping("Podcast Index", f"{base}{'&' if '?' in base else '?'}{urllib.parse.urlencode({'url': feed})}")
        )
    return tuple(found)


def publish(config: Config) -> tuple[tuple[str, ...], tuple[NotifyError, ...]]:
    """Send every notice at once: (the names of those told, a warning for each that could not be)."""
    todo = pings(config)
    if not todo:
        return (), ()
    with ThreadPoolExecutor(max_workers=len(todo)) as pool:
        outcomes = list(pool.map(lambda ping: _send(ping, config.notify.timeout), todo))
    told = tuple(ping.name for ping, problem in zip(todo, outcomes) if not problem)
    failed = tuple(
        NotifyError(None, f"{ping.name} was not told of the new feed: {problem}", _FIX)
        for ping, problem in zip(todo, outcomes)
        if problem
    )
    return told, failed


def _send(ping: Ping, timeout: float) -> str:
    """Send one notice, once more if it fails for a reason that may pass; '' when it was taken, else why not."""
    problem = ""
    for _ in range(ATTEMPTS):
        request = urllib.request.Request(
            ping.url, data=ping.data, headers={"User-Agent": USER_AGENT}, method="POST" if ping.data else "GET"
        )
        if ping.data:
            request.add_header("Content-Type", "application/x-www-form-urlencoded")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as answer:
                answer.read(65536)
                return ""
        except urllib.error.HTTPError as err:
            problem = f"it answered {err.code} {err.reason}"
            if 400 <= err.code < 500 and err.code not in (408, 429):
                break  # refused: asking again gets the same answer
        except (urllib.error.URLError, OSError, ValueError) as err:  # no answer in time, refused, or a bad address
            reason = getattr(err, "reason", err)
            problem = (
                "no answer within the timeout"
                if isinstance(reason, TimeoutError) or "timed out" in str(reason)
                else f"it could not be reached ({reason})"
            )
    return problem
