"""The target seam: everything a build asks of the place a site plan is applied, and which place a show uses."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Protocol

from ..records import PublishReport, SitePlan

if TYPE_CHECKING:
    from ..config import Config


class Target(Protocol):
    """Somewhere a site plan can be published."""

    def published_feed(self) -> bytes | None:
        """The feed panelpress last published there (None: none)."""

    def recover(self) -> tuple[str, ...]:
        """Finish or undo what an interrupted publish left (temporary files); return what was cleaned."""

    def is_current(self, digest: str) -> bool:
        """Whether the site is exactly the plan with this digest, as panelpress published it."""

    def checksum(self, rel: str) -> str | None:
        """The checksum of the file at a site path as it is there now (None: there is none)."""

    def published(self) -> Mapping[str, str]:
        """Every file panelpress published there (site path → checksum as written), the feed included."""

    def check(self, plan: SitePlan | None = None) -> None:
        """Refuse (PublishError), writing nothing, a place that cannot be written and, given a plan, anything there
        that publishing it would have to overwrite and may not."""

    def apply(self, plan: SitePlan) -> PublishReport:
        """Make the site the plan: every file, the feed last; remove what panelpress published before and no longer makes."""


def for_config(config: Config) -> Target:
    """Where a show's build publishes: its site folder, or with [blog], the blog (posts and the site folder in it)."""
    from .blog import Blog
    from .folder import Folder

    return (
        Blog(config.output_dir, config.blog_dir, config.blog_posts) if config.blog.engine else Folder(config.output_dir)
    )
