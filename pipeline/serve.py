"""`panelpress serve`: the site as the next build would publish it, on 127.0.0.1, made again when a file of the show
changes.

    preview   build.preview: the plan a build would publish (only the cache is written: never the site folder,
              the ledger or the notes)
    serve     targets.serve: that plan over HTTP under the site's path prefix, with byte ranges; open pages reload
    watch     watchfiles: the settings, ledger, artwork, jingles, recordings, notes and templates; a change rebuilds

A rebuild that fails leaves the last good site served and shows why on the open pages.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from . import build, layout
from . import config as config_module
from .config import Config
from .errors import PanelpressError, unexpected
from .progress import Reporter
from .targets.preview import Preview, Server

DEBOUNCE_MS = 300  # an editor's save is several events (a temporary file, a rename): one rebuild for them all


@dataclass(frozen=True)
class Watched:
    """What a change of rebuilds the preview: folders watched with everything below them, and files (and the show's
    own folders, which may appear) watched through their folders alone (the show folder may hold a .venv or a
    site of thousands of files, and its cache is written by every preview)."""

    trees: tuple[Path, ...]
    files: frozenset[Path]

    @property
    def folders(self) -> tuple[Path, ...]:
        return tuple(sorted({path.parent for path in self.files if path.parent.is_dir()}))


def watched(config: Config) -> Watched:
    """The files and folders a preview of this show is made from."""
    trees = tuple(folder for folder in (config.episodes_dir, config.notes_dir, config.templates_dir) if folder.is_dir())
    named = [config.root / name for name in (config.show.artwork, config.audio.intro, config.audio.outro) if name]
    files = {config.path, config.ledger_path, config.episodes_dir, config.notes_dir, config.templates_dir, *named}
    return Watched(trees, frozenset(path.resolve() for path in files))


class _Either:
    """Set when either event is (watchfiles asks its stop event `is_set()`)."""

    def __init__(self, *events: threading.Event) -> None:
        self.events = events

    def is_set(self) -> bool:
        return any(event.is_set() for event in self.events)


class _Watcher:
    """Threads that put the paths that changed into a queue, until stopped. Once made, its watches are in place: a
    change made after `serve` says it is ready is seen."""

    def __init__(self, spec: Watched, changes: queue.Queue, stop: threading.Event) -> None:
        import watchfiles  # only `serve` needs it

        self.spec = spec
        self.done = threading.Event()
        either = _Either(stop, self.done)

        def run(paths, recursive: bool, accept: Callable[[Path], bool], watch_filter, ready: threading.Event) -> None:
            # yield_on_timeout: the first answer, empty, comes once the watches are in place
            for found in watchfiles.watch(
                *paths,
                recursive=recursive,
                stop_event=either,
                debounce=DEBOUNCE_MS,
                rust_timeout=500,
                yield_on_timeout=True,
                raise_interrupt=False,
                watch_filter=watch_filter,
            ):
                ready.set()
                hits = {path for _, name in found if accept(path := Path(name))}
                if hits:
                    changes.put(hits)

        jobs = []
        if spec.trees:
            jobs.append((spec.trees, True, lambda path: True, watchfiles.DefaultFilter()))
        if spec.folders:
            jobs.append((spec.folders, False, lambda path: path.resolve() in spec.files, None))
        self.threads, ready = [], []
        for job in jobs:
            ready.append(threading.Event())
            self.threads.append(
                threading.Thread(target=run, args=(*job, ready[-1]), name="panelpress-watch", daemon=True)
            )
            self.threads[-1].start()
        for event in ready:
            event.wait(timeout=10)

    def stop(self) -> None:
        self.done.set()
        for thread in self.threads:
            thread.join(timeout=5)


Told = Callable[[build.BuildResult | PanelpressError], None]


def run(
    show: Path,
    port: int,
    reporter: Reporter,
    told: Told,
    ready: Callable[[str], None],
    stop: threading.Event | None = None,
) -> None:
    """Serve the show's preview until `stop` is set (or Ctrl-C): `ready(url)` once it answers, `told(...)` after each
    build with its result or the error that stopped it. Bad settings or a busy port at the start raise."""
    stop = stop or threading.Event()
    settings = config_module.load(show)
    preview = Preview(settings.site_url)
    server = Server(preview, port)
    changes: queue.Queue = queue.Queue()
    watcher = None
    try:
        watcher = _Watcher(watched(settings), changes, stop)  # from the start: a change during the first build counts
        result = build.preview(settings, reporter)
        _apply(preview, result, settings)
        told(result)
        server.start()
        ready(server.url)
        while not stop.is_set():
            try:
                changes.get(timeout=0.25)  # short: Ctrl-C and `stop` are noticed in time
            except queue.Empty:
                continue
            while not changes.empty():  # changes made during the last rebuild: one more rebuild takes them all
                changes.get_nowait()
            settings = _rebuild(show, settings, preview, reporter, told)
            spec = watched(settings)
            if spec != watcher.spec:  # the settings now name other files (artwork, templates): watch those
                watcher.stop()
                watcher = _Watcher(spec, changes, stop)
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
    preview.prefix = layout.path_prefix(settings.site_url)
    preview.apply(result.plan)
    preview.report_problem("\n".join(failure.error.message(settings.root) for failure in result.failures))
