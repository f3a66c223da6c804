"""Explicit content: the show's and each episode's tri-state, and a profanity scan of notes and transcripts."""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from ..config import Config
from ..errors import ExplicitContentError
from ..records import Notes, Passage

# glin-profanity's dictionaries, by the ISO 639-1 code a show's `language` starts with.
LANGUAGES = {
    "ar": "arabic",
    "zh": "chinese",
    "cs": "czech",
    "da": "danish",
    "nl": "dutch",
    "en": "english",
    "eo": "esperanto",
    "fi": "finnish",
    "fr": "french",
    "de": "german",
    "hi": "hindi",
    "hu": "hungarian",
    "it": "italian",
    "ja": "japanese",
    "ko": "korean",
    "no": "norwegian",
    "nb": "norwegian",
    "nn": "norwegian",
    "fa": "persian",
    "pl": "polish",
    "pt": "portuguese",
    "ru": "russian",
    "es": "spanish",
    "sv": "swedish",
    "th": "thai",
    "tr": "turkish",
}
# The library lists base forms ("fuck", "wank"); panels also say "fucked" and "wankers".
INFLECTIONS = ("s", "ed", "er", "ers")
SHOWN = 12  # locations listed in one message; the rest are counted


@dataclass(frozen=True)
class Finding:
    """One word of strong language and where it is (1-based line and column)."""

    where: str
    word: str
    line: int
    column: int


def effective(episode: bool | None, show: bool | None) -> bool:
    """Whether an episode is explicit: its own value, else the show's, else clean (Apple needs true or false)."""
    if episode is not None:
        return episode
    return bool(show)


class Lexicon:
    """The profanity library (glin-profanity) with the show's extra and allowed words."""

    def __init__(self, languages: Sequence[str], extra: Iterable[str] = (), allow: Iterable[str] = ()) -> None:
        from glin_profanity import Filter  # its word lists and patterns: imported when an episode is scanned

        base = Filter({"languages": list(languages), "obfuscation": "off"})  # its words only: no scanner to build
        words = [*base.words, *(w.lower() for w in extra)]
        inflected = {w + end for w in words if w.isalpha() and len(w) >= 4 for end in INFLECTIONS} - set(words)
        self.allow = frozenset(w.casefold() for w in allow)
        self.allow |= {w + end for w in self.allow for end in INFLECTIONS}
        self.languages, self.custom = list(languages), [*extra, *sorted(inflected)]
        self.filter = Filter({"languages": self.languages, "custom_words": self.custom})
        _quicker(self.filter)

    def find(self, text: str, where: str, allowed: bool = False) -> list[Finding]:
        """Every strong word in `text`, located by line and column within it (`allowed`: instead, those the allow
        list keeps)."""
        starts = _line_starts(text)
        found = []
        for match in (
            match for offset, part in _paragraphs(text) for match in _offset(self.filter.check_profanity(part), offset)
        ):
            word, index = match["word"], match.get("index")
            if index is None or (word.casefold() in self.allow) != allowed:
                continue
            said = text[index : index + len(word)]
            word = said if said.casefold() == word.casefold() else word  # as written, not as the library lists it
            line = bisect.bisect_right(starts, index)
            found.append(Finding(where, word, line, index - starts[line - 1] + 1))
        return sorted(set(found), key=lambda f: (f.line, f.column, f.word))


class _Prefiltered:
    """A stand-in for glin-profanity's one regex of its words that are not plain tokens ("f*ck", "blow job"), used to
    ask "is any of them here?". Python's re tries its ~140 alternatives at every character: most of a long text's
    scan. A substring test of each word answers "no" first, in C; the regex still decides "yes", so what is found
    does not change (tests/test_explicit.py compares both)."""

    def __init__(self, regex, words: Iterable[str]) -> None:
        self.regex = regex
        self.words = tuple(words)

    def search(self, lowered: str):
        return self.regex.search(lowered) if any(word in lowered for word in self.words) else None


def _quicker(found) -> None:
    """Give the filter's scanner the prefiltered candidate test, where its scanner is the one this was written for
    (glin-profanity 4.x, case-insensitive); otherwise leave it as it is: slower, never different."""
    scanner = getattr(found, "_scanner", None)
    cfg, rest, regex = (
        getattr(scanner, "_cfg", None),
        getattr(scanner, "_rest", None),
        getattr(scanner, "_rest_any", None),
    )
    if rest and regex is not None and hasattr(regex, "search") and cfg is not None and not cfg.case_sensitive:
        scanner._rest_any = _Prefiltered(regex, {word.lower() for word in rest})


@functools.lru_cache(maxsize=8)
def _lexicon(languages: tuple[str, ...], extra: tuple[str, ...], allow: tuple[str, ...]) -> Lexicon:
    return Lexicon(languages, extra, allow)


