"""Benchmark: word error rate, CPU per hour of audio and peak memory of every transcription engine panelpress offers.

Real human speech, with reference transcripts, fetched from the package registries into bench/out/speech/ on first
use (nothing is committed; a source that cannot be fetched, offline, is skipped and said so):

    conversation   pyannote.audio 4.0.7's wheel (PyPI, MIT): pyannote/audio/sample/sample.wav and its .stm reference,
                   30 s of two people on the telephone
    two cities     moonshine-voice 0.1.5's wheel (PyPI, MIT): moonshine_voice/assets/two_cities.wav, 44 s of a
                   LibriVox (public domain) reading of the opening of A Tale of Two Cities; the reference is
                   Dickens's text (public domain), below
    austen         Debian's pocketsphinx-testdata (BSD-2): five LibriVox utterances of Sense and Sensibility, 25 s,
                   with their `transcription`

and a generated panel (bench/panel.py, "realistic": four espeak-ng voices over room noise, with cross-talk and
interjections; its reference is the script, every turn in order of its start).

Each engine runs in a process of its own (so its peak memory is its own) through panelpress's own code
(`transcribe.recognise`: ffmpeg decoding, the engine, its settings). WER: (substitutions + deletions + insertions) /
reference words, after lower case with punctuation aside (hyphens are spaces, "mr." is "mr"). CPU: the process's and
its ffmpeg's, per hour of audio, the model's loading included. Engines: whisper with the model that ships with
panelpress (tiny.en), pocketsphinx, and every `--model NAME=FOLDER` given (a CTranslate2 Whisper model folder).

    .venv/bin/python bench/transcribe.py                          # real speech and a 5-minute panel
    .venv/bin/python bench/transcribe.py --panel 0 --model base=/path/to/whisper-base
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline import config as config_module
from pipeline.audio.ffmpeg import ffmpeg

SPEECH = ROOT / "bench" / "out" / "speech"
TWO_CITIES = (
    "It was the best of times, it was the worst of times, it was the age of wisdom, it was the age of foolishness, it "
    "was the epoch of belief, it was the epoch of incredulity, it was the season of Light, it was the season of "
    "Darkness, it was the spring of hope, it was the winter of despair, we had everything before us, we had nothing "
    "before us, we were all going direct to Heaven, we were all going direct the other way--in short, the period was "
    "so far like the present period, that some of its noisiest authorities insisted on its being received, for good "
    "or for evil, in the superlative degree of comparison only."
)
WHEELS = {  # (distribution==version, file inside its wheel)
    "conversation": ("pyannote.audio==4.0.7", "pyannote/audio/sample/sample"),
    "two-cities": ("moonshine-voice==0.1.5", "moonshine_voice/assets/two_cities.wav"),
}


@dataclasses.dataclass(frozen=True)
class Clip:
    """A recording of real or generated speech (16 kHz mono WAV) and what was said."""

    name: str
    kind: str  # conversation | read | panel
    path: Path
    reference: str


def _wav(source: Path, target: Path) -> None:
    """Any recording as the 16 kHz mono WAV both engines hear."""
    subprocess.run(
        [ffmpeg(), "-nostdin", "-v", "error", "-i", str(source), "-ac", "1", "-ar", "16000", "-y", str(target)],
        check=True,
    )


def _from_wheel(requirement: str, folder: Path) -> zipfile.ZipFile | None:
    """A package's wheel, downloaded with pip (no dependencies) into the cache folder; None when it cannot be had."""
    name = requirement.split("==")[0].replace("-", "_").replace(".", "_").lower()
    found = [p for p in folder.glob("*.whl") if p.name.lower().startswith(name + "-")]
    if not found:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--quiet",
                "--no-deps",
                "--only-binary=:all:",
                "-d",
                str(folder),
                requirement,
            ],
            capture_output=True,
            text=True,
        )
        found = [p for p in folder.glob("*.whl") if p.name.lower().startswith(name + "-")]
        if done.returncode or not found:
            print(f"skipped {requirement}: pip could not download it ({done.stderr.strip().splitlines()[-1:]})")
            return None
    return zipfile.ZipFile(found[0])


