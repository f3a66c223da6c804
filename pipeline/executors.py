"""Executors: where the episodes' audio work runs. One interface, two engines:

    threads   a thread per worker in this process (`[build] workers`); ffmpeg does the heavy part
    dask      the workers of an existing Dask distributed cluster (`[build] scheduler`), for back catalogues

Each episode is one task: `stages.run(work, setup, stages.AUDIO, task)`, whose inputs and outputs are plain,
picklable records and paths. Workers read the show folder and write the cache through a shared filesystem, at the
same paths as this machine; the site, the ledger and the feed are only ever written by the build that holds the
lock. Progress bars and Ctrl-C work alike on both: a worker reports each pass it starts and how far it got, and a
stop asked for (Ctrl-C) cancels the episodes not started and stops the running ones before their next pass.
Dask is imported only by its own executor: a build on threads never loads it.
"""

from __future__ import annotations

import ctypes
import os
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Protocol

from . import cache, web
from .config import Config
from .episode import stages
from .errors import ExecutorError
from .progress import Reporter, Task

Outcome = Callable[[], stages.Work]  # an episode's finished Work, or its error raised, when asked for
WORKERS_SECONDS = 20  # to wait for a first worker, once the scheduler answered
PROGRESS_EVERY = 0.25  # seconds between two progress reports of one pass from a worker
_SCHEDULER_FIX = (
    "set [build] scheduler in panelpress.toml (or --scheduler) to the address `dask scheduler` prints, e.g. "
    "tcp://host:8786, and start the scheduler and its workers there; or build with --executor threads"
)
SHARED_FIX = "mount the show folder and its cache at the same paths on every Dask worker (a shared filesystem), or build with --executor threads"


class Executor(Protocol):
    """Runs the audio work of episodes; a context manager whose exit stops what still runs when the build fails
    or is interrupted."""

    def submit(self, works: Sequence[stages.Work], setup: stages.Setup) -> list[tuple[stages.Work, Outcome]]:
        """Start every episode's audio work; each outcome gives its Work (or raises its error), in the order given."""

    def __enter__(self) -> Executor: ...

    def __exit__(self, kind, error, trace) -> None: ...


def start(config: Config, reporter: Reporter) -> Executor:
    """The executor the settings name (nothing is started or connected to before `submit`)."""
    if config.build.executor == "dask":
        return Dask(config, reporter)
    return Threads(config.build.workers or os.cpu_count() or 1, reporter)


def audio_work(work: stages.Work, setup: stages.Setup, task: Task) -> stages.Work:
    """One episode's audio work: the same function on a thread and on a Dask worker."""
    return stages.run(work, setup, stages.AUDIO, task)


# --- threads --------------------------------------------------------------------------------------------------------


class Threads:
    """A thread per worker in this process."""

    def __init__(self, workers: int, reporter: Reporter) -> None:
        self.workers = workers
        self.reporter = reporter
        self.stop = threading.Event()
        self.pool: ThreadPoolExecutor | None = None

    def submit(self, works: Sequence[stages.Work], setup: stages.Setup) -> list[tuple[stages.Work, Outcome]]:
        self.pool = ThreadPoolExecutor(max_workers=self.workers)
        return [(work, self.pool.submit(self._one, work, setup).result) for work in works]

    def _one(self, work: stages.Work, setup: stages.Setup) -> stages.Work:
        slug = work.source.slug

        def bars(name: str, total: float) -> Callable[[float], None]:  # opened as each pass starts
            if self.stop.is_set():  # Ctrl-C came between two passes: do not start the next
                raise stages.interrupted(work.source.path)
            return self.reporter.task(f"{slug} · {name}", total)

        try:
            return audio_work(work, setup, bars)
        finally:
            self.reporter.finish(f"{slug} · ")

    def __enter__(self) -> Threads:
        return self

    def __exit__(self, kind, error, trace) -> None:
        if self.pool is None:
            return
        if kind is not None:  # Ctrl-C: queued episodes never start, running ones stop (their ffmpeg got the signal too)
            self.stop.set()
        self.pool.shutdown(cancel_futures=kind is not None)
        _trim()


def _trim() -> None:
    """Hand the memory the audio work freed back to the system. glibc keeps what its threads' arenas freed (the
    decoded audio, in blocks of a few megabytes each, strewn between small objects still alive), so the pages and the
    feed made next would be laid on top of it: 11 MB more at the peak of a thousand episodes' first build. A C library
    without `malloc_trim` (musl, macOS) has nothing to hand back this way."""
    try:
        libc = ctypes.CDLL(None)
        libc.malloc_trim(0)
    except (OSError, AttributeError):
        pass


