"""A build killed at any instant leaves subscribers a consistent site, and the next build completes the job by
itself; two builds never interleave.

Real `panelpress build` processes are killed with SIGKILL: at every file of publishing the build renames into
place or removes (each write boundary of the site folder and of the ledger), and at moments during mastering.
"""

from __future__ import annotations

import errno
import fcntl
import io
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import feedparser
import podcastparser
import pytest

from pipeline import config as config_module
from pipeline import layout, lock
from pipeline.errors import BusyError
from pipeline.files import TEMP_SUFFIX
from tests.conftest import SPEECH, make_audio, write_notes, write_show

ROOT = Path(__file__).resolve().parent.parent

# Runs the real CLI, sending itself a signal just before its Nth rename or removal of a file of publishing: in the
# site folder, or the ledger. "N" is SIGKILL (no clean-up of any kind), "N:INT" Ctrl-C, "N:TERM" a stop asked for.
# With N = 0 it only counts them.
KILLER = """
import os, signal, sys
limit, _, name = sys.argv[1].partition(":")
limit, sent, calls = int(limit), getattr(signal, "SIG" + (name or "KILL")), 0
def counted(real):
    def call(*args, **kwargs):
        global calls
        target = os.fsdecode(args[-1] if real is os.replace else args[0])
        if "/public/" in target or target.endswith("panelpress-ledger.json"):
            calls += 1
            if calls == limit:
                os.kill(os.getpid(), sent)
        return real(*args, **kwargs)
    return call
os.replace, os.unlink = counted(os.replace), counted(os.unlink)
from pipeline.cli import main
code = main(sys.argv[2:])
print(f"boundaries={calls}", file=sys.stderr)
sys.exit(code)
"""


def run(show: Path, *args: str, kill_at: int | str = 0) -> subprocess.CompletedProcess:
    command = [sys.executable, "-c", KILLER, str(kill_at), "build", "--show", str(show), *args]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)


def feed_of(show: Path) -> bytes:
    return (show / "public" / layout.FEED_FILE).read_bytes()


def assert_consistent(show: Path, guids: dict[str, str]) -> None:
    """What subscribers' apps see: a feed both parsers read, every enclosure there with the length the feed states,
    and no episode under a GUID other than the one it was published with."""
    xml = feed_of(show)
    parsed = feedparser.parse(xml)
    assert not parsed.bozo, parsed.get("bozo_exception")
    gpodder = podcastparser.parse("https://pod.example.com/show/feed.xml", io.BytesIO(xml))
    assert len(gpodder["episodes"]) == len(parsed.entries)
    for entry in parsed.entries:
        enclosure = entry.enclosures[0]
        file = show / "public" / enclosure.href.removeprefix("https://pod.example.com/show/")
        assert file.is_file(), f"{enclosure.href} is missing"
        assert file.stat().st_size == int(enclosure.length), f"{enclosure.href} is not the length the feed states"
        if enclosure.href in guids:
            assert entry.id == guids[enclosure.href], "an episode changed its GUID"
    assert len({entry.id for entry in parsed.entries}) == len(parsed.entries)


def episodes(show: Path, guids: dict[str, str]) -> list[tuple]:
    """The feed's episodes as apps list them: title, audio and its length, and the GUID of those published before
    (a new episode's GUID is minted at random, so two runs give it different ones)."""
    entries = feedparser.parse(feed_of(show)).entries
    return [
        (e.title, e.enclosures[0].href, e.enclosures[0].length, guids.get(e.enclosures[0].href) and e.id)
        for e in entries
    ]


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> Path:
    """A published show of two episodes, and the changes of the next build waiting in it: a third episode, new show
    notes for the second, the first's recording deleted (withdrawn with --allow-remove)."""
    show = write_show(tmp_path_factory.mktemp("crash") / "show")
    make_audio(show / "episodes" / "first.wav", seconds=1)
    make_audio(show / "episodes" / "second.wav", seconds=1, volume_db=-3)
    write_notes(show, "first", "title: First\ndate: 2026-01-05")
    write_notes(
        show, "second", "title: Second\ndate: 2026-01-12", "The summary stays.\n\nThe notes of the second episode."
    )
    assert run(show).returncode == 0
    make_audio(show / "episodes" / "third.wav", seconds=1, volume_db=-6)
    write_notes(show, "third", "title: Third\ndate: 2026-01-19")
    (show / "episodes" / "third.vtt").write_text("WEBVTT\n\n00:00:00.000 --> 00:00:00.800\nHello.\n")
    write_notes(
        show,
        "second",
        "title: Second\ndate: 2026-01-12",
        "The summary stays.\n\nThe notes of the second episode, longer now.",
    )
    (show / "episodes" / "first.wav").unlink()
    return show


