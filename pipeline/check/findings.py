"""What `check` found, and the notebook its parts write into while they look."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .. import layout
from ..config import Config
from ..errors import FeedError, PanelpressError
from .memory import Memory

REBUILD = "rebuild with `panelpress build`; never edit feed.xml by hand"
BUILD = "build with `panelpress build`"
REMAKE = "rebuild with `panelpress build`"


@dataclass(frozen=True)
class CheckReport:
    """What `panelpress check` found."""

    problems: tuple[PanelpressError, ...] = ()
    done: tuple[str, ...] = ()  # what --fix-artwork wrote, and what to do with it
    config_ok: bool = True
    warnings: tuple[PanelpressError, ...] = ()  # allowed, but the host should know (not counted as problems)
    review: tuple[str, ...] = ()  # [clean] edition: each episode's flagged words, as the last build left them


@dataclass
class Checker:
    """One run of `check`: the show's settings, what the cache remembers, and what was found so far."""

    config: Config
    memory: Memory
    problems: list[PanelpressError] = field(default_factory=list)
    warnings: list[PanelpressError] = field(default_factory=list)

    def add(self, path: Path | None, problem: str, fix: str = REBUILD) -> None:
        self.problems.append(FeedError(path, problem, fix))

    def reported(self) -> set[Path]:
        """The files a problem was said of already (each defect is said once)."""
        return {p.path for p in self.problems if p.path is not None}

    def rel(self, url: str) -> str | None:
        """The path in the site folder that a URL of the site (or of its media, [deploy] media_url) points at (None:
        the URL is elsewhere)."""
        rel = layout.site_path(url, self.config.site_url, self.config.media_url)
        return rel if rel and not rel.startswith("/") and ".." not in rel.split("/") else None

    def local(self, url: str) -> Path | None:
        """The file in the site folder that a URL of the site points at (None: the URL is elsewhere)."""
        rel = self.rel(url)
        return self.config.output_dir.joinpath(*rel.split("/")) if rel else None

    def shown(self, path: Path) -> str:
        """A path as the host knows it: relative to the show folder where it lies inside it."""
        root = self.config.root
        if path.is_relative_to(root):  # most paths are built from the show folder: no need to resolve them
            return str(path.relative_to(root))
        try:
            return str(path.resolve().relative_to(root.resolve()))
        except ValueError:
            return str(path)
