"""`panelpress serve`: the site as the next build would publish it, on 127.0.0.1, made again when a file of the show
changes.

    preview   build.preview: the plan a build would publish (only the cache is written: never the site folder,
              the ledger or the notes)
    serve     targets.serve: that plan over HTTP under the site's path prefix, with byte ranges; open pages reload
    watch     watchfiles: the settings, ledger, artwork, jingles, recordings, notes and templates; a change rebuilds.
              Only the show's own folders are watched: a symlink that leads out of the show folder (to `/`, say) is
              not followed, a loop is walked once, and a folder that cannot be watched is a one-line warning

A rebuild that fails leaves the last good site served and shows why on the open pages.
"""

from __future__ import annotations

import collections
import os
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from . import build, layout
from . import config as config_module
from .config import Config
from .errors import PanelpressError, unexpected
from .progress import Reporter
from .targets.preview import Preview, Server

DEBOUNCE_MS = 300  # an editor's save is several events (a temporary file, a rename): one rebuild for them all
POLL_MS = 1000  # how often folders are looked at when the system's file events cannot be had
MAX_FOLDERS = 4096  # folders watched at most (each is one of the system's watches, of which a user has a few thousand)


@dataclass(frozen=True)
class Watched:
    """What a change of rebuilds the preview: every folder of the show's trees (recordings, notes, templates, each
    watched on its own, found by walking them without leaving the show folder), and files (and the show's own folders,
    which may appear) watched through their folders alone (the show folder may hold a .venv or a site of thousands
    of files, and its cache is written by every preview). `problems`: what could not be watched, for a warning."""

    trees: tuple[Path, ...]
    files: frozenset[Path]
    own: frozenset[Path] = frozenset()  # panelpress's own folders (cache, site): what happens in them is no change
    problems: tuple[str, ...] = field(default=(), compare=False)

    @property
    def folders(self) -> tuple[Path, ...]:
        """Every folder watched: the trees' and the named files'."""
        return tuple(sorted({*self.trees, *(path.parent for path in self.files if path.parent.is_dir())}))


def watched(config: Config) -> Watched:
    """The files and folders a preview of this show is made from (none outside the show folder)."""
    root = config.root.resolve()
    problems: list[str] = []
    tops = []
    for top in (config.episodes_dir, config.notes_dir, config.templates_dir):
        real = _inside(top, root)
        if real is None and top.is_dir():
            problems.append(
                f"{_shown(top, root)} leads outside the show folder (a symlink): changes there are not seen"
            )
        elif real is not None and real.is_dir():
            tops.append(real)
    own = {config.cache_dir, config.output_dir}  # written by panelpress itself: watching them would rebuild for ever
    trees = _walk(tops, root, own, problems)
    named = [config.root / name for name in (config.show.artwork, config.audio.intro, config.audio.outro) if name]
    files = {config.path, config.ledger_path, config.episodes_dir, config.notes_dir, config.templates_dir, *named}
    inside = {real for path in files if (real := _inside(path, root)) is not None and real.parent.is_relative_to(root)}
    return Watched(trees, frozenset(inside), frozenset(own), tuple(problems))


def _inside(path: Path, root: Path) -> Path | None:
    """`path` with its symlinks resolved, if that lies inside the show folder `root`."""
    try:
        real = path.resolve()
    except (OSError, RuntimeError):  # a symlink loop
        return None
    return real if real.is_relative_to(root) else None


def _shown(path: Path, root: Path) -> str:
    return f"{path.relative_to(root)}/" if path.is_relative_to(root) else str(path)


