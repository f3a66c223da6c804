"""MkDocs hook: the reference pages made from the code's own definitions, at every build, so they cannot drift.

A page asks for a generated part with a marker on a line of its own, `<!-- generated: NAME -->`:

    settings    every `panelpress.toml` key: the dataclasses of `config.SECTIONS` (and the tables they hold), each
                field's type, default, doc and allowed values (the fix shown when a value is refused)
    notes       every front-matter key of the show notes: `notes.DEFINITIONS`
    cli         every command of `panelpress` with its options, from the argparse parser `cli._parser()`
    exit-codes  the exit codes of `cli.py`
    layout      what a build writes where: the rules of `layout.py`, each with an example
    engines     each blog engine's conventions: `engines.ENGINE`

and `<!-- include: PATH -->` puts a file of the repository (relative to mkdocs.yml) there, as a code block.
A marker may be followed by the line `ON_GITHUB`, for readers of the Markdown files; it goes with the marker.

A setting or notes key without a doc, a command-line constant, layout rule or settings type this hook does not
know, or an unknown marker fails the build: the reference is complete or the docs do not build.
"""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import os
import re
import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
if str(ROOT) not in sys.path[:1]:
    sys.path.insert(0, str(ROOT))  # this checkout's pipeline/, not another installed copy

from pipeline import cli, config, engines, layout  # noqa: E402
from pipeline.episode import notes  # noqa: E402
from pipeline.show import artwork  # noqa: E402

# The line a page may put under a marker for readers of the Markdown file (on GitHub), where nothing is generated.
ON_GITHUB = "*This part is made from the code when the site is built (`make docs`): read it on the built site.*"
MARKER = re.compile(r"^<!-- (generated|include): ([\w./-]+) -->$(?:\n" + re.escape(ON_GITHUB) + ")?", re.MULTILINE)


class ReferenceError(Exception):
    """The code has something the reference cannot document yet: the docs build fails with it."""


def _cell(text: object) -> str:
    """Text for a Markdown table cell: one line, pipes escaped."""
    return re.sub(r"\s+", " ", str(text)).strip().replace("|", "\\|")


def _table(head: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _anchor(ident: str) -> str:
    return f'<a id="{ident}"></a>'


def _docstring(obj: object) -> str:
    return re.sub(r"\s+", " ", inspect.getdoc(obj) or "").strip()


# --- settings ---------------------------------------------------------------------------------------------------

TYPES = {
    "str": "string",
    "bool": "`true` / `false`",
    "bool | None": "`true` / `false`, or left out",
    "int": "integer",
    "float": "number",
    "tuple[str, ...]": "list of strings",
    "tuple[tuple[str, str], ...]": "table of strings",
    "tuple[RemoteItem, ...]": "array of tables",
    "Location | None": "table",
}
# The tables a settings field holds: the field's type → (how the table is written, the record of each entry).
TABLE_FIELDS = {
    "Location | None": ("[{section}.{key}]", "Location"),
    "tuple[RemoteItem, ...]": ("[[{section}.{key}]]", "RemoteItem"),
}


def _default(spec: dataclasses.Field) -> str:
    value = spec.default
    if value is dataclasses.MISSING:
        return "**required**"
    if value is None:
        return "not set"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, tuple):
        return "`[]`" if not value else f"`{list(value)}`"
    if isinstance(value, str):
        return f'`"{value}"`' if value else "none"
    return f"`{value}`"


def _doc(section: str, key: str, spec: dataclasses.Field) -> str:
    doc = spec.metadata.get("doc")
    if not doc:
        raise ReferenceError(
            f"[{section}] {key} has no doc: add doc=… to its _check(…), or metadata=_doc(…), in pipeline/config.py"
        )
    return doc


