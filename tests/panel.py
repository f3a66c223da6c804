"""A panel as it is recorded, made for the tests and the benchmark: one track per speaker with the others' voices
bled in (a few milliseconds late, 15-20 dB down), pink noise on every track, and a room track that hears everyone
and an audience question. The voices are espeak-ng's; the tracks are written block by block, so a three-hour panel
is never held in memory. The script of who speaks when is returned with the tracks: it is the truth the mix's
speaker turns are measured against.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import wave
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pipeline.audio.ffmpeg import ffmpeg

# name, espeak-ng voice, pitch, level (dB): levels 6-10 dB apart, as a loud host and quieter guests are.
VOICES = (
    ("Dana Whitfield", "en-gb+f3", 70, 0.0),
    ("Sam Okafor", "en-us+m3", 30, -8.0),
    ("Priya Raman", "en-us+f4", 55, -4.0),
    ("Lee Chen", "en-gb+m7", 40, -10.0),
)
AUDIENCE = ("en-us+m2", 45)
LINES = (
    "Welcome back to the panel. Today we ask what separates managing from leading.",
    "I think management is about the work, the plans, the budgets and the deadlines.",
    "And leadership is about the people. You can hit every deadline and lead nobody.",
    "Let me push back on that. A good manager has to lead, or the plan falls apart.",
    "Sure, but the skills are different. One is a system, the other is trust.",
    "Trust takes years to build and one bad quarter to lose.",
    "What would you tell someone who was just promoted to run their old team?",
    "Stop doing the work yourself. Your job is now to make the team better at it.",
)
SHORT = ("Right.", "Exactly.", "Yes, absolutely.", "Hmm, maybe.")
QUESTIONS = ("I have a question for the panel. How do you lead people who are older than you?",)
SPEECH_RMS_DB = -20.0  # a 0 dB voice, as recorded on its own track (dBFS)


def espeak() -> str | None:
    """The espeak-ng program, or None when it is not installed."""
    return shutil.which("espeak-ng")


@dataclass(frozen=True)
class Panel:
    """The tracks of one generated panel and the truth about it."""

    tracks: dict[str, Path]  # panelist name (or "room") → its file
    speech: tuple[tuple[float, float, str], ...]  # (start, end, who) on the true timeline; who may be "audience"
    seconds: float
    rate: int
    levels: dict[str, float] = field(default_factory=dict)  # dB, as recorded
    offsets: dict[str, float] = field(default_factory=dict)  # seconds each track's recorder started late

    def alone(self, who: str, margin: float = 0.15) -> list[tuple[float, float]]:
        """Spans where `who` speaks and nobody else does (trimmed by `margin` at each end)."""
        spans = []
        for start, end, name in self.speech:
            if name != who:
                continue
            cuts = sorted((s, e) for s, e, n in self.speech if n != who and s < end and e > start)
            at = start
            for s, e in cuts:
                if s > at:
                    spans.append((at, s))
                at = max(at, e)
            if at < end:
                spans.append((at, end))
        return [(s + margin, e - margin) for s, e in spans if e - s > 2 * margin + 0.1]

    def quiet(self, margin: float = 0.3) -> list[tuple[float, float]]:
        """Spans where nobody speaks (pauses between phrases), trimmed by `margin`."""
        spans, at = [], 0.0
        for start, end, _ in sorted(self.speech):
            if start - at > 2 * margin + 0.1:
                spans.append((at + margin, start - margin))
            at = max(at, end)
        return spans


def _phrase(path: Path, voice: str, pitch: int, text: str, rate: int) -> np.ndarray:
    """One sentence spoken by espeak-ng at `rate`, trimmed to its sound, at a fixed RMS (a cached .npy beside)."""
    cached = path.with_suffix(".npy")
    if cached.is_file():
        return np.load(cached)
    raw = path.with_suffix(".raw.wav")
    subprocess.run(
        [espeak(), "-v", voice, "-p", str(pitch), "-s", "160", "-w", str(raw), text], check=True, capture_output=True
    )
    out = subprocess.run(
        [ffmpeg(), "-v", "error", "-i", str(raw), "-ar", str(rate), "-ac", "1", "-f", "f32le", "-"],
        check=True,
        capture_output=True,
    ).stdout
    data = np.frombuffer(out, dtype=np.float32)
    loud = np.flatnonzero(np.abs(data) > 0.01)
    data = data[loud[0] : loud[-1] + 1] if len(loud) else data
    data = (data * 10 ** (SPEECH_RMS_DB / 20) / max(1e-9, float(np.sqrt(np.mean(data**2))))).astype(np.float32)
    np.save(cached, data)
    raw.unlink()
    return data


def _pink(rate: int, seconds: float, seed: int) -> np.ndarray:
    """A loop of pink noise at 0 dBFS RMS (ffmpeg's generator)."""
    out = subprocess.run(
        [
            ffmpeg(),
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            f"anoisesrc=c=pink:r={rate}:a=0.5:seed={seed}",
            "-t",
            str(seconds),
            "-f",
            "f32le",
            "-",
        ],
        check=True,
        capture_output=True,
    ).stdout
    data = np.frombuffer(out, dtype=np.float32)
    return (data / float(np.sqrt(np.mean(data**2)))).astype(np.float32)


def make_panel(
    folder: Path,
    seconds: float,
    speakers: int = 3,
    rate: int = 48000,
    seed: int = 1,
    room: bool = True,
    bleed_db: tuple[float, float] = (-20.0, -15.0),
    noise_db: float = -62.0,
    room_noise_db: float = -50.0,
    offsets: dict[str, float] | None = None,
    overlaps: bool = True,
    question_every: float = 240.0,
) -> Panel:
    """Write the tracks of a panel of `speakers` espeak-ng voices into `folder` (kept there: a second call with the
    same arguments reuses them); `offsets`: seconds a track's recorder started late (negative: early)."""
    if espeak() is None:
        raise RuntimeError("espeak-ng is not installed (apt-get install -y espeak-ng)")
    offsets = offsets or {}
    folder.mkdir(parents=True, exist_ok=True)
    key = json.dumps(
        [
            seconds,
            speakers,
            rate,
            seed,
            room,
            bleed_db,
            noise_db,
            room_noise_db,
            sorted(offsets.items()),
            overlaps,
            question_every,
        ]
    )
    voices = VOICES[:speakers]
    names = [v[0] for v in voices] + (["room"] if room else [])
    files = {name: folder / f"{name.split()[0].lower()}.wav" for name in names}
    truth = folder / "script.json"
    if truth.is_file() and json.loads(truth.read_text())["key"] == key and all(p.is_file() for p in files.values()):
        data = json.loads(truth.read_text())
        return Panel(
            files, tuple(tuple(s) for s in data["speech"]), seconds, rate, {v[0]: v[3] for v in voices}, offsets
        )

    pool = folder.parent / f"phrases-{rate}"
    pool.mkdir(exist_ok=True)
    said = {
        v[0]: [_phrase(pool / f"{v[1]}-{v[2]}-{n}.wav", v[1], v[2], text, rate) for n, text in enumerate(LINES)]
        + [_phrase(pool / f"{v[1]}-{v[2]}-s{n}.wav", v[1], v[2], text, rate) for n, text in enumerate(SHORT)]
        for v in voices
    }
    asked = [
        _phrase(pool / f"{AUDIENCE[0]}-{AUDIENCE[1]}-q{n}.wav", AUDIENCE[0], AUDIENCE[1], text, rate)
        for n, text in enumerate(QUESTIONS)
    ]
    rng = np.random.default_rng(seed)

    # The script: turns with pauses, now and then a short word over someone else's sentence, and a question from
    # the audience every few minutes (the panel silent around it).
    events: list[tuple[int, str, np.ndarray]] = []  # (start sample, who, sound)
    at, last, next_question = 0.5, "", question_every / 2
    while True:
        if room and at >= next_question:
            sound = asked[int(rng.integers(len(asked)))]
            if at + len(sound) / rate > seconds - 0.5:
                break
            events.append((int(at * rate), "audience", sound))
            at += len(sound) / rate + 0.8
            next_question += question_every
            continue
        who = voices[int(rng.integers(len(voices)))][0]
        if who == last and len(voices) > 1:
            continue
        sound = said[who][int(rng.integers(len(LINES)))]
        if at + len(sound) / rate > seconds - 0.5:
            break
        events.append((int(at * rate), who, sound))
        if overlaps and len(voices) > 1 and rng.random() < 0.15:  # someone agrees over the end of the sentence
            other = [v[0] for v in voices if v[0] != who][int(rng.integers(len(voices) - 1))]
            word = said[other][len(LINES) + int(rng.integers(len(SHORT)))]
            events.append((int((at + len(sound) / rate * 0.7) * rate), other, word))
        at += len(sound) / rate + float(rng.uniform(0.3, 1.2))
        last = who
    events.sort(key=lambda e: e[0])

    level = {v[0]: 10 ** (v[3] / 20) for v in voices}
    level["audience"] = 10 ** (-4 / 20)
    # What each track hears of each voice: its own at its level, the others 15-20 dB down and a few ms late;
    # the room hears the panel 6-10 dB down and 10-20 ms late, and the audience.
    hears: dict[str, dict[str, tuple[float, int]]] = {}
    for name in names:
        hears[name] = {}
        for who in [v[0] for v in voices] + ["audience"]:
            if name == "room":
                gain, delay = (
                    (level[who] * 10 ** (float(rng.uniform(-10, -6)) / 20), float(rng.uniform(10, 20)))
                    if who != "audience"
                    else (level[who], 0.0)
                )
            elif who == name:
                gain, delay = level[who], 0.0
            elif who == "audience":
                gain, delay = level[who] * 10 ** (-22 / 20), float(rng.uniform(8, 15))
            else:
                gain, delay = level[who] * 10 ** (float(rng.uniform(*bleed_db)) / 20), float(rng.uniform(2, 6))
            hears[name][who] = (gain, int(delay / 1000 * rate))
    total = int(seconds * rate)
    for index, name in enumerate(names):
        noise = _pink(rate, 23.0 + index, seed * 10 + index) * 10 ** (
            (room_noise_db if name == "room" else noise_db) / 20
        )
        shift = int(offsets.get(name, 0.0) * rate)  # a recorder that started late misses the start
        _write(
            files[name],
            rate,
            total - shift,
            lambda b0, b1, name=name, shift=shift, noise=noise: _block(
                b0 + shift, b1 + shift, events, hears[name], noise
            ),
        )
    speech = tuple((start / rate, start / rate + len(sound) / rate, who) for start, who, sound in events)
    truth.write_text(json.dumps({"key": key, "speech": speech}))
    return Panel(files, speech, seconds, rate, {v[0]: v[3] for v in voices}, offsets)


def _block(b0: int, b1: int, events, hears: dict[str, tuple[float, int]], noise: np.ndarray) -> np.ndarray:
    """Samples [b0, b1) of one track (on the true timeline): noise, then every voice it hears."""
    out = noise[np.arange(b0, b1) % len(noise)].astype(np.float64)
    for start, who, sound in events:
        gain, delay = hears[who]
        if start >= b1:
            break
        s = start + delay
        if s + len(sound) <= b0 or s >= b1:
            continue
        lo, hi = max(b0, s), min(b1, s + len(sound))
        out[lo - b0 : hi - b0] += gain * sound[lo - s : hi - s]
    return out


def _write(path: Path, rate: int, frames: int, block, size: int = 1 << 20) -> None:
    """A 16-bit mono WAV of `frames` samples, made block by block."""
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        for b0 in range(0, frames, size):
            data = block(b0, min(frames, b0 + size))
            out.writeframes(np.clip(np.round(data * 32767), -32768, 32767).astype("<i2").tobytes())


def multichannel(panel: Panel, path: Path) -> Path:
    """The panel's tracks as the channels of one WAV, in the order of `panel.tracks` (one recorder, many inputs)."""
    files = list(panel.tracks.values())
    inputs = [arg for f in files for arg in ("-i", str(f))]
    graph = "".join(f"[{n}:a]" for n in range(len(files))) + f"amerge=inputs={len(files)}[m]"
    subprocess.run(
        [
            ffmpeg(),
            "-v",
            "error",
            *inputs,
            "-filter_complex",
            graph,
            "-map",
            "[m]",
            "-c:a",
            "pcm_s16le",
            "-y",
            str(path),
        ],
        check=True,
    )
    return path


def _selected(spans: list[tuple[float, float]]) -> str:
    return "aselect='" + "+".join(f"between(t\\,{a:.3f}\\,{b:.3f})" for a, b in spans) + "',asetpts=N/SR/TB"


def loudness(path: Path, spans: list[tuple[float, float]]) -> float:
    """Integrated loudness (ffmpeg's ebur128) of the audio inside the spans, joined."""
    log = subprocess.run(
        [
            ffmpeg(),
            "-hide_banner",
            "-nostats",
            "-i",
            str(path),
            "-af",
            f"{_selected(spans)},ebur128=framelog=quiet",
            "-f",
            "null",
            "-",
        ],
        capture_output=True,
        text=True,
    ).stderr
    return float(re.search(r"I:\s+(-?[\d.]+) LUFS", log[log.rindex("Summary:") :]).group(1))


def rms(path: Path, spans: list[tuple[float, float]]) -> float:
    """RMS level (dBFS, ffmpeg's astats) of the audio inside the spans, joined."""
    log = subprocess.run(
        [
            ffmpeg(),
            "-hide_banner",
            "-nostats",
            "-i",
            str(path),
            "-af",
            f"{_selected(spans)},astats=measure_perchannel=none:measure_overall=RMS_level",
            "-f",
            "null",
            "-",
        ],
        capture_output=True,
        text=True,
    ).stderr
    return float(re.findall(r"RMS level dB: (-?[\d.]+|-inf)", log)[-1])