def _walk(tops: list[Path], root: Path, skip: set[Path], problems: list[str]) -> tuple[Path, ...]:
    """Every folder below `tops` (themselves included), each once: a symlink to a folder is followed only when it
    stays inside the show folder (so a loop, or a link to `/`, is never walked); folders that vanish while walked are
    left out; folders that cannot be read are left out with a problem said."""
    import watchfiles  # only `serve` needs it

    ignored = watchfiles.DefaultFilter.ignore_dirs
    found: list[Path] = []
    seen: set[Path] = set()
    waiting = collections.deque(tops)  # breadth first: past MAX_FOLDERS, the deepest are the ones left out
    while waiting:
        folder = waiting.popleft()
        if folder in seen or folder in skip:
            continue
        if len(found) >= MAX_FOLDERS:
            problems.append(
                f"the show's folders hold more than {MAX_FOLDERS} folders: the {MAX_FOLDERS} nearest the top are "
                f"watched, and changes in the others ({_shown(folder, root)} and more) are not seen; move what is not "
                "part of the show elsewhere"
            )
            break
        seen.add(folder)
        found.append(folder)
        below = []
        try:
            with os.scandir(folder) as entries:
                for entry in entries:
                    if entry.name in ignored or not _is_folder(entry):
                        continue
                    path = _inside(Path(entry.path), root) if entry.is_symlink() else Path(entry.path)
                    if path is not None:
                        below.append(path)
        except FileNotFoundError:  # gone while walked: its parent's watch sees that
            found.pop()
            continue
        except OSError as err:
            problems.append(f"{_shown(folder, root)} cannot be watched ({err.strerror or err})")
            found.pop()
            continue
        waiting.extend(sorted(below))
    return tuple(found)


def _is_folder(entry: os.DirEntry) -> bool:
    try:
        return entry.is_dir()
    except OSError:  # a symlink loop, a name the file system refuses now
        return False


class _Either:
    """Set when either event is (watchfiles asks its stop event `is_set()`)."""

    def __init__(self, *events: threading.Event) -> None:
        self.events = events

    def is_set(self) -> bool:
        return any(event.is_set() for event in self.events)


class _Watcher:
    """A thread that puts the paths that changed into a queue, until stopped. Once made, its watches are in place: a
    change made after `serve` says it is ready is seen. Each folder is watched on its own (never recursively: that
    would follow symlinks wherever they lead); when the system's file events cannot be had (too many folders, a
    file system without them) it looks at the folders every POLL_MS instead. It never raises: `warn` hears why."""

    def __init__(self, spec: Watched, changes: queue.Queue, stop: threading.Event, warn: Callable[[str], None]) -> None:
        self.spec = spec
        self.done = threading.Event()
        self.gone = False  # a folder it watched went away: the show is walked again and a new watcher made
        ready = threading.Event()
        self.thread = threading.Thread(
            target=self._run,
            args=(changes, _Either(stop, self.done), warn, ready),
            name="panelpress-watch",
            daemon=True,
        )
        self.thread.start()
        ready.wait(timeout=10)

    def _run(self, changes: queue.Queue, stop: _Either, warn: Callable[[str], None], ready: threading.Event) -> None:
        try:
            for polling in (False, True) if self.spec.folders else ():
                try:
                    return self._watch(changes, stop, ready, polling)  # (returns once stopped)
                except Exception as err:  # a folder removed while watched; too many folders for the system's watches
                    if not all(folder.is_dir() for folder in self.spec.folders):
                        self.gone = True
                        changes.put({folder for folder in self.spec.folders if not folder.is_dir()})
                        return None
                    warn(
                        f"the show's folders cannot be watched ({_reason(err)}): restart `panelpress serve` to see later changes"
                        if polling
                        else f"the show's folders cannot be watched for changes ({_reason(err)}): they are looked at every {POLL_MS / 1000:g} s instead"
                    )
            return None
        finally:
            ready.set()

    def _watch(self, changes: queue.Queue, stop: _Either, ready: threading.Event, polling: bool) -> None:
        import watchfiles  # only `serve` needs it

        spec, trees, ignore = self.spec, set(self.spec.trees), watchfiles.DefaultFilter()

        def accept(change, name: str) -> bool:
            path = Path(name)
            if path in spec.own:
                return False
            if path.parent in trees or path in trees:
                return ignore(change, name)
            return path in spec.files or path.resolve() in spec.files

        # yield_on_timeout: the first answer, empty, comes once the watches are in place
        for found in watchfiles.watch(
            *spec.folders,
            recursive=False,
            stop_event=stop,
            debounce=DEBOUNCE_MS,
            rust_timeout=500,
            yield_on_timeout=True,
            raise_interrupt=False,
            force_polling=polling,
            poll_delay_ms=POLL_MS,
            watch_filter=None,
        ):
            ready.set()
            hits = {Path(name) for change, name in found if accept(change, name)}
            if hits:
                changes.put(hits)

    def stop(self) -> None:
        self.done.set()
        self.thread.join(timeout=5)


