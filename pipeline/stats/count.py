"""One `stats` run: read what is new in each log, apply the rules, and keep the counts in the state file.

A log is known by the hash of its first line (not its name or inode: a rotated log is renamed, then gzipped), so a
log that grew is read from where the last run stopped, and a log rotated away is finished under its new name.
Logs are read oldest first (by their first request), whole lines only: a line being written is left for next time.
A large combined log is read once, by this process, which hands each chunk's lines to two worker processes by
listener (its address, IPv6 by its /64): each counts its listeners, and their counts are added up. One run counts a
show at a time (a lock in its cache folder); a process whose downloads pile up moves them into a spool file there.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import gc
import hashlib
import itertools
import operator
import os
import shutil
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import lock
from ..config import Config
from ..errors import PanelpressError
from . import formats, media
from .rules import COLON, LEFT_OUT, Counts, Rules, v6_prefix
from .store import NAME, Spool, Store, measured_in

CHUNK = 1 << 20  # read at a time: the reader and each worker hold a chunk's lines at most
WORKERS = 2  # processes reading a large combined log: the goal is two cores
PARALLEL_BYTES = 32 << 20  # below this a second process costs more than it saves
HEAD_LINES = 50  # lines read to find a log's format
DOT = ord(".")  # in an address: IPv4
# Progress: opened per log with (label, bytes to read); called with (bytes read, lines read).
Tell = Callable[[str, int], Callable[[int, int], None]]


def no_tell(label: str, total: int) -> Callable[[int, int], None]:
    """Progress that shows nothing."""
    return lambda done, lines: None


@dataclass
class LogRead:
    """What a run did with one log."""

    path: Path
    format: str
    lines: int = 0  # new lines read
    skipped: bool = False  # nothing new
    unread: int = 0  # lines no format reads
    first_unread: int = 0  # the first of them (1-based, in the whole log)


@dataclass
class Run:
    """What a run read and left out."""

    logs: list[LogRead] = field(default_factory=list)
    show: media.Show | None = None  # the show's published files, as counted
    downloads: int = 0
    requests: int = 0
    left_out: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def lines(self) -> int:
        return sum(log.lines for log in self.logs)


def state_path(config: Config) -> Path:
    """Where the stats state is kept: the cache folder."""
    return config.cache_dir / NAME


def count(
    config: Config,
    logs: list[Path],
    tell: Tell = no_tell,
    reset: bool = False,
    workers: int = 0,
    waiting: Callable[[str], None] = lambda message: None,
) -> Run:
    """Read the new lines of `logs`, count the downloads they make, and keep them in the state (`workers`: processes
    that share the reading, 0: one per core, up to two, for a combined log large enough to be worth it). One run at a
    time per show: another waits for it (after telling `waiting`), then reads what is new after it."""
    measured = {} if reset else measured_in(state_path(config))
    show = media.show(config, measured)  # before the state is opened: a show never built is said so, and left as it is
    with lock.hold(config.cache_dir / "stats.lock", "this show", waiting=waiting, doing="stats run"):
        return _count(config, logs, tell, reset, workers, show, measured)


def _count(
    config: Config, logs: list[Path], tell: Tell, reset: bool, workers: int, show: media.Show, measured: dict
) -> Run:
    """`count`, its lock held."""
    began = time.monotonic()
    store = Store(state_path(config))
    spools = config.cache_dir / "stats-spool"  # where the processes move their downloads (Spool)
    shutil.rmtree(spools, ignore_errors=True)  # a killed run's
    recall = None
    try:
        if reset:
            store.reset()
        salt, same_day = store.salt()
        recall = store.recall() if same_day else None
        shapes = store.agents()
        plan = [
            _plan(path, identity, fmt, header, store) for path, identity, fmt, _parse, header in _in_order(logs, store)
        ]
        work = sum(log.to_read for log in plan if not log.skipped)
        if not workers:
            big = work >= PARALLEL_BYTES and all(log.fmt == formats.COMBINED for log in plan if not log.skipped)
            workers = min(WORKERS, os.cpu_count() or 1) if big else 1
        if workers == 1:
            results, reads, rows = _alone(show, salt, (recall, shapes), plan, spools, tell)
        else:
            results, reads, rows = _in_parallel(show, salt, (recall, shapes), plan, spools, workers, tell)
        counts, windows, served, spooled = _merged(results, reads)
        new = {shape: agent for result in results for shape, agent in result[3].items() if shape not in shapes}
        changed = {m.rel: m.measured for m in show.files.values() if measured.get(m.rel) != m.measured}
        store.save(counts, windows, rows, served, new, changed, spooled)
    finally:
        if recall is not None:
            recall.close()
        store.close()
        shutil.rmtree(spools, ignore_errors=True)
    run = Run(logs=reads, show=show)
    run.downloads = counts.counted
    run.requests = counts.requests
    run.left_out = {LEFT_OUT[reason]: n for reason, n in sorted(counts.left_out.items())}
    run.seconds = time.monotonic() - began
    return run


@dataclass(frozen=True)
class _Log:
    """A log as the run reads it: from where (and, for a plain log, to where: its size when the run began)."""

    path: Path
    identity: str
    fmt: str
    header: str  # CloudFront's #Fields line
    gz: bool
    offset: int  # bytes of its (decompressed) lines read before
    lines: int
    end: int  # its size when the run began (the compressed size for gzip)
    skipped: bool

    @property
    def to_read(self) -> int:
        """Bytes of the file left to read (all of it for gzip, which is read through from its start)."""
        return self.end - (0 if self.gz else self.offset)


def _plan(path: Path, identity: str, fmt: str, header: str, store: Store) -> _Log:
    size = path.stat().st_size
    known = store.log(identity)
    offset, lines = (known[0], known[1]) if known else (0, 0)
    gz = formats.is_gzip(path)
    # read to its end: a gzip log never grows; a plain one of the same size has nothing new
    skipped = bool(known and (known[5] or (not gz and size == offset)))
    if not gz and size < offset:
        offset, lines = 0, 0  # truncated and written again from its start (copytruncate)
    return _Log(path, identity, fmt, header, gz, offset, lines, size, skipped)


class _Counting:
    """One process's counting: the lines it is given, through the rules; per log, the lines that are no request."""

    def __init__(self, show: media.Show, salt: bytes, kept: tuple, plan: list[_Log], spool: Path) -> None:
        self.rules = Rules(show, salt, *kept)
        self.spool = Spool(spool)
        self.plan = plan
        self.readers: dict[int, formats.Read] = {}
        self.unread = [(0, 0) for _ in plan]  # per log: (lines no format reads, the number of the first)

    def take(self, index: int, block: bytes, numbers: Callable[[], Sequence[int]]) -> None:
        """Count lines of the log `plan[index]`, joined by `\\n` (`numbers`: their numbers in it, asked for when one
        is unreadable)."""
        read_lines = self.readers.get(index)
        if read_lines is None:
            log = self.plan[index]
            parse = formats.parser(log.fmt, log.header)
            read_lines = self.readers[index] = formats.reader(log.fmt, parse, self.rules.wanted)
        requests, unread = read_lines(block)
        self.rules.add_all(requests)
        self.spool.take(self.rules.counts.downloads)
        if unread:
            count, first = self.unread[index]
            at = numbers()
            lines = block.split(b"\n")
            for line_index in unread:
                line = lines[line_index]
                if line.strip() and not line.startswith(b"#"):
                    count, first = count + 1, first or at[line_index]
            self.unread[index] = (count, first)

    def result(self) -> tuple:
        """The counts, the windows and apps left open (as the state's rows, in order), the unreadable lines per log,
        the agents' shapes, the spool of the downloads moved out of memory (None when none were)."""
        rules = self.rules
        windows = (rules.open_windows(), rules.open_served())
        return rules.counts, windows, self.unread, rules.agents.shapes, self.spool.close()


