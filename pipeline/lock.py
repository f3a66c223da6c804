"""One build at a time per show and per site folder: the operating system's lock (flock), which goes with a killed
build, so nothing it leaves behind is ever mistaken for a running build.

- The show's lock is a file in its cache folder (which no host edits), holding the holder's pid to say who runs.
- The site folder's lock is the folder itself: a site folder may be a blog's own, and panelpress writes nothing
  there unless it publishes. A site folder that does not exist yet is made for the lock, and removed again when
  the build leaves it empty (a refused build). Where the file system locks files only (NFS), a lock file in the
  folder serves instead, for as long as the build runs.

A folder that cannot be written (a file in its place, a read-only file system, no permission) is refused in words
before anything is done (`writable`), naming the folder and the fix.
"""

from __future__ import annotations

import errno
import fcntl
import os
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from . import layout
from .errors import BusyError, PublishError

# What else a host can do about a folder that cannot be written, for each folder a build writes.
SITE = "set [build] output (or --out) to a folder you can write"
CACHE = "set [build] cache to a folder you can write"


def show_lock(config) -> Path:
    """The lock of a show (in its cache folder, which no host edits)."""
    return config.cache_dir / "build.lock"


def site_lock(config) -> Path:
    """The lock of a site folder: the folder itself (builds of other shows into it see it too)."""
    return config.output_dir


def writable(folder: Path, what: str, instead: str) -> None:
    """Refuse (PublishError naming the folder and the fix: make it writable, move a file away, or `instead`) when
    `folder` cannot be written, or made where it is missing: a file in its place or among its parents, a read-only
    file system, no permission. Writes nothing."""
    for path in (folder, *folder.parents):
        try:
            info = os.stat(path)
        except (FileNotFoundError, NotADirectoryError):
            if os.path.islink(path):
                raise PublishError(path, f"is a symlink to nothing, where {what} should be", _moved(instead)) from None
            continue
        except OSError as err:
            raise PublishError(
                path, f"cannot be reached ({err.strerror or err}), so {what} cannot be", f"check it, or {instead}"
            ) from err
        break
    else:  # pragma: no cover - a filesystem root always exists
        return
    within = "" if path == folder else f", so {what} ({folder}) cannot be made in it"
    if not stat.S_ISDIR(info.st_mode):
        where = f"where {what} should be" if path == folder else f"where {what} ({folder}) needs a folder"
        raise PublishError(path, f"is a file, {where}", _moved(instead))
    if not os.access(path, os.W_OK | os.X_OK):
        raise PublishError(path, f"cannot be written: {_why(path)}{within}", _writable(instead))


def _writable(instead: str) -> str:
    return f"make it writable (or mount it read-write), or {instead}"


def _moved(instead: str) -> str:
    return f"move it away, or {instead}"


def _why(path: Path) -> str:
    with suppress(OSError):
        if os.statvfs(path).f_flag & os.ST_RDONLY:
            return "it is on a read-only file system"
    return "permission denied"


@contextmanager
def hold(
    path: Path,
    what: str,
    wait: bool = True,
    waiting: Callable[[str], None] = lambda message: None,
    instead: str = CACHE,
    doing: str = "build",
) -> Iterator[None]:
    """Hold the lock file at `path` (for `what`, e.g. "this show", and what holds it, `doing`: a build, a stats run)
    while the block runs. When another process holds it: wait, after telling `waiting` why, or with `wait=False`
    raise BusyError. PublishError (the fix: make it writable, or `instead`) when its folder cannot be written. The
    file is removed when the block ends, and so are the folders made for it."""
    fd, made = _acquire(path, f"of {what}", wait, waiting, instead, folder=False, doing=doing)
    with _holding(fd, made, path):
        yield


@contextmanager
def hold_folder(
    folder: Path,
    what: str,
    wait: bool = True,
    waiting: Callable[[str], None] = lambda message: None,
    instead: str = SITE,
) -> Iterator[None]:
    """Hold the lock of `folder` itself (nothing is written into it) while the block runs; as `hold` (`what`: how
    the folder is named to a build that waits). A folder made for the lock is removed when the block leaves it
    empty. On a file system that locks files only (NFS), a lock file in the folder serves while the block runs."""
    try:
        fd, made = _acquire(folder, f"into {what}", wait, waiting, instead, folder=True)
        file = None
    except _Unlockable:
        file = folder / layout.LOCK
        fd, made = _acquire(file, f"into {what}", wait, waiting, instead, folder=False)
    with _holding(fd, made, file):
        yield


