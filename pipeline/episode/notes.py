"""Show notes: read `show_notes/<slug>.md` (YAML front matter + Markdown) and start new ones."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import yaml
from markdown_it.token import Token

from .. import inputs
from .. import namespace_rules as rules
from ..config import EPISODE_TYPES
from ..errors import ChapterError, NotesError
from ..markdown import address_problem, local_name, markdown, mentioned_slug, urls
from ..records import ROOM, Chapter, Location, Notes, Panelist, Passage, Social, Soundbite, TrackSpec
from . import chapters as chapters_

# Every key the front matter may hold, with what it does: the notes reference (docs/reference/notes.md) is made from
# these tables, and the keys the reader accepts are theirs, so the two cannot differ.
ROLE_DOCS = {
    "host": "Runs the show (`podcast:person` role `host`).",
    "guest": "A guest of the panel: the role of a panelist written as a plain name.",
    "moderator": "Leads the panel's discussion (the Podcast Taxonomy has no moderator: the feed says `host`).",
}
KEY_DOCS = {
    "title": "The episode's title (required): its page, its feed item, its tags.",
    "date": "When it is published (required to publish): `2026-11-20 09:00:00+00:00`, or `2026-11-20` (midnight UTC); a future date waits for its day. Starter notes take it from the recording's tags.",
    "summary": "One or two plain sentences for podcast apps; left out, the body's first paragraph stands in, as plain text.",
    "panelists": "Who speaks: a list of names (each a guest) or of entries with the keys below; the page, the tags' artist and `podcast:person`.",
    "explicit": "`true` (explicit) or `false` (clean); left out, the show's `[show] explicit`.",
    "season": "The season number, 1 to 65535 (what MP4 tags hold).",
    "episode": "The episode number, 1 to 65535.",
    "episode_type": f"One of {', '.join(EPISODE_TYPES)} (`itunes:episodeType`); default `full`. A trailer is also listed as `podcast:trailer`.",
    "draft": "`true`: not published (starter notes start so); remove it, or write `false`, once the notes are reviewed.",
    "chapters": "The chapters, in order, the first at 0: entries with the keys below, or `- HH:MM:SS Title` lines.",
    "image": "The episode's own art: a JPEG or PNG file beside the notes; left out, the show's artwork.",
    "tracks": "A panel recorded one track per speaker: `file: Panelist` lines (files of `episodes/<name>/`) or `1: Panelist` lines (channels of one recording); `room` for the audience microphone, `skip` to leave one out.",
    "soundbites": "Highlights apps play as previews (`podcast:soundbite`), each also made into short videos (`[clips]`): entries with the keys below.",
    "comments": "Where the episode is discussed: a comments page's address (RSS `<comments>`), `disabled`, or a post apps can show and answer (`podcast:socialInteract`) with the keys below.",
    "location": "What the episode is about, or where it was made (`podcast:location`): a name, or the keys below.",
}
PANELIST_DOCS = {
    "name": "The panelist's name (required).",
    "role": f"One of {', '.join(ROLE_DOCS)}; default `guest`.",
    "img": "An `https://` address of their picture (`podcast:person`).",
    "href": "An `https://` address of their page (`podcast:person`).",
}
CHAPTER_DOCS = {
    "start": "Where it starts: `HH:MM:SS(.mmm)`, `MM:SS`, or seconds (required; the first chapter starts at 0).",
    "title": "Its title (required).",
    "url": "An optional link (`https://…`).",
    "image": "An optional picture: a JPEG or PNG beside the notes, or an `https://` address.",
}
SOUNDBITE_DOCS = {
    "start": "Where it starts, like a chapter's start; not 0 (Podcast Index apps read that as no soundbite).",
    "duration": "How long it lasts: seconds, or `MM:SS` (apps suggest 15 to 120 seconds).",
    "title": "What it is, at most 128 characters.",
}
COMMENTS_DOCS = {
    "url": "The `https://` address of the post (required).",
    "protocol": f"Where it lives (required): one of {', '.join(rules.SOCIAL_PROTOCOLS)}.",
    "account": "The account that posted it, e.g. `@dana@mastodon.social`.",
    "account_url": "The `https://` address of that account's page.",
}
LOCATION_DOCS = {
    "name": "The place's name (required), at most 128 characters.",
    "geo": "Its coordinates as a geo URI: `geo:LAT,LON`.",
    "osm": "An OpenStreetMap object: `N`, `W` or `R` and its number, e.g. `R62422`.",
    "country": "A two-letter country code (ISO 3166-1 alpha-2), e.g. `de`.",
    "rel": "`subject` (what the episode is about, the default) or `creator` (where it was made).",
}
# The tables by where they are written: the front matter itself, then the entries of its keys.
DEFINITIONS = {
    "notes": KEY_DOCS,
    "panelists": PANELIST_DOCS,
    "chapters": CHAPTER_DOCS,
    "soundbites": SOUNDBITE_DOCS,
    "comments": COMMENTS_DOCS,
    "location": LOCATION_DOCS,
    "role": ROLE_DOCS,
}
KEYS = tuple(KEY_DOCS)
PANELIST_KEYS = tuple(PANELIST_DOCS)
CHAPTER_KEYS = tuple(CHAPTER_DOCS)
SOUNDBITE_KEYS = tuple(SOUNDBITE_DOCS)
COMMENTS_KEYS = tuple(COMMENTS_DOCS)
LOCATION_KEYS = tuple(LOCATION_DOCS)
ROLES = tuple(ROLE_DOCS)


def read(path: Path, root: Path | None = None, text: str | None = None) -> Notes:
    """Parse and validate one notes file; raise NotesError naming the key and the fix. `root`: the show folder (by
    default the folder that holds show_notes/), the only place files named in the notes may come from. `text`: the
    file's content, when it is not written yet (the notes `import` is about to write)."""
    root = root if root is not None else path.parent.parent
    if text is None:
        text = _read(path, root)
    front, body_from = _split(path, text)
    node, meta = _load(path, front)
    if not isinstance(meta, dict):
        raise NotesError(
            path, "front matter is not a mapping of keys", "write `key: value` lines between the --- lines"
        )
    for key in meta:
        if key not in KEYS:
            close = difflib.get_close_matches(str(key), KEYS, n=1)
            raise NotesError(
                path,
                f"unknown key `{key}`",
                f"did you mean `{close[0]}`?" if close else f"known keys: {', '.join(KEYS)}",
            )
    title = meta.get("title")
    if isinstance(title, (int, float)) and not isinstance(title, bool):
        title = str(title)  # `title: 1984` is a title, not a number
    if not isinstance(title, str) or not title.strip():
        raise NotesError(path, "has no title", "add `title: ...` to the front matter")
    body, body_at, spaced = _body(path, text, body_from)
    files, mentions = _body_links(path, root, body, body_at[0] - 1)
    panelists = tuple(_panelist(path, item, node, number) for number, item in enumerate(_list(path, meta, "panelists")))
    return Notes(
        path=path,
        title=title.strip(),
        date=_date(path, meta.get("date")),
        body=body,
        summary=_text(path, meta, "summary") or _first_paragraph(body),
        panelists=panelists,
        explicit=_optional(path, meta, "explicit", bool, "true or false", "true"),
        season=_positive(path, meta, "season"),
        episode=_positive(path, meta, "episode"),
        episode_type=_choice(path, meta, "episode_type", EPISODE_TYPES, "full"),
        draft=_optional(path, meta, "draft", bool, "true or false", "true") or False,
        chapters=_chapters(path, root, meta, node),
        image=_image(path, root, meta.get("image"), "image", allow_url=False),
        soundbites=_soundbites(path, meta, node),
        comments=_comments(path, meta.get("comments"), node),
        location=_location(path, meta.get("location")),
        tracks=_tracks(path, meta.get("tracks"), node, panelists),
        files=files,
        mentions=mentions,
        passages=_passages(front, node, ("title", "summary")),
        body_at=body_at,
        spaced=spaced,
    )


