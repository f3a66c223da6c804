"""One build at a time per show and per site folder: an operating-system file lock (filelock), with the holder's pid.

The lock is the kernel's (flock): a build that is killed releases it with its process, so a lock file left
behind is never mistaken for a running build.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from . import layout
from .errors import BusyError


def show_lock(config) -> Path:
    """The lock of a show (in its cache folder, which no host edits)."""
    return config.cache_dir / "build.lock"


def site_lock(config) -> Path:
    """The lock of a site folder (in the folder: builds of other shows into it see it too)."""
    return config.output_dir / layout.LOCK


@contextmanager
def hold(
    path: Path, what: str, wait: bool = True, waiting: Callable[[str], None] = lambda message: None
) -> Iterator[None]:
    """Hold the lock at `path` (for `what`, e.g. "this show") while the block runs. When another process holds it:
    wait, after telling `waiting` why, or with `wait=False` raise BusyError."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(path))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        holder = _holder(path)
        message = f"another build of {what} is running" + (f", pid {holder}" if holder else "")
        if not wait:
            raise BusyError(path.parent, message, "wait for it to finish, or build again without --no-wait") from None
        waiting(f"{message}; waiting for it to finish")
        lock.acquire()
    pid_file = _pid_file(path)
    try:
        pid_file.write_text(f"{os.getpid()}\n")
        yield
    finally:
        pid_file.unlink(missing_ok=True)
        lock.release()


def _pid_file(path: Path) -> Path:
    return path.with_name(path.name + ".pid")


def _holder(path: Path) -> int | None:
    """The pid the holder wrote beside the lock (None while it has not yet, or it cannot be read)."""
    try:
        return int(_pid_file(path).read_text().strip())
    except (OSError, ValueError):
        return None
