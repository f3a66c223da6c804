"""Transcribe: a recording → a draft transcript made offline (`[transcripts] make`, `panelpress transcribe`).

Two engines, chosen in the settings, and neither downloads anything: pocketsphinx (its US English model ships inside
its wheel; the default, and the aligner of `align.py`) and faster-whisper (a CTranslate2 Whisper model from a folder
the settings name). The recording streams through ffmpeg as 16 kHz mono, so memory does not grow with its length.
The words and their times are kept in the cache by the recording's content and the engine; the draft is written
beside the notes as `<slug>.vtt`, each word with its WebVTT inline timestamp, and never over a file that is there.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import re
import subprocess
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from .. import config as settings_module
from ..audio.ffmpeg import ffmpeg, file_arg, halt_if_stopped
from ..config import Config
from ..errors import TranscriptError
from ..files import create as create_new
from ..progress import Progress
from ..records import Turn
from . import transcript
from . import turns as speakers
from .transcript import Cue

METHOD = "transcribe-v1"
RATE = 16000  # Hz: what both engines' models were trained on
# A draft's cues: a new one after a pause this long, or when one would grow past these.
CUE_PAUSE, CUE_SECONDS, CUE_WORDS = 1.0, 7.0, 14
WHISPER_CHUNK = 600  # s of audio handed to faster-whisper at once (its own windows are 30 s)
_FILLER = re.compile(r"^(<s>|</s>|<sil>|\[.*\]|\+\+.*\+\+)$")


@dataclass(frozen=True)
class Word:
    """A recognised word and its time (seconds of the recording)."""

    start: float
    end: float
    text: str


@dataclass(frozen=True)
class Made:
    """What an engine heard in a recording, and what it cost."""

    words: tuple[Word, ...]
    engine: str
    seconds: float  # of audio
    cpu: float  # seconds of CPU this process spent (0 when taken from the cache)
    wall: float
    cached: bool = False


def engine_name(config: Config) -> str:
    """The engine and its model, as the draft names it."""
    if config.transcripts.engine == "whisper":
        return f"faster-whisper {_version('faster-whisper')}, model {Path(config.transcripts.model).name}"
    return f"pocketsphinx {_version('pocketsphinx')}, en-us"


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "(not installed)"


def recognise(config: Config, path: Path, sha: str, duration: float, progress: Progress | None = None) -> Made:
    """Every word of a recording with its time (from the cache when this engine heard it before)."""
    key = _key(config, sha)
    folder = config.cache_dir / "transcripts"
    record = folder / f"{key}.json"
    try:
        data = json.loads(record.read_text())
        return Made(tuple(Word(*w) for w in data["words"]), data["engine"], data["seconds"], 0.0, 0.0, cached=True)
    except (OSError, ValueError, TypeError, KeyError):
        pass  # not made yet, or a damaged record: made again
    started, cpu = time.perf_counter(), time.process_time()
    if config.transcripts.engine == "whisper":
        words = tuple(_whisper(config, path, duration, progress))
    else:
        words = tuple(_pocketsphinx(path, duration, progress))
    made = Made(
        words,
        engine_name(config),
        duration,
        round(time.process_time() - cpu, 2),
        round(time.perf_counter() - started, 2),
    )
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / f"{key}.{os.getpid()}.partial"
    partial.write_text(
        json.dumps({"words": [[w.start, w.end, w.text] for w in words], "engine": made.engine, "seconds": duration})
    )
    os.replace(partial, record)
    return made


def _key(config: Config, sha: str) -> str:
    settings = config.transcripts
    model = ""
    if (
        settings.engine == "whisper"
    ):  # the model's own file, by size and time (hashing 75 MB to 3 GB each build is not cheap)
        weights = settings_module.model_folder(config) / "model.bin"
        info = weights.stat() if weights.is_file() else None
        model = f"{weights}:{info.st_size}:{info.st_mtime_ns}" if info else str(weights)
    parts = [sha, settings.engine, model, engine_name(config), METHOD]
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:32]


def decode(path: Path, start: float = 0.0, end: float | None = None, fmt: str = "s16le") -> subprocess.Popen:
    """ffmpeg decoding (part of) a recording to 16 kHz mono on its stdout."""
    seek = (["-ss", f"{start:.3f}"] if start else []) + (["-to", f"{end:.3f}"] if end is not None else [])
    command = [
        ffmpeg(),
        "-nostdin",
        "-hide_banner",
        "-loglevel",
        "error",
        *seek,
        "-i",
        file_arg(path),
        "-map",
        "0:a:0",
        "-ac",
        "1",
        "-ar",
        str(RATE),
        "-f",
        fmt,
        "-",
    ]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _finish(proc: subprocess.Popen, path: Path) -> None:
    error = proc.stderr.read().decode(errors="replace").strip() if proc.stderr else ""
    halt_if_stopped(proc.wait(), error, path)  # Ctrl-C reached the decoder first: what it gave is not all of it
    if proc.returncode != 0:
        raise TranscriptError(
            path,
            f"ffmpeg could not decode it for transcription: {error.splitlines()[-1] if error else 'unknown error'}",
            "check that the recording plays",
        )


def decoder(**search):
    """A pocketsphinx decoder with the US English model inside its wheel (nothing is fetched); `lm=None` to align."""
    import pocketsphinx

    # dither: a recording's digital silence (zeros) has no spectrum to take a logarithm of, and the search loses its way
    return pocketsphinx.Decoder(loglevel="FATAL", dither=True, seed=1, **search)


def _pocketsphinx(path: Path, duration: float, progress: Progress | None) -> Iterator[Word]:
    """pocketsphinx over a recording: its voice-activity segmenter cuts utterances, each decoded with the language model."""
    import pocketsphinx

    proc = decode(path)
    recogniser = decoder()
    segmenter = pocketsphinx.Segmenter(sample_rate=RATE)
    try:
        for part in segmenter.segment(proc.stdout):
            recogniser.start_utt()
            recogniser.process_raw(part.pcm, full_utt=True)
            recogniser.end_utt()
            for seg in recogniser.seg() or ():
                if not _FILLER.match(seg.word):
                    yield Word(
                        round(part.start_time + seg.start_frame / 100, 3),
                        round(part.start_time + (seg.end_frame + 1) / 100, 3),
                        _plain(seg.word),
                    )
            if progress:
                progress(min(duration, part.end_time))
    finally:
        proc.stdout.close()
    _finish(proc, path)


def _plain(word: str) -> str:
    """A dictionary entry as text: `the(2)` → `the`, `i` → `I`."""
    word = re.sub(r"\(\d+\)$", "", word)
    return "I" + word[1:] if word == "i" or word.startswith("i'") else word


def _whisper(config: Config, path: Path, duration: float, progress: Progress | None) -> Iterator[Word]:
    """faster-whisper over a recording, WHISPER_CHUNK seconds at a time, with the model folder of the settings."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the model is a local folder: never reach for a hub
    try:
        import numpy
        from faster_whisper import WhisperModel
    except ImportError as err:
        raise TranscriptError(
            config.path,
            '[transcripts] engine = "whisper" needs faster-whisper, which is not installed',
            "pip install 'panelpress[whisper]', or use engine = \"pocketsphinx\"",
        ) from err
    model = WhisperModel(str(settings_module.model_folder(config)), device="cpu", compute_type="int8")
    language = config.show.language.split("-")[0].lower()
    at = 0.0
    while at < duration:
        proc = decode(path, at, min(duration, at + WHISPER_CHUNK), fmt="f32le")
        samples = numpy.frombuffer(proc.stdout.read(), dtype=numpy.float32)
        _finish(proc, path)
        if samples.size:
            segments, _ = model.transcribe(
                samples, language=language, word_timestamps=True, beam_size=1, condition_on_previous_text=False
            )
            for segment in segments:
                for word in segment.words or ():
                    if word.word.strip():
                        yield Word(
                            round(at + float(word.start), 3),
                            round(at + max(float(word.end), float(word.start) + 0.02), 3),
                            word.word.strip(),
                        )
        at += WHISPER_CHUNK
        if progress:
            progress(min(duration, at))