def settings() -> str:
    parts = []
    for section, cls in config.SECTIONS.items():
        parts.append(f"## `[{section}]` {{ #{section} }}\n\n{_docstring(cls)}\n")
        rows, tables = [], []
        for spec in dataclasses.fields(cls):
            kind = spec.type if isinstance(spec.type, str) else spec.type.__name__
            if kind not in TYPES:
                raise ReferenceError(
                    f"[{section}] {spec.name} has the type {kind}, which docs/hooks/reference.py does not know"
                )
            what = _doc(section, spec.name, spec)
            if spec.metadata.get("hint"):  # the fix a refused value is told: what is allowed
                what += f"<br>**Allowed:** {spec.metadata['hint']}"
            rows.append(
                (
                    f"{_anchor(f'{section}-{spec.name}')}`{spec.name}`<br>{TYPES[kind]}",
                    _default(spec),
                    what,
                )
            )
            if kind in TABLE_FIELDS:
                written, record = TABLE_FIELDS[kind]
                tables.append((written.format(section=section, key=spec.name), spec, config.TABLES[record]))
        parts.append(_table(("key and type", "default", "what it does"), rows) + "\n")
        for written, spec, record in tables:
            ident = written.strip("[]").replace(".", "-")
            docs = config.TABLE_DOCS[record.__name__]
            parts.append(f"### `{written}` {{ #{ident}-table }}\n\n{_doc(section, spec.name, spec)}\n")
            rows = []
            for field in dataclasses.fields(record):
                if field.name not in docs:
                    raise ReferenceError(
                        f"{written} {field.name} has no doc: add it to config.TABLE_DOCS[{record.__name__!r}]"
                    )
                required = field.default is dataclasses.MISSING
                rows.append(
                    (
                        f"{_anchor(f'{ident}-{field.name}')}`{field.name}`<br>string",
                        "**required**" if required else "none",
                        docs[field.name],
                    )
                )
            parts.append(_table(("key and type", "default", "what it does"), rows) + "\n")
    return "\n".join(parts)


# --- show notes -------------------------------------------------------------------------------------------------

NOTES_HEADINGS = {
    "notes": ("The front matter", "The keys between the `---` lines at the top of `show_notes/<name>.md`."),
    "panelists": ("Each of `panelists:`", "A panelist is a plain name (a guest), or an entry with these keys."),
    "chapters": ("Each of `chapters:`", "A chapter is an entry with these keys, or one line: `- 00:12:30 Title`."),
    "soundbites": ("Each of `soundbites:`", "A soundbite is an entry with these keys."),
    "comments": ("`comments:` as a post", "Instead of an address or `disabled`, a post apps can show and answer."),
    "location": ("`location:` as a place", "Instead of a plain name, a place with these keys."),
    "role": ("A panelist's `role:`", "The roles a panelist may have."),
}


def notes_keys() -> str:
    if set(notes.DEFINITIONS) != set(NOTES_HEADINGS):
        raise ReferenceError(
            f"notes.DEFINITIONS has {sorted(notes.DEFINITIONS)}; docs/hooks/reference.py has headings for {sorted(NOTES_HEADINGS)}"
        )
    parts = []
    for group, table in notes.DEFINITIONS.items():
        heading, intro = NOTES_HEADINGS[group]
        rows = []
        for key, doc in table.items():
            if not doc:
                raise ReferenceError(f"the notes key {group}.{key} has no doc in pipeline/episode/notes.py")
            rows.append((f"{_anchor(f'{group}-{key}')}`{key}`", doc))
        parts.append(f"## {heading} {{ #{group} }}\n\n{intro}\n\n" + _table(("key", "what it does"), rows) + "\n")
    return "\n".join(parts)


# --- the command line -------------------------------------------------------------------------------------------


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, tuple[str, argparse.ArgumentParser]]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {choice.dest: choice.help for choice in action._choices_actions}
            return {name: (helps.get(name, ""), sub) for name, sub in action.choices.items()}
    return {}


def _options(parser: argparse.ArgumentParser) -> str:
    """The parser's arguments as tables: the untitled groups (positional arguments, options) as one, then each
    titled group under its title and description."""
    formatter = parser._get_formatter()
    plain, titled = [], []
    for group in parser._action_groups:
        rows = []
        for action in group._group_actions:
            if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):
                continue
            what = action.help or ""
            if action.default not in (None, False, argparse.SUPPRESS) and "default" not in what:
                what += f" (default: `{action.default}`)"
            if isinstance(action, argparse._AppendAction):
                what += "; may be repeated"
            rows.append((f"`{formatter._format_action_invocation(action)}`", what))
        if group.title in ("positional arguments", "options"):
            plain += rows
        elif rows:
            title = group.title[:1].upper() + group.title[1:]
            titled.append(f"**{title}.** {group.description or ''}\n\n" + _table(("argument", "what it does"), rows))
    parts = [_table(("argument", "what it does"), plain)] if plain else []
    return "\n\n".join(parts + titled)


