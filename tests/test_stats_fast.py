"""`panelpress stats` read fast: combined lines cut into fields all at once give exactly what the line-by-line parser
gives, and two processes count a log as one does, its unreadable lines named by their number.

The bulk reader (`formats.combined_lines`) and the line-by-line one (`formats.combined`) are compared on hostile
mixed lines (Apache's escaped quotes, a line cut short, IPv6, lines with and without the Range field, junk) and on
lines broken at random; the counting runs on a show written here (a real MPEG frame repeated, an ID3 tag), so no
audio is built.
"""

from __future__ import annotations

import calendar
import itertools
import json
import random
import struct

import pytest

from pipeline import config, layout
from pipeline.errors import PanelpressError
from pipeline.stats import count, formats
from tests.conftest import write_show

AGENT = "Podcasts/1410.53 CFNetwork/1111 Darwin/19.0.0 (x86_64)"
PLAYER = "AppleCoreMedia/1.0.0.19E258 (iPhone; U; CPU OS 15_4 like Mac OS X; en_us)"
OVERCAST = "Overcast/3.0 (+http://overcast.fm/; iOS podcast app)"

GOOD = [
    b'203.0.113.9 - - [06/Dec/2026:10:00:00 +0000] "GET /show/media/a.mp3 HTTP/1.1" 206 2 "-" "Podcasts/1" "bytes=0-1"',
    b'2001:db8:1:2::10 - - [06/Dec/2026:10:00:01 +0100] "GET /show/media/a.mp3?x=1 HTTP/2.0" 200 123 "-" "Ov" "-"',
    b'[2001:db8::7] - bob [06/Dec/2026:10:00:01 -0530] "HEAD /show/feed.xml HTTP/1.1" 304 - "https://x/" "a b" ""',
    b'198.51.100.1 - - [06/Dec/2026:10:00:02 +0000] "GET /show/index.html HTTP/1.1" 200 5000 "-" "Mozilla/5.0" "-"',
]
HOSTILE = [
    # Apache escapes a quote in a value as \"
    b'203.0.113.9 - - [06/Dec/2026:10:00:03 +0000] "GET /show/media/a.mp3 HTTP/1.1" 200 9 "-" "say \\"hi\\" app" "-"',
    b'203.0.113.9 - - [06/Dec/2026:10:00:03 +0000] "GET /show/media/a.mp3 HTTP/1.1" 200 9 "-" "a\\" \\"b" "bytes=5-"',
    # a line cut short, as a log being written or a full disk leaves it
    b'203.0.113.9 - - [06/Dec/2026:10:00:04 +0000] "GET /show/media/a.mp3 HTTP/1.1" 200 9 "-" "Podc',
    b"203.0.113.9 - - [06/Dec/2026:10:00:0",
    # no Range field (nginx's own combined format), with and without what follows the agent
    b'192.0.2.4 - - [06/Dec/2026:10:00:05 +0000] "GET /show/media/a.mp3 HTTP/1.1" 206 99 "-" "Spotify/8.7"',
    b'192.0.2.4 - - [06/Dec/2026:10:00:05 +0000] "GET /show/media/a.mp3 HTTP/1.1" 206 99 "-" "Spotify/8.7" bytes=9-\r',
    # junk a server logs: a TLS hello on the plain port, an empty request, a bad month, a bad status
    b'192.0.2.5 - - [06/Dec/2026:10:00:06 +0000] "\\x16\\x03\\x01\\x02\\x00\\x01" 400 157 "-" "-" "-"',
    b'192.0.2.5 - - [06/Dec/2026:10:00:06 +0000] "-" 400 0 "-" "-" "-"',
    b'192.0.2.5 - - [06/Foo/2026:10:00:06 +0000] "GET /show/media/a.mp3 HTTP/1.1" 200 1 "-" "x" "-"',
    b'192.0.2.5 - - [06/Dec/2026:10:00:06 +0000] "GET /show/media/a.mp3 HTTP/1.1" 2OO 1 "-" "x" "-"',
    b'192.0.2.5 - - [06/Dec/2026:10:00:06 +0000] "GET /show/media/a.mp3 HTTP/1.1" 200 1 2 "-" "x" "-"',
    b'192.0.2.5 - - [06/Dec/2026:10:00:06] "GET /show/media/a.mp3 HTTP/1.1" 200 1 "-" "x" "-"',
    b'192.0.2.5 - - 06/Dec/2026:10:00:06 +0000 "GET /show/media/a.mp3 HTTP/1.1" 200 1 "-" "x" "-"',
    b'192.0.2.6 - - [06/Dec/2026:10:00:07 +0000] "GET  /show/media/a.mp3  HTTP/1.1" 200 1 "-" "x" "-" "0.5" "up"',
    b'192.0.2.6 - - [06/Dec/2026:10:00:07 +0000]  "GET /show/media/a.mp3 HTTP/1.1"  200\t1  "-"  "x"  "-"  ',
    b"",
    b"# a comment",
    b"not a log line at all",
]


