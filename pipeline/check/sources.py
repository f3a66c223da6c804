"""The show's sources, read as a build reads them: the artwork, every notes file and every transcript a host dropped
(those of episodes unchanged since the last build were read by it: what it held back is reported, nothing is read
again), and what changed since the last build, which the site does not show yet."""

from __future__ import annotations

from pathlib import Path

from .. import cache
from ..episode import transcript
from ..episode.discover import discover
from ..errors import PanelpressError, TranscriptError
from ..records import Notes
from ..show import artwork
from .findings import BUILD, Checker


def check_artwork(checker: Checker, fix: bool) -> list[str]:
    """The show artwork by Apple's rules; with `fix`, a copy that fits. Returns what was done."""
    path = checker.config.artwork_path
    if path is None:
        return ["--fix-artwork: there is no [show] artwork to fix"] if fix else []
    found = artwork.problems(path)
    checker.problems += found
    if not fix:
        return []
    if not found:
        return [f"{checker.shown(path)} already fits: nothing to fix"]
    try:
        fixed = checker.shown(artwork.fix(path))
    except PanelpressError as err:
        checker.problems.append(err)
        return []
    return [
        f'wrote {fixed}: set `artwork = "{fixed}"` under [show] in panelpress.toml, then run `panelpress check` again'
    ]


def check_notes(checker: Checker) -> dict[str, Notes]:
    """Every notes file changed since the last build, read as a build reads it."""
    settings = checker.config
    found = {}
    for path in sorted(settings.notes_dir.glob("*.md")) if settings.notes_dir.is_dir() else []:
        if path.stem in checker.memory.unchanged:
            continue
        from ..episode import notes  # Markdown and YAML: imported when an episode changed since the last build

        try:
            found[path.stem] = notes.read(path, settings.root)
            checker.warnings += notes.warnings(found[path.stem])
        except PanelpressError as err:
            checker.problems.append(err)
    return found


def check_transcripts(checker: Checker, by_slug: dict[str, Notes]) -> None:
    """Every transcript a host dropped, validated against its recording; and transcripts that belong to none."""
    settings, problems = checker.config, checker.problems
    recordings, failures = discover(settings)
    problems += [failure.error for failure in failures]
    for rec in recordings:
        entry = checker.memory.unchanged.get(rec.slug)
        if entry is not None:  # its transcript was read by the build: what it held back, check reports
            problems += [p for p in map(cache.decode, entry.problems) if isinstance(p, TranscriptError)]
            continue
        try:
            path = transcript.source(settings, rec.slug)
            if path is None:
                continue
            from ..episode import probe  # mutagen: imported when an episode changed since the last build

            duration = probe.probe(rec.path).duration
        except PanelpressError as err:
            problems.append(err)
            continue
        note = by_slug.get(rec.slug)
        problems += transcript.check(path, duration, [p.name for p in note.panelists] if note else [])[1]
    slugs = {rec.slug for rec in recordings}
    for folder in (settings.episodes_dir, settings.notes_dir):
        for suffix in transcript.SUFFIXES:
            for path in sorted(folder.glob(f"*{suffix}")) if folder.is_dir() else []:
                if path.stem not in slugs:
                    problems.append(
                        PanelpressError(
                            path,
                            "belongs to no recording",
                            f"name it after its recording, e.g. episodes/NAME.wav → {folder.name}/NAME{suffix}",
                        )
                    )


def check_changes(checker: Checker, by_slug: dict[str, Notes], published: set[str]) -> None:
    """What changed since the last build, which the site does not show yet: the settings, a file every episode
    uses (the artwork), an episode's own files. Each said once, and not when a problem of it is said already.
    `published`: the slugs the ledger holds."""
    settings, memory = checker.config, checker.memory
    reported = {path.name for path in checker.reported()}
    if memory.settings_changed and settings.path.name not in reported:
        checker.problems.append(
            PanelpressError(
                settings.path, "changed since the last build: the site does not show the new settings yet", BUILD
            )
        )
    jingles = [settings.root / name for name in (settings.audio.intro, settings.audio.outro) if name]
    shared = {str(path.relative_to(settings.root)) for path in (settings.artwork_path, *jingles) if path is not None}
    for rel in sorted({rel for files in memory.changed.values() for rel in files} & shared):
        if Path(rel).name not in reported:
            checker.problems.append(
                PanelpressError(
                    settings.root / rel, "changed since the last build: the site does not show it yet", BUILD
                )
            )
    for slug, files in sorted(memory.changed.items()):
        note = by_slug.get(slug)
        missing = settings.notes_dir / f"{slug}.md"
        if note is None and slug in published and not missing.exists():
            checker.problems.append(
                PanelpressError(
                    missing,
                    f"is missing, but episode {slug!r} was published from it",
                    "restore the notes file from version control",
                )
            )
            continue
        own = [rel for rel in files if rel not in shared]
        troubled = any(name.startswith(f"{slug}.") for name in reported)  # a problem of its own files is said already
        if own and note is not None and (slug in published or not note.draft) and not troubled:
            checker.problems.append(
                PanelpressError(
                    note.path,
                    f"episode {slug!r} changed since the last build ({', '.join(own)}): the site does not show it yet",
                    BUILD,
                )
            )