@contextlib.contextmanager
def _collector_off():
    """The counting makes no reference cycles, and the collector would walk its windows again and again."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def _alone(show, salt: bytes, kept: tuple, plan: list[_Log], spools: Path, tell: Tell):
    """The run in this process: its counting, what it read of each log, and the state rows."""
    counting = _Counting(show, salt, kept, plan, spools / "0.sqlite")

    def give(index: int, block: bytes, number: int, lines: int) -> None:
        counting.take(index, block, lambda: range(number + 1, number + 1 + lines))

    with _collector_off():
        reads, rows = _read_all(plan, tell, give)
    return [counting.result()], reads, rows


def _in_parallel(show, salt: bytes, kept: tuple, plan: list[_Log], spools: Path, workers: int, tell: Tell):
    """The run shared by `workers` processes: this one reads the logs and gives each its listeners' lines."""
    import multiprocessing  # here: a run over a few new lines counts them in this process

    context = multiprocessing.get_context("fork")
    gc.freeze()  # what the parent holds stays shared with the children (the collector would copy its pages)
    team: list[_Worker] = []
    try:
        for part in range(workers):
            lines_in, lines_out = context.Pipe(duplex=False)
            answer_in, answer_out = context.Pipe(duplex=False)
            _widen(lines_out)
            process = context.Process(
                target=_child, args=(lines_in, answer_out, show, salt, kept, plan, spools, part), daemon=True
            )
            process.start()
            lines_in.close()
            answer_out.close()
            team.append(_Worker(lines_out, answer_in, process))
        share = _share(workers)
        picks = [bytes(int(mark == part) for mark in range(256)) for part in range(workers)]  # a part's marks → 1

        def give(index: int, block: bytes, number: int, _lines: int) -> None:
            lines = block.split(b"\n")
            marks = share(lines)  # which process has each line (and the numbers of those no format reads)
            for part, worker in enumerate(team):
                theirs = marks.translate(picks[part])
                if 1 in theirs:
                    worker.send(("lines", index, number, marks, b"\n".join(itertools.compress(lines, theirs))))

        reads, rows = _read_all(plan, tell, give)
        for worker in team:
            worker.send(("done",))
        results = [worker.answer() for worker in team]
    finally:
        for worker in team:
            if worker.process.is_alive():
                worker.process.kill()
            worker.process.join()
    return results, reads, rows


