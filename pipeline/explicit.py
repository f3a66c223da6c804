"""Explicit content: the show's and each episode's tri-state, and a profanity scan of notes and transcripts."""

from __future__ import annotations

import bisect
import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import yaml
from glin_profanity import Filter

from .config import Config
from .errors import ExplicitContentError
from .records import Notes

# glin-profanity's dictionaries, by the ISO 639-1 code a show's `language` starts with.
LANGUAGES = {
    "ar": "arabic", "zh": "chinese", "cs": "czech", "da": "danish", "nl": "dutch", "en": "english",
    "eo": "esperanto", "fi": "finnish", "fr": "french", "de": "german", "hi": "hindi", "hu": "hungarian",
    "it": "italian", "ja": "japanese", "ko": "korean", "no": "norwegian", "nb": "norwegian", "nn": "norwegian",
    "fa": "persian", "pl": "polish", "pt": "portuguese", "ru": "russian", "es": "spanish", "sv": "swedish",
    "th": "thai", "tr": "turkish",
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
        base = Filter({"languages": list(languages)})
        words = [*base.words, *(w.lower() for w in extra)]
        inflected = {w + end for w in words if w.isalpha() and len(w) >= 4 for end in INFLECTIONS} - set(words)
        self.allow = frozenset(w.casefold() for w in allow)
        self.allow |= {w + end for w in self.allow for end in INFLECTIONS}
        self.filter = Filter({"languages": list(languages), "custom_words": [*extra, *sorted(inflected)]})

    def find(self, text: str, where: str) -> list[Finding]:
        """Every strong word in `text`, located by line and column within it."""
        result = self.filter.check_profanity(text)
        starts = _line_starts(text)
        found = []
        for match in result.get("matches") or []:
            word, index = match["word"], match.get("index")
            if index is None or word.casefold() in self.allow:
                continue
            said = text[index : index + len(word)]
            word = said if said.casefold() == word.casefold() else word  # as written, not as the library lists it
            line = bisect.bisect_right(starts, index)
            found.append(Finding(where, word, line, index - starts[line - 1] + 1))
        return sorted(set(found), key=lambda f: (f.line, f.column, f.word))


@functools.lru_cache(maxsize=8)
def _lexicon(languages: tuple[str, ...], extra: tuple[str, ...], allow: tuple[str, ...]) -> Lexicon:
    return Lexicon(languages, extra, allow)


def lexicon(config: Config) -> Lexicon:
    """The show's lexicon: its language's dictionary and English, plus [explicit] extra_words, minus allow_words."""
    own = LANGUAGES.get(config.show.language.split("-")[0].lower())
    languages = tuple(dict.fromkeys(x for x in (own, "english") if x))
    return _lexicon(languages, config.explicit.extra_words, config.explicit.allow_words)


def _line_starts(text: str) -> list[int]:
    starts = [0]
    starts.extend(i + 1 for i, char in enumerate(text) if char == "\n")
    return starts


def scan(text: str, where: str | Path, config: Config) -> tuple[Finding, ...]:
    """Strong language in any text (notes, a transcript's cues), located by line:column in that text."""
    return tuple(lexicon(config).find(text, str(where)))


def scan_notes(notes: Notes, config: Config) -> tuple[Finding, ...]:
    """Strong language in a notes file's title, summary and body, located by line:column in the file."""
    text = notes.path.read_text(encoding="utf-8-sig")
    lines = text.splitlines(keepends=True)
    close = next((i for i, line in enumerate(lines[1:], 1) if line.strip() == "---"), None) if lines and lines[0].strip() == "---" else None
    if close is None:  # no YAML front matter we can map: scan the file as it is
        return scan(text, notes.path, config)
    found: list[Finding] = []
    front = "".join(lines[1:close])
    for start, end in _front_values(front, ("title", "summary")):
        for hit in lexicon(config).find(front[start.index:end.index], str(notes.path)):
            line = 2 + start.line + hit.line - 1  # the front matter starts on the file's second line
            column = start.column + hit.column if hit.line == 1 else hit.column
            found.append(replace(hit, line=line, column=column))
    body = "".join(lines[close + 1:])
    found.extend(replace(hit, line=hit.line + close + 1) for hit in lexicon(config).find(body, str(notes.path)))
    return tuple(found)


def _front_values(front: str, keys: tuple[str, ...]):
    """Where the values of `keys` are in the front matter text (YAML marks: line, column, index)."""
    try:
        node = yaml.compose(front)
    except yaml.YAMLError:
        return []
    if not isinstance(node, yaml.MappingNode):
        return []
    return [(value.start_mark, value.end_mark) for key, value in node.value if isinstance(value, yaml.ScalarNode) and key.value in keys]


def episode_findings(notes: Notes, config: Config, transcript: Path | None = None) -> tuple[Finding, ...]:
    """Strong language in an episode's notes and, when it has one, its transcript file (located in that file)."""
    found = scan_notes(notes, config)
    if transcript is not None:
        found += scan(transcript.read_text(encoding="utf-8-sig"), transcript, config)
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
        error = ExplicitContentError(notes.path, f"{state} but has strong language: {words}{more}", f"add `explicit: true` to the notes, or {allow}; the episode is held back until then")
        raise error
    if mode == "flag":
        warning = ExplicitContentError(notes.path, f"{state} but has strong language: {words}{more}; published as explicit", f"add `explicit: true` to the notes to say so yourself, or {allow}")
        return replace(notes, explicit=True), warning
    return notes, ExplicitContentError(notes.path, f"{state} but has strong language: {words}{more}", f"if the episode is explicit, add `explicit: true` to its notes; if the words are fine, {allow}")


def _located(finding: Finding, notes_path: Path) -> str:
    where = "" if finding.where == str(notes_path) else f"{Path(finding.where).name}:"
    return f"{finding.word!r} at {where}{finding.line}:{finding.column}"