def _usage(parser: argparse.ArgumentParser) -> str:
    columns = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "100"  # argparse wraps at the terminal's width: the page is the same everywhere
    try:
        lines = parser.format_usage().removeprefix("usage: ").rstrip().splitlines()
        return "\n".join([lines[0], *(line.removeprefix(" " * len("usage: ")) for line in lines[1:])])
    finally:
        if columns is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = columns


def commands() -> str:
    parser = cli._parser()
    parts = [f"```\n{_usage(parser)}\n```\n\n{parser.description}\n\n{_options(parser)}\n"]
    for name, (summary, sub) in _subcommands(parser).items():
        parts.append(
            f"## `panelpress {name}` {{ #{name} }}\n\n*{summary[:1].upper() + summary[1:]}.*\n\n"
            f"```\n{_usage(sub)}\n```\n\n{sub.description or ''}\n\n{_options(sub)}\n"
        )
    return "\n".join(parts)


# Every EXIT_ constant of cli.py, and the code the CLI returns for Ctrl-C.
EXIT_DOCS = {
    "EXIT_OK": "Everything was done: every episode published (`build`), all good (`check`), every item matched (`import`).",
    "EXIT_FAILED": "An episode failed (the others were published), a transcript or a clean edition was held back (its episode was published without it), or publishing was refused to protect subscribers; a folder the build must write (the site folder, the cache, the show folder) cannot be written, refused before any work and writing nothing; a full disk or a permission the machine refused, named in one line; `check` found problems; `import` left something unmatched, not imported or to fix before the first build; `transcribe` wrote nothing.",
    "EXIT_CONFIG": "Bad settings or usage: nothing was done. Also: another build is running and `--no-wait` was given, or `serve`'s port is busy.",
    "EXIT_BUG": "A bug in panelpress: one line says so, names what it was doing and the log file that holds the full trace (in the cache's `logs/`, `.panelpress-cache/logs/` by default, else the system's temporary folder's `panelpress-logs/`); no traceback reaches the screen. Please report it, with the log.",
}
STOPS = {
    "INTERRUPTED": "Interrupted (Ctrl-C), whether panelpress or ffmpeg heard it first: nothing was published (a publish cut short is completed or undone by the next build: the feed is written last, so subscribers still see the last good build).",
    "STOPPED": "Stopped (SIGTERM: `kill`, a service manager, a shutdown), as Ctrl-C stops it. `serve` exits 0 when stopped either way.",
}


def exit_codes() -> str:
    found = {name: getattr(cli, name) for name in dir(cli) if name.startswith("EXIT_")}
    if set(found) != set(EXIT_DOCS):
        raise ReferenceError(
            f"pipeline/cli.py has {sorted(found)}; docs/hooks/reference.py documents {sorted(EXIT_DOCS)}"
        )
    rows = [(f"`{found[name]}`", f"`{name}`", EXIT_DOCS[name]) for name in sorted(found, key=found.get)]
    rows += [(f"`{getattr(cli, name)}`", f"`{name}`", meaning) for name, meaning in STOPS.items()]
    return _table(("code", "in `cli.py`", "meaning"), rows) + "\n"


# --- the site's layout ------------------------------------------------------------------------------------------

