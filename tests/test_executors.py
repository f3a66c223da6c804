"""The executor seam: the same show built on threads and on a real Dask cluster (a LocalCluster of worker processes)
gives the same site, byte for byte; what a task carries pickles; a worker killed mid-episode costs that episode a
retry (or a clean failure), never the others; a worker that cannot see the show is named; Ctrl-C stops the cluster's
work; a build on threads never imports Dask."""

from __future__ import annotations

import asyncio
import os
import pickle
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipeline import cache, executors, layout
from pipeline import config as config_module
from pipeline.build import build as run_build
from pipeline.cli import main
from pipeline.episode import stages
from pipeline.episode.discover import discover
from pipeline.errors import ChapterError, ExecutorError, TranscriptError
from tests import servers
from tests.conftest import SPEECH, checksums, make_audio, write_notes, write_show

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 3, 1, tzinfo=UTC)
VTT = "WEBVTT\n\n00:00:00.500 --> 00:00:02.000\n<v Ann>Hello.\n"


def site(folder: Path) -> dict[str, str]:
    return {rel: digest for rel, digest in checksums(folder).items() if rel not in layout.RESERVED}


def show_of(folder: Path, episodes: dict[str, float], extra_build: str = "") -> Path:
    """A show of speech-like recordings ({slug: seconds}), mastered to loudness; the first has a transcript."""
    write_show(folder, normalize=True, extra_build=extra_build)
    for number, (slug, seconds) in enumerate(episodes.items(), start=1):
        make_audio(folder / "episodes" / f"{slug}.wav", seconds=seconds, source=SPEECH.format(seed=number))
        write_notes(folder, slug, f"title: Episode {number}\ndate: 2026-01-{number:02d}\npanelists: [Ann, Bo]")
    (folder / "episodes" / f"{next(iter(episodes))}.vtt").write_text(VTT)
    return folder


def use(folder: Path, executor: str, scheduler: str = "") -> None:
    path = folder / config_module.CONFIG_NAME
    text = path.read_text().replace(
        "[build]\n", f'[build]\nexecutor = "{executor}"\n' + (f'scheduler = "{scheduler}"\n' if scheduler else ""), 1
    )
    path.write_text(text)


# --- what a task carries --------------------------------------------------------------------------------------------


def test_what_an_episode_task_carries_pickles_as_it_is(tmp_path):
    folder = show_of(tmp_path / "show", {"alpha": 3})
    (folder / "episodes" / "alpha.chapters.txt").write_text("00:00:00 Welcome\n00:00:01.500 Topic\n")
    settings = config_module.load(folder)
    setup = stages.Setup(config=settings, now=NOW)
    (recording,), _ = discover(settings)
    noted = stages.run(stages.Work(source=recording), setup, stages.NOTES)
    noted = stages.Work(**{**noted.__dict__, "guid": "0d1f5b3c-2f7e-4a8e-9d6b-3c1a2b3c4d5e"})
    done = executors.audio_work(noted, setup, lambda name, total: lambda seconds: None)
    assert done.item is not None and done.transcript is not None and done.item.chapters
    for value in (setup, noted, done, stages.result(done, settings)):
        again = pickle.loads(pickle.dumps(value))
        assert cache.encode(again) == cache.encode(value)
    errors = (
        ChapterError(folder / "x.md", 3, "starts after the end", "fix it"),
        TranscriptError(folder / "x.vtt", "overlaps", "", line=7),
        ExecutorError(None, "gone"),
    )
    for error in errors:
        again = pickle.loads(pickle.dumps(error))
        assert type(again) is type(error) and again.__dict__ == error.__dict__ and str(again) == str(error)