def _one_by_one(lines: list[bytes], keep) -> tuple[list, list[int]]:
    """What the line-by-line parser makes of the lines, in the bulk reader's terms."""
    found, unread = [], []
    for index, line in enumerate(lines):
        request = formats.combined(line, keep)
        if request is None:
            unread.append(index)
        elif request is not formats.SKIP:
            found.append(request)
    return found, unread


def _keep(path: bytes) -> bool:
    return path.endswith((b".mp3", b".xml"))


def test_good_lines_are_read_in_bulk_as_one_by_one():
    lines = GOOD * 50
    found, unread = formats.combined_lines(lines, _keep)
    assert (found, unread) == _one_by_one(lines, _keep)
    assert len(found) == 150 and not unread  # the page is not parsed
    ten = calendar.timegm((2026, 12, 6, 10, 0, 0))
    path = b"/show/media/a.mp3"
    assert found[0] == formats.Request(ten, b"203.0.113.9", b"GET", path, 206, 2, b"bytes=0-1", b"Podcasts/1")
    assert found[1] == formats.Request(ten + 1 - 3600, b"2001:db8:1:2::10", b"GET", path, 200, 123, b"", b"Ov")
    third = formats.Request._make(found[2])  # the reader's plain tuple, by its fields' names
    assert third.ip == b"[2001:db8::7]" and third.ts == ten + 1 + 5 * 3600 + 1800 and third.sent == 0


def test_a_hostile_mixed_chunk_is_read_as_one_by_one():
    lines = GOOD + HOSTILE + GOOD[::-1] + HOSTILE[::-1] + GOOD
    found, unread = formats.combined_lines(lines, _keep)
    assert (found, unread) == _one_by_one(lines, _keep)
    assert formats.combined_lines(lines) == _one_by_one(lines, None)
    # the escaped quotes, the lines without a Range field and the three spaced-out lines are requests
    found = list(map(formats.Request._make, found))
    assert b'say \\"hi\\" app' in {request.agent for request in found}
    assert {request.range for request in found if request.agent == b"Spotify/8.7"} == {b"", b"bytes=9-"}
    assert len(unread) >= 9


def test_lines_broken_at_random_are_read_as_one_by_one():
    rng = random.Random(26)
    pieces = [b'"', b"\\", b" ", b"\\x22", b"[", b"]", b"?", b"-", b"\t", b"0"]
    for _ in range(200):
        lines = []
        for _ in range(rng.randint(1, 40)):
            line = bytearray(rng.choice(GOOD + HOSTILE))
            for _ in range(rng.choice((0, 0, 1, 2))):
                at = rng.randint(0, len(line))
                if rng.random() < 0.5:
                    line[at:at] = rng.choice(pieces)
                else:
                    del line[at : at + rng.randint(1, 3)]
            lines.append(bytes(line))
        assert formats.combined_lines(lines, _keep) == _one_by_one(lines, _keep), lines


def test_requests_already_seen_are_remembered_between_calls():
    asked: dict = {}
    first = formats.combined_lines(GOOD, _keep, asked)
    assert asked and formats.combined_lines(GOOD, _keep, asked) == first == _one_by_one(GOOD, _keep)