SLUG = "panel-12"
WHEN = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
SITE = "https://blog.example.org/podcast/"
# Each path rule of layout.py with the arguments of its example; the rule's words are its docstring.
PATHS = {
    "page": (SLUG,),
    "media": (SLUG, "mp3"),
    "edition": (SLUG, "opus"),
    "transcript": (SLUG, "vtt"),
    "chapters": (SLUG,),
    "chapter_image": (SLUG, 1, ".jpg"),
    "episode_image": (SLUG, ".jpg"),
    "linked": (SLUG, "files/slides.pdf"),
    "clip": (SLUG, 1, "vertical"),
    "archive": (1,),
    "artwork": (Path("artwork.jpg"),),
    "icon": ("favicon.ico",),
}
MORE_EXAMPLES = {  # the other forms a rule takes
    "edition": [(SLUG, "mp3", layout.CLEAN)],
    "transcript": [(SLUG, "srt"), (SLUG, "json"), (SLUG, "vtt", layout.CLEAN)],
    "icon": [(name,) for name, _ in artwork.ICONS[1:]],
    "clip": [(SLUG, 1, "square"), (SLUG, 1, "vertical", ".vtt")],
}
ADDRESSES = {
    "url": (SITE, layout.page(SLUG)),
    "feed_url": (SITE,),
    "path_prefix": (SITE,),
    "served_type": (layout.media(SLUG, "opus"),),
    "address": (SITE, layout.media(SLUG, "mp3"), "https://media.example.net/podcast/"),
    "href": ("../", layout.media(SLUG, "mp3")),
    "measured": ("https://op3.dev/e,pg={guid}/", SITE + layout.media(SLUG, "mp3"), "ead4c236-…"),
    "name": ("Folge 12: Café",),
    "post": ("jekyll", "_posts", SLUG, WHEN),
    "post_url": ("https://blog.example.org/", ":year/:month/:day/:slug.html", SLUG, WHEN),
}
HELPERS = {
    "web_slug",
    "depth_root",
    "is_safe",
    "utc",
    "unmeasured",
    "is_media",
    "site_path",
    "clip_name",
}  # used by the rules above, no path of their own
NAMES = {
    "INDEX_PAGE": "the show's index: the show, a subscribe box, its episodes newest first",
    "SUBSCRIBE_PAGE": "the subscribe page: the feed's address and links that open it in podcast apps",
    "FEED_FILE": "the feed (RSS 2.0 with the iTunes and Podcasting 2.0 namespaces)",
    "CLEAN_FEED_FILE": "the clean feed, with `[clean] edition`",
    "FEED_STYLE": "the feed's stylesheet: what a browser shows for the feed",
    "ARCHIVE_DIR": "the feed's archive documents, with `[feed] items`",
    "STYLESHEET": "the pages' stylesheet",
    "SCRIPT": "the pages' script",
    "APP_ICONS": "the icons of the subscribe buttons and the player (an SVG sprite)",
    "ASSETS_DIR": "the folder of the stylesheet and script",
    "ICONS_DIR": "the icons and covers made from the artwork",
    "MEDIA_DIR": "the audio: every episode's enclosure and its other editions",
    "PAGES_DIR": "the episode pages and what is published beside them",
    "MANIFEST": "panelpress's list of the files it wrote (never published as content)",
    "DEPLOY_MANIFEST": "what `panelpress deploy` last put at a destination, kept there beside the site",
    "REDIRECTS": "a moved show's redirect of its feed, for Pages hosts (Netlify, Cloudflare Pages)",
    "HEADERS": "CORS headers for Pages hosts (Netlify, Cloudflare Pages), written by `panelpress deploy` to a Pages branch",
    "LOCK": "the lock file earlier releases kept in the site folder (and its `.pid`): the next publish removes them",
    "RESERVED": "names in the site folder that are panelpress's own bookkeeping",
    "PREVIEW_EVENTS": "`panelpress serve`'s own address for reloading open pages (outside any site path)",
    "PREVIEW_STUDIO": "`panelpress serve`'s studio page for hosts, answered to this machine alone and never published",
    "CLEAN": "the label of the clean edition's files and its alternate enclosure",
    "TRANSCRIPT_SUFFIXES": "a transcript's file endings by kind (vtt, srt, the Podcasting 2.0 JSON)",
    "VTT_TYPE": "the media type of a WebVTT transcript",
    "SRT_TYPE": "the media type of a SubRip transcript",
    "TRANSCRIPT_JSON_TYPE": "the media type of a Podcasting 2.0 JSON transcript",
    "CHAPTERS_TYPE": "the media type of a Podcasting 2.0 chapters file",
    "AUDIO_TYPES": "the enclosure type of each audio format, as the feed and the tags name it",
    "SERVED_TYPES": "the Content-Type each published file is served with, by its ending (deploy, the preview server)",
    "CLIP_SIZES": "a clip's frame by shape, in pixels (`[clips] shapes`)",
    "CLIPS_MANIFEST": "in `[clips] folder` (with `publish = false`): the clips panelpress wrote there, which it alone replaces",
}
IMPORTED = {"ENGINE", "TOKENS", "UTC"}