def test_a_build_on_threads_never_imports_dask(tmp_path):
    folder = show_of(tmp_path / "show", {"alpha": 2})
    script = "import sys\nfrom pipeline.cli import main\ncode = main(['build', '--show', sys.argv[1]])\nprint(code, sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')))"
    done = subprocess.run(
        [sys.executable, "-c", script, str(folder)], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.stdout.strip().splitlines()[-1] == "0 []", done.stdout + done.stderr


def test_the_executor_settings_are_checked_before_any_work(tmp_path, capsys):
    folder = show_of(tmp_path / "show", {"alpha": 2})
    use(folder, "dask")
    assert main(["build", "--show", str(folder)]) == 2
    err = capsys.readouterr().err
    assert 'executor = "dask" needs the address of a Dask scheduler' in err and 'scheduler = "tcp://host:8786"' in err
    toml = folder / config_module.CONFIG_NAME
    toml.write_text(toml.read_text().replace('executor = "dask"\n', ""))
    assert main(["build", "--show", str(folder), "--scheduler", "http://host"]) == 2
    assert "--scheduler 'http://host' is not allowed" in capsys.readouterr().err
    assert not (folder / "public").exists()


# --- a scheduler's address where no scheduler answers ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("talk", "said"),
    [
        (servers.silent, "gave no answer within 2 seconds"),  # takes the connection, never speaks
        (servers.garbage(), "does not answer as a Dask scheduler"),  # bytes that are not Dask's protocol
        (servers.garbage(b"\x01" + b"\x00" * 7 + b"\xff" * 8), "does not answer as a Dask scheduler"),  # a huge frame
        (servers.closes, "does not answer as a Dask scheduler"),
        (servers.resets, "does not answer as a Dask scheduler"),
        (servers.drip(0.3, headers={"Server": "not-dask"}), "does not answer as a Dask scheduler"),  # a web server
    ],
)
def test_a_scheduler_address_where_no_scheduler_answers_ends_the_build_with_its_fix(tmp_path, talk, said):
    pytest.importorskip(
        "distributed", reason="Dask distributed is not installed: `pip install -e '.[test]'` installs it"
    )
    folder = show_of(tmp_path / "show", {"alpha": 2})
    with servers.raw(talk) as server:
        use(folder, "dask", f"tcp://127.0.0.1:{server.port}")
        done = subprocess.run(
            [sys.executable, "-m", "pipeline.cli", "build", "--show", str(folder)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,  # bounds a hang; the build's own bound is Dask's connect timeout, set below
            env={**os.environ, "DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "2s"},
        )
    err = done.stderr
    assert done.returncode == 2, done.stdout + err
    assert f"panelpress.toml: [build] scheduler: the Dask scheduler at tcp://127.0.0.1:{server.port} {said}" in err
    assert "— set [build] scheduler in panelpress.toml (or --scheduler) to the address `dask scheduler` prints" in err
    assert "Traceback" not in err + done.stdout
    assert not (folder / "public" / layout.FEED_FILE).exists()


# --- on a real cluster ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cluster():
    """One LocalCluster for the module: two single-threaded worker processes, as `dask worker --nthreads 1` starts."""
    distributed = pytest.importorskip(
        "distributed", reason="Dask distributed is not installed: `pip install -e '.[test]'` installs it"
    )
    with (
        distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as local,
        distributed.Client(local, set_as_default=False) as client,
    ):
        yield local, client


def _two_workers(client) -> None:
    # A nanny starts a killed worker again; on a loaded machine that takes a while: the timeout only bounds a failure.
    client.wait_for_workers(2, timeout=600)


def test_a_show_built_on_dask_is_the_same_site_to_the_byte(cluster, tmp_path):
    local, _client = cluster
    threads = show_of(tmp_path / "threads", {"alpha": 4, "beta": 3, "gamma": 3})
    for seed, who in enumerate(("ann", "bo"), start=7):  # and a panel of one track per speaker: mixed on a worker
        make_audio(
            threads / "episodes" / "panel" / f"{who}.wav",
            seconds=4,
            channels=1,
            rate=48000,
            source=SPEECH.format(seed=seed),
        )
    write_notes(threads, "panel", "title: Episode 4\ndate: 2026-01-04\npanelists: [Ann, Bo]")
    first = run_build(config_module.load(threads), now=NOW)
    assert first.ok and {item.episode.slug for item in first.published if item.mix is not None} == {"panel"}
    # The same show (its ledger: the same GUIDs), with neither site nor cache, built on the cluster.
    on_dask = Path(
        shutil.copytree(threads, tmp_path / "dask", ignore=shutil.ignore_patterns("public", ".panelpress-cache"))
    )
    use(on_dask, "dask", local.scheduler_address)
    opened: list[str] = []

    class Bars:
        def task(self, label, total):
            opened.append(label)
            return lambda done: None

        def finish(self, label):
            pass

        def note(self, message):
            pass

    result = run_build(config_module.load(on_dask), Bars(), now=NOW)
    assert result.ok and len(result.published) == 4
    assert site(on_dask / "public") == site(threads / "public")
    assert {"alpha · measure", "beta · encode", "gamma · encode", "panel · mix tracks"} <= set(opened), (
        "the workers' passes reach the bars"
    )
    with _watching() as seen:
        assert run_build(config_module.load(on_dask), now=NOW).ok  # nothing to do: the cluster is not even asked
    assert seen == [], "no program started, no connection made"


def _executing(dask_worker) -> list[str]:
    return [str(task.key) for task in dask_worker.state.executing]


def test_a_worker_killed_mid_episode_costs_that_episode_a_retry_never_the_others(cluster, tmp_path):
    local, client = cluster
    _two_workers(client)
    folder = show_of(
        tmp_path / "show",
        {"victim": 90, "beta": 3, "gamma": 3},
        extra_build=f'executor = "dask"\nscheduler = "{local.scheduler_address}"',
    )
    results = []
    passing = threading.Event()  # the victim's worker said a pass of its audio work began: it is in its ffmpeg

    class Bars:
        def task(self, label, total):
            if label.startswith("victim · "):
                passing.set()
            return lambda done: None

        def finish(self, label):
            pass

        def note(self, message):
            pass

    builder = threading.Thread(target=lambda: results.append(run_build(config_module.load(folder), Bars(), now=NOW)))
    builder.start()
    assert passing.wait(timeout=300), "the episode's audio work began on a worker"
    running = client.run(_executing)
    victim = next((worker for worker, keys in running.items() if any(key.endswith("-victim") for key in keys)), None)
    assert victim is not None, "the episode runs on a worker"
    pid = client.run(os.getpid, workers=[victim])[victim]
    os.kill(pid, signal.SIGKILL)
    builder.join(timeout=600)
    (result,) = results
    published = {item.episode.slug for item in result.published}
    assert {"beta", "gamma"} <= published
    failed = {failure.slug: failure.error for failure in result.failures}
    assert "victim" in published or isinstance(failed.get("victim"), ExecutorError), failed
    assert set(failed) <= {"victim"}
    feed = (folder / "public" / layout.FEED_FILE).read_text()
    assert "Episode 2" in feed and "Episode 3" in feed
    _two_workers(client)  # the nanny starts the killed worker again


def test_ctrl_c_stops_the_clusters_work_and_publishes_nothing(cluster, tmp_path):
    local, client = cluster
    _two_workers(client)
    folder = show_of(tmp_path / "show", {"one": 60, "two": 60, "three": 60})
    command = [
        sys.executable,
        "-m",
        "pipeline.cli",
        "build",
        "--show",
        str(folder),
        "--scheduler",
        local.scheduler_address,
    ]
    build = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    while not any(client.run(_executing).values()) and build.poll() is None:
        time.sleep(0.05)
    build.send_signal(signal.SIGINT)  # the build alone: a remote worker's ffmpeg never gets the terminal's signal
    _, err = build.communicate(timeout=120)
    assert build.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    assert not (folder / "public" / layout.FEED_FILE).exists()
    deadline = time.monotonic() + 120
    while any(client.processing().values()) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(client.processing().values()), "queued episodes were cancelled, running ones stopped"
    masters = list((config_module.load(folder).cache_dir / "master").glob("*.mp3"))
    assert len(masters) < 3, "the episode that was waiting never started"


@pytest.mark.skipif(
    os.geteuid() != 0, reason="the workers give up their access to the show by becoming another user, which takes root"
)
def test_a_worker_that_cannot_see_the_show_is_named_with_the_fix(cluster, tmp_path, capsys):
    local, client = cluster
    _two_workers(client)
    folder = show_of(tmp_path / "show", {"alpha": 2})
    folder.chmod(0o700)  # the show folder is this user's alone
    client.run(_become_nobody)  # as a worker on a machine without the show's filesystem would be
    try:
        assert main(["build", "--show", str(folder), "--scheduler", local.scheduler_address]) == 2
    finally:
        # The nannies start the workers again, as this user; the next test that needs two waits for them.
        client.restart(timeout=600, wait_for_workers=False)
    err = capsys.readouterr().err
    assert "the Dask worker tcp://" in err and "alpha.wav" in err and "cannot read it" in err
    assert "at the same paths on every Dask worker (a shared filesystem)" in err
    assert not (folder / "public" / layout.FEED_FILE).exists() and not (folder / "public" / "media").exists()


def _become_nobody() -> None:
    os.setgid(65534)
    os.setuid(65534)


class _watching:
    """Every program this process starts and every connection it opens while the block runs (Python's audit hooks:
    real events of the process, no stand-in)."""

    def __enter__(self) -> list[str]:
        self.started: list[str] = []
        _WATCHERS.append(self.started)
        return self.started

    def __exit__(self, *exc) -> None:
        _WATCHERS.remove(self.started)


_WATCHERS: list[list[str]] = []
sys.addaudithook(
    lambda event, args: (
        [seen.append(f"{event} {args[-1] if event == 'socket.connect' else args[0]}") for seen in _WATCHERS]
        if event in ("subprocess.Popen", "socket.connect")
        else None
    )
)


def test_a_real_scheduler_is_greeted_from_a_thread_that_runs_an_event_loop(cluster):
    """The greeting is read on a thread of its own: a caller running an event loop (a notebook, Playwright's sync API
    in the same process) reaches the scheduler all the same, and a silent address is still said in words."""
    local, _client = cluster

    async def greeted_inside_a_loop() -> tuple[str, str]:
        with socket.create_server(("127.0.0.1", 0)) as silent:  # takes the connection, never speaks
            return executors._knock(local.scheduler_address, 20), executors._knock(
                f"tcp://127.0.0.1:{silent.getsockname()[1]}", 1
            )

    with ThreadPoolExecutor(max_workers=1) as alone:  # a loop of the test's own (this thread may run one already)
        real, silent = alone.submit(asyncio.run, greeted_inside_a_loop()).result()
    assert real == "", real
    assert "gave no answer within 1 seconds" in silent, silent