# --- two processes, on a show written here ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def show(tmp_path_factory):
    """A built show without audio work: two 10-minute 128 kbps MP3s (an ID3 tag, then one frame repeated)."""
    folder = write_show(tmp_path_factory.mktemp("fast") / "show")
    (folder / "public" / "media").mkdir(parents=True)
    tag = b"ID3\x04\x00\x00\x00\x00\x0f\x76" + bytes(2038)  # 2,048 bytes in all
    frame = struct.pack(">I", 0xFFFB9000) + bytes(413)  # MPEG-1 Layer III, 128 kbps, 44.1 kHz
    manifest, ledger = {}, {}
    for slug in ("one", "two"):
        rel = layout.media(slug, "mp3")
        (folder / "public" / rel).write_bytes(tag + frame * (128_000 // 8 * 600 // len(frame)))
        manifest[rel] = ["0" * 64, (folder / "public" / rel).stat().st_size, 0]
        ledger[slug] = {"guid": slug, "first_published": "2026-12-01T09:00:00+00:00"}
    manifest[layout.FEED_FILE] = ["0" * 64, 1, 0]
    (folder / "public" / layout.MANIFEST).write_text(json.dumps({"files": manifest}))
    (folder / "panelpress-ledger.json").write_text(json.dumps({"episodes": ledger}))
    return folder


def _log(path, show_dir) -> tuple[int, int]:
    """A log of many listeners (IPv4, and IPv6 pairs in one /64) with junk lines in it; (lines, the first junk's)."""
    rng = random.Random(7)
    size = (show_dir / "public" / layout.media("one", "mp3")).stat().st_size
    lines, first_junk = [], 0
    for n in range(3000):
        stamp = f"{6 + n // 1000:02d}/Dec/2026:{n % 1000 // 60 % 24:02d}:{n % 60:02d}:00 +0000"
        ip = rng.choice([f"198.51.100.{rng.randint(1, 60)}", f"2001:db8:0:{rng.randint(1, 20):x}::{rng.randint(1, 9)}"])
        slug = rng.choice(("one", "two"))
        agent, rng_field, status, sent = rng.choice(
            [
                (AGENT, "bytes=0-1", 206, 2),
                (PLAYER, "bytes=0-999999", 206, 1_000_000),
                (PLAYER, f"bytes={rng.randint(0, size // 2)}-", 206, rng.randint(1000, size // 2)),
                (OVERCAST, "-", 200, size),
                ("curl/8.5.0", "-", 200, size),
            ]
        )
        lines.append(
            f'{ip} - - [{stamp}] "GET /show/media/{slug}.mp3 HTTP/1.1" {status} {sent} "-" "{agent}" "{rng_field}"'
        )
        if n % 700 == 350:
            lines.append(f"{ip} - - [{stamp}] garbage that no format reads")
            first_junk = first_junk or len(lines)
        if n % 500 == 20:
            lines.append(f'{ip} - - [{stamp}] "GET /show/media/{slug}.mp3 HTTP/1.1" 200 {size} "-" "say \\"hi\\"" "-"')
    path.write_text("\n".join(lines) + "\n")
    return len(lines), first_junk


def test_two_processes_count_and_name_unreadable_lines_as_one(show, tmp_path, monkeypatch):
    settings = config.load(show)
    log = tmp_path / "access.log"
    lines, first_junk = _log(log, show)
    monkeypatch.setattr(count, "CHUNK", 4096)  # many chunks: the lines of each are shared out
    runs = {}
    for workers in (1, 2):
        run = count.count(settings, [log], reset=True, workers=workers)
        state = count.Store(count.state_path(settings))
        try:
            downloads = state.db.execute("SELECT * FROM downloads ORDER BY 1, 2, 3, 4, 5").fetchall()
            windows = state.db.execute("SELECT rel, start, audio, counted, app, platform FROM windows").fetchall()
        finally:
            state.close()
        read = run.logs[0]
        runs[workers] = (run.downloads, run.requests, run.left_out, read.lines, read.unread, read.first_unread)
        runs[workers] += (downloads, sorted(windows))
    assert runs[1] == runs[2]
    downloads, _requests, left_out, read_lines, unread, first_unread = runs[1][:6]
    assert read_lines == lines and unread == 4 and first_unread == first_junk
    assert downloads > 100 and left_out["bytes=0-1 probes"] > 100 and left_out["bots and libraries"] > 100


def test_a_worker_that_fails_says_why(show, tmp_path, monkeypatch):
    settings = config.load(show)
    log = tmp_path / "access.log"
    _log(log, show)
    monkeypatch.setattr(count, "CHUNK", 4096)

    def broken(self, requests):
        raise ValueError("a rule broke")

    monkeypatch.setattr(count.Rules, "add_all", broken)  # in the forked workers too
    with pytest.raises(PanelpressError, match="stats failed: ValueError\\('a rule broke'\\)"):
        count.count(settings, [log], reset=True, workers=2)


def _state(settings) -> tuple:
    """The counts, windows and apps seen the state holds (without their hashed keys: a reset makes a new salt)."""
    state = count.Store(count.state_path(settings))
    try:
        return tuple(
            sorted(state.db.execute(query).fetchall())
            for query in (
                "SELECT * FROM downloads",
                "SELECT rel, start, audio, counted, app, platform FROM windows",
                "SELECT rel, ts, app FROM served",
            )
        )
    finally:
        state.close()


@pytest.mark.parametrize("workers", [1, 2])
def test_a_log_read_in_pieces_leaves_the_state_one_run_leaves_writing_only_what_changed(
    show, tmp_path, monkeypatch, workers
):
    settings = config.load(show)
    log = tmp_path / "access.log"
    _log(log, show)
    lines = log.read_bytes().splitlines(keepends=True)
    count.count(settings, [log], reset=True, workers=workers)
    whole = _state(settings)
    assert len(whole[1]) > 50 and len(whole[2]) > 10  # windows and apps left open for the next run

    written = []
    save = count.Store.save

    def counted_save(self, *args, **kwargs):  # the real save, its rows counted by SQLite
        before = self.db.total_changes
        save(self, *args, **kwargs)
        written.append(self.db.total_changes - before)

    monkeypatch.setattr(count.Store, "save", counted_save)
    log.write_bytes(b"".join(lines[:1000]))
    count.count(settings, [log], reset=True, workers=workers)
    for done, cut in itertools.pairwise((1000, 1700, 2400, len(lines) - 1, len(lines))):
        with log.open("ab") as stream:
            stream.write(b"".join(lines[done:cut]))
        count.count(settings, [log], workers=workers)
    assert _state(settings) == whole
    # the last line alone: its rows (the log's, a window's, a download's…), not every open window again
    assert written[-1] <= 6 < len(whole[1]) + len(whole[2])


def test_a_request_dated_in_the_future_does_not_keep_every_window_after_it(show, monkeypatch):
    from pipeline.stats import media, rules

    monkeypatch.setattr(rules, "SWEEP", 50)
    monkeypatch.setattr(rules, "CROWDED", 200)
    counting = rules.Rules(media.show(config.load(show)), b"salt" * 8)
    path = ("/show/" + layout.media("one", "mp3")).encode()
    start = calendar.timegm((2026, 12, 6, 10, 0, 0))

    def request(n: int, ts: int) -> formats.Request:
        return formats.Request(
            ts, f"198.51.{n // 250}.{n % 250}".encode(), b"GET", path, 200, 9, b"", OVERCAST.encode()
        )

    counting.add_all([request(0, start + 365 * 86_400)])  # a clock gone wrong, once
    counting.add_all(request(n, start + n) for n in range(1, 5000))
    # every listener after it looks closed (the latest request is a year ahead): no more than the bound is kept
    assert 0 < len(counting.windows) + len(counting.old_windows) <= 2 * 200 + 50
    assert counting.counts.requests == 5000


@pytest.mark.parametrize("workers", [1, 2])
def test_downloads_moved_out_of_memory_while_counting_are_the_state_s_as_if_kept(show, tmp_path, monkeypatch, workers):
    # a back catalogue's years of counts per day, app and platform would not fit in memory: each process moves its
    # tallies into a spool file once they are many; here every few lines, through one and two processes
    settings = config.load(show)
    log = tmp_path / "access.log"
    _log(log, show)
    monkeypatch.setattr(count, "CHUNK", 4096)
    run = count.count(settings, [log], reset=True, workers=workers)
    kept = _state(settings)

    spooled = []
    save = count.Store.save

    def saved(self, *args):  # the real save, told which spools to add
        spooled.append([(spool.name, spool.stat().st_size) for spool in args[6]])
        save(self, *args)

    monkeypatch.setattr(count.Spool, "KEYS", 3)
    monkeypatch.setattr(count.Store, "save", saved)
    again = count.count(settings, [log], reset=True, workers=workers)
    assert len(spooled[0]) == workers and all(size > 0 for _, size in spooled[0])
    assert _state(settings) == kept
    assert again.downloads == run.downloads > 100
    assert not (settings.cache_dir / "stats-spool").exists()  # the spools are gone with the run