ARGS = ("--allow-remove", "first")


def test_a_build_killed_at_any_write_leaves_a_consistent_site_and_the_next_one_finishes(published, tmp_path):
    reference = Path(shutil.copytree(published, tmp_path / "reference"))
    counted = run(reference, *ARGS)
    assert counted.returncode == 0, counted.stderr
    boundaries = int(re.search(r"boundaries=(\d+)", counted.stderr).group(1))
    assert boundaries >= 10  # ledger twice, manifest twice, the new files, the feed, the removed files
    before = json.loads((published / config_module.LEDGER_NAME).read_text())
    guids = {entry["enclosure_url"]: entry["guid"] for entry in before["episodes"].values()}
    final = episodes(reference, guids)

    def kill_and_recover(kill_at: int) -> None:
        show = Path(shutil.copytree(published, tmp_path / f"killed-{kill_at}"))
        killed = run(show, *ARGS, kill_at=kill_at)
        assert killed.returncode == -signal.SIGKILL, f"boundary {kill_at}: {killed.stderr}"
        assert_consistent(show, guids)
        again = run(show, *ARGS)
        assert again.returncode == 0, f"after a kill at boundary {kill_at}: {again.stdout}{again.stderr}"
        assert_consistent(show, guids)
        assert episodes(show, guids) == final, (
            f"after a kill at boundary {kill_at}, the next build did not finish the job"
        )
        book = json.loads((show / config_module.LEDGER_NAME).read_text())
        assert "pending" not in book
        assert sorted(e.id for e in feedparser.parse(feed_of(show)).entries) == sorted(
            entry["guid"] for entry in book["episodes"].values()
        )
        assert not list((show / "public").rglob(f"*{TEMP_SUFFIX}")), "a temporary file was left in the site"
        shutil.rmtree(show)

    with ThreadPoolExecutor(
        max_workers=os.cpu_count() or 1
    ) as pool:  # each kill is its own show: they run side by side
        list(pool.map(kill_and_recover, range(1, boundaries + 1)))