def cues(words: Sequence[Word], turns: Sequence[Turn] = ()) -> tuple[Cue, ...]:
    """Words grouped into cues (at pauses, at most CUE_SECONDS or CUE_WORDS each, and where the speaker changes), each
    word with its inline time; the speaker from `turns` (who spoke when, e.g. a multitrack mix's timeline) by overlap."""
    groups: list[list[Word]] = []
    for word in words:
        last = groups[-1] if groups else None
        if (
            last
            and word.start - last[-1].end < CUE_PAUSE
            and word.end - last[0].start <= CUE_SECONDS
            and len(last) < CUE_WORDS
            and _speaker(word, turns) == _speaker(last[0], turns)
        ):
            last.append(word)
        else:
            groups.append([word])
    made = []
    for group in groups:
        text, timed = "", []
        for word in group:
            text += " " if text else ""
            timed.append((len(text), int(round(word.start * 1000))))
            text += word.text
        text = text[0].upper() + text[1:] if text else text
        start, end = int(round(group[0].start * 1000)), int(round(group[-1].end * 1000))
        made.append(
            Cue(start=start, end=max(end, start + 1), text=text, speaker=_speaker(group[0], turns), timed=tuple(timed))
        )
    return tuple(made)


def _speaker(word: Word, turns: Sequence[Turn]) -> str:
    return speakers.speaker_at(turns, word.start, word.end)


def to_draft(cues_: Sequence[Cue], engine: str) -> str:
    """The draft as WebVTT: a note saying what made it, each cue's speaker as a voice span and each word with its
    inline timestamp (the word times the clean edition uses; correct the words, keep the times)."""
    out = [
        "WEBVTT",
        "",
        f"NOTE made by panelpress with {engine}: a draft. Correct the words freely; each <00:00:00.000> is",
        "when the word after it starts. panelpress never overwrites this file: delete it to make it again.",
        "",
    ]
    for cue in cues_:
        marks = dict(cue.timed)
        text = "".join(
            (f"<{transcript.vtt_time(marks[i])}>" if i in marks and i else "") + _escape(char)
            for i, char in enumerate(cue.text)
        )
        voice = f"<v {_escape(cue.speaker)}>" if cue.speaker else ""
        out += [f"{transcript.vtt_time(cue.start)} --> {transcript.vtt_time(cue.end)}", voice + text, ""]
    return "\n".join(out)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def draft_path(config: Config, slug: str) -> Path:
    """Where a made transcript goes: beside the notes."""
    return config.notes_dir / f"{slug}.vtt"


def write_draft(path: Path, text: str) -> bool:
    """Create the draft; never replace a file that is there (a host's transcript, or a draft they corrected)."""
    return create_new(path, text)


def make(
    config: Config, path: Path, sha: str, duration: float, turns: Sequence[Turn] = (), progress: Progress | None = None
) -> tuple[str, Made]:
    """The draft transcript of a recording, as WebVTT text, and what recognising it cost."""
    made = recognise(config, path, sha, duration, progress)
    if not made.words:
        raise TranscriptError(
            path, f"{made.engine} heard no words in it", "check the recording, or write its transcript yourself"
        )
    return to_draft(cues(made.words, turns), made.engine), made
