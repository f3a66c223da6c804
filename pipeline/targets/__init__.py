"""Targets: where a site plan is applied. A target knows files and bytes, not episodes.

`folder.Folder` writes the site into a folder (the blog's published folder); a preview server or object storage
apply the same plan through the same seam.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from ..records import SitePlan

if TYPE_CHECKING:
    from ..config import Config


@dataclass(frozen=True)
class PublishReport:
    """What applying a plan changed."""

    written: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    adopted: tuple[str, ...] = ()  # files already there, identical to the plan's, taken as panelpress's own
    edited: tuple[str, ...] = ()  # files panelpress wrote that the host edited since: left as the host made them


class Target(Protocol):
    """Somewhere a site plan can be published."""

    def published_feed(self) -> bytes | None:
        """The feed panelpress last published there (None: none)."""

    def recover(self) -> tuple[str, ...]:
        """Finish or undo what an interrupted publish left (temporary files); return what was cleaned."""

    def is_current(self, digest: str) -> bool:
        """Whether the site is exactly the plan with this digest, as panelpress published it."""

    def apply(self, plan: SitePlan) -> PublishReport:
        """Make the site the plan: every file, the feed last; remove what panelpress published before and no longer makes."""


def for_config(config: Config) -> Target:
    """Where a show's build publishes: its site folder, or with [blog], the blog (posts and the site folder in it)."""
    from .blog import Blog
    from .folder import Folder

    return Blog(config.output_dir, config.blog_dir, config.blog_posts) if config.blog.engine else Folder(config.output_dir)