def test_a_build_killed_while_mastering_leaves_the_site_as_it_was(published, tmp_path):
    show = Path(shutil.copytree(published, tmp_path / "show"))
    (show / config_module.CONFIG_NAME).write_text(
        (show / config_module.CONFIG_NAME).read_text().replace("normalize = false", "normalize = true")
    )
    make_audio(show / "episodes" / "third.wav", seconds=240, source=SPEECH.format(seed=3))
    feed = feed_of(show)
    master = config_module.load(show).cache_dir / "master"
    for delay in (0.0, 0.5, 1.0):  # after mastering began: in its first pass, and later
        build = subprocess.Popen(
            [sys.executable, "-m", "pipeline.cli", "build", "--show", str(show), *ARGS],
            cwd=ROOT,
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 120
        while not any(p.is_dir() for p in master.glob("*")) and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(delay)
        assert build.poll() is None, "the build ended before it could be killed"
        os.killpg(build.pid, signal.SIGKILL)  # the build and its ffmpeg
        build.wait()
        assert feed_of(show) == feed
    assert run(show, *ARGS).returncode == 0
    assert [e.title for e in feedparser.parse(feed_of(show)).entries] == ["Third", "Second"]


def _waiting_line(build: subprocess.Popen) -> str:
    """The line in which a build says it waits for another (read as it prints it; '' if it ends without one)."""
    for line in build.stderr:
        if "waiting for it to finish" in line:
            return line
    return ""


def test_two_builds_started_together_never_interleave(published, tmp_path):
    show = Path(shutil.copytree(published, tmp_path / "show"))
    (show / config_module.CONFIG_NAME).write_text(
        (show / config_module.CONFIG_NAME).read_text().replace("normalize = false", "normalize = true")
    )
    make_audio(show / "episodes" / "third.wav", seconds=30, source=SPEECH.format(seed=4))
    command = [sys.executable, "-m", "pipeline.cli", "build", "--show", str(show), *ARGS]
    # The test holds the show's lock, so both builds start while another holds it: each must say so and wait. The
    # order is read from what they print, never from how long anything takes.
    builds: list[subprocess.Popen] = []
    try:
        with lock.hold(config_module.load(show).cache_dir / "build.lock", "this show"):
            builds += [
                subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                for _ in range(2)
            ]
            said = [_waiting_line(build) for build in builds]
            assert all(f"another build of this show is running, pid {os.getpid()}" in line for line in said), said
            assert not (show / "public" / "media" / "third.mp3").exists(), "neither published while the lock was held"
        outputs = [build.communicate(timeout=300) for build in builds]
    finally:  # a failed assertion must not leave builds behind
        for build in builds:
            if build.poll() is None:
                build.kill()
    assert [build.returncode for build in builds] == [0, 0], outputs
    entries = feedparser.parse(feed_of(show)).entries
    assert sorted(e.title for e in entries) == ["Second", "Third"]
    book = json.loads((show / config_module.LEDGER_NAME).read_text())
    assert "pending" not in book, "the second build never ran into the first one's publish"
    assert sorted(e.id for e in entries) == sorted(entry["guid"] for entry in book["episodes"].values())


def test_no_wait_exits_2_while_another_build_holds_the_show(published):
    cache = config_module.load(published).cache_dir
    with lock.hold(cache / "build.lock", "this show"):
        done = subprocess.run(
            [sys.executable, "-m", "pipeline.cli", "build", "--show", str(published), "--no-wait"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 2
    assert f"another build of this show is running, pid {os.getpid()}" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_lock_left_by_a_killed_build_is_not_mistaken_for_a_running_one(published, tmp_path):
    show = Path(shutil.copytree(published, tmp_path / "show"))
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from pipeline import lock\nwith lock.hold(Path(sys.argv[1]), 'this show'):\n    print('held', flush=True); time.sleep(60)",
            str(config_module.load(show).cache_dir / "build.lock"),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "held"
    holder.kill()
    holder.wait()
    left = config_module.load(show).cache_dir / "build.lock"
    assert left.read_text().strip() == str(holder.pid)  # what the killed holder left behind, its pid in it
    done = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "build", "--show", str(show), "--no-wait", *ARGS],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr


def test_check_fix_artwork_waits_for_a_running_build(published, tmp_path):
    show = Path(shutil.copytree(published, tmp_path / "show"))
    from PIL import Image

    Image.new("RGB", (1600, 1400), "white").save(show / "cover.jpg")
    toml = show / config_module.CONFIG_NAME
    toml.write_text(toml.read_text().replace("[show]", '[show]\nartwork = "cover.jpg"', 1))
    with lock.hold(config_module.load(show).cache_dir / "build.lock", "this show"):  # a build is running
        check = subprocess.Popen(
            [sys.executable, "-m", "pipeline.cli", "check", "--show", str(show), "--fix-artwork"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        said = _waiting_line(check)  # it says why it waits, then waits
        assert f"another build of this show is running, pid {os.getpid()}" in said
        assert not (show / "artwork-1400.jpg").exists(), "it waits"
    check.communicate(timeout=60)
    assert (show / "artwork-1400.jpg").exists()


@pytest.mark.parametrize("sent", ["INT", "TERM"])
def test_a_build_interrupted_at_any_write_of_its_publish_exits_130_and_the_next_one_finishes(published, tmp_path, sent):
    """Ctrl-C (or SIGTERM) at each write of a publish: the build says it was interrupted, with no trace; subscribers
    see a consistent site; the next build completes or undoes what it left."""
    reference = Path(shutil.copytree(published, tmp_path / "reference"))
    counted = run(reference, *ARGS)
    boundaries = int(re.search(r"boundaries=(\d+)", counted.stderr).group(1))
    before = json.loads((published / config_module.LEDGER_NAME).read_text())
    guids = {entry["enclosure_url"]: entry["guid"] for entry in before["episodes"].values()}
    final = episodes(reference, guids)
    code = 130 if sent == "INT" else 143
    # Ctrl-C at every write; a stop asked for at the first, one in the middle and the last
    chosen = range(1, boundaries + 1) if sent == "INT" else sorted({1, boundaries // 2, boundaries})

    def interrupt_and_recover(at: int) -> None:
        show = Path(shutil.copytree(published, tmp_path / f"{sent}-{at}"))
        stopped = run(show, *ARGS, kill_at=f"{at}:{sent}")
        assert stopped.returncode == code, f"boundary {at}: {stopped.stderr}"
        assert "Traceback" not in stopped.stderr and "unexpectedly" not in stopped.stderr
        assert "next build" in stopped.stderr, stopped.stderr  # it says what it left, and who finishes it
        assert_consistent(show, guids)
        again = run(show, *ARGS)
        assert again.returncode == 0, f"after {sent} at boundary {at}: {again.stdout}{again.stderr}"
        assert episodes(show, guids) == final
        assert not list((show / "public").rglob(f"*{TEMP_SUFFIX}"))
        shutil.rmtree(show)

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        list(pool.map(interrupt_and_recover, chosen))


def test_a_build_waiting_for_a_site_folder_whose_refused_build_removed_it_makes_it_again(published, tmp_path):
    """The site folder is locked by itself; a build refused before publishing removes the folder it made for the
    lock. A build waiting on that folder then locks the one it makes again: never a folder no one else sees."""
    show = Path(shutil.copytree(published, tmp_path / "show"))
    site = tmp_path / "new-site" / "podcast"
    command = [sys.executable, "-m", "pipeline.cli", "build", "--show", str(show), "--out", str(site), *ARGS]
    build = None
    try:
        with lock.hold_folder(site, str(site)):  # made for the lock, as a build that is then refused makes it
            assert site.is_dir()
            build = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            line = _waiting_line(build)
            assert f"another build into {site} is running" in line, line
        assert not (tmp_path / "new-site").exists(), "the folders made for the lock went with it"
        out, err = build.communicate(timeout=300)
    finally:
        if build is not None and build.poll() is None:
            build.kill()
    assert build.returncode == 0, out + err
    assert (site / layout.FEED_FILE).is_file() and not list(site.glob(".panelpress-lock*"))


def test_a_site_folder_where_folders_cannot_be_locked_is_locked_by_a_file_that_goes_with_the_build(
    tmp_path, monkeypatch
):
    """NFS locks files, not folders: there the site folder's lock is a file in it, for as long as the build runs."""
    real = fcntl.flock

    def files_only(fd: int, operation: int) -> None:
        if stat.S_ISDIR(os.fstat(fd).st_mode):
            raise OSError(errno.ENOLCK, "No locks available")
        real(fd, operation)

    monkeypatch.setattr(fcntl, "flock", files_only)
    site = tmp_path / "blog" / "podcast"
    with lock.hold_folder(site, str(site)):
        assert (site / layout.LOCK).read_text().strip() == str(os.getpid())
        busy = f"another build into {site} is running, pid {os.getpid()}"
        with pytest.raises(BusyError, match=re.escape(busy)), lock.hold_folder(site, str(site), wait=False):
            pass
    assert not (tmp_path / "blog").exists(), "the lock file, and the folders made for it, went with the build"
