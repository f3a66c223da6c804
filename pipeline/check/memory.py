"""What the engine remembers of a show, for `check`: which episodes are as the last build made them, which
changed since, and what earlier checks found good (feed items and published files, by checksum)."""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from pathlib import Path

from .. import build, cache
from ..config import Config
from ..errors import PanelpressError
from ..files import write_if_changed
from ..show import ledger


@dataclass
class Memory:
    """The cache's view of the show since its last build."""

    unchanged: dict[str, cache.Entry]  # episodes whose every file is as the last build found it
    changed: dict[str, list[str]]  # episodes made before whose files changed since: which files (as stamped)
    settings_changed: bool  # the settings (or panelpress itself) changed since the last build
    checked_items: set[str]  # checksums of feed items that passed an earlier check
    checked_files: dict[str, str]  # site path → checksum of published files that passed an earlier check
    file: Path
    store: cache.Store | None = None  # the show's cache: each episode's record as the last build made it
    entries: dict[str, cache.Entry] | None = None  # every episode the last build made, changed since or not

    @classmethod
    def load(cls, settings: Config) -> Memory:
        try:
            book = ledger.load(settings.ledger_path)
        except PanelpressError:
            book = ledger.Ledger()
        store = build.show_store(settings, book)
        state, context = store.state(), cache.episode_context(settings)
        changed = {slug: cache.changed(settings.root, e.inputs) for slug, e in state.entries.items()}
        unchanged = {slug: e for slug, e in state.entries.items() if e.context == context and not changed[slug]}
        moved = any(e.context != context for e in state.entries.values())
        file = store.folder / "checked.json"
        try:
            data = json.loads(file.read_bytes())
            checked = (
                (set(data["items"]), dict(data["files"])) if data.get("format") == cache.format_stamp() else (set(), {})
            )
        except (OSError, ValueError, KeyError, TypeError):
            checked = (set(), {})
        changed_files = {slug: files for slug, files in changed.items() if files}
        return cls(unchanged, changed_files, moved, *checked, file, store, state.entries)

    @property
    def as_built(self) -> bool:
        """Whether nothing changed since the last build: the site must then be exactly what a build publishes."""
        return not self.changed and not self.settings_changed

    def remember(self, items: set[str], files: dict[str, str]) -> None:
        """Keep what this check found good (it writes only the cache)."""
        with contextlib.suppress(OSError):
            write_if_changed(
                self.file,
                json.dumps(
                    {"format": cache.format_stamp(), "items": sorted(items), "files": dict(sorted(files.items()))}
                ).encode(),
            )