# --- Dask distributed -----------------------------------------------------------------------------------------------


class Dask:
    """The workers of a Dask distributed cluster, reached through its scheduler."""

    def __init__(self, config: Config, reporter: Reporter) -> None:
        self.config = config
        self.reporter = reporter
        self.address = config.build.scheduler
        self.client = None
        self.futures: list = []
        self.subscribed = False
        token = uuid.uuid4().hex[:12]
        self.topic = f"panelpress-progress-{token}"  # progress of this build's passes, worker → scheduler → here
        self.stop_name = f"panelpress-stop-{token}"  # a distributed Event: set, the workers start no next pass
        self.token = token
        self.bars: dict[str, Callable[[float], None]] = {}
        self.finished: set[str] = set()
        self.lock = threading.Lock()

    def submit(self, works: Sequence[stages.Work], setup: stages.Setup) -> list[tuple[stages.Work, Outcome]]:
        client = self._connect()
        self._check_workers(client, works)
        client.subscribe_topic(self.topic, self._progress)
        self.subscribed = True
        self.futures = [
            client.submit(
                _on_worker,
                work,
                setup,
                self.topic,
                self.stop_name,
                key=f"panelpress-{self.token}-{index}-{work.source.slug}",
                pure=False,
            )
            for index, work in enumerate(works)
        ]
        return [(work, self._outcome(work, future)) for work, future in zip(works, self.futures)]

    def _connect(self):
        """A client of the scheduler, with at least one worker; ExecutorError when there is none to be had."""
        try:
            from distributed import Client
        except ImportError as err:
            raise ExecutorError(
                self.config.path,
                '[build] executor = "dask" needs Dask distributed, which is not installed',
                "install it with `pip install 'panelpress[dask]'`, or use executor = \"threads\"",
            ) from err
        seconds = connect_seconds()
        unanswered = _knock(self.address, seconds)
        if unanswered:
            raise ExecutorError(
                self.config.path,
                f"[build] scheduler: the Dask scheduler at {web.shown(self.address)} {unanswered}",
                _SCHEDULER_FIX,
            )
        try:
            self.client = Client(self.address, timeout=seconds, set_as_default=False)
        except Exception as err:  # a scheduler's answer is untrusted: whatever it makes the client raise is said
            raise ExecutorError(
                self.config.path,
                f"[build] scheduler: cannot reach the Dask scheduler at {web.shown(self.address)} ({_said(err)})",
                _SCHEDULER_FIX,
            ) from err
        try:
            self.client.wait_for_workers(1, timeout=WORKERS_SECONDS)
        except Exception as err:
            raise ExecutorError(
                self.config.path,
                f"the Dask scheduler at {self.address} has no workers",
                f"start some on machines that share the show folder: `dask worker {self.address} --nthreads 1`",
            ) from err
        return self.client

    def _check_workers(self, client, works: Sequence[stages.Work]) -> None:
        """Every worker must read the recordings (each track of a panel recorded one per speaker) and notes and write
        the cache, at this machine's paths."""
        paths = sorted(
            {str(p) for work in works for p in (*(work.source.tracks or (work.source.path,)), work.source.notes_path)}
        )
        found = client.run(see_show, paths, str(self.config.cache_dir), cache.format_stamp())
        for worker, problem in sorted(found.items()):
            if problem is not None:
                path, what, others = problem
                more = f" (and {others} more files)" if others else ""
                raise ExecutorError(
                    path or None,
                    f"the Dask worker {worker} {what}{more}",
                    SHARED_FIX
                    if path
                    else "install the same version of panelpress on every worker and on this machine",
                )

    def _progress(self, event) -> None:
        """A worker's report of a pass (on the client's own thread): open its bar, or move it."""
        _, message = event
        with self.lock:
            if "open" in message:
                if message["slug"] not in self.finished:  # a late report of an episode already done opens nothing
                    self.bars[message["open"]] = self.reporter.task(
                        f"{message['slug']} · {message['name']}", message["total"]
                    )
                return
            update = self.bars.get(message.get("bar", ""))
        if update is not None:
            update(message["done"])

    def _outcome(self, work: stages.Work, future) -> Outcome:
        slug = work.source.slug

        def outcome() -> stages.Work:
            from distributed import KilledWorker

            try:
                return future.result()
            except KilledWorker as err:
                last = getattr(err.last_worker, "address", err.last_worker)
                raise ExecutorError(
                    work.source.path,
                    f"every Dask worker that ran it died while it ran ({err.allowed_failures + 1} of them, the last {last})",
                    "look in the workers' logs (a worker the system stopped for lack of memory is the usual cause), then build again",
                ) from None
            except _cancelled() as err:
                raise ExecutorError(
                    work.source.path,
                    f"its task was cancelled by the Dask scheduler at {self.address} ({type(err).__name__})",
                    "check that the scheduler is still running, then build again",
                ) from None
            finally:
                with self.lock:
                    self.finished.add(slug)
                self.reporter.finish(f"{slug} · ")

        return outcome

    def __enter__(self) -> Dask:
        return self

    def __exit__(self, kind, error, trace) -> None:
        client = self.client
        if client is None:
            return
        try:
            if kind is not None and self.futures:  # Ctrl-C or a failure: queued episodes never start, running ones stop
                from distributed import Event

                Event(self.stop_name, client=client).set()
                client.cancel(self.futures)
            if self.subscribed:
                client.unsubscribe_topic(self.topic)
        finally:
            client.close()