def _read(path: Path, root: Path) -> str:
    try:
        inputs.show_file(root, path.parent, path.name)  # its body is published: never a file from elsewhere
    except inputs.Outside as err:
        raise NotesError(path, err.problem, err.fix) from err
    except inputs.Refused:
        pass  # reading it says what is wrong
    try:
        return path.read_text(encoding="utf-8-sig")  # -sig: editors on Windows start files with a BOM
    except UnicodeDecodeError as err:
        raise NotesError(path, "is not UTF-8 text", "save the file as UTF-8") from err
    except OSError as err:
        raise NotesError(path, f"cannot be read: {err.strerror or err}", "make it a readable file") from err


_BOUNDARY = re.compile(r"^-{3,}[ \t]*$", re.MULTILINE)  # a line of dashes opens and closes the front matter
# Line 0 of the front matter's text is the file's line 2 (the line after the opening ---).
FRONT_LINE = 2
_CLEAN_FIX = "delete it (retype the text there if you pasted it)"


def _split(path: Path, text: str) -> tuple[str, int]:
    """The front matter's YAML text (from the file's second line) and where the body starts in `text`."""
    opening = _BOUNDARY.match(text)
    if opening is None or not text.startswith("---"):
        return "", 0
    start = opening.end() + 1
    closing = _BOUNDARY.search(text, start) if start <= len(text) else None
    if closing is None:
        raise NotesError(
            path, "front matter has no closing --- line", "end the front matter with a line holding only ---"
        )
    return text[start : closing.start()], closing.end() + 1


