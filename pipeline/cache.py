"""The engine's memory: what each episode was made from, what it became, and what was last published.

An episode's result is reused while every file it was made from keeps its size and modification time; when
one of them moves, its content hash decides (a `touch`, or a copy with new times, re-makes nothing). Records
are stored as JSON, never pickle (reading the cache must not run code), and only the dataclasses of
`records.py` are rebuilt from it. Files an episode publishes as bytes (transcripts, chapters, art) are kept
in a content-addressed store, so a result stays small and the plan can name them by path.

Layout of the cache folder:
    master/, tagged/     mastered and tagged audio (audio.py, tags.py), keyed by content
    files/<sha256>       bytes an episode publishes (transcripts, chapters, pictures; its rendered page)
    icons/<key>.json     the icons and covers made from the show's artwork (artwork.py), by its checksum, and
                         what podcast apps would say of it (<key>.problems.json)
    artwork.json         what the show's artwork is (its format and size), by its size and time (config.py)
    art/                 the show's artwork as it is embedded in the tags, by its checksum (tags.py)
    state/<show>/        index.json (per episode: inputs and result digest; the last published plan),
                         results.log (results by digest), summaries.log (their summaries, by the same digest:
                         what an unchanged episode is assembled from), html.log (rendered texts by digest),
                         pages.log (rendered episode pages by digest: their checksums in files/),
                         checked.json (what `check` found good), feed-items.json (the published feed's
                         items, by its checksum)
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import functools
import gc
import hashlib
import json
import mmap
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Set
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from . import __version__, records
from .errors import PanelpressError
from .files import file_sha256, write_atomic, write_if_changed
from .records import EpisodeResult, Stamp

STATE_DIR = "state"
T = TypeVar("T")
FILES_DIR = "files"
# The records that may be read back: the dataclasses of records.py, and the errors, by name, and nothing else.
_RECORDS = {name: cls for name, cls in vars(records).items() if isinstance(cls, type) and dataclasses.is_dataclass(cls)}
_FIELDS = {cls: {f.name for f in dataclasses.fields(cls)} for cls in _RECORDS.values()}


def _subclasses(cls: type) -> Iterable[type]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


@functools.cache
def _error_classes() -> dict[str, type]:
    from . import errors  # noqa: F401  (every error class is defined there)

    return {cls.__name__: cls for cls in (PanelpressError, *_subclasses(PanelpressError))}


@functools.cache
def format_stamp() -> str:
    """A fingerprint of panelpress itself: results made by other code are not trusted."""
    digest = hashlib.sha256(__version__.encode())
    package = Path(__file__).parent
    for path in sorted(package.rglob("*")):
        if path.suffix in (".py", ".html", ".css", ".js", ".xsl", ".svg") and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(package)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:32]


# --- records as JSON ------------------------------------------------------------------------------------------------


def encode(value: Any) -> Any:
    """A record (or any value inside one) as plain JSON data. What is not plain JSON is an object whose one key
    starts with "@" (never a field's name), so a reader tells it from a record's fields as it parses (`decode`)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            "@record": type(value).__name__,
            "@fields": {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)},
        }
    if isinstance(value, PanelpressError):
        return {
            "@error": type(value).__name__,
            "path": str(value.path) if value.path else None,
            "problem": value.problem,
            "fix": value.fix,
            "line": getattr(value, "line", 0),
        }
    if isinstance(value, bytes):
        return {"@bytes": base64.b64encode(value).decode("ascii")}
    if isinstance(value, Path):
        return {"@path": str(value)}
    if isinstance(value, datetime):
        return {"@datetime": value.isoformat()}
    if isinstance(value, tuple):
        return [encode(v) for v in value]
    return value  # str, int, float, bool, None


def decode(value: Any) -> Any:
    """The record `encode` made, from its parsed JSON; KeyError/TypeError/ValueError for anything else."""
    kind = type(value)
    if kind is list:
        return tuple(decode(v) for v in value)  # every sequence in a record is a tuple
    if kind is dict:
        return _decoded({name: decode(v) for name, v in value.items()})
    return value