def lexicon(config: Config) -> Lexicon:
    """The show's lexicon: its language's dictionary and English, plus [explicit] extra_words, minus allow_words."""
    own = LANGUAGES.get(config.show.language.split("-")[0].lower())
    languages = tuple(dict.fromkeys(x for x in (own, "english") if x))
    return _lexicon(languages, config.explicit.extra_words, config.explicit.allow_words)


# Text is scanned a few paragraphs at a time: once the library finds a candidate in a text, it runs each of its words
# with its own regex over all of that text, so a long text with one strong word would cost ~140 passes over it.
CHUNK = 4096
_BLANK_LINE = re.compile(r"\n[ \t]*\n")


def _paragraphs(text: str) -> Iterator[tuple[int, str]]:
    """`text` in pieces of whole paragraphs (about CHUNK characters, or one longer paragraph), each with its offset."""
    start = 0
    while len(text) - start > CHUNK:
        breaks = [m.end() for m in _BLANK_LINE.finditer(text, start, start + CHUNK)]
        later = _BLANK_LINE.search(text, start + CHUNK) if not breaks else None
        end = breaks[-1] if breaks else later.end() if later else len(text)
        yield start, text[start:end]
        start = end
    if start < len(text) or not text:
        yield start, text[start:]


def _offset(result: dict, offset: int) -> Iterator[dict]:
    for match in result.get("matches") or []:
        yield {**match, "index": match["index"] + offset} if match.get("index") is not None else match


def _line_starts(text: str) -> list[int]:
    starts = [0]
    starts.extend(i + 1 for i, char in enumerate(text) if char == "\n")
    return starts


def scan(text: str, where: str | Path, config: Config) -> tuple[Finding, ...]:
    """Strong language in any text (notes, a transcript's cues), located by line:column in that text."""
    return tuple(lexicon(config).find(text, str(where)))


def scan_notes(notes: Notes, config: Config) -> tuple[Finding, ...]:
    """Strong language in a notes file's title, summary and body, located by line:column in the file (from what
    reading the notes kept of where each was written: the file is not read again)."""
    words = lexicon(config)
    found: list[Finding] = []
    for passage, text in [*((p, p.text) for p in notes.passages), (Passage("", *notes.body_at), notes.body)]:
        for hit in words.find(text, str(notes.path)):
            column = passage.column + hit.column if hit.line == 1 else hit.column
            found.append(replace(hit, line=passage.line + hit.line - 1, column=column))
    return tuple(found)


def episode_findings(
    notes: Notes, config: Config, transcript: Path | None = None, text: str | None = None
) -> tuple[Finding, ...]:
    """Strong language in an episode's notes and, when it has one, its transcript file (located in that file;
    `text`: its content, when it is not written yet)."""
    found = scan_notes(notes, config)
    if transcript is not None:
        found += scan(transcript.read_text(encoding="utf-8-sig") if text is None else text, transcript, config)
    return found


def published_as(notes: Notes, config: Config, transcript: Path | None = None) -> bool:
    """Whether a build publishes the episode as explicit, `on_detect = "flag"` included."""
    meant = effective(notes.explicit, config.show.explicit)
    if meant or config.explicit.on_detect != "flag":
        return meant
    return bool(episode_findings(notes, config, transcript))


def review(notes: Notes, findings: Sequence[Finding], config: Config) -> tuple[Notes, ExplicitContentError | None]:
    """Apply `[explicit] on_detect` to an episode: the notes to publish and a warning, or raise with "fail"."""
    if not findings or effective(notes.explicit, config.show.explicit):
        return notes, None
    mode = config.explicit.on_detect
    if notes.explicit is False:
        state = "is marked clean (explicit: false)"
    elif config.show.explicit is False:
        state = "is not marked explicit (the show's default is clean)"
    else:
        state = "is not marked explicit"
    words = ", ".join(_located(f, notes.path) for f in findings[:SHOWN])
    more = f" and {len(findings) - SHOWN} more" if len(findings) > SHOWN else ""
    allow = "list the words under [explicit] allow_words in panelpress.toml"
    if mode == "fail":
        error = ExplicitContentError(
            notes.path,
            f"{state} but has strong language: {words}{more}",
            f"add `explicit: true` to the notes, or {allow}; the episode is held back until then",
        )
        raise error
    if mode == "flag":
        warning = ExplicitContentError(
            notes.path,
            f"{state} but has strong language: {words}{more}; published as explicit",
            f"add `explicit: true` to the notes to say so yourself, or {allow}",
        )
        return replace(notes, explicit=True), warning
    return notes, ExplicitContentError(
        notes.path,
        f"{state} but has strong language: {words}{more}",
        f"if the episode is explicit, add `explicit: true` to its notes; if the words are fine, {allow}",
    )


def _located(finding: Finding, notes_path: Path) -> str:
    where = "" if finding.where == str(notes_path) else f"{Path(finding.where).name}:"
    return f"{finding.word!r} at {where}{finding.line}:{finding.column}"
