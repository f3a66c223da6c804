"""Who asked: a user agent named by the OPAWG user-agents-v2 list (shipped in `data/`, MIT), as IAB v2.2 filters it.

The list is matched as its README says: bots, then apps, then libraries, then browsers, the first entry whose pattern
matches; the device from its own file. Left out of the counts: the list's bots and the libraries it marks as bots
(curl, python, wget…), agents with no name or that call themselves bot, crawler or spider, and Apple Watch downloads
(IAB Tech Lab's watchOS guidance, kept in v2.2: the watch repeats what its phone downloaded). System players
(AppleCoreMedia, ExoPlayer, stagefright…) count: they play for an app (`rules` names the app they serve when it
showed itself).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
LIST_VERSION = "8008a31"  # the list's commit (data/README.md): answers kept in the state are for this one only
ORDER = ("bots", "apps", "libraries", "browsers")
# Agents that say what they are; IAB v2.2 asks that they be left out even when no list names them.
SELF_DECLARED = re.compile(r"bot|crawler|spider", re.IGNORECASE)
WATCH = re.compile(r"watchOS|Apple Watch|^atc/")

APP, BROWSER, LIBRARY, BOT, WATCH_KIND, NAMELESS = "app", "browser", "library", "bot", "watch", "nameless"
COUNTED = frozenset({APP, BROWSER, LIBRARY})


@dataclass(frozen=True)
class Agent:
    """What a user agent is: its kind (app, browser, library: counted; bot, watch, nameless: left out), the name
    the list gives it, and its platform (the list's device)."""

    kind: str
    name: str
    platform: str

    @property
    def counted(self) -> bool:
        """Whether its downloads count (IAB v2.2)."""
        return self.kind in COUNTED


@cache
def _entries(kind: str) -> tuple[tuple[re.Pattern, str, str], ...]:
    data = json.loads((DATA / f"{kind}.json").read_text(encoding="utf-8"))
    return tuple((re.compile(entry["pattern"]), entry["name"], entry.get("category", "")) for entry in data["entries"])


def classify(user_agent: str) -> Agent:
    """The agent a User-Agent header names (uncached: `Agents` keeps the answers)."""
    text = user_agent.replace("\n", "").strip()
    if not text or text == "-":
        return Agent(NAMELESS, "(no name)", "")
    found = None
    for kind in ORDER:
        for pattern, name, category in _entries(kind):
            if pattern.search(text):
                found = (kind, name, category)
                break
        if found:
            break
    if found is None:
        kind, name = (BOT, "(calls itself a bot)") if SELF_DECLARED.search(text) else (APP, "Other")
    else:
        list_kind, name, category = found
        kind = {"bots": BOT, "apps": APP, "libraries": LIBRARY, "browsers": BROWSER}[list_kind]
        if kind == LIBRARY and category == "bot":
            kind = BOT
        if kind in (LIBRARY, BROWSER) and SELF_DECLARED.search(text):
            kind = BOT
    if kind == BOT:
        return Agent(BOT, name, "")
    platform = _platform(text)
    if WATCH.search(text) or platform == "Apple Watch":
        return Agent(WATCH_KIND, name, platform)
    return Agent(kind, name, platform)


def _platform(text: str) -> str:
    for pattern, name, _category in _entries("devices"):
        if pattern.search(text):
            return name
    return "Other"


DIGITS = re.compile(rb"\d+")


class Agents:
    """`classify` with its answers kept, by the header's bytes as a log holds them, and by its shape (its numbers
    taken out: versions, builds, subscriber counts), so each app is matched against the list once."""

    def __init__(self, shapes: dict[bytes, Agent] | None = None) -> None:
        self.known: dict[bytes, Agent] = {}
        self.shapes: dict[bytes, Agent] = dict(shapes or {})  # kept between runs: the list is matched once per shape

    def __call__(self, user_agent: bytes) -> Agent:
        agent = self.known.get(user_agent)
        if agent is None:
            if len(self.known) > 50_000:  # a log of made-up agents must not fill the memory
                self.known.clear()
            shape = DIGITS.sub(b"0", user_agent)
            agent = self.shapes.get(shape)
            if agent is None:
                if len(self.shapes) > 200_000:
                    self.shapes.clear()
                agent = self.shapes[shape] = classify(user_agent.decode("utf-8", "replace"))
            self.known[user_agent] = agent
        return agent
