"""Benchmark: what editing one episode's title costs, this tree against an earlier revision, on the same show.

Takes a show built by `bench/scale.py --keep` (bench/out/scale/show-N), copies it once per version (each keeps its
own cache: a version's cache is not another's), lets each version build it once (its records made from the cached
audio), then alternates: each version edits the first episode's title and builds, `--runs` times, and again, so
that both meet the same load. Prints, per round and version, the median and the least CPU time of the command's
whole process tree (its own and its children's, from getrusage) and of wall time, and the load average. The CLI
runs as a host's install runs it, its bytecode kept (as bench/scale.py runs it).

    .venv/bin/python bench/scale.py --sizes 200 1000 --gb --keep    # the shows, once
    .venv/bin/python bench/edit.py bench/out/scale/show-1000 --before cb97907
    .venv/bin/python bench/edit.py bench/out/scale/show-200 --before cb97907 --noop   # no-op builds instead
    .venv/bin/python bench/edit.py bench/out/scale/show-1000 --where   # where one edit's CPU time goes, this tree
"""

from __future__ import annotations

import argparse
import io
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TITLE = re.compile(r"^title: '(Panel 0)[^:]*:", re.MULTILINE)


def checkout(rev: str, into: Path) -> Path:
    """The tree of revision `rev` (git archive), without its history."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev], capture_output=True, check=True).stdout
    into.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into


def build(code: Path, show: Path, pycache: Path) -> tuple[float, float]:
    """`panelpress build` of `code` on `show`: its CPU time (the process tree's) and wall time."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    env.update(PYTHONPATH=str(code), PYTHONPYCACHEPREFIX=str(pycache))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "build", "--show", str(show)],
        cwd=code,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, wall


def retitle(show: Path, tag: str) -> None:
    notes = show / "show_notes" / "episode-0000.md"
    text, found = TITLE.subn(rf"title: '\1 (take {tag}):", notes.read_text(encoding="utf-8"), count=1)
    if not found:
        raise SystemExit(f"{notes}: no title of bench/scale.py's shape to edit")
    notes.write_text(text, encoding="utf-8")


# The build's parts timed by `--where` (module, function): CPU of each call, the calls of one counted together.
PARTS = [
    ("pipeline.build", "discover"),
    ("pipeline.build", "_Build._cached"),
    ("pipeline.cache", "Store.state"),
    ("pipeline.cache", "Store.result"),
    ("pipeline.cache", "Store.summary"),
    ("pipeline.build", "gather"),
    ("pipeline.build", "_Build._feed_items"),
    ("pipeline.show.guard", "published_items"),
    ("pipeline.build", "_Build._map"),
    ("pipeline.show.assemble", "assemble"),
    ("pipeline.show.pages", "episode_page"),
    ("pipeline.show.pages", "index_page"),
    ("pipeline.build", "_Build._publish"),
    ("pipeline.targets.folder", "Folder.check"),
    ("pipeline.targets.folder", "Folder.apply"),
    ("pipeline.show.ledger", "save"),
    ("pipeline.cache", "Store.save"),
    ("pipeline.build", "_Build._make"),
    ("pipeline.build", "_Build._keep_feed_items"),
    ("pipeline.episode.explicit", "Lexicon.__init__"),
]


def where(show: Path) -> None:
    """One edit of this tree's CLI run in this process, its parts' CPU time printed (imports: what is left)."""
    import functools
    import importlib

    sys.path.insert(0, str(ROOT))
    retitle(show, f"where {time.time_ns()}")
    start = time.process_time()
    from pipeline import cli

    spent: dict[str, list[float]] = {}
    for module, name in PARTS:
        owner = importlib.import_module(module)
        *path, last = name.split(".")
        for part in path:
            owner = getattr(owner, part)
        function = getattr(owner, last)

        def timed(*args, _function=function, _name=f"{module}.{name}", **kwargs):
            began = time.process_time()
            try:
                return _function(*args, **kwargs)
            finally:
                spent.setdefault(_name, []).append(time.process_time() - began)

        setattr(owner, last, functools.wraps(function)(timed))
    imported = time.process_time() - start
    code = cli.main(["build", "--show", str(show)])
    total = time.process_time() - start
    print(f"one edit: {total:.3f} CPU s in this process (exit {code}); importing the CLI and the parts: {imported:.3f}")
    for name, times in sorted(spent.items(), key=lambda pair: -sum(pair[1])):
        print(f"  {sum(times):6.3f} s  {len(times):5d}×  {name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("show", type=Path, help="a show built by bench/scale.py --keep")
    parser.add_argument("--before", default="HEAD", help="the earlier revision (default: HEAD, the last commit)")
    parser.add_argument("--runs", type=int, default=5, help="edits per version and round (default: 5)")
    parser.add_argument("--rounds", type=int, default=2, help="rounds, the versions alternating (default: 2)")
    parser.add_argument("--noop", action="store_true", help="time builds with nothing to do instead of edits")
    parser.add_argument("--where", action="store_true", help="where one edit's CPU time goes (this tree, in-process)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="panelpress-edit-"))
    try:
        if args.where:
            shutil.copytree(args.show, work / "show", symlinks=True)
            build(ROOT, work / "show", work / "pycache")  # its records, from the cached audio
            where(work / "show")
            return
        versions = {args.before: checkout(args.before, work / "before"), "this tree": ROOT}
        shows = {}
        for n, (name, code) in enumerate(versions.items()):
            shows[name] = work / f"show-{n}"
            shutil.copytree(args.show, shows[name], symlinks=True)
            build(code, shows[name], work / f"pycache-{n}")  # its records, from the cached audio; its bytecode
        for round_ in range(1, args.rounds + 1):
            for n, (name, code) in enumerate(versions.items()):
                cpus, walls = [], []
                for run in range(args.runs):
                    if not args.noop:
                        retitle(shows[name], f"{round_}.{run}")
                    cpu, wall = build(code, shows[name], work / f"pycache-{n}")
                    cpus.append(cpu)
                    walls.append(wall)
                print(
                    f"round {round_}, {name:>10}: {'no-op' if args.noop else 'edit'} CPU median "
                    f"{statistics.median(cpus):.3f} s (least {min(cpus):.3f}), wall median "
                    f"{statistics.median(walls):.3f} s (least {min(walls):.3f}); load average {os.getloadavg()[0]:.2f}",
                    flush=True,
                )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