def _load(path: Path, front: str) -> tuple[yaml.Node | None, Any]:
    """The front matter composed once (libyaml when installed) and built from that node tree, which also says where
    each value is written."""
    if not front.strip():
        return None, {}
    try:
        return _parse(path, front)
    except RecursionError as err:  # `[[[[…]]]]` thousands deep: no host writes that
        raise NotesError(
            path, "front matter is nested too deeply", "write `key: value` lines between the --- lines"
        ) from err


def _parse(path: Path, front: str) -> tuple[yaml.Node | None, Any]:
    try:
        loader = _LOADER(front)
        try:
            node = loader.get_single_node()
        finally:
            loader.dispose()
    except yaml.YAMLError:
        node = _pure_node(path, front)  # PyYAML's own words: libyaml words a few errors differently
    _refuse_unsafe(path, node)
    try:
        return node, yaml.constructor.SafeConstructor().construct_document(node) if node is not None else None
    except yaml.YAMLError as err:
        raise NotesError(
            path,
            f"front matter is not valid YAML{_where(err)}: {getattr(err, 'problem', None) or err}",
            "fix the YAML between the --- lines",
        ) from err
    except ValueError as err:  # PyYAML builds dates itself: 2026-02-30 fails here
        raise NotesError(
            path, f"front matter holds an impossible value: {err}", "check the dates in the front matter"
        ) from err


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _pure_node(path: Path, front: str) -> yaml.Node | None:
    """Compose with PyYAML's own loader, for its error message (it raises)."""
    try:
        return yaml.compose(front, Loader=yaml.SafeLoader)
    except yaml.reader.ReaderError as err:  # a character YAML refuses, before any line is parsed
        line = FRONT_LINE + front.count("\n", 0, err.position)
        raise NotesError(
            path, f"line {line}: holds {inputs.describe(chr(err.character))}, which a feed cannot carry", _CLEAN_FIX
        ) from err
    except yaml.YAMLError as err:
        raise NotesError(
            path,
            f"front matter is not valid YAML{_where(err)}: {getattr(err, 'problem', None) or err}",
            "fix the YAML between the --- lines",
        ) from err


def _where(err: yaml.YAMLError) -> str:
    mark = getattr(err, "problem_mark", None)
    return f" at line {mark.line + FRONT_LINE}" if mark else ""


def _scalars(node: yaml.Node | None) -> Iterator[yaml.ScalarNode]:
    """Every scalar of a node tree, keys included, each once (an alias is the node it names: `&a [*b, *b]` chains
    would otherwise be walked exponentially)."""
    seen, todo = set(), [node]
    while todo:
        node = todo.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.ScalarNode):
            yield node
        elif isinstance(node, yaml.SequenceNode):
            todo.extend(reversed(node.value))
        elif isinstance(node, yaml.MappingNode):
            todo.extend(part for pair in reversed(node.value) for part in reversed(pair))


def _refuse_unsafe(path: Path, node: yaml.Node | None) -> None:
    """Front-matter text is short and meant: a character XML cannot carry (written as a YAML escape) is refused."""
    for scalar in _scalars(node):
        bad = inputs.illegal(scalar.value)
        if bad:
            raise NotesError(
                path,
                f"line {scalar.start_mark.line + FRONT_LINE}: {scalar.value[:40]!r} holds {inputs.describe(bad.group())}, which a feed cannot carry",
                _CLEAN_FIX,
            )