PIPE = 1 << 20  # bytes a worker's pipe holds (Linux's most without privileges): a chunk's share of lines


def _widen(connection) -> None:
    """A pipe that holds a chunk's share of lines: the reader hands it over without waiting for the worker to have
    counted the last one (Linux's pipes hold 64 kB, and a socket about 200 kB: the reader waited on each worker in
    turn, and the other one sat idle)."""
    with contextlib.suppress(OSError, AttributeError):
        fcntl.fcntl(connection.fileno(), fcntl.F_SETPIPE_SZ, PIPE)


@dataclass
class _Worker:
    """A worker process, the pipe that takes it lines and the one that brings back its answer."""

    lines: Any
    answers: Any
    process: Any

    def send(self, message: tuple) -> None:
        try:
            self.lines.send(message)
        except OSError:  # it stopped: its error, if it could say it
            self.answer()
            raise _stopped() from None

    def answer(self):
        """Its result (its error raised here)."""
        while True:
            if self.answers.poll(0.05):
                try:
                    kind, value = self.answers.recv()
                except (EOFError, OSError):
                    raise _stopped() from None
                if kind == "error":
                    raise value
                return value
            if not self.process.is_alive() and not self.answers.poll():
                raise _stopped()


def _stopped() -> PanelpressError:
    return PanelpressError(None, "a stats worker stopped without an answer", "run `panelpress stats` again")