def real_speech() -> list[Clip]:
    """The real-speech clips, fetched and converted once."""
    SPEECH.mkdir(parents=True, exist_ok=True)
    wheels = SPEECH / "wheels"
    wheels.mkdir(exist_ok=True)
    clips = []
    conversation = SPEECH / "conversation.wav"
    if not conversation.is_file() and (wheel := _from_wheel(WHEELS["conversation"][0], wheels)) is not None:
        inner = WHEELS["conversation"][1]
        (SPEECH / "conversation.stm").write_bytes(wheel.read(inner + ".stm"))
        (SPEECH / "conversation.source.wav").write_bytes(wheel.read(inner + ".wav"))
        _wav(SPEECH / "conversation.source.wav", conversation)
    if conversation.is_file():
        stm = (SPEECH / "conversation.stm").read_text()
        said = " ".join(" ".join(line.split()[5:]) for line in stm.splitlines() if line.strip())
        clips.append(Clip("conversation (pyannote sample)", "conversation", conversation, said))
    cities = SPEECH / "two-cities.wav"
    if not cities.is_file() and (wheel := _from_wheel(WHEELS["two-cities"][0], wheels)) is not None:
        (SPEECH / "two-cities.source.wav").write_bytes(wheel.read(WHEELS["two-cities"][1]))
        _wav(SPEECH / "two-cities.source.wav", cities)
    if cities.is_file():
        clips.append(Clip("two cities (LibriVox)", "read", cities, TWO_CITIES))
    clips += _austen()
    return clips


def _austen() -> list[Clip]:
    """Debian's pocketsphinx-testdata: LibriVox utterances and their transcription (apt-get download, dpkg-deb -x)."""
    folder = SPEECH / "austen"
    data = folder / "usr/share/pocketsphinx/test/data/librivox"
    if not (data / "transcription").is_file():
        folder.mkdir(parents=True, exist_ok=True)
        got = subprocess.run(
            ["apt-get", "download", "pocketsphinx-testdata"], cwd=folder, capture_output=True, text=True
        )
        debs = sorted(folder.glob("pocketsphinx-testdata_*.deb"))
        if got.returncode or not debs:
            print(
                f"skipped Debian's pocketsphinx-testdata: apt-get could not download it ({got.stderr.strip()[-200:]})"
            )
            return []
        subprocess.run(["dpkg-deb", "-x", str(debs[-1]), str(folder)], check=True)
    clips = []
    for line in (data / "transcription").read_text().splitlines():
        match = re.match(r"<s> (.*) </s> \((.*)\)", line.strip())
        if match:
            text, name = match.groups()
            wav = folder / f"{name}.16k.wav"
            if not wav.is_file():
                _wav(data / f"{name}.wav", wav)
            clips.append(Clip(f"austen {name.rsplit('-', 1)[1]} (LibriVox)", "read", wav, text))
    return clips


def panel(minutes: float, seed: int = 1) -> Clip:
    """A generated realistic panel (bench/panel.py) and its script."""
    sys.path.insert(0, str(ROOT / "bench"))
    import panel as generator

    made = generator.make("realistic", minutes, seed)
    wav = made.with_suffix(".16k.wav")
    if not wav.is_file():
        _wav(made, wav)
    clips = sorted((c for c in generator.script(minutes * 60, seed) if c.kind == "speech"), key=lambda clip: clip.start)
    return Clip(f"generated panel, {minutes:g} min (espeak-ng)", "panel", wav, " ".join(c.text for c in clips))


def words(text: str) -> list[str]:
    """Text as the words WER counts: lower case, punctuation aside, hyphens and dashes as spaces."""
    text = re.sub(r"[-‐–—]+", " ", text.lower().replace("’", "'"))
    return re.sub(r"[^\w' ]+", " ", text).replace(" '", " ").replace("' ", " ").split()


def errors(reference: list[str], hypothesis: list[str]) -> int:
    """Substitutions + deletions + insertions turning the reference into the hypothesis (edit distance in words)."""
    row = list(range(len(hypothesis) + 1))
    for i, said in enumerate(reference, start=1):
        diagonal, row[0] = row[0], i
        for j, heard in enumerate(hypothesis, start=1):
            diagonal, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, diagonal + (said != heard))
    return row[-1]


