"""Notify: after a publish that changed the feed, tell the WebSub hubs and Podcast Index, so apps hear of a new
episode at once instead of at their next poll.

A hub is told with the publisher's ping of PubSubHubbub 0.4, which hubs still take: a POST of
`hub.mode=publish&hub.url=<feed>`. Podcast Index is told with its `pubnotify` address (no key needed); it fetches the
feed again and relays the change as a Podping. Each is tried twice at most, each time within `[notify] timeout`
seconds in all (the shared client's deadline: a hub that trickles its answer is cut there), so a notice ends within
ATTEMPTS × timeout; one that fails is a warning: the feed is published, and apps find the change when they next
fetch it.
"""

from __future__ import annotations

import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from . import layout, web
from .config import Config
from .errors import NotifyError

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
    found = [Ping(f"the WebSub hub {web.shown(hub)}", hub, form) for hub in config.notify.hubs]
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
    told = tuple(ping.name for ping, (problem, _) in zip(todo, outcomes) if not problem)
    failed = tuple(
        NotifyError(None, f"{ping.name} was not told of the new feed: {problem}", f"{fix}; {_FIX}" if fix else _FIX)
        for ping, (problem, fix) in zip(todo, outcomes)
        if problem
    )
    return told, failed


def _send(ping: Ping, timeout: float) -> tuple[str, str]:
    """Send one notice, once more if it fails for a reason that may pass: ('', '') when it was taken, else why not
    (and what to do, when the client knows)."""
    answer = web.Answer(0, ping.url)
    for _ in range(ATTEMPTS):
        answer = web.request(
            ping.url,
            "POST" if ping.data else "GET",
            {"Content-Type": "application/x-www-form-urlencoded"} if ping.data else None,
            ping.data,
            limit=web.ANSWER_BYTES,  # read (and dropped) so the hub sees its answer taken; only the status counts
            seconds=timeout,
        )
        if 200 <= answer.status < 300:
            return "", ""
        if 400 <= answer.status < 500 and answer.status not in (408, 429):
            break  # refused: asking again gets the same answer
    return answer.problem or f"it answered {answer.status} {answer.reason}".strip(), answer.fix
