"""`panelpress stats` over a log that grew: its cost follows the new lines, not the state's size.

A run over a tail asks the state for the windows and apps of the listeners the tail names only, counts them in its
own process, and leaves the state (and the counts) a single run over the whole log leaves, even when the run before
shared the reading between two processes; a published file is measured once while its size and time stay; and the
command, writing CSV or JSON for a script, loads none of what it does not use (rich, mutagen, Markdown, the records,
the worker processes' machinery).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline import config, layout
from pipeline.errors import PanelpressError
from pipeline.stats import count, media, report, store
from tests.test_stats_fast import (
    _log,
    _state,
    show,  # noqa: F401 (a fixture: what `built` gives)
)

ROOT = Path(__file__).resolve().parent.parent
TAIL = 100  # lines appended


@pytest.fixture
def built(request) -> Path:
    """A built show without audio work (tests/test_stats_fast.py's: two 10-minute MP3s, an ID3 tag each)."""
    return request.getfixturevalue("show")


def _grown(show_dir: Path, log: Path, workers: int) -> tuple[config.Config, tuple, list[bytes]]:
    """The settings, the state one run over the whole log leaves, and the lines; the log cut short of its last TAIL
    lines and counted (from a new state) by `workers` processes."""
    settings = config.load(show_dir)
    _log(log, show_dir)
    lines = log.read_bytes().splitlines(keepends=True)
    count.count(settings, [log], reset=True, workers=workers)
    whole = _state(settings)
    log.write_bytes(b"".join(lines[:-TAIL]))
    count.count(settings, [log], reset=True, workers=workers)
    with log.open("ab") as stream:
        stream.write(b"".join(lines[-TAIL:]))
    return settings, whole, lines


def test_a_tail_after_a_run_of_two_processes_is_counted_here_as_one_run_counts_the_whole_log(
    built, tmp_path, monkeypatch
):
    settings, whole, _lines = _grown(built, tmp_path / "access.log", workers=2)
    asked = {"windows": 0, "served": 0}
    for name in asked:
        real = getattr(store.Recall, name)

        def counted(self, keys, real=real, name=name):
            asked[name] += len(keys)
            return real(self, keys)

        monkeypatch.setattr(store.Recall, name, counted)
    run = count.count(settings, [tmp_path / "access.log"])  # a small tail: no worker processes
    assert run.logs[0].lines == TAIL
    assert _state(settings) == whole
    # each listener of the tail asked for once, never the whole state's
    assert 0 < asked["windows"] <= TAIL < len(whole[1])
    assert 0 < asked["served"] <= TAIL < len(whole[2])


def test_a_tail_through_two_processes_gives_the_counts_of_one(built, tmp_path):
    settings, whole, _lines = _grown(built, tmp_path / "access.log", workers=1)
    count.count(settings, [tmp_path / "access.log"], workers=2)  # forced: each worker asks the state itself
    assert _state(settings) == whole


def test_a_published_file_is_measured_once_while_its_size_and_time_stay(built, tmp_path, monkeypatch):
    settings = config.load(built)
    log = tmp_path / "access.log"
    _log(log, built)
    measured = []
    bitrate = media._bitrate
    monkeypatch.setattr(media, "_bitrate", lambda path, *args: measured.append(path.name) or bitrate(path, *args))
    count.count(settings, [log], reset=True)
    assert sorted(measured) == ["one.mp3", "two.mp3"]
    first = {rel: (m.header, m.bitrate) for rel, m in count.count(settings, [log]).show.files.items()}
    assert sorted(measured) == ["one.mp3", "two.mp3"]  # not again
    path = built / "public" / layout.media("one", "mp3")
    data = path.read_bytes()
    try:
        path.write_bytes(data[:-417])  # a frame shorter: a new size and time
        again = count.count(settings, [log]).show.files
        assert sorted(measured) == ["one.mp3", "one.mp3", "two.mp3"]
        assert again[layout.media("one", "mp3")].size == len(data) - 417
        assert {rel: (m.header, m.bitrate) for rel, m in again.items()} == first
    finally:
        path.write_bytes(data)


def test_stats_for_a_script_loads_only_what_it_uses(built, tmp_path):
    settings = config.load(built)
    log = tmp_path / "access.log"
    _log(log, built)
    count.count(settings, [log], reset=True)
    script = (
        "import json, sys\nfrom pipeline.cli import main\ncode = main(sys.argv[1:])\n"
        "print(json.dumps([code, sorted(sys.modules)]), file=sys.stderr)"
    )
    loaded = {}
    for fmt in ("csv", "json"):
        with log.open("a") as stream:  # one more request: an incremental run
            stream.write(
                f'198.51.100.7 - - [09/Dec/2026:10:00:00 +0000] "GET /show/{layout.media("one", "mp3")} HTTP/1.1" '
                '200 99999999 "-" "Overcast/3.0 (+http://overcast.fm/; iOS podcast app)" "-"\n'
            )
        done = subprocess.run(
            [sys.executable, "-c", script, "stats", "--show", str(built), "--format", fmt, str(log)],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            cwd=ROOT,
        )
        code, modules = json.loads(done.stderr.splitlines()[-1])
        assert code == 0, done.stderr
        assert "read 1 new lines of 1 logs" in done.stderr
        loaded[fmt] = {name.split(".")[0] for name in modules} | set(modules)
        assert done.stdout.startswith("slug,edition,day" if fmt == "csv" else "{")
    for fmt, modules in loaded.items():
        unused = {"rich", "mutagen", "markdown_it", "multiprocessing", "pipeline.records", "email.message"}
        assert not modules & unused, (fmt, modules & unused)


def test_a_show_never_built_is_said_so_and_left_as_it_is(tmp_path):
    from tests.conftest import write_show

    folder = write_show(tmp_path / "show")
    settings = config.load(folder)
    log = tmp_path / "access.log"
    log.write_text('198.51.100.7 - - [09/Dec/2026:10:00:00 +0000] "GET /show/feed.xml HTTP/1.1" 200 9 "-" "x" "-"\n')
    with pytest.raises(PanelpressError, match="never built"):
        count.count(settings, [log])
    assert not count.state_path(settings).exists()


def test_a_state_in_a_folder_whose_name_a_uri_would_misread_is_read_back(built, tmp_path):
    odd = tmp_path / "a show #1 ?x=%20"
    shutil.copytree(built, odd, ignore=shutil.ignore_patterns(".panelpress-cache"))
    settings, whole, _lines = _grown(odd, tmp_path / "access.log", workers=1)
    count.count(settings, [tmp_path / "access.log"])  # the tail: the state read back, read-only, by its path
    assert _state(settings) == whole
    assert list(report.rows(count.state_path(settings))) == sorted(whole[0])  # and the counts shown


def test_a_run_started_while_another_counts_waits_for_it_then_counts_only_what_is_new(built, tmp_path):
    # cron starting `stats` while the last run still counts: both would read the same new lines and count them twice.
    # The second says why it waits, and counts once the first has finished (the first: the lock held here)
    from pipeline import lock

    log = tmp_path / "access.log"
    settings, whole, _lines = _grown(built, log, workers=1)  # counted but for its last lines
    with lock.hold(settings.cache_dir / "stats.lock", "this show", doing="stats run"):
        second = subprocess.Popen(
            [sys.executable, "-m", "pipeline.cli", "stats", "--show", str(built), "--format", "csv", str(log)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            cwd=ROOT,
        )
        said = second.stderr.readline()  # what it prints, not a sleep, says it is waiting
        assert said.startswith("another stats run of this show is running, pid ") and "waiting" in said, said
        assert second.poll() is None
    out, err = second.communicate(timeout=300)
    assert second.returncode == 0, err
    assert f"read {TAIL:,} new lines" in err and out.startswith("slug,edition,day")
    assert _state(settings) == whole
    again = count.count(settings, [log])  # and nothing is left to count twice
    assert again.lines == 0 and _state(settings) == whole