def _cpu() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def run_engine(engine: str, model: str, clips: list[dict]) -> dict:
    """One engine over every clip, in this process: what it heard, its CPU and wall time, this process's peak memory."""
    from pipeline.episode import transcribe

    with tempfile.TemporaryDirectory(prefix="transcribe-bench-") as folder:
        show = Path(folder)
        (show / config_module.CONFIG_NAME).write_text(
            '[show]\ntitle = "Bench"\ndescription = "A benchmark."\nauthor = "Bench"\nowner_email = "bench@example.com"\n'
            'site_url = "https://pod.example.com/show/"\ncategory = "Technology"\nlanguage = "en"\n\n'
            f"[transcripts]\nengine = {json.dumps(engine)}\nmodel = {json.dumps(model)}\n"
        )
        config = config_module.load(show)
        heard = []
        cpu, wall = _cpu(), time.perf_counter()
        for clip in clips:
            made = transcribe.recognise(config, Path(clip["path"]), f"bench-{clip['path']}", clip["seconds"])
            heard.append(" ".join(word.text for word in made.words))
        return {
            "engine": made.engine,
            "heard": heard,
            "cpu": _cpu() - cpu,
            "wall": time.perf_counter() - wall,
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        }


def _seconds(path: Path) -> float:
    import wave

    with wave.open(str(path)) as w:
        return w.getnframes() / w.getframerate()


def measure(name: str, engine: str, model: str, clips: list[Clip]) -> dict:
    """One engine in a process of its own, over the clips: WER by kind of speech, CPU per hour, peak memory."""
    given = [{"path": str(c.path), "seconds": _seconds(c.path)} for c in clips]
    done = subprocess.run(
        [sys.executable, __file__, "--run", engine, model],
        input=json.dumps(given),
        capture_output=True,
        text=True,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    if done.returncode:
        raise SystemExit(f"{name} failed:\n{done.stderr}")
    result = json.loads(done.stdout)
    rows = {}
    for clip, heard in zip(clips, result["heard"]):
        said = words(clip.reference)
        row = rows.setdefault(clip.kind, [0, 0, 0.0])
        row[0] += errors(said, words(heard))
        row[1] += len(said)
        row[2] += _seconds(clip.path)
    audio = sum(g["seconds"] for g in given)
    return {
        "name": name,
        "engine": result["engine"],
        "wer": {kind: (e / max(1, n) * 100, n, s) for kind, (e, n, s) in rows.items()},
        "cpu_min_per_hour": result["cpu"] / audio * 60,
        "wall_min_per_hour": result["wall"] / audio * 60,
        "peak_mb": result["peak_mb"],
        "heard": result["heard"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--panel", type=float, default=5, metavar="MIN", help="minutes of generated panel (0: none)")
    parser.add_argument(
        "--model", action="append", default=[], metavar="NAME=FOLDER", help="a Whisper model folder to measure too"
    )
    parser.add_argument("--show", action="store_true", help="print what each engine heard")
    parser.add_argument("--run", nargs=2, help=argparse.SUPPRESS)  # the child process: engine, model
    args = parser.parse_args()
    if args.run:
        print(json.dumps(run_engine(args.run[0], args.run[1], json.loads(sys.stdin.read()))))
        return
    clips = real_speech()
    if args.panel:
        if shutil.which("espeak-ng") is None:
            print("skipped the generated panel: espeak-ng is not installed (apt-get install espeak-ng)")
        else:
            clips.append(panel(args.panel))
    if not clips:
        sys.exit("no speech to measure: every source was skipped (offline?)")
    packaged = config_module.PACKAGED_MODEL
    engines = [(f"whisper {packaged.name} (the default)", "whisper", ""), ("pocketsphinx", "pocketsphinx", "")]
    engines += [(f"whisper {n}", "whisper", str(Path(f).resolve())) for n, f in (m.split("=", 1) for m in args.model)]
    kinds = sorted({c.kind for c in clips}, key=["conversation", "read", "panel"].index)
    for kind in kinds:
        found = [c for c in clips if c.kind == kind]
        print(f"{kind}: {', '.join(c.name for c in found)}; {sum(_seconds(c.path) for c in found):.0f} s")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    header = " | ".join(f"WER {kind}" for kind in kinds)
    print(f"\n| engine | {header} | CPU min per audio hour | wall min per audio hour | peak memory |")
    print("|---|" + "---|" * (len(kinds) + 3))
    for name, engine, model in engines:
        r = measure(name, engine, model, clips)
        cells = " | ".join(f"{r['wer'][k][0]:.1f} % of {r['wer'][k][1]} words" for k in kinds)
        print(
            f"| {name} | {cells} | {r['cpu_min_per_hour']:.1f} | {r['wall_min_per_hour']:.1f} | {r['peak_mb']:.0f} MB |",
            flush=True,
        )
        if args.show:
            for clip, heard in zip(clips, r["heard"]):
                print(f"    {clip.name}: {heard[:400]}")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; engine: {r['engine']}")


if __name__ == "__main__":
    main()