def loads(text: str) -> Any:
    """The record `encode` made, from its JSON text: decoded as it is parsed (a thousand episodes' records are read
    on every build that changes one)."""
    return json.loads(text, object_hook=_decoded)


def _tuples(value: list | tuple) -> tuple:
    return tuple(_tuples(v) if type(v) is list else v for v in value)


def _decoded(value: dict) -> Any:
    """One JSON object of `encode`'s, its members decoded already (lists still lists)."""
    if "@record" in value:
        cls = _RECORDS[value["@record"]]
        fields = value["@fields"]
        if fields.keys() != _FIELDS[cls]:
            raise KeyError(f"{cls.__name__} has other fields")
        # A frozen record is filled in directly: a thousand episodes' records are read on every build that changes one.
        record = object.__new__(cls)
        record.__dict__.update({name: _tuples(v) if type(v) is list else v for name, v in fields.items()})
        return record
    if "@path" in value:
        return Path(value["@path"])
    if "@datetime" in value:
        return datetime.fromisoformat(value["@datetime"])
    if "@bytes" in value:
        return base64.b64decode(value["@bytes"])
    if "@error" in value:
        cls = _error_classes()[value["@error"]]
        error = cls.__new__(cls)
        PanelpressError.__init__(error, value["path"], value["problem"], value["fix"])  # the problem names the line
        if value.get("line"):
            error.line = value["line"]
        return error
    return value  # a record's fields: the record is made from them


@contextlib.contextmanager
def many() -> Iterator[None]:
    """While many records are read back (a thousand episodes'), Python's cyclic collector waits: they make no cycles
    (JSON is a tree), and at its default pace it scanned the growing heap of them over and over (half the time of
    parsing them). Afterwards it runs as before, but over what was made since: what is there now is frozen (kept out
    of its scans, still freed when no longer used) until `thawed` ends, since each of its full scans went through the
    thousand records again (two of them cost 0.14 CPU s of an edit of a thousand episodes)."""
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if paused:
            gc.enable()


@contextlib.contextmanager
def thawed() -> Iterator[None]:
    """What `many` froze is handed back to the cyclic collector when the block ends (a long-running `serve` builds
    again and again: its earlier builds' records must not stay out of reach of the collector)."""
    try:
        yield
    finally:
        gc.unfreeze()


