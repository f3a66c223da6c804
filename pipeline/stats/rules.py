"""The IAB Podcast Measurement Technical Guidelines v2.2, applied to requests one at a time, in the order they came.

- Only GET with a 200 or 206 answer; HEAD and the `bytes=0-1` probe never count.
- A listener is an address (IPv6 by its /64) and a user agent; its ranges of one file are summed, counting only the
  bytes past the header (the ID3 tag), and make a download once a minute of audio is there (the whole file when it
  is shorter).
- One download per listener and file in 24 hours: the window opens at the listener's first request for it and the
  next request after it opens a new one (so a listener across midnight is one download, not two).
- Bots, libraries that are not players, agents with no name or that call themselves bots, and Apple Watch downloads
  are left out (`agents`); a system player (AppleCoreMedia…) counts as the app that asked for the same file from
  the same address, when that app showed itself (Apple Podcasts' probe before its player's chunks).

Addresses stay in memory only: a listener is kept as a keyed hash (BLAKE2b, with the day's salt). What the last
run left open (its windows and the apps it saw) is recalled from the state for the listeners the new requests name
only (`Recall`): a run over a few new lines reads a few rows, not a day's.
"""

from __future__ import annotations

import hashlib
import operator
import re
import socket
import time
from collections import Counter as Tally
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from .agents import APP, COUNTED, LIBRARY, Agents
from .formats import Request
from .media import MediaFile, Show

DAY = 86_400
LATE = 3_600  # a log's lines are in order of answers: a long download is written after shorter ones that began later
SWEEP = 10_000  # requests between two looks at whether the windows of a day and an hour ago can be forgotten
CROWDED = 1_000_000  # windows and apps in the young generation past which the closed ones are sought one by one
PROBE = b"bytes=0-1"
# An IPv6 address is told by `COLON in ip`, not `b":" in ip`: bytes' `in` tries its operand as a number first and
# catches the error that raises, 150 ns a request where an int operand takes 20
COLON = ord(":")
MAPPED = bytes(10) + b"\xff\xff"  # ::ffff:0:0/96, IPv4 addresses in IPv6's form
SUBSCRIBERS = re.compile(rb"(\d[\d,]*) (?:subscribers|readers|followers)", re.IGNORECASE)
FEED_OK = (200, 304)
LEFT_OUT = {
    "method": "not GET (HEAD…)",
    "status": "not answered with the file (4xx, 5xx, 304…)",
    "probe": "bytes=0-1 probes",
    "bot": "bots and libraries",
    "nameless": "no user agent",
    "watch": "Apple Watch",
    "short": "less than a minute delivered",
    "repeat": "same listener within 24 h",
}


def day_of(ts: int) -> str:
    """The UTC day of a time, as YYYY-MM-DD."""
    return time.strftime("%Y-%m-%d", time.gmtime(ts))


@dataclass(slots=True)
class Window:  # slots: a million listeners in a day fit in memory
    """A listener's 24 hours with one file: when it opened, the audio bytes delivered, and whether it counted."""

    start: int
    rel: str
    audio: int = 0
    counted: bool = False
    app: str = ""
    platform: str = ""


_WINDOW_FIELDS = operator.attrgetter(*Window.__slots__)


def astuple(window: Window) -> tuple:
    """A window's fields, in order (`Window(*fields)` makes it again): faster to send than the window."""
    return _WINDOW_FIELDS(window)


@dataclass
class Counts:
    """What a run found, kept until the store takes it."""

    downloads: dict = field(default_factory=dict)  # (slug, edition, day, app, platform) → n, those not spooled yet
    counted: int = 0  # downloads counted, spooled or not (store.Spool)
    feed_days: Tally = field(default_factory=Tally)  # (feed path, day) → requests
    feed_listeners: set = field(default_factory=set)  # (day, listener hash)
    aggregators: dict = field(default_factory=dict)  # name → (time, subscribers)
    left_out: Tally = field(default_factory=Tally)  # reason → requests
    requests: int = 0  # requests for the show's audio and feeds
    last: int = 0  # the time of the latest of them: windows that began a day and an hour before it are closed