def connect_seconds() -> float:
    """How long reaching the scheduler may take in all: Dask's own `distributed.comm.timeouts.connect` (30 s unless
    the host set it, e.g. DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT=5s)."""
    import dask.config
    from dask.utils import parse_timedelta

    try:
        return float(parse_timedelta(dask.config.get("distributed.comm.timeouts.connect"), default="seconds"))
    except (KeyError, TypeError, ValueError):
        return 30.0


def _knock(address: str, seconds: float) -> str:
    """Open a connection to the scheduler and read its greeting (the handshake every Dask comm starts with), all
    within `seconds`: '' when it answered as a scheduler, else what it did. Dask's own connect waits for that
    greeting without end, and takes garbage for a message of any size."""
    import asyncio

    from distributed.comm import connect
    from distributed.security import Security

    async def greeted() -> None:
        comm = await connect(address, timeout=seconds, **Security().get_connection_args("client"))
        await comm.close()

    try:  # on a thread of its own: the caller's may run an event loop already (asyncio.run refuses to nest)
        with ThreadPoolExecutor(max_workers=1) as alone:
            alone.submit(asyncio.run, asyncio.wait_for(greeted(), seconds)).result()
    except TimeoutError:
        return f"gave no answer within {seconds:g} seconds (it takes connections but does not speak Dask's protocol, or is not reached)"
    except Exception as err:  # what garbage makes the comm raise is not a documented set
        return f"does not answer as a Dask scheduler ({_said(err)})"
    return ""


def _said(err: BaseException) -> str:
    return web.shown(f"{type(err).__name__}: {err}" if str(err) else type(err).__name__)


def _cancelled() -> tuple[type, ...]:
    from concurrent.futures import CancelledError

    from distributed.client import FutureCancelledError

    return (CancelledError, FutureCancelledError)


def _on_worker(work: stages.Work, setup: stages.Setup, topic: str, stop_name: str) -> stages.Work:
    """An episode's audio work on a Dask worker: passes reported to `topic`, none started once `stop_name` is set."""
    from distributed import Event, get_worker

    worker = get_worker()
    stop = Event(stop_name)
    slug, path = work.source.slug, work.source.path
    if not os.access(path, os.R_OK):
        raise ExecutorError(path, f"the Dask worker {worker.address} cannot read it", SHARED_FIX)

    def task(name: str, total: float) -> Callable[[float], None]:
        if stop.is_set():  # Ctrl-C came between two passes: do not start the next
            raise stages.interrupted(path)
        bar = uuid.uuid4().hex
        worker.log_event(topic, {"open": bar, "slug": slug, "name": name, "total": total})
        last = [0.0]

        def update(done: float) -> None:
            now = time.monotonic()
            if done >= total or now - last[0] >= PROGRESS_EVERY:  # ffmpeg reports often; the scheduler hears a few
                last[0] = now
                worker.log_event(topic, {"bar": bar, "done": done})

        return update

    return audio_work(work, setup, task)


def see_show(paths: Sequence[str], cache_dir: str, stamp: str) -> tuple[str, str, int] | None:
    """On a worker: what it cannot see of the show, as (path, problem, how many more files), or None when it sees it
    all. Also run by the tests on this machine."""
    if cache.format_stamp() != stamp:
        return ("", "runs another version of panelpress than this machine", 0)
    unreadable = []
    for path in paths:
        try:
            with open(path, "rb") as handle:
                handle.read(1)
        except OSError as err:
            unreadable.append((path, err.strerror or type(err).__name__))
    if unreadable:
        path, reason = unreadable[0]
        return (path, f"cannot read it ({reason})", len(unreadable) - 1)
    try:
        Path(cache_dir).mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=cache_dir, prefix=".worker-check."):
            pass
    except OSError as err:
        return (cache_dir, f"cannot write the cache ({err.strerror or type(err).__name__})", 0)
    return None
