"""The folder target: a site plan written into a folder atomically, feed last, touching only files panelpress wrote.

The folder may be the blog's own published folder. A manifest (`.panelpress-manifest.json`) lists every file
panelpress wrote there with its checksum, size and time; anything else is the blog's and is never overwritten or
removed. Before any file changes, the manifest records the checksums about to be written (`pending`), so a
publish killed at any instant leaves files the next one recognises as its own.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from .. import layout, lock
from ..errors import PublishError
from ..files import TEMP_SUFFIX, file_sha256, sha256, temp_path, write_atomic, write_if_changed
from ..records import PlanFile, PublishReport, SitePlan

REBUILD_FIX = "check the folder's permissions and free space, then build again; the feed was not changed"


@dataclass(frozen=True)
class Written:
    """A file panelpress wrote: its checksum, and the size and time it had then (to know it again without reading it)."""

    sha256: str
    size: int = -1
    mtime_ns: int = 0


@dataclass(frozen=True)
class Manifest:
    """What panelpress wrote into a site folder."""

    files: Mapping[str, Written] = field(default_factory=dict)
    pending: Mapping[str, str] = field(
        default_factory=dict
    )  # rel → checksum about to be written (a publish in progress)
    plan: str = ""  # digest of the plan the folder holds, once a publish completed

    def ours(self, rel: str) -> bool:
        return rel in self.files or rel in self.pending

    def accepts(self, rel: str, sha: str) -> bool:
        """Whether `sha` is content panelpress wrote (or was writing) at `rel`."""
        return (rel in self.files and self.files[rel].sha256 == sha) or self.pending.get(rel) == sha


class Folder:
    """A site folder on disk."""

    def __init__(
        self,
        path: Path,
        keep_edited: tuple[str, ...] = (),
        in_the_way: str = "move it away, or set [build] output to another folder",
        name: str = "the site folder",
        instead: str = lock.SITE,
    ) -> None:
        self.path = path
        self.in_the_way = in_the_way  # the fix for a file of someone else's where panelpress must write
        self.name = name  # what the folder is to the host, and what else to do when it cannot be written
        self.instead = instead
        # Folders (a blog's posts) where a file panelpress wrote and the host then edited is left as the host made it,
        # not refused: it stays panelpress's (as it wrote it) so it is never taken for the host's own, nor overwritten.
        self.keep_edited = tuple(prefix.rstrip("/") + "/" for prefix in keep_edited)
        self._manifest: Manifest | None = None  # as last read or written by this object
        # The last check of a plan (the plan, the manifest it was checked against, what it found): the apply that
        # follows it at once takes what it found instead of reading every file's time again.
        self._checked: tuple[SitePlan, Manifest, tuple] | None = None

    # --- reading --------------------------------------------------------------------------------------------------

    def manifest(self) -> Manifest:
        """The manifest (an empty one when panelpress never wrote here); PublishError when it is damaged."""
        if self._manifest is None:
            self._manifest = self._read_manifest()
        return self._manifest

    def _read_manifest(self) -> Manifest:
        path = self.path / layout.MANIFEST
        try:
            data = json.loads(path.read_bytes())
        except FileNotFoundError:
            return Manifest()
        except (OSError, ValueError) as err:
            raise self._damaged(path, err) from err
        try:
            files = {
                str(rel): Written(*value) if isinstance(value, list) else Written(str(value))
                for rel, value in data["files"].items()
            }
            return Manifest(
                files=files,
                pending={str(k): str(v) for k, v in data.get("pending", {}).items()},
                plan=str(data.get("plan", "")),
            )
        except (KeyError, TypeError, AttributeError) as err:
            raise self._damaged(path, err) from err

    @staticmethod
    def _damaged(path: Path, err: Exception) -> PublishError:
        return PublishError(
            path,
            f"the manifest is damaged ({err})",
            "delete it: panelpress then takes back the files that are exactly what it would write, and refuses the rest",
        )

    def published_feed(self, feed_path: str = layout.FEED_FILE) -> bytes | None:
        """The feed panelpress last published here (None: none, or a feed of someone else's)."""
        if not self.manifest().ours(feed_path):
            return None
        try:
            return (self.path / feed_path).read_bytes()
        except OSError:
            return None

    def is_current(self, digest: str) -> bool:
        """Whether the folder holds exactly the plan `digest`, every file as panelpress wrote it (by size and time)."""
        try:
            manifest = self.manifest()
        except PublishError:
            return False
        if manifest.pending or not digest or manifest.plan != digest:
            return False
        for rel, written in manifest.files.items():
            try:
                info = os.stat(self.path / rel)
            except OSError:
                return False
            if info.st_size != written.size or info.st_mtime_ns != written.mtime_ns:
                return False
        return True

    def checksum(self, rel: str) -> str | None:
        """The checksum of a file in the folder (None: there is none), trusting the manifest while size and time agree."""
        return self.sha256(rel, self.manifest())

    def published(self) -> Mapping[str, str]:
        """Every file panelpress wrote here, by its checksum as written."""
        return {rel: written.sha256 for rel, written in self.manifest().files.items()}

    def sha256(self, rel: str, manifest: Manifest) -> str | None:
        """The checksum of a file in the folder (None: there is none), trusting the manifest while size and time agree."""
        path = self.path / rel
        try:
            info = path.stat()
        except (FileNotFoundError, NotADirectoryError):
            return None
        if not path.is_file():
            return None
        written = manifest.files.get(rel)
        if written is not None and written.size == info.st_size and written.mtime_ns == info.st_mtime_ns:
            return written.sha256
        return file_sha256(path)

    def check(self, plan: SitePlan | None = None) -> None:
        """Refuse, writing nothing, a folder that cannot be written (or made) and, given a plan, a file of someone
        else's where the plan puts one: PublishError naming it and the fix. A build checks before it starts, and
        before it publishes (a refused build leaves the folder, and the ledger, as they were)."""
        lock.writable(self.path, self.name, self.instead)
        if plan is not None:
            manifest = self.manifest()
            self._checked = (plan, manifest, self._check(_wanted(plan), manifest))

    # --- writing --------------------------------------------------------------------------------------------------

    def recover(self) -> tuple[str, ...]:
        """Remove the temporary files an interrupted publish left beside the files it was writing."""
        manifest = self.manifest()
        if not manifest.pending:
            return ()
        cleaned = []
        for rel in sorted({*manifest.files, *manifest.pending, layout.MANIFEST}):
            temp = temp_path(_inside(self.path, rel, allow_reserved=True))
            if temp.is_file():
                temp.unlink()
                cleaned.append(rel)
        return tuple(cleaned)

    def apply(self, plan: SitePlan) -> PublishReport:
        """Write the plan's files, then its feed; remove the files panelpress wrote before and no longer makes."""
        try:
            return self._apply(plan)
        except OSError as err:
            raise self._failed(Path(err.filename) if err.filename else self.path, err) from err

    def _failed(self, path: Path, err: OSError) -> PublishError:
        # Name the site file (never a temporary or a cache file): it is what could not be written.
        if path.name.endswith(TEMP_SUFFIX):
            path = path.with_name(path.name[1 : -len(TEMP_SUFFIX)])
        if not path.is_relative_to(self.path):
            path = self.path
        return PublishError(path, f"could not be written: {err.strerror or err}", REBUILD_FIX)

    def _apply(self, plan: SitePlan) -> PublishReport:
        self.path.mkdir(parents=True, exist_ok=True)
        old = self.manifest()
        wanted = _wanted(plan)
        checked, self._checked = self._checked, None
        if checked is not None and checked[0] is plan and checked[1] is old:
            on_disk, adopted, edited = checked[2]  # checked just now, against this manifest
        else:
            on_disk, adopted, edited = self._check(wanted, old)
        # Remember every checksum about to be written before writing it: a file written by a publish that is then
        # killed is still known as panelpress's own.
        changed = [
            rel
            for rel in wanted
            if rel not in edited and (rel not in on_disk or on_disk[rel].sha256 != wanted[rel].sha256)
        ]
        files = {**old.files, **{rel: on_disk[rel] for rel in adopted}}
        if changed or adopted:
            self._write_manifest(Manifest(files=files, pending={rel: wanted[rel].sha256 for rel in changed}))
        for rel in changed:  # in plan order, so the feed comes last: it must never point at missing media
            target = self.path / rel
            try:
                write_atomic(target, wanted[rel].content, durable=True)
            except OSError as err:  # a copy's error may name its source in the cache
                raise self._failed(target, err) from err
            info = os.stat(target)
            on_disk[rel] = Written(wanted[rel].sha256, info.st_size, info.st_mtime_ns)
        removed = self._remove(old, wanted)
        self._write_manifest(
            Manifest(files={rel: old.files[rel] if rel in edited else on_disk[rel] for rel in wanted}, plan=plan.digest)
        )
        for legacy in (layout.LOCK, layout.LOCK + ".pid"):  # left by releases that locked a site with a file in it
            with contextlib.suppress(OSError):
                (self.path / legacy).unlink()
        unchanged = [rel for rel in wanted if rel not in changed and rel not in edited]
        return PublishReport(tuple(changed), tuple(unchanged), tuple(removed), tuple(adopted), tuple(edited))

    def _check(self, wanted: Mapping[str, PlanFile], old: Manifest) -> tuple[dict[str, Written], list[str], list[str]]:
        """Check everything before writing anything: a blog's own file is never overwritten, nor one edited by hand.
        Returns the files already there (checksum, size, time), the ones taken as panelpress's own, and the ones
        edited by hand that are kept as they are (`keep_edited`)."""
        on_disk, adopted, edited = {}, [], []
        base = str(self.path)
        for rel, file in wanted.items():
            if not layout.is_safe(rel):
                raise PublishError(
                    self.path / rel, "is outside the site folder", "this is a bug in panelpress; please report it"
                )
            written = old.files.get(rel)
            try:
                info = os.stat(f"{base}/{rel}")
            except (FileNotFoundError, NotADirectoryError):
                info = None
            if (
                written is not None
                and info is not None
                and stat.S_ISREG(info.st_mode)
                and (info.st_size, info.st_mtime_ns) == (written.size, written.mtime_ns)
            ):
                on_disk[rel] = written  # ours, as panelpress left it: nothing to read
                continue
            target = self.path / rel
            blocker = _blocker(self.path, target)
            if blocker is not None:
                raise PublishError(blocker, "is in the way and was not written by panelpress", self.in_the_way)
            if info is None:
                continue
            sha = file_sha256(target)
            on_disk[rel] = Written(sha, info.st_size, info.st_mtime_ns)
            if old.ours(rel):
                if (
                    not old.accepts(rel, sha)
                    and sha != file.sha256
                    and rel in old.files
                    and rel.startswith(self.keep_edited or ("\0",))
                ):
                    edited.append(rel)  # the host's edit wins; panelpress says so
                elif (
                    not old.accepts(rel, sha) and sha != file.sha256
                ):  # ours once, edited by hand since: not ours to overwrite
                    raise PublishError(
                        target,
                        "was changed by hand after panelpress wrote it",
                        "move your changes into the notes or a template, then delete this file",
                    )
            elif sha == file.sha256:
                adopted.append(rel)  # exactly what panelpress would write (a lost manifest): take it back
            else:
                raise PublishError(target, "is in the way and was not written by panelpress", self.in_the_way)
        return on_disk, adopted, edited

    def _remove(self, old: Manifest, wanted: Mapping[str, PlanFile]) -> list[str]:
        """Remove the files panelpress wrote before and no longer makes, unless someone changed them since."""
        removed = []
        for rel in sorted({*old.files, *old.pending} - set(wanted)):
            path = _inside(self.path, rel, allow_reserved=True)
            sha = self.sha256(rel, old)
            if sha is not None and old.accepts(rel, sha):
                path.unlink()
                removed.append(rel)
                _prune(self.path, path.parent)
        return removed

    def _write_manifest(self, manifest: Manifest) -> None:
        files = {rel: [w.sha256, w.size, w.mtime_ns] for rel, w in sorted(manifest.files.items())}
        data = {"generator": "panelpress", "plan": manifest.plan, "files": files}
        if manifest.pending:
            data["pending"] = dict(sorted(manifest.pending.items()))
        # One line a file: readable, and written by json's fast encoder (its indenting one is ten times slower).
        text = json.dumps(data, separators=(",", ":")).replace('],"', '],\n"').replace(':{"', ':{\n"')
        self._manifest = None
        write_if_changed(self.path / layout.MANIFEST, (text + "\n").encode(), durable=True)
        self._manifest = manifest


def _wanted(plan: SitePlan) -> dict[str, PlanFile]:
    """Every file of a plan, its feed last (a blog's posts have none)."""
    feed = {plan.feed_path: PlanFile(plan.feed, sha256(plan.feed))} if plan.feed_path else {}
    return {**plan.files, **feed}


def _inside(site: Path, rel: str, allow_reserved: bool = False) -> Path:
    """A plan path as a file of the site folder; a path that would leave it is a bug, never a write."""
    if not (layout.is_safe(rel) or (allow_reserved and rel in layout.RESERVED)):
        raise PublishError(site / rel, "is outside the site folder", "this is a bug in panelpress; please report it")
    return site.joinpath(*PurePosixPath(rel).parts)


def _blocker(site: Path, path: Path) -> Path | None:
    """A file of someone else's where a folder must go, or a folder where a file must go."""
    if path.is_dir():
        return path
    for parent in path.relative_to(site).parents:
        if str(parent) != "." and (site / parent).exists() and not (site / parent).is_dir():
            return site / parent
    return None


def _prune(site: Path, folder: Path) -> None:
    """Remove folders left empty by removing our files, up to the site folder."""
    while folder != site and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent
