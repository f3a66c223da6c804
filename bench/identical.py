"""Byte-identical sites across a refactor, and what a host's first build after upgrading re-does.

Builds two shows with the code of an earlier revision (`--before`, default: the last commit before the wings) and
with this tree, and compares every file of the sites (and of the blog) byte for byte:

- the example show of this repository (the demo: its explicit panel, a host's transcript, the clean edition and
  the clean feed);
- a show that uses every other feature: a panel recorded one track per speaker (espeak-ng voices when installed),
  transcripts made offline, Opus editions, chapters, artwork, a clean edition of an explicit episode, posts of a
  Hugo blog and a paged feed (12 episodes, 10 to a page).

Each show is built first by the earlier code; a second copy of its sources, given the ledger that build wrote (so
GUIDs and dates are the same), is then built by this tree from an empty cache: every byte must match. Then this tree builds
the first copy again, over the earlier code's cache, as a host's first build after upgrading does: it must publish
nothing new and master nothing again; its time and what it re-did are printed.

    python bench/identical.py [--before REV] [--keep DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.conftest import SPEECH, make_audio, write_notes, write_show
from tests.panel import espeak, make_panel
from tests.sites import demo_show, picture

BEFORE = "fffc843"  # main before issue 21 moved the package into wings
NOW = "2026-12-01T12:00:00+00:00"  # every build runs "now" at this moment: a scheduled date never moves under it
RUN = """
import sys
from datetime import datetime
sys.path.insert(0, sys.argv[1])
from pipeline import build as build_module, config
result = build_module.build(config.load(sys.argv[2]), now=datetime.fromisoformat(sys.argv[3]), notify=False)
print(f"{len(result.published)} episodes made, {len(result.unchanged)} unchanged, {len(result.failures)} failed, {len(result.withheld)} files held back")
"""


def full_show(folder: Path) -> Path:
    """A show that uses the features the demo does not: tracks, made transcripts, Opus, a Hugo blog, a paged feed."""
    blog = folder / "blog"
    (blog / "content" / "posts").mkdir(parents=True)
    (blog / "hugo.toml").write_text('baseURL = "https://blog.example.com/"\ntitle = "A blog"\n')
    write_show(
        folder,
        normalize=True,
        extra_show='artwork = "cover.png"\ncopyright = "© 2026 Test Panel"',
        extra_audio="opus = true",
    )
    toml = folder / "panelpress.toml"
    text = toml.read_text().replace("https://pod.example.com/show/", "https://blog.example.com/podcast/")
    text += '\n[blog]\nengine = "hugo"\npath = "blog"\n\n[feed]\nitems = 10\n\n[transcripts]\nmake = true\n\n[clean]\nedition = true\n'
    toml.write_text(text)
    picture(folder / "cover.png", 1400, "#27304a")
    for n in range(1, 12):
        recording = folder / "episodes" / f"short-{n:02d}.wav"
        said = "What the fuck happened to the budget?" if n == 2 else "Today we talk about budgets and teams."
        if espeak() and n <= 3:  # a few spoken ones: their made transcripts hold words (and the second, strong ones)
            subprocess.run([espeak(), "-w", str(recording), f"Welcome to short episode {n}. {said}"], check=True)
        else:
            make_audio(recording, seconds=3, source=SPEECH.format(seed=n))
        if n == 2:  # the host's transcript: the clean edition silences what it names
            (folder / "episodes" / "short-02.vtt").write_text(
                f"WEBVTT\n\n00:00:00.000 --> 00:00:04.500\nWelcome to short episode 2. {said}\n"
            )
        chapters = (
            "chapters:\n  - start: 0\n    title: Opening\n  - start: 1.5\n    title: The point\n" if n % 3 == 0 else ""
        )
        explicit = "explicit: true\n" if n == 2 else ""  # with [clean] edition: a clean edition and a clean feed
        write_notes(
            folder,
            f"short-{n:02d}",
            f"title: Short {n}\ndate: 2026-03-{n:02d}\n{explicit}{chapters}",
            f"Episode {n}, in **Markdown**.",
        )
    panel = folder / "episodes" / "roundtable"
    if espeak():
        made = make_panel(folder / "voices", seconds=24, speakers=2, room=False, seed=3)
        panel.mkdir(parents=True)
        for who, path in made.tracks.items():
            shutil.copy(path, panel / f"{who.split()[0].lower()}.wav")
        shutil.rmtree(folder / "voices")
        names = list(made.tracks)
    else:  # noise for voices: the mix and the transcripts still run
        names = ["Dana Whitfield", "Sam Okafor"]
        for seed, who in enumerate(names, start=7):
            make_audio(panel / f"{who.split()[0].lower()}.wav", seconds=24, channels=1, source=SPEECH.format(seed=seed))
    people = "".join(f"  - {who}\n" for who in names)
    write_notes(
        folder,
        "roundtable",
        f"title: The roundtable\ndate: 2026-04-01\npanelists:\n{people}",
        "Two voices, two tracks.",
    )
    return folder


def checkout(rev: str, into: Path) -> Path:
    """The package as it was at `rev` (git archive: no work tree of this repository is touched)."""
    into.mkdir(parents=True, exist_ok=True)
    archive = into / "code.tar"
    with archive.open("wb") as handle:
        subprocess.run(["git", "-C", str(ROOT), "archive", rev, "pipeline"], stdout=handle, check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="data")
    archive.unlink()
    return into


def build(code: Path, show: Path) -> tuple[float, str]:
    """One build of `show` with the package in `code`: its wall time and what it made."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", RUN, str(code), str(show), NOW],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    if done.returncode != 0:
        raise SystemExit(f"the build of {show} failed:\n{done.stderr[-3000:]}")
    return time.perf_counter() - started, done.stdout.strip().splitlines()[-1]


