"""Show notes: read `show_notes/<slug>.md` (YAML front matter + Markdown) and start new ones."""

from __future__ import annotations

import difflib
import re
from datetime import date, datetime, time, timezone
from pathlib import Path
from typing import Any

import frontmatter
import yaml

from .config import EPISODE_TYPES
from .errors import NotesError
from .records import AudioInfo, Notes, Panelist

KEYS = ("title", "date", "summary", "panelists", "explicit", "season", "episode", "episode_type", "draft", "image")
ROLES = ("host", "guest", "moderator")


def read(path: Path) -> Notes:
    """Parse and validate one notes file; raise NotesError naming the key and the fix."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise NotesError(path, "is not UTF-8 text", "save the file as UTF-8") from err
    # Split with python-frontmatter but load the YAML here: it would silently drop
    # front matter that is not a mapping, and it hides line numbers.
    front, body = "", text
    if text.startswith("---"):
        try:
            front, body = frontmatter.YAMLHandler().split(text)
        except ValueError as err:
            raise NotesError(path, "front matter has no closing --- line", "end the front matter with a line holding only ---") from err
    try:
        meta = yaml.safe_load(front) if front.strip() else {}
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""  # the YAML text starts on the --- line
        problem = getattr(err, "problem", None) or str(err)
        raise NotesError(path, f"front matter is not valid YAML{where}: {problem}", "fix the YAML between the --- lines") from err
    except ValueError as err:  # PyYAML builds dates itself: 2026-02-30 fails here
        raise NotesError(path, f"front matter holds an impossible value: {err}", "check the dates in the front matter") from err
    if not isinstance(meta, dict):
        raise NotesError(path, "front matter is not a mapping of keys", "write `key: value` lines between the --- lines")
    for key in meta:
        if key not in KEYS:
            close = difflib.get_close_matches(str(key), KEYS, n=1)
            raise NotesError(path, f"unknown key `{key}`", f"did you mean `{close[0]}`?" if close else f"known keys: {', '.join(KEYS)}")
    title = meta.get("title")
    if isinstance(title, (int, float)) and not isinstance(title, bool):
        title = str(title)  # `title: 1984` is a title, not a number
    if not isinstance(title, str) or not title.strip():
        raise NotesError(path, "has no title", "add `title: ...` to the front matter")
    body = body.strip()
    return Notes(
        path=path,
        title=title.strip(),
        date=_date(path, meta.get("date")),
        body=body,
        summary=_text(path, meta, "summary") or _first_paragraph(body),
        panelists=tuple(_panelist(path, item) for item in _list(path, meta, "panelists")),
        explicit=_optional(path, meta, "explicit", bool, "true or false"),
        season=_positive(path, meta, "season"),
        episode=_positive(path, meta, "episode"),
        episode_type=_choice(path, meta, "episode_type", EPISODE_TYPES, "full"),
        draft=_optional(path, meta, "draft", bool, "true or false") or False,
        image=_text(path, meta, "image"),
    )


def _date(path: Path, value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError as err:
            raise NotesError(path, f"date {value!r} is not a date", "write it as YYYY-MM-DD or YYYY-MM-DD HH:MM") from err
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if isinstance(value, date):
        return datetime.combine(value, time(0, 0), tzinfo=timezone.utc)
    raise NotesError(path, f"date {value!r} is not a date", "write it as YYYY-MM-DD or YYYY-MM-DD HH:MM")


def _optional(path: Path, meta: dict, key: str, kind: type, words: str):
    value = meta.get(key)
    if value is None:
        return None
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise NotesError(path, f"{key} is {value!r}, not {words}", f"write `{key}: {words.split(' ')[0]}`")
    return value


def _positive(path: Path, meta: dict, key: str) -> int | None:
    value = _optional(path, meta, key, int, "a whole number")
    if value is not None and value < 1:
        raise NotesError(path, f"{key} is {value}, not a positive number", f"number {key}s from 1")
    return value


def _text(path: Path, meta: dict, key: str) -> str:
    value = _optional(path, meta, key, str, "text")
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


def _panelist(path: Path, item: Any) -> Panelist:
    if isinstance(item, str) and item.strip():
        return Panelist(name=item.strip())
    if isinstance(item, dict) and isinstance(item.get("name"), str) and item["name"].strip():
        unknown = set(item) - {"name", "role", "img", "href"}
        if unknown:
            raise NotesError(path, f"panelist {item['name']!r} has unknown keys {sorted(unknown)}", "use name, role, img and href")
        role = item.get("role", "guest")
        if role not in ROLES:
            raise NotesError(path, f"panelist {item['name']!r} has role {role!r}", f"use one of {', '.join(ROLES)}")
        return Panelist(name=item["name"].strip(), role=role, img=str(item.get("img", "")), href=str(item.get("href", "")))
    raise NotesError(path, f"panelist {item!r} has no name", "write each panelist as a name, or as `name:` with optional role, img, href")


def _first_paragraph(body: str) -> str:
    for block in re.split(r"\n\s*\n", body):
        block = block.strip()
        if block and not block.startswith("#"):
            return re.sub(r"\s+", " ", block)
    return ""


def starter_text(slug: str, info: AudioInfo | None, today: date, draft: bool) -> str:
    """The text of a starter notes file, prefilled from the recording's tags."""
    title = (info.tag("title") if info else "") or slug.replace("-", " ").replace("_", " ").strip().capitalize()
    artists = [a.strip() for a in re.split(r"[;,/]| & ", info.tag("artist") if info else "") if a.strip()]
    day = _tag_date(info.tag("date") if info else "") or today
    meta: dict[str, Any] = {"title": title, "date": day}
    if artists:
        meta["panelists"] = artists
    if info and info.tag("comment"):
        meta["summary"] = info.tag("comment")
    meta["draft"] = draft
    head = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, default_flow_style=False)
    return f"---\n{head}---\n\nWrite the show notes of this episode here, in Markdown.\n"


def _tag_date(value: str) -> date | None:
    match = re.match(r"(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?", value.strip())
    if not match:
        return None
    year, month, day = match.groups()
    try:
        return date(int(year), int(month or 1), int(day or 1))
    except ValueError:
        return None


def write_starter(path: Path, text: str) -> bool:
    """Create a notes file; never overwrite one. Return whether it was created."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with path.open("x", encoding="utf-8") as handle:
            handle.write(text)
    except FileExistsError:
        return False
    return True
