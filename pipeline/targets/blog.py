"""The blog target ([blog]): the site folder inside the blog's static folder, and the posts among the blog's own.

Two folders, each with its manifest: the site folder (feed, audio, chapters, transcripts) exactly as the folder
target writes it, and the blog's own folder, where panelpress writes only its posts and helper files (a Hugo
shortcode, a head snippet) and nothing else. The posts are written first and the feed last, so the feed never names
a post that is not there. A post the host edited by hand is left as they made it (the build says so); a post is
removed only with its episode, which the guard allows only with --allow-remove.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from ..records import PublishReport, SitePlan
from .folder import Folder


class Blog:
    """A blog's folder and the site folder in it."""

    def __init__(self, site: Path, blog: Path, posts: str) -> None:
        self.site = Folder(site, in_the_way="move it away, or set [blog] folder to another name")
        self.blog = Folder(
            blog,
            name="the blog's folder",
            instead="set [blog] path to a blog you can write",
            keep_edited=(posts,),
            in_the_way="it is yours: rename it, or rename the episode (its notes and recording: the slug names the post), or set [blog] posts to another folder",
        )

    def published_feed(self) -> bytes | None:
        return self.site.published_feed()

    def checksum(self, rel: str) -> str | None:
        return self.site.checksum(rel)

    def published(self) -> Mapping[str, str]:
        return self.site.published()

    def recover(self) -> tuple[str, ...]:
        return self.blog.recover() + self.site.recover()

    def is_current(self, digest: str) -> bool:
        return self.blog.is_current(digest) and self.site.is_current(digest)

    def check(self, plan: SitePlan | None = None) -> None:
        """Refuse, writing nothing, a folder of the blog or a file in it where panelpress cannot write."""
        self.blog.check(_posts(plan) if plan is not None else None)
        self.site.check(plan)

    def apply(self, plan: SitePlan) -> PublishReport:
        """The posts and helper files, then the site folder with its feed last."""
        posts = self.blog.apply(_posts(plan))
        site = self.site.apply(plan)
        return PublishReport(
            written=posts.written + site.written,
            unchanged=posts.unchanged + site.unchanged,
            removed=posts.removed + site.removed,
            adopted=posts.adopted + site.adopted,
            edited=posts.edited + site.edited,
        )


def _posts(plan: SitePlan) -> SitePlan:
    """What the blog's own folder gets of a plan: the posts and helper files, no feed."""
    return replace(plan, files=plan.blog, feed_path="", feed=b"", blog={})