def _reason(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0] if text else type(err).__name__


Told = Callable[[build.BuildResult | PanelpressError], None]


def run(
    show: Path,
    port: int,
    reporter: Reporter,
    told: Told,
    ready: Callable[[str], None],
    stop: threading.Event | None = None,
    host: str = "127.0.0.1",
) -> None:
    """Serve the show's preview until `stop` is set (or Ctrl-C): `ready(url)` once it answers, `told(...)` after each
    build with its result or the error that stopped it. Bad settings or a busy port at the start raise. The studio
    page answers on this machine alone, whatever `host` the server listens on."""
    stop = stop or threading.Event()
    settings = config_module.load(show)
    preview = Preview(settings.site_url)
    server = Server(preview, port, host)
    changes: queue.Queue = queue.Queue()
    said: set[str] = set()

    def warn(text: str) -> None:  # each once: a folder that cannot be watched is not news at every rebuild
        if text not in said:
            said.add(text)
            reporter.note(f"warning: {text}")

    def watching(settings: Config, watcher: _Watcher | None) -> _Watcher:
        """A watcher of what these settings name (the one running, if it watches that already)."""
        spec = watched(settings)
        for problem in spec.problems:
            warn(problem)
        if watcher is not None and spec == watcher.spec and not watcher.gone:
            return watcher
        made = _Watcher(spec, changes, stop, warn)  # watching before the old one stops: no change falls between
        if watcher is not None:
            watcher.stop()
            changes.put(set())  # what changed while the show was walked is seen by the rebuild this asks for
        return made

    watcher = None
    try:
        watcher = watching(settings, None)  # from the start: a change during the first build counts
        result = build.preview(settings, reporter)
        _apply(preview, result, settings)
        told(result)
        server.start()
        ready(server.url)
        reporter.note(f"The studio, for you alone: {server.origin}{layout.PREVIEW_STUDIO}")
        while not stop.is_set():
            try:
                changes.get(timeout=0.25)  # short: Ctrl-C and `stop` are noticed in time
            except queue.Empty:
                continue
            while not changes.empty():  # changes made during the last rebuild: one more rebuild takes them all
                changes.get_nowait()
            watcher = watching(settings, watcher)  # a folder made or removed: watched before the rebuild reads it
            settings = _rebuild(show, settings, preview, reporter, told)
            watcher = watching(settings, watcher)  # the settings now name other files (artwork, templates)
    finally:
        if watcher is not None:
            watcher.stop()
        server.stop()


def _rebuild(show: Path, settings: Config, preview: Preview, reporter: Reporter, told: Told) -> Config:
    """Make the preview again; on an error keep serving the last good site, and say why there and on the pages."""
    try:
        settings = config_module.load(show)
        result = build.preview(settings, reporter)
    except PanelpressError as err:
        preview.report_problem(err.message(settings.root))
        told(err)
        return settings
    except Exception as err:  # a bug: one line for the host, the trace in the cache's log folder
        error = unexpected("rebuilding the preview", err, settings.cache_dir / "logs")
        preview.report_problem(error.message(settings.root))
        told(error)
        return settings
    _apply(preview, result, settings)
    told(result)
    return settings


def _apply(preview: Preview, result: build.BuildResult, settings: Config) -> None:
    from .studio.page import Studio

    preview.prefix = layout.path_prefix(settings.site_url)
    preview.media_url = settings.media_url
    preview.studio = Studio(settings, result, preview.prefix)  # made when the page is asked for
    preview.apply(result.plan)
    preview.report_problem("\n".join(failure.error.message(settings.root) for failure in result.failures))