def _child(lines, answers, show, salt, kept, plan, spools, part) -> None:
    try:
        counting = _Counting(show, salt, kept, plan, spools / f"{part}.sqlite")
        gc.disable()  # as `_collector_off`: this process ends with the counting
        while True:
            message = lines.recv()
            if message[0] == "done":
                break
            _kind, index, number, marks, blob = message
            counting.take(index, blob, functools.partial(_numbers, number, marks, part))
        answers.send(("result", counting.result()))
    except BaseException as err:  # sent to the parent, which raises it
        with contextlib.suppress(OSError):
            answers.send(
                ("error", err if isinstance(err, PanelpressError) else PanelpressError(None, f"stats failed: {err!r}"))
            )
    finally:
        lines.close()
        answers.close()


def _numbers(number: int, marks: bytes, part: int) -> list[int]:
    """The numbers of a process's lines among a chunk's, from which process has each (the line before: `number`)."""
    return [number + 1 + at for at, mark in enumerate(marks) if mark == part]


def _merged(results: list, reads: list[LogRead]):
    """The processes' counts, windows and apps as one run's (and their unreadable lines in `reads`)."""
    counts = Counts()
    for part_counts, *_ in results:
        for key, n in part_counts.downloads.items():  # (each fewer than a spool's keys)
            counts.downloads[key] = counts.downloads.get(key, 0) + n
        counts.counted += part_counts.counted
        counts.feed_days.update(part_counts.feed_days)
        counts.feed_listeners |= part_counts.feed_listeners
        counts.left_out.update(part_counts.left_out)
        counts.requests += part_counts.requests
        counts.last = max(counts.last, part_counts.last)
        for name, (ts, n) in part_counts.aggregators.items():
            if counts.aggregators.get(name, (0, 0))[0] <= ts:
                counts.aggregators[name] = (ts, n)
    for index, read in enumerate(reads):
        unread = [result[2][index] for result in results if result[2][index][0]]
        read.unread = sum(n for n, _ in unread)
        read.first_unread = min((first for _, first in unread), default=0)
    # each listener's (and address's) lines went to one process: the processes' rows are apart, each in order, and
    # sorting them together merges those runs
    windows = sorted(itertools.chain.from_iterable(windows for _, (windows, _), *_ in results))
    served = sorted(itertools.chain.from_iterable(served for _, (_, served), *_ in results))
    return counts, windows, served, [result[4] for result in results if result[4]]


def _head(path: Path) -> list[bytes]:
    try:
        with formats.open_log(path) as stream:
            return [stream.readline() for _ in range(HEAD_LINES)]
    except OSError as err:
        raise PanelpressError(
            path, f"the log cannot be read ({err.strerror or err})", "check its name and rights"
        ) from err
    except EOFError as err:  # a gzip file cut short
        raise PanelpressError(path, f"the log is damaged ({err})", "give the whole file") from err


def _in_order(logs: list[Path], store: Store):
    """Each log with its identity and format, oldest first (by its first request)."""
    found = []
    for path in logs:
        if not path.is_file():
            raise PanelpressError(
                path, "no such log", "name the access logs of the server, e.g. /var/log/nginx/access.log*"
            )
        head = _head(path)
        first = head[0] if head else b""
        if not first.endswith(b"\n"):
            continue  # empty, or its first line is still being written: next time
        identity = hashlib.sha256(first).hexdigest()
        fmt, parse = formats.detect(path, [line for line in head if line.endswith(b"\n")])
        header = b"".join(line for line in head if line.startswith(b"#Fields:")).decode("ascii", "replace")
        start = next((r.ts for r in map(parse, head) if r is not None), 0)
        found.append((start, str(path), path, identity, fmt, parse, header))
    seen = set()
    for _start, _name, path, identity, fmt, parse, header in sorted(found, key=lambda item: item[:2]):
        if identity in seen:
            continue  # the same log twice (a copy, a link)
        seen.add(identity)
        yield path, identity, fmt, parse, header


Give = Callable[[int, bytes, int, int], None]  # (log's index, lines joined by "\n", number of the line before, lines)