def _call(name: str, args: tuple) -> str:
    shown = ", ".join(repr(str(a)) if isinstance(a, Path) else repr(a) for a in args)
    shown = shown.replace("datetime.datetime(2026, 11, 20, 9, 0, tzinfo=datetime.timezone.utc)", "2026-11-20 09:00 UTC")
    return f"`{name}({shown})`"


def site_layout() -> str:
    functions = {
        name
        for name, obj in inspect.getmembers(layout, inspect.isfunction)
        if obj.__module__ == layout.__name__ and not name.startswith("_")
    }
    unknown = functions - set(PATHS) - set(ADDRESSES) - HELPERS
    if unknown:
        raise ReferenceError(f"layout.py has rules docs/hooks/reference.py does not show: {sorted(unknown)}")
    constants = {name for name in vars(layout) if name.isupper()} - IMPORTED
    if constants != set(NAMES):
        raise ReferenceError(
            f"layout.py's names {sorted(constants ^ set(NAMES))} are not (or no longer) in docs/hooks/reference.py's NAMES"
        )
    rows = []
    for name, args in PATHS.items():
        rule = getattr(layout, name)
        examples = [args, *MORE_EXAMPLES.get(name, [])]
        paths = "<br>".join(f"`{rule(*a)}`" for a in examples)
        rows.append((paths, _docstring(rule), _call(name, args)))
    files = _table(("path in the site folder", "what it is", "rule in `layout.py`"), rows)
    rows = [(f"`{name}`", f"`{getattr(layout, name)}`", NAMES[name]) for name in NAMES]
    names = _table(("name in `layout.py`", "value", "what it is"), rows)
    rows = [
        (f"`{getattr(layout, name)(*args)}`", _docstring(getattr(layout, name)), _call(name, args))
        for name, args in ADDRESSES.items()
    ]
    addresses = _table(("example", "what it is", "rule in `layout.py`"), rows)
    return (
        f"### Files\n\nExamples for an episode whose recording is `episodes/{SLUG}.wav`, published at "
        f"`{SITE}`.\n\n{files}\n\n### Names\n\n{names}\n\n### Addresses and names\n\n{addresses}\n"
    )


def engine_table() -> str:
    rows = [
        (
            f"`{name}`",
            f"`{e.posts}/`" + (" (`YYYY-MM-DD-<name>.md`)" if e.dated_name else " (`<name>.md`)"),
            f"`{e.static}`" + (" (the blog's own folder)" if e.static == "." else ""),
            f"`{e.permalink}`",
            ", ".join(f"`{m}`" for m in e.marks),
        )
        for name, e in engines.ENGINE.items()
    ]
    return _table(("engine", "posts", "static folder", "default permalink", "a blog of it has one of"), rows) + "\n"


GENERATED = {
    "settings": settings,
    "notes": notes_keys,
    "cli": commands,
    "exit-codes": exit_codes,
    "layout": site_layout,
    "engines": engine_table,
}


def on_page_markdown(markdown: str, page, config, files, **kwargs) -> str:
    """Replace each marker of the page with what it names."""
    root = Path(config.config_file_path).resolve().parent

    def replace(match: re.Match) -> str:
        kind, name = match.groups()
        if kind == "include":
            path = (root / name).resolve()
            if root not in path.parents or not path.is_file():
                raise ReferenceError(f"{page.file.src_uri}: <!-- include: {name} --> names no file of the repository")
            language = {".toml": "toml", ".md": "markdown", ".vtt": "text"}.get(path.suffix, "text")
            return f"```{language}\n{path.read_text(encoding='utf-8').rstrip()}\n```"
        if name not in GENERATED:
            raise ReferenceError(f"{page.file.src_uri}: <!-- generated: {name} --> is not one of {sorted(GENERATED)}")
        return GENERATED[name]()

    return MARKER.sub(replace, markdown)