def _body(path: Path, text: str, start: int) -> tuple[str, tuple[int, int], tuple[int, ...]]:
    """The body (stripped), where its first character is (line, column), and the lines where Word's vertical tabs
    and form feeds became spaces; any other character XML cannot carry is refused with its line."""
    raw = text[start:]
    body = raw.strip()
    at = start + len(raw) - len(raw.lstrip())
    line = text.count("\n", 0, at) + 1
    column = at - (text.rfind("\n", 0, at) + 1)
    body, places = inputs.without_spaces(body)
    bad = inputs.illegal(body)
    if bad:
        raise NotesError(
            path,
            f"line {line + body.count(chr(10), 0, bad.start())}: the notes hold {inputs.describe(bad.group())}, which a feed cannot carry",
            _CLEAN_FIX,
        )
    spaced = tuple(dict.fromkeys(line + body.count("\n", 0, i) for i in places))
    return body, (line, column), spaced


def _passages(front: str, node: yaml.Node | None, keys: tuple[str, ...]) -> tuple[Passage, ...]:
    """The sources of top-level text values (quotes and all), where the file has them."""
    found = []
    for key, value in node.value if isinstance(node, yaml.MappingNode) else ():
        if isinstance(value, yaml.ScalarNode) and key.value in keys:
            start, end = value.start_mark, value.end_mark
            found.append(Passage(front[start.index : end.index], start.line + FRONT_LINE, start.column))
    return tuple(found)


def warnings(notes: Notes) -> list[NotesError]:
    """What reading the notes changed, for the host to know: vertical tabs and form feeds made spaces."""
    if not notes.spaced:
        return []
    lines = ", ".join(map(str, notes.spaced[:12])) + (
        f" and {len(notes.spaced) - 12} more" if len(notes.spaced) > 12 else ""
    )
    return [
        NotesError(
            notes.path,
            f"line{'s' if len(notes.spaced) > 1 else ''} {lines}: vertical tabs or form feeds (line and page breaks pasted from a word processor), which a feed cannot carry, were published as spaces",
            "replace them with line breaks or blank lines",
        )
    ]


