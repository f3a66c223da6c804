"""`panelpress stats` reads a worker's lines as one block: cut into fields without being cut into lines first, they
give exactly what the line-by-line parser gives (hostile lines, as in tests/test_stats_fast.py, and lines spliced
together), the minute and status caches of the bulk reader change nothing, a new state file is written in one
transaction, and a worker's pipe holds a chunk's share of lines.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import sqlite3
from datetime import datetime

import pytest

from pipeline.stats import count, formats, store
from tests.test_stats_fast import GOOD, HOSTILE, _keep, _one_by_one


def test_a_block_of_lines_is_read_as_one_by_one():
    for lines in (GOOD * 40, GOOD + HOSTILE + GOOD[::-1] + HOSTILE[::-1] + GOOD, [b""], [b"", b""], HOSTILE):
        block = b"\n".join(lines)
        assert formats.combined_block(block, _keep) == _one_by_one(lines, _keep), lines
        assert formats.combined_block(block) == _one_by_one(lines, None), lines


def test_blocks_of_spliced_lines_are_read_as_one_by_one():
    """Lines made of the start of one and the end of another (a log written by two processes at once), some with a
    quote, a backslash or a carriage return put in."""
    rng = random.Random(2026)
    pieces = [b"", b"", b'"', b"\\", b"\r", b"] ", b" 200 ", b"\t"]
    asked: dict = {}  # the requests already seen kept from one block to the next, as a worker keeps them
    for _ in range(300):
        left = [rng.choice(GOOD + HOSTILE) for _ in range(rng.randint(1, 40))]
        right = [rng.choice(GOOD + HOSTILE) for _ in left]
        lines = [
            a[: rng.randint(0, len(a))] + rng.choice(pieces) + b[rng.randint(0, len(b)) :]
            for a, b in zip(left, right, strict=True)
        ]
        assert formats.combined_block(b"\n".join(lines), _keep, asked) == _one_by_one(lines, _keep), lines


def test_times_statuses_and_zones_read_in_bulk_are_the_line_parsers():
    rng = random.Random(27)
    lines, expected = [], []
    for n in range(3000):
        zone = rng.choice(("+0000", "-0530", "+0100", "+1400", "-1200"))
        stamp = f"{1 + n % 28:02d}/{rng.choice(('Jan', 'Feb', 'Dec'))}/2026:{rng.randint(0, 23):02d}:{n % 60:02d}:{rng.randint(0, 59):02d} {zone}"
        status = rng.choice(("200", "206", "304", "404", "0200", "2_00", "500"))
        sent = rng.choice(("-", "0", "123", str(rng.randint(0, 10**9))))
        path = rng.choice(("/show/media/a.mp3", "/show/feed.xml", "/show/index.html"))
        lines.append(
            f'198.51.100.{n % 250} - - [{stamp}] "GET {path} HTTP/1.1" {status} {sent} "-" "Ov/{n}" "-"'.encode()
        )
        if path != "/show/index.html":  # what the line says, read by the standard library
            when = int(datetime.strptime(stamp, "%d/%b/%Y:%H:%M:%S %z").timestamp())
            expected.append((when, int(status), 0 if sent == "-" else int(sent)))
    block = b"\n".join(lines)
    found, unread = formats.combined_block(block, _keep)
    assert (found, unread) == _one_by_one(lines, _keep)
    found = list(map(formats.Request._make, found))  # the reader's plain tuples, by their fields' names
    assert [(request.ts, request.status, request.sent) for request in found] == expected and not unread
    assert {request.status for request in found} == {200, 206, 304, 404, 500}  # "0200" and "2_00" are int()'s 200


def test_a_new_state_file_is_made_in_one_transaction(tmp_path):
    path = tmp_path / "stats.sqlite"
    state = store.Store(path)
    state.close()
    state = store.Store(path)  # opened again: nothing made twice
    try:
        tables = {row[0] for row in state.db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert {"meta", "salt", "logs", "downloads", "windows", "served", "agents"} <= tables
        assert state.db.execute("SELECT value FROM meta WHERE key = 'version'").fetchall() == [(store.VERSION,)]
        assert not state.db.in_transaction
    finally:
        state.close()
    assert sqlite3.connect(path).execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_a_workers_pipe_holds_a_chunks_share_of_lines():
    fcntl = pytest.importorskip("fcntl")
    if not hasattr(fcntl, "F_SETPIPE_SZ"):
        pytest.skip("pipes of a set size are Linux's (F_SETPIPE_SZ)")
    read_end, write_end = os.pipe()
    try:
        fcntl.fcntl(write_end, fcntl.F_SETPIPE_SZ, count.PIPE)
    except PermissionError:
        pytest.skip("this user may not make pipes that large (/proc/sys/fs/pipe-max-size, pipe-user-pages-soft)")
    finally:
        os.close(read_end)
        os.close(write_end)
    reader, writer = multiprocessing.get_context("fork").Pipe(duplex=False)
    try:
        count._widen(writer)
        size = fcntl.fcntl(writer.fileno(), fcntl.F_GETPIPE_SZ)
    finally:
        reader.close()
        writer.close()
    assert size >= count.PIPE >= count.CHUNK  # a chunk's share, even a whole chunk, fits without waiting