def _read_all(plan: list[_Log], tell: Tell, give: Give):
    """Each log's new lines, a chunk at a time, to `give`; what was read of each log and the state rows that say how
    far."""
    reads, rows = [], []
    for index, log in enumerate(plan):
        if log.skipped:
            reads.append(LogRead(log.path, log.fmt, skipped=True))
            continue
        read, row = _read(index, log, tell, give)
        reads.append(read)
        rows.append(row)
    return reads, rows


def _read(index: int, log: _Log, tell: Tell, give: Give):
    """Read a log's new whole lines to `give`; what was read, and the state row that says how far."""
    path, gz = log.path, log.gz
    read = LogRead(path, log.fmt)
    progress = tell(path.name, log.to_read)
    offset, number = log.offset, log.lines
    with path.open("rb") as raw:
        stream = formats.gzip.GzipFile(fileobj=raw) if gz else raw
        if gz:
            _skip(stream, offset)
        else:
            raw.seek(offset)
        left = -1 if gz else log.end - offset  # a plain log is read to its size when the run began
        rest = b""
        ended = False
        try:
            while left:
                chunk = stream.read(CHUNK if left < 0 else min(CHUNK, left))
                if not chunk:
                    break
                if left > 0:
                    left -= len(chunk)
                chunk = rest + chunk
                cut = chunk.rfind(b"\n") + 1
                rest = chunk[cut:]
                if cut:
                    lines = chunk.count(b"\n", 0, cut)
                    give(index, chunk[: cut - 1], number, lines)
                    number += lines
                offset += cut
                progress(raw.tell() - (0 if gz else log.offset), number - log.lines)
            ended = True
        except (OSError, EOFError) as err:
            if not gz:
                raise PanelpressError(path, f"the log cannot be read ({err})", "check the file") from err
            # a gzip log cut short (still being compressed): what was whole is counted, the rest next time
    read.lines = number - log.lines
    complete = gz and ended and not rest
    return read, (log.identity, path.name, offset, number, log.end, log.fmt, log.header, int(complete))


def _share(parts: int) -> Callable[[list[bytes]], bytes]:
    """Which process counts each of a combined log's lines: by its address, so that each listener's lines are all
    counted by one: an IPv4 address by its last digit, an IPv6 one by a hash of its /64."""
    prefixes: dict[bytes, int] = {}  # an IPv6 address → its process
    by_digit = bytes(character % parts for character in range(256))  # an address's last character → its process
    first, last, repeat = operator.itemgetter(0), operator.itemgetter(-1), itertools.repeat

    def prefix(ip: bytes) -> int:
        which = prefixes.get(ip)
        if which is None:
            if len(prefixes) > 50_000:
                prefixes.clear()
            key = v6_prefix(ip)
            # an IPv4 address written as IPv6 comes back as IPv4: by its last digit, as when it is written plain (a
            # /64 that holds a "." byte goes so too: what depends on the address alone keeps a listener in one process)
            which = prefixes[ip] = by_digit[key[-1]] if DOT in key else zlib.crc32(key) % parts
        return which

    def shares(lines: list[bytes]) -> bytes:
        # in C, without a Python step per line: each line's address (what precedes its first space), its last digit
        ips = list(map(first, map(bytes.partition, lines, repeat(b" "))))
        if all(ips):
            found = bytearray(bytes(map(last, ips)).translate(by_digit))
        else:  # a blank line (no request: any process)
            found = bytearray(by_digit[ip[-1]] if ip else 0 for ip in ips)
        for at in itertools.compress(range(len(ips)), map(operator.contains, ips, repeat(COLON))):
            found[at] = prefix(ips[at])  # IPv6: by its /64
        return bytes(found)

    return shares


def _skip(stream, count: int) -> None:
    while count > 0:
        chunk = stream.read(min(count, CHUNK))
        if not chunk:
            return
        count -= len(chunk)