def _date(path: Path, value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError as err:
            raise NotesError(
                path, f"date {value!r} is not a date", "write it as YYYY-MM-DD or YYYY-MM-DD HH:MM"
            ) from err
    if isinstance(value, datetime):
        value = value.replace(microsecond=0)  # RFC 2822 dates in the feed carry whole seconds
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime.combine(value, time(0, 0), tzinfo=UTC)
    raise NotesError(path, f"date {value!r} is not a date", "write it as YYYY-MM-DD or YYYY-MM-DD HH:MM")


def _optional(path: Path, meta: dict, key: str, kind: type, words: str, example: str):
    value = meta.get(key)
    if value is None:
        return None
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise NotesError(path, f"{key} is {value!r}, not {words}", f"write `{key}: {example}`")
    return value


# The largest number an MP4 file's track and disc atoms hold.
MAX_NUMBER = 65535


def _positive(path: Path, meta: dict, key: str) -> int | None:
    value = _optional(path, meta, key, int, "a whole number", "3 (digits, no quotes)")
    if value is not None and value < 1:
        raise NotesError(path, f"{key} is {value}, not a positive number", f"number {key}s from 1")
    if value is not None and value > MAX_NUMBER:
        raise NotesError(
            path, f"{key} is {value}, more than the {MAX_NUMBER} audio tags can hold", f"number {key}s from 1"
        )
    return value


def _text(path: Path, meta: dict, key: str) -> str:
    value = _optional(path, meta, key, str, "text", "One or two plain sentences.")
    return (value or "").strip()


def _choice(path: Path, meta: dict, key: str, choices: tuple[str, ...], default: str) -> str:
    value = meta.get(key, default)
    if value not in choices:
        raise NotesError(path, f"{key} is {value!r}", f"use one of {', '.join(choices)}")
    return value


def _list(path: Path, meta: dict, key: str) -> list:
    value = meta.get(key) or []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise NotesError(path, f"{key} is not a list", f"write {key} as a YAML list (`- Name` lines)")
    return value


def _panelist(path: Path, item: Any, node: yaml.Node | None, number: int) -> Panelist:
    if isinstance(item, str) and item.strip():
        return Panelist(name=item.strip())
    if isinstance(item, dict) and isinstance(item.get("name"), str) and item["name"].strip():
        unknown = set(item) - set(PANELIST_KEYS)
        if unknown:
            raise NotesError(
                path, f"panelist {item['name']!r} has unknown keys {sorted(unknown)}", "use name, role, img and href"
            )
        role = item.get("role", "guest")
        if role not in ROLES:
            raise NotesError(path, f"panelist {item['name']!r} has role {role!r}", f"use one of {', '.join(ROLES)}")
        links = {
            key: web_address(
                path,
                _value_line(node, "panelists", number, key),
                f"panelist {item['name']!r} {key}",
                item[key],
                f"write {key} as the https:// address of their {'picture' if key == 'img' else 'page'}",
            )
            for key in ("img", "href")
            if item.get(key) not in (None, "")
        }
        return Panelist(name=item["name"].strip(), role=role, **links)
    raise NotesError(
        path,
        f"panelist {item!r} has no name",
        "write each panelist as a name, or as `name:` with optional role, img, href",
    )


# What a track may be besides a panelist's microphone, and the file names that say "the room" without `tracks:`.
SKIP = "skip"
ROOM_NAMES = ("room", "audience", "ambience", "ambient", "hall")
_TRACKS_FIX = "write one line per track: `dana.wav: Dana Whitfield` (a file of episodes/<name>/) or `1: Dana Whitfield` (a channel of the recording); `room` for the audience microphone, `skip` to leave one out"


def _tracks(path: Path, value: Any, node: yaml.Node | None, panelists: tuple[Panelist, ...]) -> tuple[TrackSpec, ...]:
    """`tracks:`: which file of the episode's folder, or which channel of its recording, is whose microphone."""
    if value is None:
        return ()
    if not isinstance(value, dict) or not value:
        raise NotesError(path, "tracks is not a list of `track: panelist` lines", _TRACKS_FIX)
    lines = _key_lines(node, "tracks")
    names = {p.name.casefold(): p.name for p in panelists}
    found = []
    for (key, who), line in zip(value.items(), lines + [0] * len(value)):
        at = f"line {line}: " if line else ""
        if (
            isinstance(key, bool)
            or not isinstance(key, (int, str))
            or (isinstance(key, int) and key < 1)
            or (isinstance(key, str) and (not key.strip() or "/" in key or "\\" in key or key.startswith(".")))
        ):
            raise NotesError(
                path, f"{at}track {key!r} is neither a file name nor a channel number (1, 2, …)", _TRACKS_FIX
            )
        if not isinstance(who, str) or not who.strip():
            raise NotesError(path, f"{at}track {key!r} names no one", _TRACKS_FIX)
        who = who.strip()
        if who.casefold() in (ROOM, SKIP):
            who = who.casefold()
        elif who.casefold() in names:
            who = names[who.casefold()]
        else:
            close = difflib.get_close_matches(who, [p.name for p in panelists], n=1)
            fix = (
                f"did you mean {close[0]!r}?"
                if close
                else "add them to `panelists:`, or write `room` (the audience microphone) or `skip`"
            )
            raise NotesError(path, f"{at}track {key!r} is {who!r}, who is not among the panelists", fix)
        found.append(
            TrackSpec(
                source="" if isinstance(key, int) else key.strip(),
                channel=key if isinstance(key, int) else 0,
                who=who,
                line=line,
            )
        )
    if len({spec.channel == 0 for spec in found}) > 1:
        raise NotesError(
            path,
            "tracks mixes file names and channel numbers",
            "name the files of the episode's folder, or the channels of its one recording, not both",
        )
    return tuple(found)


def _key_lines(node: yaml.Node | None, key: str) -> list[int]:
    """The file line (1-based) of each key of a front-matter mapping."""
    for name, value in node.value if isinstance(node, yaml.MappingNode) else ():
        if name.value == key and isinstance(value, yaml.MappingNode):
            return [entry.start_mark.line + FRONT_LINE for entry, _ in value.value]
    return []


def _chapters(path: Path, root: Path, meta: dict, node: yaml.Node | None) -> tuple[Chapter, ...]:
    items = _list(path, meta, "chapters")
    if not items:
        return ()
    lines = _item_lines(node, "chapters")
    found = tuple(_chapter(path, root, item, lines[i] if i < len(lines) else 0) for i, item in enumerate(items))
    chapters_.check_order(found, path)
    chapters_.check_urls(found, path)
    return found


def _chapter(path: Path, root: Path, item: Any, line: int) -> Chapter:
    fix = "write each chapter as `- start: HH:MM:SS` with `title:` (optional url, image), or as `- HH:MM:SS Title`"
    if isinstance(item, str):
        chapter = chapters_.parse_line(item, line)
        if chapter is None:
            raise ChapterError(path, line, f"chapter {item!r} is not a start time and a title", fix)
        return chapter
    if not isinstance(item, dict):
        raise ChapterError(path, line, f"chapter {item!r} is not a start time and a title", fix)
    unknown = sorted(str(k) for k in set(item) - set(CHAPTER_KEYS))
    if unknown:
        raise ChapterError(path, line, f"chapter has unknown keys {unknown}", f"use {', '.join(CHAPTER_KEYS)}")
    if "start" not in item:
        raise ChapterError(path, line, "chapter has no start", "add `start: HH:MM:SS` (or MM:SS, or seconds)")
    try:
        start = chapters_.parse_time(item["start"])
    except ValueError as err:
        raise ChapterError(
            path,
            line,
            f"chapter start {item['start']!r} is not a time",
            "write it as HH:MM:SS, MM:SS or a number of seconds",
        ) from err
    title = item.get("title")
    if not isinstance(title, str | int | float) or isinstance(title, bool) or not str(title).strip():
        raise ChapterError(
            path, line, f"chapter at {chapters_.timestamp(start)} has no title", "add `title: ...` to the chapter"
        )
    url = item.get("url") or ""
    if not isinstance(url, str):
        raise ChapterError(path, line, f"chapter url {url!r} is not a web address", "write it as https://…")
    try:
        image = _image(path, root, item.get("image"), "chapter image", allow_url=True)
    except NotesError as err:
        raise ChapterError(path, line, err.problem, err.fix) from err
    return Chapter(start=start, title=str(title).strip(), url=url.strip(), image=image, line=line)


def _soundbites(path: Path, meta: dict, node: yaml.Node | None) -> tuple[Soundbite, ...]:
    """`soundbites:` highlights of the episode (podcast:soundbite): start, duration, title, each on its line."""
    lines = _item_lines(node, "soundbites")
    return tuple(
        _soundbite(path, item, lines[i] if i < len(lines) else 0)
        for i, item in enumerate(_list(path, meta, "soundbites"))
    )


def _soundbite(path: Path, item: Any, line: int) -> Soundbite:
    where = f"line {line}: soundbite" if line else "soundbite"
    fix = "write each soundbite as `- start: HH:MM:SS` with `duration:` (seconds, or MM:SS) and a `title:`"
    if not isinstance(item, dict):
        raise NotesError(path, f"{where} {item!r} is not a start, a duration and a title", fix)
    unknown = sorted(str(k) for k in set(item) - set(SOUNDBITE_KEYS))
    if unknown:
        raise NotesError(path, f"{where} has unknown keys {unknown}", f"use {', '.join(SOUNDBITE_KEYS)}")
    times = {}
    for key in ("start", "duration"):
        if key not in item:
            raise NotesError(path, f"{where} has no {key}", fix)
        try:
            times[key] = chapters_.parse_time(item[key])
        except ValueError as err:
            raise NotesError(
                path, f"{where} {key} {item[key]!r} is not a time", "write it as HH:MM:SS, MM:SS or a number of seconds"
            ) from err
    if times["start"] == 0:
        # the Podcast Index parser (partytime) reads startTime 0 as "not set" and drops the soundbite
        raise NotesError(
            path,
            f"{where} starts at 0, which Podcast Index apps read as no soundbite at all",
            "start it where the highlight begins, e.g. `start: 00:00:01`",
        )
    if times["duration"] <= 0:
        raise NotesError(
            path, f"{where} lasts 0 seconds", "give its length, e.g. `duration: 30` (apps suggest 15 to 120 seconds)"
        )
    title = item.get("title", "")
    if isinstance(title, (int, float)) and not isinstance(title, bool):
        title = str(title)
    if not isinstance(title, str):
        raise NotesError(path, f"{where} title {title!r} is not text", "write `title: ...`")
    if len(title.strip()) > rules.TEXT_LIMIT:
        raise NotesError(
            path,
            f"{where} title is {len(title.strip())} characters long; apps show at most {rules.TEXT_LIMIT}",
            "shorten it",
        )
    return Soundbite(start=times["start"], duration=times["duration"], title=title.strip(), line=line)


def _comments(path: Path, value: Any, node: yaml.Node | None) -> Social | None:
    """`comments:` where the episode is discussed: a comments page's address, a root post with its protocol
    (`url:` and `protocol:`, optional `account:` and `account_url:`), or `disabled`. Every address is a web page's:
    apps open it (`<comments>`, `podcast:socialInteract`)."""
    fix = f"write `comments: https://…` (a comments page), `comments: disabled`, or `url:` with `protocol:` (one of {', '.join(rules.SOCIAL_PROTOCOLS)})"
    if value is None or value == "":
        return None
    if value == "disabled":
        return Social(protocol="disabled")
    if isinstance(value, str):
        return Social(url=web_address(path, _value_line(node, "comments"), "comments", value, fix))
    if not isinstance(value, dict):
        raise NotesError(path, f"comments {value!r} is not a web address", fix)
    unknown = sorted(str(k) for k in set(value) - set(COMMENTS_KEYS))
    if unknown:
        raise NotesError(path, f"comments has unknown keys {unknown}", f"use {', '.join(COMMENTS_KEYS)}")
    texts = {key: value.get(key) or "" for key in COMMENTS_KEYS}
    if not all(isinstance(v, str) for v in texts.values()):
        raise NotesError(path, f"comments {value!r} holds something that is not text", fix)
    url, protocol, account, account_url = (texts[key].strip() for key in COMMENTS_KEYS)
    if protocol not in rules.SOCIAL_PROTOCOLS:
        raise NotesError(
            path,
            f"comments protocol {protocol!r} is not one apps know"
            if protocol
            else "comments has a url but no protocol",
            fix,
        )
    post_fix = "write the https:// address of the post (the link its page shows when you share it)"
    if not url:
        raise NotesError(path, "comments has a protocol but no url", post_fix)
    url = web_address(path, _value_line(node, "comments", "url"), "comments url", texts["url"], post_fix)
    if account_url:
        account_url = web_address(
            path,
            _value_line(node, "comments", "account_url"),
            "comments account_url",
            account_url,
            "write the https:// address of the account's page",
        )
    return Social(url=url, protocol=protocol, account=account, account_url=account_url)


def web_address(path: Path, line: int, what: str, value: Any, fix: str) -> str:
    """A web address the notes give (stripped); NotesError naming the line, what it is and why, unless it is an
    http(s) address panelpress may publish (markdown.address_problem)."""
    address = value.strip() if isinstance(value, str) else value
    problem = address_problem(address)
    if problem:
        raise NotesError(
            path, f"{f'line {line}: ' if line else ''}{what} {value!r} is not a web address: {problem}", fix
        )
    return address


def _value_line(node: yaml.Node | None, *keys: str | int) -> int:
    """The file line (1-based) of the value at `keys` (mapping keys and list positions) in the front matter; 0 when
    there is none."""
    for key in keys:
        if isinstance(node, yaml.MappingNode) and isinstance(key, str):
            node = next((value for name, value in node.value if name.value == key), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
        else:
            return 0
    return node.start_mark.line + FRONT_LINE if node is not None else 0


def _location(path: Path, value: Any) -> Location | None:
    """`location:` the place the episode is about (or, with `rel: creator`, where it was made): a name, or a mapping
    of name, geo, osm, country and rel."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        value = {"name": value}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise NotesError(
            path,
            f"location {value!r} is not a place",
            "write `location: Austin, TX`, or `name:` with optional geo, osm, country and rel",
        )
    unknown = sorted(str(k) for k in set(value) - set(LOCATION_KEYS))
    if unknown:
        raise NotesError(path, f"location has unknown keys {unknown}", f"use {', '.join(LOCATION_KEYS)}")
    place = Location(**{key: item.strip() for key, item in value.items()}) if "name" in value else Location(name="")
    problem = rules.location_problem(place)
    if problem:
        raise NotesError(path, f"location {problem[0]}", problem[1])
    return place


def _image(path: Path, root: Path, value: Any, what: str, allow_url: bool) -> str:
    """An image named in the notes: a JPEG or PNG file beside the notes (or, where allowed, a web address)."""
    if value is None or value == "":
        return ""
    if not isinstance(value, str):
        raise NotesError(
            path, f"{what} {value!r} is not a file name", "write the name of a JPEG or PNG file in show_notes/"
        )
    value = value.strip()
    if allow_url and (_SCHEME.match(value) or value.startswith("//")):
        problem = address_problem(value)
        if problem:
            raise NotesError(
                path,
                f"{what} {value!r} is not a web address: {problem}",
                "write it as https://…, or name a JPEG or PNG file",
            )
        return value
    try:
        inputs.named_picture(
            root,
            path.parent,
            value,
            f"put the image in {path.parent.name}/ (names are relative to the notes file), or correct the name",
        )
    except inputs.Refused as err:
        raise NotesError(path, f"{what} {value!r} {err.problem}", err.fix) from err
    return value


_BODY = markdown()
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")  # a value that starts so is an address, not a file name


def _publishable(name: str) -> bool:
    # Notes (drafts among them) and hidden files beside the notes are never published, even when linked.
    return not name.lower().endswith(".md") and not any(
        part.startswith(".") and part != ".." for part in name.split("/")
    )


def _body_links(path: Path, root: Path, body: str, body_line: int) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The URLs of the body's links and images that name a file beside the notes (published with the episode),
    and of its links to other episodes' notes (pointed at their pages); `body_line`: the file line before the body.

    A relative link to anything else is left alone (it may point into the blog); an image that is not a picture
    file beside the notes, or a link to a file that leads outside the show folder, is an error."""
    found: dict[str, None] = {}
    mentions: dict[str, None] = {}
    for block, token, attribute in urls(_BODY.parse(body)):
        url = token.attrGet(attribute) or ""
        if token.type == "link_open" and mentioned_slug(url):
            mentions[url] = None
        name = local_name(url)
        if name is None or not _publishable(name):
            continue
        line = body_line + block.map[0] + 1 if block.map else body_line
        beside = name != ".." and not name.startswith("../")  # published in the episode's own folder of the site
        try:
            file = inputs.show_file(root, path.parent, name) if beside else None
        except inputs.Outside as err:
            raise NotesError(
                path, f"line {line}: the {'image' if token.type == 'image' else 'file'} {name!r} {err.problem}", err.fix
            ) from err
        except inputs.Refused:
            file = None
        if file is None:
            if token.type == "image":
                raise NotesError(
                    path,
                    f"line {line}: the image {name!r} is not a file in {path.parent.name}/",
                    f"put it in {path.parent.name}/ (names are relative to the notes file), or correct the name",
                )
            continue
        if token.type == "image":
            try:
                inputs.picture(file, inputs.WEB_PICTURES)
            except inputs.Refused as err:
                raise NotesError(path, f"line {line}: the image {name!r} {err.problem}", err.fix) from err
        found[url] = None
    return tuple(found), tuple(mentions)


def _item_lines(node: yaml.Node | None, key: str) -> list[int]:
    """The file line (1-based) of each entry of a front-matter list, for errors that point at the entry."""
    for name, value in node.value if isinstance(node, yaml.MappingNode) else ():
        if name.value == key and isinstance(value, yaml.SequenceNode):
            return [item.start_mark.line + FRONT_LINE for item in value.value]
    return []


def image_file(notes: Notes) -> Path | None:
    """The episode's own art file, if the notes name one."""
    return notes.path.parent / notes.image if notes.image else None


def _first_paragraph(body: str) -> str:
    """The body's first paragraph as plain text (the summary when the notes give none): Markdown's marks go, the words
    of links, code and pictures stay."""
    for block in re.split(r"\n[ \t]*\n", body):
        block = block.strip()
        if block and not block.startswith("#"):
            return re.sub(r"\s+", " ", _plain(_BODY.parseInline(block))).strip()
    return ""


def _plain(tokens: list[Token]) -> str:
    words = []
    for token in tokens:
        if token.children:
            words.append(_plain(token.children))
        elif token.type in ("text", "code_inline", "html_inline"):
            words.append(token.content)
        elif token.type in ("softbreak", "hardbreak"):
            words.append(" ")
    return "".join(words)
