"""One `stats` run: read what is new in each log, apply the rules, and keep the counts in the state file.

A log is known by the hash of its first line (not its name or inode: a rotated log is renamed, then gzipped), so a
log that grew is read from where the last run stopped, and a log rotated away is finished under its new name.
Logs are read oldest first (by their first request), whole lines only: a line being written is left for next time.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..config import Config
from ..errors import PanelpressError
from . import formats, media
from .rules import LEFT_OUT, Rules
from .store import NAME, Store

CHUNK = 4 << 20
HEAD_LINES = 50  # lines read to find a log's format
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


def count(config: Config, logs: list[Path], tell: Tell = no_tell, reset: bool = False) -> Run:
    """Read the new lines of `logs`, count the downloads they make, and keep them in the state."""
    began = time.monotonic()
    show = media.show(config)
    store = Store(state_path(config))
    try:
        if reset:
            store.reset()
        salt, same_day = store.salt()
        rules = Rules(show, salt, store.windows() if same_day else None)
        run = Run()
        rows = []
        for path, identity, fmt, parse, header in _in_order(logs, store):
            read, row = _read(path, identity, fmt, parse, header, store, rules, tell)
            run.logs.append(read)
            if row is not None:
                rows.append(row)
        store.save(rules.counts, rules.open_windows(), rows)
    finally:
        store.close()
    run.downloads = sum(rules.counts.downloads.values())
    run.requests = rules.counts.requests
    run.left_out = {LEFT_OUT[reason]: n for reason, n in sorted(rules.counts.left_out.items())}
    run.seconds = time.monotonic() - began
    return run


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


def _read(path, identity, fmt, parse, header, store: Store, rules: Rules, tell: Tell):
    """Read a log's new lines into the rules; the state row that says how far it was read."""
    size = path.stat().st_size
    known = store.log(identity)
    offset, lines = (known[0], known[1]) if known else (0, 0)
    gz = formats.is_gzip(path)
    read = LogRead(path, fmt)
    if known and (known[5] or (not gz and size == offset)):
        # read to its end: a gzip log never grows; a plain one of the same size has nothing new
        read.skipped = True
        return read, None
    if not gz and size < offset:
        offset, lines = 0, 0  # truncated and written again from its start (copytruncate)
    begin = 0 if gz else offset
    progress = tell(path.name, size - begin)
    add = rules.add
    with path.open("rb") as raw:
        stream = formats.gzip.GzipFile(fileobj=raw) if gz else raw
        if gz:
            _skip(stream, offset)
        else:
            raw.seek(offset)
        rest = b""
        number = lines
        ended = False
        try:
            while True:
                chunk = stream.read(CHUNK)
                if not chunk:
                    break
                chunk = rest + chunk
                cut = chunk.rfind(b"\n") + 1
                rest = chunk[cut:]
                for line in chunk[:cut].split(b"\n")[:-1]:
                    number += 1
                    request = parse(line)
                    if request is None:
                        if line.strip() and not line.startswith(b"#"):
                            read.unread += 1
                            read.first_unread = read.first_unread or number
                        continue
                    add(request)
                offset += cut
                progress(raw.tell() - begin, number - lines)
            ended = True
        except (OSError, EOFError) as err:
            if not gz:
                raise PanelpressError(path, f"the log cannot be read ({err})", "check the file") from err
            # a gzip log cut short (still being compressed): what was whole is counted, the rest next time
    read.lines = number - lines
    complete = gz and ended and not rest
    return read, (identity, path.name, offset, number, size, fmt, header, int(complete))


def _skip(stream, count: int) -> None:
    while count > 0:
        chunk = stream.read(min(count, CHUNK))
        if not chunk:
            return
        count -= len(chunk)