@contextmanager
def _holding(fd: int, made: list[Path], file: Path | None) -> Iterator[None]:
    """A lock held: its file (if it is one) says the holder's pid; it goes, with the folders made for it, at the end."""
    try:
        if file is not None:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        if file is not None:
            with suppress(OSError):  # removed while held: a build waiting for it sees it gone and takes a new one
                os.unlink(file)
        _release(fd, made)


class _Unlockable(Exception):
    """The file system locks no folder (NFS locks files only)."""


def _acquire(
    path: Path, what: str, wait: bool, waiting: Callable[[str], None], instead: str, folder: bool, doing: str = "build"
) -> tuple[int, list[Path]]:
    """The descriptor of `path`, locked, and the folders made for it. A lock file (or folder) another build removed
    while this one waited for it is opened again: only the one at `path` counts."""
    while True:
        made = _make(path if folder else path.parent, instead)
        flags = (os.O_RDONLY | os.O_DIRECTORY) if folder else (os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW)
        try:
            fd = os.open(path, flags | os.O_CLOEXEC, 0o644)
        except FileNotFoundError:
            continue  # removed by the build that made it, just now
        except OSError as err:
            raise _refused(path, err, instead) from err
        try:
            _lock(fd, path, what, wait, waiting, instead, folder, doing)
            if _same(fd, path):
                return fd, made
        except BaseException:  # busy (--no-wait), or interrupted while waiting: what was made for it goes too
            _release(fd, made)
            raise
        os.close(fd)


def _make(folder: Path, instead: str) -> list[Path]:
    """Make `folder` and its missing parents; the ones made, deepest first."""
    missing = []
    for path in (folder, *folder.parents):
        if path.is_dir():
            break
        missing.append(path)
    made = []
    for path in reversed(missing):
        try:
            path.mkdir()
        except FileExistsError:
            if not path.is_dir():
                raise PublishError(path, "is a file, where a folder must be", _moved(instead)) from None
            continue
        except OSError as err:
            raise _refused(path, err, instead) from err
        made.append(path)
    return made[::-1]


def _lock(
    fd: int, path: Path, what: str, wait: bool, waiting: Callable[[str], None], instead: str, folder: bool, doing: str
) -> None:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return
    except BlockingIOError:
        pass
    except OSError as err:
        if folder and err.errno in (errno.EBADF, errno.ENOLCK, errno.EOPNOTSUPP, errno.EINVAL, errno.ENOSYS):
            raise _Unlockable from err
        raise _refused(path, err, instead) from err
    holder = None if folder else _holder(path)
    message = f"another {doing} {what} is running" + (f", pid {holder}" if holder else "")
    if not wait:
        raise BusyError(
            path if folder else path.parent, message, "wait for it to finish, or build again without --no-wait"
        )
    waiting(f"{message}; waiting for it to finish")
    fcntl.flock(fd, fcntl.LOCK_EX)


def _same(fd: int, path: Path) -> bool:
    """Whether `path` is still the file (or folder) `fd` holds."""
    try:
        now = os.stat(path, follow_symlinks=False)
    except OSError:
        return False
    held = os.fstat(fd)
    return (held.st_dev, held.st_ino) == (now.st_dev, now.st_ino)


def _release(fd: int, made: list[Path]) -> None:
    """Remove the folders made for the lock that are still empty (nothing was published into them), then unlock."""
    try:
        for folder in made:
            try:
                folder.rmdir()
            except OSError:
                break  # not empty: the build wrote into it
    finally:
        os.close(fd)


def _refused(path: Path, err: OSError, instead: str) -> PublishError:
    if err.errno in (errno.ENOTDIR, errno.EEXIST, errno.ELOOP):
        return PublishError(path, "cannot be used: a file (or a symlink) is in the way", _moved(instead))
    reason = "it is on a read-only file system" if err.errno == errno.EROFS else (err.strerror or str(err)).lower()
    return PublishError(path, f"cannot be written: {reason}", _writable(instead))


def _holder(path: Path) -> int | None:
    """The pid the holder wrote in the lock file (None while it has not yet, or it cannot be read)."""
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None