def files(folder: Path) -> dict[str, str]:
    """Every file of a site (or blog) folder by checksum, panelpress's manifest aside (it holds file times)."""
    found = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.name != ".panelpress-manifest.json" and ".panelpress-cache" not in path.parts:
            found[path.relative_to(folder).as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def published(show: Path) -> dict[str, str]:
    """The site (and blog) a show published, and its ledger."""
    site = show / "blog" if (show / "blog").is_dir() else show / "public"
    return {**files(site), "ledger": hashlib.sha256((show / "panelpress-ledger.json").read_bytes()).hexdigest()}


def cache_files(show: Path) -> dict[str, int]:
    """The audio the cache holds, by kind: what an upgrade must not make again."""
    cache = show / ".panelpress-cache"
    return {
        kind: sum(1 for p in (cache / kind).rglob("*") if p.is_file()) if (cache / kind).is_dir() else 0
        for kind in ("master", "mix", "tagged", "clean", "opus", "transcripts", "align")
    }


def compare(name: str, make, before: Path, after: Path, work: Path) -> dict:
    old_show = make(work / f"{name}-before")
    old_time, old_made = build(before, old_show)
    new_show = make(
        work / f"{name}-after"
    )  # the same sources, and the ledger the earlier build wrote: no cache, no site
    shutil.copy(old_show / "panelpress-ledger.json", new_show / "panelpress-ledger.json")
    new_time, new_made = build(after, new_show)
    a, b = published(old_show), published(new_show)
    differ = sorted(rel for rel in a.keys() | b.keys() if a.get(rel) != b.get(rel))
    cached_before = cache_files(old_show)
    upgrade_time, upgrade_made = build(after, old_show)
    return {
        "show": name,
        "files": len(a),
        "differ": differ,
        "before_build": old_time,
        "after_build": new_time,
        "before_made": old_made,
        "after_made": new_made,
        "upgrade_build": upgrade_time,
        "upgrade_made": upgrade_made,
        "upgrade_same_site": published(old_show) == a,
        "cache_before": cached_before,
        "cache_after": cache_files(old_show),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", default=BEFORE, help=f"the revision to compare with (default {BEFORE})")
    parser.add_argument("--keep", type=Path, help="build in this folder and keep it (default: a temporary one)")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="panelpress-identical-"))
    work.mkdir(parents=True, exist_ok=True)
    before = checkout(args.before, work / "before-code")
    ok = True
    try:
        for name, make in (("demo", demo_show), ("every-feature", full_show)):
            result = compare(name, make, before, ROOT, work)
            same = not result["differ"]
            ok &= same and result["upgrade_same_site"] and result["cache_before"] == result["cache_after"]
            print(
                f"{name}: {result['files']} files, {'byte-identical' if same else 'DIFFERENT: ' + ', '.join(result['differ'])}"
            )
            print(f"  built by {args.before} in {result['before_build']:.1f} s: {result['before_made']}")
            print(f"  built by this tree from an empty cache in {result['after_build']:.1f} s: {result['after_made']}")
            print(
                f"  upgrade (this tree over {args.before}'s cache): {result['upgrade_build']:.1f} s, {result['upgrade_made']}"
            )
            print(
                f"    site unchanged: {result['upgrade_same_site']}; cached audio before {json.dumps(result['cache_before'])}, after {json.dumps(result['cache_after'])}"
            )
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print("identical" if ok else "NOT identical")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