def digest(value: Any) -> str:
    """A stable fingerprint of a record's whole content."""
    return hashlib.sha256(json.dumps(encode(value), sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:32]


# --- fingerprints of files ------------------------------------------------------------------------------------------


def _shown(root: Path, path: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def stamp(root: Path, path: Path, sha256: str = "", known: Mapping[str, Stamp] | None = None) -> Stamp:
    """A file's fingerprint now (`sha256` when the caller already hashed it; `known`: stamps an earlier build made,
    by path, whose checksum is taken while the file's size and time are the stamped ones, as `known_sha` does)."""
    shown = _shown(root, path)
    try:
        info = path.stat()
    except (FileNotFoundError, NotADirectoryError):
        return Stamp(shown, -1, 0, "")
    if not sha256 and known:
        sha256 = _still(known.get(shown), info)
    return Stamp(shown, info.st_size, info.st_mtime_ns, sha256 or _content_sha(path))


def _content_sha(path: Path) -> str:
    """A file's checksum; a folder's (an episode of one track per speaker) is that of the names it holds, so adding,
    removing or renaming a track re-makes the episode (the tracks' own stamps follow their content)."""
    if path.is_dir():
        return hashlib.sha256(
            "\0".join(sorted(p.name for p in path.iterdir() if not p.name.startswith("."))).encode()
        ).hexdigest()
    return file_sha256(path)


def known_sha(root: Path, path: Path, known: Mapping[str, Stamp]) -> str:
    """A file's checksum as an earlier build stamped it (`known`: stamps by path as stamped), while its size and time
    are still the stamped ones: the trust the cache gives a file whose episode it skips, so a changed episode reads
    no file of its that did not change (a recording of an hour is not hashed again for an edit of its notes). ""
    when it is not known, or moved since."""
    old = known.get(_shown(root, path))
    if old is None:
        return ""
    try:
        info = os.stat(path)
    except OSError:
        return ""
    return _still(old, info)


def _still(old: Stamp | None, info: os.stat_result) -> str:
    """The checksum a stamp holds while the file's size and time are still the stamped ones, else ""."""
    if old is None or old.size < 0 or not old.sha256:
        return ""
    return old.sha256 if (info.st_size, info.st_mtime_ns) == (old.size, old.mtime_ns) else ""


class Listing:
    """The folders of a show as they are now, each listed once (`os.scandir`) when a file in it is first looked up:
    a build compares the files of a thousand episodes with their stamps, most of them in two folders, and many of
    them absent (a transcript or a chapters file that may be added later), which a listing says without a stat
    each. Take one only for a look that writes nothing in the show meanwhile."""

    def __init__(self) -> None:
        self._folders: dict[str, dict[str, os.DirEntry] | None] = {}

    def stat(self, path: str) -> os.stat_result | None:
        """The file's stat (following links), None when there is none; OSError when it cannot be looked at."""
        folder, name = os.path.split(path)
        entries = self._folders.get(folder, False)
        if entries is False:
            try:
                with os.scandir(folder or ".") as found:
                    entries = {entry.name: entry for entry in found}
            except (FileNotFoundError, NotADirectoryError):
                entries = None
            self._folders[folder] = entries
        if entries is None or name not in entries:
            return None
        try:
            return entries[name].stat()
        except (FileNotFoundError, NotADirectoryError):
            return None  # a link to nothing


def unchanged(root: Path, stamps: Iterable[Stamp], listing: Listing | None = None) -> tuple[Stamp, ...] | None:
    """The stamps again (with fresh times) when every file is as it was, by size and time or else by content;
    None as soon as one differs. `listing`: the show's folders, listed once for many such looks."""
    fresh, moved = _compare(root, stamps, stop=True, listing=listing)
    return None if moved else fresh


def changed(root: Path, stamps: Iterable[Stamp]) -> list[str]:
    """The paths (as stamped) of the files that are no longer as they were."""
    return _compare(root, stamps, stop=False)[1]


def _compare(
    root: Path, stamps: Iterable[Stamp], stop: bool, listing: Listing | None = None
) -> tuple[tuple[Stamp, ...], list[str]]:
    fresh, moved, base = [], [], str(root)
    look = listing.stat if listing is not None else os.stat
    for old in stamps:
        path = os.path.join(base, old.path)  # os.path, not pathlib: a thousand episodes' files are looked at
        try:
            info = look(path)
        except (FileNotFoundError, NotADirectoryError):
            info = None
        except OSError:
            moved.append(old.path)
            if stop:
                break
            continue
        if info is None:
            same = old.size == -1
        else:
            same = old.size == info.st_size and (old.mtime_ns == info.st_mtime_ns or _same_content(path, old.sha256))
            if same and old.mtime_ns != info.st_mtime_ns:
                old = dataclasses.replace(old, mtime_ns=info.st_mtime_ns)  # touched, not changed: trust the new time
        if same:
            fresh.append(old)
            continue
        moved.append(old.path)
        if stop:
            break
    return tuple(fresh), moved


def _same_content(path: str, sha: str) -> bool:
    try:
        return _content_sha(Path(path)) == sha
    except OSError:
        return False


# --- bytes an episode publishes -------------------------------------------------------------------------------------


def store(cache_dir: Path, data: bytes) -> tuple[Path, str]:
    """Keep `data` in the content-addressed store; return its file and checksum."""
    sha = hashlib.sha256(data).hexdigest()
    path = Path(_stored(str(cache_dir / FILES_DIR), sha))
    if not path.is_file():
        write_if_changed(path, data)
    return path, sha


def _stored(files: str, sha: str) -> str:
    """The file the store keeps the data of checksum `sha` in (`files`: the store's folder). A string: a thousand
    kept pages are looked up on an edit."""
    return os.path.join(files, sha[:2], sha)


# --- the state of one show ------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Entry:
    """What the cache remembers of one episode: what it was made from, and enough of what it became to decide,
    without reading the whole record, whether a build can skip it (its GUID, date, and why it waits)."""

    context: str  # the settings it depends on, and panelpress's format stamp
    location: str  # where the show and its cache are (its record names their files)
    inputs: tuple[Stamp, ...]
    result: str  # digest of its EpisodeResult
    guid: str = ""  # "" for an episode that waits (a draft, a future date)
    date: str = ""  # its pubDate, ISO 8601
    until: str = ""  # a scheduled episode: when it is due, ISO 8601
    skipped: str = ""  # why it waits
    problems: tuple[Any, ...] = ()  # its warnings and held-back files, encoded
    title: str = ""  # what `check` compares with the feed, without reading the whole record
    explicit: bool = False
    duration: float = 0.0


@dataclasses.dataclass(frozen=True)
class State:
    """The engine's memory of one show."""

    entries: Mapping[str, Entry] = dataclasses.field(default_factory=dict)
    published: Mapping[str, tuple[str, str]] = dataclasses.field(
        default_factory=dict
    )  # slug → (result digest, GUID) last published
    noop: str = ""  # fingerprint of everything the last published plan was made from
    plan: str = ""  # digest of that plan
    checked_feed: str = ""  # checksum of the last feed that passed the podcast parsers in `check`


class Log:
    """A file of `key<TAB>value` lines that only grows: new values are appended (a build that changes one episode
    writes one line, not the whole file); it is rewritten with only the live keys when most of it is dead. A key is
    the digest of its value's content, so a key it holds needs no new value. A line cut short by a crash is no
    value; a file written by other code is empty. The file is mapped into memory and only where each line lies is
    read at first: a value is decoded when it is asked for (a build that edits one episode of a thousand asks for
    few of them whole), and the file is never held as one text."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._data: bytes | mmap.mmap = b""
        self._spans: dict[str, tuple[int, int]] | None = None  # key → where its value lies in the mapped file
        self._added: dict[str, str] = {}  # values appended by this process since the file was mapped
        self._lines = 0  # lines in the file, live or dead
        self._ours = False  # the file exists and was written by this version of panelpress: lines may be appended

    def _map(self) -> dict[str, tuple[int, int]]:
        if self._spans is None:
            self._data, self._spans, self._added, self._lines, self._ours = b"", {}, {}, 0, False
            try:
                with self.path.open("rb") as handle:
                    if os.fstat(handle.fileno()).st_size:
                        self._data = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
            except (OSError, ValueError):
                return self._spans
            data, head = self._data, (format_stamp() + "\n").encode()
            if data[: len(head)] != head:
                return self._spans
            spans, find, start, end = self._spans, data.find, len(head), len(data)
            while start < end:
                stop = find(b"\n", start)
                if stop < 0:
                    break  # cut short by a crash: no value
                tab = find(b"\t", start, stop)
                if tab >= 0:
                    spans[data[start:tab].decode(errors="replace")] = (tab + 1, stop)  # keys are ASCII digests
                    self._lines += 1
                start = stop + 1
            self._ours = True
        return self._spans

    def __contains__(self, key: str) -> bool:
        return key in self._added or key in self._map()

    def keys(self) -> set[str]:
        return {*self._map(), *self._added}

    def get(self, key: str) -> str | None:
        """The value of `key` (None: the file holds none, or its line cannot be read as UTF-8 text)."""
        found = self._added.get(key)
        if found is not None:
            return found
        span = self._map().get(key)
        if span is None:
            return None
        try:
            return self._data[span[0] : span[1]].decode()
        except UnicodeDecodeError:
            return None

    def _raw(self, key: str) -> bytes:
        found = self._added.get(key)
        if found is not None:
            return found.encode()
        start, stop = self._map()[key]
        return self._data[start:stop]

    def save(
        self,
        new: Mapping[str, T],
        live: set[str],
        text: Callable[[T], str] = str,
        again: Iterable[str] = (),
    ) -> None:
        """Write the values of `new` the file lacks (`text(value)`: each one's line, made only when it is written;
        `again`: keys whose line was damaged); keep only the `live` keys (rewriting the file when most of it is dead)."""
        again = set(again)
        fresh = [key for key in new if key not in self or key in again]
        if not self._ours or self._lines + len(fresh) > 2 * len(live) + 64:
            kept = sorted(key for key in live if key in self or key in new)

            def lines() -> Iterator[bytes]:
                yield (format_stamp() + "\n").encode()
                for key in kept:
                    if key in new and (key not in self or key in again):
                        yield f"{key}\t{text(new[key])}\n".encode()
                    else:
                        yield key.encode() + b"\t" + self._raw(key) + b"\n"

            write_atomic(self.path, lines())
            self._spans, self._added, self._data = None, {}, b""  # mapped again if asked for
        elif fresh:
            with self.path.open("a", encoding="utf-8") as handle:
                for key in fresh:
                    self._added[key] = text(new[key])
                    handle.write(f"{key}\t{self._added[key]}\n")
            self._lines += len(fresh)


class Store:
    """The cache folder of one show: its state (a small index), its results and the rendered HTML (logs keyed by
    digest), each read only when a build needs it."""

    def __init__(self, cache_dir: Path, show: str) -> None:
        self.cache_dir = cache_dir
        self.folder = cache_dir / STATE_DIR / hashlib.sha256(show.encode()).hexdigest()[:16]
        self._results = Log(self.folder / "results.log")  # digest → the result as JSON
        self._summaries = Log(self.folder / "summaries.log")  # the same digest → the result's summary, as JSON
        self._unsummarised: dict[str, EpisodeResult] = {}  # results read whole for want of a summary: kept at save
        self._damaged: set[str] = set()  # keys whose result or summary line could not be read: written again
        self._html = Log(self.folder / "html.log")  # digest of what it is rendered from → HTML, as JSON
        self._pages = Log(self.folder / "pages.log")  # the same, of an episode page → its checksum in files/
        self._rendered = _Rendered()

    def _read(self, path: Path) -> Any:
        try:
            data = json.loads(path.read_bytes())
        except (OSError, ValueError):
            return None
        return data.get("data") if isinstance(data, dict) and data.get("format") == format_stamp() else None

    def _write(self, path: Path, data: Any) -> None:
        text = json.dumps(
            {"format": format_stamp(), "data": data}, sort_keys=True, ensure_ascii=False, separators=(",", ":")
        )
        write_if_changed(path, text.encode())

    def kept(self, name: str, key: str) -> Any:
        """What `keep` kept under this name for this key (plain JSON data; None: nothing, or for another key)."""
        data = self._read(self.folder / f"{name}.json")
        return data["value"] if isinstance(data, dict) and data.get("key") == key else None

    def keep(self, name: str, key: str, value: Any) -> None:
        """Keep plain JSON data under a name, for a key (what it was made from); one value per name."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            self._write(self.folder / f"{name}.json", {"key": key, "value": value})
        except OSError:
            pass  # it is made again next time

    def state(self) -> State:
        """The show's state (an empty one when there is none, or it was written by other code)."""
        data = self._read(self.folder / "index.json")
        try:
            entries = {
                slug: Entry(**{**e, "inputs": tuple(Stamp(*s) for s in e["inputs"]), "problems": tuple(e["problems"])})
                for slug, e in data["entries"].items()
            }
            published = {slug: (pair[0], pair[1]) for slug, pair in data["published"].items()}
            return State(entries, published, data["noop"], data["plan"], data["checked_feed"])
        except (TypeError, KeyError, ValueError, IndexError):
            return State()

    def result(self, key: str) -> EpisodeResult | None:
        """A result by digest (None when it is not kept or cannot be read)."""
        try:
            found = loads(self._results.get(key) or "null")
        except (KeyError, TypeError, ValueError, AttributeError):
            found = None
        if not isinstance(found, EpisodeResult):
            if key in self._results:
                self._damaged.add(key)  # its line is there but cannot be read: written again when it is made again
            return None
        return found

    def summary(self, key: str) -> EpisodeResult | None:
        """A result's summary by the result's digest (`EpisodeResult.summary`: what assembling an unchanged episode
        needs of it); the whole result when no summary is kept (a cache of an earlier version: the next save keeps
        it). None when neither can be read."""
        try:
            found = loads(self._summaries.get(key) or "null")
        except (KeyError, TypeError, ValueError, AttributeError):
            found = None
        if isinstance(found, EpisodeResult) and key in self._results:  # the record it summarises is kept
            return found
        if key in self._summaries:
            self._damaged.add(key)
        whole = self.result(key)
        if whole is not None:
            self._unsummarised[key] = whole
        return whole

    def rendered(self) -> Mapping[str, str]:
        """The HTML earlier builds rendered, by the digest of everything it was rendered from (read now, decoded
        when asked for: assemble takes it as it is)."""
        self._rendered = _Rendered(self._html)
        return self._rendered

    def pages(self) -> Mapping[str, records.PlanFile]:
        """The episode pages earlier builds rendered, as the files they are kept in (`files/`, by their checksum), by
        the digest of everything each was rendered from: a kept page is published without being read."""
        return _Pages(self._pages, self.cache_dir)

    def save(
        self,
        state: State,
        results: Mapping[str, EpisodeResult],
        html: Mapping[str, str | bytes] | None = None,
        used: Set[str] = frozenset(),
        pages: Mapping[str, records.PlanFile] | None = None,
    ) -> None:
        """Write the state and the new results; forget the results it no longer names. `html`: the texts rendered
        anew (kept); `used`: the keys of every text the plan was rendered with (what it did not use is forgotten);
        `pages`: every episode page of the plan (the new ones, given as bytes, kept as files; likewise)."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            live = {e.result for e in state.entries.values()} | {key for key, _ in state.published.values()}
            self._results.save(results, live, _result_line, self._damaged)
            self._summaries.save({**self._unsummarised, **results}, live, _summary_line, self._damaged)
            if pages is not None:
                made = {key: file for key, file in pages.items() if isinstance(file.content, bytes)}
                self._pages.save(
                    {key: store(self.cache_dir, file.content)[1] for key, file in made.items()}, set(pages)
                )
            if html is not None:
                self._html.save(html, set(used) | set(html), _text_line, self._rendered.broken)
            entries = {slug: _entry_data(e) for slug, e in state.entries.items()}
            published = {slug: list(pair) for slug, pair in state.published.items()}
            self._write(
                self.folder / "index.json",
                {
                    "entries": entries,
                    "published": published,
                    "noop": state.noop,
                    "plan": state.plan,
                    "checked_feed": state.checked_feed,
                },
            )
        except OSError:
            pass  # the site is already published; without a state the next build re-makes what it needs


class _Rendered(Mapping[str, str]):
    """HTML kept in the log, decoded from its JSON when asked for (a line cut short by a crash is none)."""

    def __init__(self, log: Log | None = None) -> None:
        self._log = log
        self.broken: set[str] = set()  # keys whose line could not be read: rendered again, and kept again

    def __getitem__(self, key: str) -> str:
        line = self._log.get(key) if self._log is not None else None
        if line is None:
            if self._log is not None and key in self._log:
                self.broken.add(key)  # not UTF-8 text
            raise KeyError(key)
        try:
            return json.loads(line)
        except ValueError:
            self.broken.add(key)
            raise KeyError(key) from None

    def __contains__(self, key: object) -> bool:  # asked without decoding the text
        return self._log is not None and key in self._log

    def __iter__(self):
        return iter(self._log.keys() if self._log is not None else ())

    def __len__(self) -> int:
        return len(self._log.keys()) if self._log is not None else 0


class _Pages(Mapping[str, records.PlanFile]):
    """Episode pages kept in the content-addressed store, by the key they were rendered under (one whose file is
    gone is none: it is rendered again)."""

    def __init__(self, log: Log, cache_dir: Path) -> None:
        self._log, self._files = log, str(cache_dir / FILES_DIR)

    def __getitem__(self, key: str) -> records.PlanFile:
        sha = self._log.get(key)
        if sha is None or len(sha) != 64 or not sha.isalnum():
            raise KeyError(key)
        path = _stored(self._files, sha)
        if not os.path.isfile(path):
            raise KeyError(key)
        return records.PlanFile(Path(path), sha)

    def __iter__(self):
        return iter(self._log.keys())

    def __len__(self) -> int:
        return len(self._log.keys())


def _result_line(result: EpisodeResult) -> str:
    return json.dumps(encode(result), sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _summary_line(result: EpisodeResult) -> str:
    return _result_line(result.summary())


def _text_line(text: str | bytes) -> str:
    return json.dumps(text if isinstance(text, str) else text.decode(), ensure_ascii=False)


def _entry_data(entry: Entry) -> dict[str, Any]:
    data = {f.name: getattr(entry, f.name) for f in dataclasses.fields(entry)}
    return {
        **data,
        "inputs": [[s.path, s.size, s.mtime_ns, s.sha256] for s in entry.inputs],
        "problems": list(entry.problems),
    }


# Settings of [show] that only the channel uses: changing them re-makes no episode.
CHANNEL_ONLY = frozenset(
    {
        "description",
        "copyright",
        "type",
        "new_feed_url",
        "block",
        "complete",
        "category",
        "subcategory",
        "owner_name",
        "owner_email",
    }
)


def episode_context(config) -> str:
    """Fingerprint of the settings an episode is made with (and of panelpress itself): a change re-makes it."""
    show = {key: value for key, value in dataclasses.asdict(config.show).items() if key not in CHANNEL_ONLY}
    blog = (
        [dataclasses.asdict(config.blog), config.permalink] if config.blog.engine else []
    )  # the post's address is in the tags
    media = [config.media_url, config.deploy.media_transcripts] if config.media_url else []  # the media's addresses
    return context_digest(
        config.site_url,
        show,
        dataclasses.asdict(config.audio),
        dataclasses.asdict(config.explicit),
        dataclasses.asdict(config.mix),
        dataclasses.asdict(config.transcripts),
        dataclasses.asdict(config.clean),
        dataclasses.asdict(config.clips),
        *blog,
        *media,
    )


def location(config) -> str:
    """Fingerprint of where the show and its cache are: a record names their files, so a moved show re-makes its
    records (from the cached audio: nothing is mastered again)."""
    return context_digest(str(config.root), str(config.cache_dir))


def context_digest(*parts: Any) -> str:
    """Fingerprint of what an episode depends on beyond its files (settings), with panelpress's format stamp."""
    return hashlib.sha256(json.dumps([format_stamp(), *parts], sort_keys=True, default=str).encode()).hexdigest()[:32]


def file_digest(paths: Iterable[Path]) -> str:
    """Cheap fingerprint of a set of files (path, size, time): for the no-op check of whole-show inputs."""
    digest = hashlib.sha256()
    for path in paths:
        try:
            info = path.stat()
            digest.update(f"{path}\0{info.st_size}\0{info.st_mtime_ns}\n".encode())
        except OSError:
            digest.update(f"{path}\0-\n".encode())
    return digest.hexdigest()[:32]
