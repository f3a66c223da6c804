"""The git store: a branch a Pages host publishes (GitHub Pages, Cloudflare Pages, Netlify, GitLab Pages), given as
`git+file:///path/repo.git#gh-pages`, `git+ssh://git@host/user/repo.git#gh-pages` or `git+https://…#branch`.

The branch is fetched into a working copy in panelpress's cache, the deploy changes its files there, and `finish`
makes one commit and pushes it: the host sees the old branch or the new one, never a part. A deploy that changes
nothing makes no commit. Files of the branch that panelpress did not put there (a CNAME, a 404 page) are kept.
Credentials are git's own (the SSH agent, a credential helper).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from ..errors import PublishError
from ..files import write_atomic
from .remote import PAGES, Headers

CHUNK = 1024 * 1024
AUTHOR = ("panelpress", "panelpress@localhost")  # only where git knows no author of its own


class GitStore:
    """A branch of a git repository, through a working copy in the cache."""

    kind = PAGES
    parallel = 4  # files copied into the working copy at once

    def __init__(self, url: str, cache: Path) -> None:
        parts = urlsplit(url)
        self.url = url
        self.branch = parts.fragment or "gh-pages"
        self.remote = url.split("#", 1)[0].removeprefix("git+")
        if shutil.which("git") is None:
            raise PublishError(None, f"deploy to {url}: git is not installed", "install git, then deploy again")
        self.work = cache / "deploy" / hashlib.sha256(self.remote.encode()).hexdigest()[:16]
        self._fetch()

    def _git(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        env = {**os.environ, "GIT_TERMINAL_PROMPT": "0"}
        if not os.environ.get("GIT_AUTHOR_NAME") and not self._configured("user.name"):
            env |= {"GIT_AUTHOR_NAME": AUTHOR[0], "GIT_COMMITTER_NAME": AUTHOR[0]}
        if not os.environ.get("GIT_AUTHOR_EMAIL") and not self._configured("user.email"):
            env |= {"GIT_AUTHOR_EMAIL": AUTHOR[1], "GIT_COMMITTER_EMAIL": AUTHOR[1]}
        done = subprocess.run(["git", "-C", str(self.work), *args], capture_output=True, text=True, env=env)
        if check and done.returncode != 0:
            said = (done.stderr or done.stdout).strip().splitlines()
            raise PublishError(
                None,
                f"deploy to {self.url}: git {args[0]} failed ({said[-1] if said else done.returncode})",
                "check the repository's address and that git can push to it (ssh-add, a credential helper), then deploy again",
            )
        return done

    def _configured(self, name: str) -> bool:
        done = subprocess.run(["git", "config", "--get", name], capture_output=True, text=True, cwd=self.work)
        return bool(done.stdout.strip())

    def _fetch(self) -> None:
        """The working copy holds the branch as it is at the remote (a new, empty branch when there is none yet)."""
        self.work.mkdir(parents=True, exist_ok=True)
        if not (self.work / ".git").is_dir():
            self._git("init", "-q")
        self._git("remote", "remove", "origin", check=False)
        self._git("remote", "add", "origin", self.remote)
        found = self._git("ls-remote", "--heads", "origin", self.branch).stdout.strip()
        if found:
            self._git("fetch", "-q", "--depth", "1", "origin", self.branch)
            self._git("checkout", "-q", "-f", "-B", self.branch, "FETCH_HEAD")
        else:
            self._git("checkout", "-q", "-f", "--orphan", self.branch)
            self._git("rm", "-q", "-r", "-f", "--cached", ".", "--ignore-unmatch")
        self._git("clean", "-q", "-f", "-d", "-x")

    def _path(self, key: str) -> Path:
        return self.work / key

    def read(self, key: str) -> bytes | None:
        try:
            return self._path(key).read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            return None

    def size(self, key: str) -> int | None:
        try:
            return self._path(key).stat().st_size
        except (FileNotFoundError, NotADirectoryError):
            return None

    def put(self, key: str, source: Path, headers: Headers, progress: Callable[[int], None]) -> None:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        temp = target.with_name(target.name + ".panelpress-tmp")
        with source.open("rb") as reader, temp.open("wb") as writer:
            while chunk := reader.read(CHUNK):
                writer.write(chunk)
                progress(len(chunk))
        os.replace(temp, target)

    def put_bytes(self, key: str, data: bytes, headers: Headers) -> None:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(target, data)

    def delete(self, key: str) -> None:
        path = self._path(key)
        path.unlink(missing_ok=True)
        for parent in path.parents:  # git keeps no empty folders, and neither does a Pages site
            if parent == self.work or any(parent.iterdir()):
                break
            parent.rmdir()

    def finish(self, message: str) -> None:
        """One commit of what changed, pushed; none when nothing did."""
        self._git("add", "-A")
        if self._git("diff", "--cached", "--quiet", check=False).returncode == 0:
            return
        self._git("commit", "-q", "-m", message)
        self._git("push", "-q", "origin", f"HEAD:refs/heads/{self.branch}")

    def close(self) -> None:
        pass