class Recall(Protocol):
    """What the last run left open, read as the new requests need it (`store.Recall`)."""

    until: int  # the latest window start and app seen it holds: past it, nothing it holds can be open

    def windows(self, listeners: list[bytes]) -> dict[bytes, tuple]:
        """The windows of these hashed listeners: (start, rel, audio, counted, app, platform) each."""

    def served(self, addresses: list[bytes]) -> dict[tuple[bytes, str], tuple[int, str]]:
        """The apps seen asking from these hashed addresses: (address, rel) → (time, app)."""


def v6_prefix(ip: bytes) -> bytes:
    """An IPv6 address by its /64 (as the rules count one listener); an IPv4 address written as IPv6, as a dual-stack
    server logs it (`::ffff:192.0.2.1`), as that IPv4 address is written; or as written when it reads as neither."""
    try:  # (not contextlib.suppress: it costs more than the conversion, once per address)
        packed = socket.inet_pton(socket.AF_INET6, ip.strip(b"[]").decode("ascii"))
    except (OSError, ValueError):
        return ip
    if packed.startswith(MAPPED):  # its /64 is everyone's
        return socket.inet_ntop(socket.AF_INET, packed[12:]).encode()
    return packed[:8]


class Rules:
    """Requests in, downloads out: the IAB v2.2 rules over a show's files, with a day's salt for the hashes."""

    def __init__(
        self,
        show: Show,
        salt: bytes,
        recall: Recall | None = None,
        shapes: dict | None = None,
    ) -> None:
        self.show = show
        self.salt = salt
        self.recall = recall  # None: nothing left open by the last run (or all of it recalled that can be)
        self.recalled: dict = {}  # the listeners (→ their hash) and addresses (as in memory) already asked of `recall`
        self.agents = Agents(shapes)
        # By (address, agent, rel), the address as `_key` makes it: in memory only, hashed when kept (`open_windows`)
        self.windows: dict[tuple[bytes, bytes, str], Window] = {}
        self.old_windows: dict[tuple[bytes, bytes, str], Window] = {}  # the generation before (`sweep`)
        self.kept: dict[tuple[bytes, bytes, str], tuple] = {}  # left open by the last run, as `recall` gave them
        self.recalled_rows: dict[tuple[bytes, bytes, str], tuple] = {}  # the same, once a window of this run's
        self.asked: dict[tuple[bytes, str], tuple[int, str]] = {}  # (address, rel) → (time, app): this run's
        self.old_asked: dict[tuple[bytes, str], tuple[int, str]] = {}
        self.born = 0  # the time of the latest request when `windows` and `asked` began (`sweep`)
        self.crowded = CROWDED
        self.served: dict[tuple[bytes, str], tuple[int, str]] = {}  # the same, hashed: the last run's (`recall`)
        self.counts = Counts()
        self.paths: dict[bytes, tuple[str, MediaFile | str] | None] = {}
        self.v6: dict[bytes, bytes] = {}  # IPv6 address → its /64
        self.hashes: dict[bytes, bytes] = {}  # address → its keyed hash
        self.readers: dict[tuple[bytes, bytes], bytes] = {}  # a feed's reader (address, agent) → its keyed hash
        self.fetchers: dict[bytes, tuple[str, int]] = {}  # a feed's fetcher: (aggregator, subscribers) or ("", counted)
        self.days: dict[int, str] = {}
        self.last = 0
        self.since_sweep = 0
        self._by_file = {rel.rsplit("/", 1)[-1]: media for rel, media in show.files.items()}
        self._feeds = {feed.rsplit("/", 1)[-1]: feed for feed in show.feeds}

    # --- what a path is -------------------------------------------------------------------------------------------

    def _what(self, path: bytes) -> tuple[str, MediaFile | str] | None:
        """("media", file) or ("feed", its path) for a request path; None for anything else (cached)."""
        found = self.paths.get(path, False)
        if found is not False:
            return found
        if len(self.paths) > 100_000:  # made-up paths (scanners) must not fill the memory
            self.paths.clear()
        text = path.decode("utf-8", "replace")
        found = None
        folder, _, name = text.rpartition("/")
        media = self._by_file.get(name)
        if media is not None and folder.endswith("/" + media.rel.rpartition("/")[0]):
            found = ("media", media)
        elif name in self._feeds and (text in self.show.feeds or not folder.strip("/")):
            found = ("feed", self._feeds[name])
        self.paths[path] = found
        return found

    def wanted(self, path: bytes) -> bool:
        """Whether a request path is one of the show's audio files or feeds."""
        found = self.paths.get(path, False)
        return (self._what(path) if found is False else found) is not None

    def _key(self, ip: bytes) -> bytes:
        """The listener's address as the rules compare it: an IPv4 address as written, an IPv6 one by its /64."""
        if COLON not in ip:
            return ip
        key = self.v6.get(ip)
        if key is None:
            if len(self.v6) > 50_000:
                self.v6.clear()
            key = self.v6[ip] = v6_prefix(ip)
        return key

    def _hash(self, key: bytes) -> bytes:
        """An address's keyed hash (from its `_key`): what is kept of it, never the address itself."""
        hashed = self.hashes.get(key)
        if hashed is None:
            if len(self.hashes) > 20_000:
                self.hashes.clear()
            hashed = self.hashes[key] = hashlib.blake2b(key, key=self.salt, digest_size=16).digest()
        return hashed

    def _day(self, ts: int) -> str:
        day = self.days.get(ts // DAY)
        if day is None:
            day = self.days[ts // DAY] = day_of(ts)
        return day

    # --- the rules ------------------------------------------------------------------------------------------------

    def add_all(self, requests: Iterable[Request]) -> None:
        """Apply the rules to requests, in the order they came (what the loop looks up is held in its own names)."""
        if self.recall is not None:
            requests = self._recall(requests)
        counts, agents, what_of, key_of = self.counts, self.agents, self._what, self._key
        # tallied in plain dicts (a Counter's `+=` takes twice as long): the downloads in the run's own, this call's
        # left-out requests in one added to the run's at its end
        left_out, downloads, counted = dict.fromkeys(LEFT_OUT, 0), counts.downloads, 0
        known, paths, asked = agents.known, self.paths, self.asked
        windows, old_windows, kept, served, days = self.windows, self.old_windows, self.kept, self.served, self.days
        old_asked, v6 = self.old_asked, self.v6
        last, since, seen = self.last, self.since_sweep, 0
        for request in requests:
            ts, ip, method, path, status, sent, range_, user_agent = request
            what = paths.get(path, False)
            if what is False:
                what = what_of(path)
            if what is None:
                continue
            seen += 1
            if ts > last:
                last = ts
            since += 1
            if since >= SWEEP:
                self.last = last
                self.sweep()
                since = 0
                windows, old_windows, kept, served = self.windows, self.old_windows, self.kept, self.served
                asked, old_asked = self.asked, self.old_asked
            kind, media = what
            if method != b"GET":
                left_out["method"] += 1
                continue
            if kind == "feed":
                self._feed(request, media)
                continue
            if status != 200 and status != 206:
                left_out["status"] += 1
                continue
            agent = known.get(user_agent) or agents(user_agent)
            address = ip if COLON not in ip else (v6.get(ip) or key_of(ip))
            rel = media.rel
            agent_kind = agent.kind
            if agent_kind == APP:  # (the last run's answer for the pair, in `served`, is looked in after this one)
                asked[(address, rel)] = (ts, agent.name)
            # `_probe`, here without a call (a log without the Range: its answer); `_recall` asks the state for the
            # windows and apps the requests after this point may need
            if range_ == PROBE or (not range_ and status == 206 and sent <= 2):
                left_out["probe"] += 1
                continue
            if agent_kind not in COUNTED:
                left_out[agent_kind if agent_kind in LEFT_OUT else "bot"] += 1
                continue
            # in memory only; kept hashed (`open_windows`); `_recall` asked for the window of each counted agent's
            listener = (address, user_agent, rel)
            window = windows.get(listener)
            if window is None:
                window = old_windows.get(listener)
            if window is None and kept:
                row = kept.pop(listener, None)
                if row is not None:  # now this run's: `open_windows` gives it back to the state, when it changed
                    start_, rel_, audio, counted, app_, platform = row
                    window = windows[listener] = Window(start_, rel_, audio, bool(counted), app_, platform)
                    self.recalled_rows[listener] = row
            if window is None or ts >= window.start + DAY:
                window = windows[listener] = Window(ts, rel)
            elif window.counted:
                left_out["repeat"] += 1
                continue
            # the bytes of audio (past the header) delivered: from the range's start, what the log says was sent
            start = 0
            if range_:
                first, _, end = range_[6:].partition(b"-")  # bytes=FIRST-LAST
                try:
                    if first:
                        start = int(first)
                    elif end:  # bytes=-N: the last N bytes
                        start = max(0, media.size - int(end))
                except ValueError:  # several ranges, or a malformed one: taken from the start
                    start = 0
            end = start + sent
            if end > media.size:
                end = media.size
            header = media.header
            if end > header:
                window.audio += end - (start if start > header else header)
            if window.audio >= media.needed:
                window.counted = True
                app = agent.name
                if agent_kind == LIBRARY:  # a system player: the app that asked for this file from this address
                    found = asked.get((address, rel))
                    if found is None:
                        found = old_asked.get((address, rel))
                    if found is None and served:  # `_recall` asked for the apps seen at a system player's address
                        found = served.get((self._hash(address), rel))
                    if found is not None and ts - found[0] < DAY:
                        app = found[1]
                window.app, window.platform = app, agent.platform
                day = days.get(ts // DAY) or self._day(ts)
                key = (media.slug, media.edition, day, app, agent.platform)
                downloads[key] = downloads.get(key, 0) + 1
                counted += 1
        counts.left_out.update({reason: n for reason, n in left_out.items() if n})
        counts.counted += counted
        counts.requests += seen
        self.last, self.since_sweep = last, since
        counts.last = last

    def _recall(self, requests: Iterable[Request]) -> list[Request]:
        """Ask the state for the windows and apps the last run left open of the listeners and addresses these requests
        name (each asked once), before the rules need them; no more once the requests are a day past all of them."""
        requests = requests if isinstance(requests, list) else list(requests)
        recall = self.recall
        if recall.until < self.last - DAY - LATE:
            self.recall, self.recalled, self.recalled_rows = None, {}, {}
            return requests
        listeners: dict[bytes, tuple[bytes, bytes, str]] = {}  # hashed → as in memory
        addresses: list[bytes] = []  # hashed
        recalled, paths, what_of, key_of, agents = self.recalled, self.paths, self._what, self._key, self.agents
        for _ts, ip, method, path, status, sent, range_, user_agent in requests:
            what = paths.get(path, False)
            if what is False:
                what = what_of(path)
            if what is None or what[0] != "media":
                continue
            if method != b"GET" or status not in (200, 206) or _probe(range_, status, sent):
                continue  # no window, no app looked up (as `add_all`)
            kind = (agents.known.get(user_agent) or agents(user_agent)).kind
            if kind not in COUNTED:
                continue
            address = key_of(ip)
            listener = (address, user_agent, what[1].rel)
            if listener not in recalled:
                digest = recalled[listener] = self._digest(listener)
                listeners[digest] = listener
            if kind == LIBRARY and address not in recalled:  # a system player: the app that asked from there
                recalled[address] = None
                addresses.append(self._hash(address))
        if listeners:
            kept = self.kept
            for digest, row in recall.windows(list(listeners)).items():
                kept[listeners[digest]] = row
        if addresses:
            self.served.update(recall.served(addresses))
        return requests

    def _feed(self, request: Request, feed: str) -> None:
        ts, ip, _method, _path, status, _sent, _range, user_agent = request
        counts = self.counts
        if status not in FEED_OK:
            counts.left_out["status"] += 1
            return
        day = self._day(ts)
        counts.feed_days[(feed, day)] += 1
        fetcher = self.fetchers.get(user_agent)
        if fetcher is None:
            reported = SUBSCRIBERS.search(user_agent)
            if reported:
                # An aggregator fetches for many: its agent says how many (Feedly, Inoreader, Overcast's sync…)
                fetcher = (_aggregator(user_agent[: reported.start()]), int(reported.group(1).replace(b",", b"")))
            else:
                fetcher = ("", self.agents(user_agent).counted)
            if len(self.fetchers) > 10_000:
                self.fetchers.clear()
            self.fetchers[user_agent] = fetcher
        name, subscribers_or_counted = fetcher
        if name:
            if counts.aggregators.get(name, (0, 0))[0] <= ts:
                counts.aggregators[name] = (ts, subscribers_or_counted)
            return
        if subscribers_or_counted:
            listener = self.readers.get((ip, user_agent))
            if listener is None:
                if len(self.readers) > 20_000:
                    self.readers.clear()
                listener = self.readers[(ip, user_agent)] = hashlib.blake2b(
                    self._hash(self._key(ip)) + b"\0" + user_agent, key=self.salt, digest_size=16
                ).digest()
            counts.feed_listeners.add((day, listener))

    def sweep(self) -> None:
        """Forget the windows and apps that closed (a day and an hour behind the latest request), by generation: the
        ones made since the generation before began are kept, the older ones dropped whole, none looked at one by
        one (a window is never moved from one generation to the next: a new one for the same listener is made in the
        young one, which is looked in first)."""
        self.since_sweep = 0
        if self.last - self.born <= DAY + LATE:
            if len(self.windows) + len(self.asked) > self.crowded:
                # more listeners in a day than that, or a request dated in the future: the closed ones sought one by
                # one (then not again before the young generation has doubled)
                edge = self.last - DAY - LATE
                for generation in (self.windows, self.old_windows):
                    for key in [key for key, window in generation.items() if window.start < edge]:
                        del generation[key]
                for generation in (self.asked, self.old_asked):
                    for key in [key for key, asked in generation.items() if asked[0] < edge]:
                        del generation[key]
                self.crowded = max(CROWDED, 2 * (len(self.windows) + len(self.asked)))
            return
        # every window of the old generation began before `born`, now more than a day and an hour ago
        self.old_windows, self.windows = self.windows, {}
        self.old_asked, self.asked = self.asked, {}
        self.born = self.last
        edge = self.last - DAY - LATE
        self.kept = {key: row for key, row in self.kept.items() if row[0] >= edge}
        self.served = {key: asked for key, asked in self.served.items() if asked[0] >= edge}
        if self.recall is not None and self.recall.until < edge:
            self.recall, self.recalled, self.recalled_rows = None, {}, {}  # all it holds is closed
        recent = day_of(self.last - 2 * DAY)  # the estimate needs the last whole day only
        listeners = self.counts.feed_listeners
        if listeners and min(listeners)[0] < recent:
            self.counts.feed_listeners = {entry for entry in listeners if entry[0] >= recent}

    def open_served(self) -> list[tuple[bytes, str, int, str]]:
        """The apps this run saw in the last day, as the state's rows (hashed address, rel, time, app) in order (kept
        for the next run: a player's chunks may come after it; those the last run saw and this one did not again are
        still in the state)."""
        edge = self.last - DAY - LATE
        found: dict[tuple[bytes, str], tuple[int, str]] = {}
        for generation in (self.old_asked, self.asked):  # the young one last: it holds the latest
            found.update(
                ((self._hash(address), rel), asked) for (address, rel), asked in generation.items() if asked[0] >= edge
            )
        return sorted((address, rel, ts, app) for (address, rel), (ts, app) in found.items())

    def _digest(self, listener: tuple[bytes, bytes, str]) -> bytes:
        address, agent, rel = listener
        return hashlib.blake2b(
            self._hash(address) + b"\0" + agent + b"\0" + rel.encode(), key=self.salt, digest_size=16
        ).digest()

    def open_windows(self) -> list[tuple]:
        """The windows this run opened or moved on that are still open at the latest request, as the state's rows
        (hashed listener, rel, start, audio, counted, app, platform) in order (kept for the next run; those the last
        run left and this one did not touch are still in the state)."""
        edge = self.last - DAY - LATE
        found: dict[bytes, tuple] = {}
        hashed, rows = self.recalled, self.recalled_rows  # the listeners asked of `recall`, what it gave
        for generation in (self.old_windows, self.windows):  # the young one last: it holds the latest
            for key, window in generation.items():
                if window.start >= edge and rows.get(key) != (fields := astuple(window)):
                    found[hashed.get(key) or self._digest(key)] = fields
        return sorted(
            (listener, rel, start, audio, int(counted), app, platform)
            for listener, (start, rel, audio, counted, app, platform) in found.items()
        )


def _probe(range_: bytes, status: int, sent: int) -> bool:
    """Whether a request is a player's probe (`bytes=0-1`; in a log without the Range, its two-byte answer)."""
    return range_ == PROBE or (not range_ and status == 206 and sent <= 2)


def _aggregator(before: bytes) -> str:
    """An aggregator's name from the start of its agent (`Feedly/1.0 (+http://…; ` → Feedly)."""
    text = before.decode("utf-8", "replace").strip(" (;")
    name = re.split(r"[/ (;]", text, maxsplit=1)[0]
    return name or "aggregator"
