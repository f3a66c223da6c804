"""Clips (`[clips]`): every soundbite of the notes as short videos for social networks, square and vertical.

Each clip shows the episode's art (or the show's), the show's, the episode's and the soundbite's titles, the sound's
waveform, and captions made from the transcript's word times (its inline timestamps where it has them, else each
cue's time shared among its words by their length), the speaker's name above them where it is known. An episode with
a clean edition (an explicit one, or one with strong language) has its clips cut from the clean edition, their titles
and captions masked as the clean edition's are. The sound is levelled to `[clips] loudness` and measured as decoded
(`audio/video.py`). Each clip is kept in the cache under the key of everything it shows and sounds: an unchanged
episode makes none again, and a changed soundbite makes only its own.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from .. import artefacts, layout
from ..audio import video
from ..audio.ffmpeg import ffmpeg_version
from ..config import Config
from ..errors import PanelpressError
from ..files import file_sha256
from ..progress import Task
from ..records import Clip, Mastered, Published
from . import clean, transcript

PHRASE_CHARS = 42  # a caption holds at most this many characters (two short lines)
PHRASE_SECONDS = 3.5  # … and is shown at most this long before the next words take its place
_WORD = re.compile(r"\S+")
_STOP = (".", "?", "!", ";", ":", "…")


@dataclass(frozen=True)
class Word:
    """A word of the transcript and when it is said (seconds of the published audio), and who says it."""

    text: str
    start: float
    end: float
    speaker: str = ""
    cue: int = 0  # which cue it belongs to


@dataclass(frozen=True)
class Made:
    """What the clip stage made of an episode: its clips, how many were made now (not from the cache), and a note for
    the host (clips without captions: why)."""

    clips: tuple[Clip, ...]
    made: int = 0
    warning: PanelpressError | None = None


def words(cues: Sequence[transcript.Cue], offset: float) -> list[Word]:
    """Every word of the cues with its time on the published audio (`offset`: how far the recording's timeline
    moved): a cue's inline timestamps give the time of the text after them; the words between two known times share
    the span by their place in the text."""
    out = []
    for number, cue in enumerate(cues):
        anchors = [(0, cue.start)] + [(at, ms) for at, ms in cue.timed if 0 < at < len(cue.text)]
        anchors.append((len(cue.text), cue.end))
        anchors.sort()
        found = list(_WORD.finditer(cue.text))
        times = [_at(anchors, m.start()) for m in found]
        for index, match in enumerate(found):
            end = times[index + 1] if index + 1 < len(found) else cue.end
            start = times[index]
            out.append(Word(match.group(), offset + start / 1000, offset + max(start, end) / 1000, cue.speaker, number))
    return out


def _at(anchors: list[tuple[int, int]], offset: int) -> float:
    """The time (ms) of a place in a cue's text, between the known times around it."""
    before = max((a for a in anchors if a[0] <= offset), key=lambda a: a[0])
    after = min((a for a in anchors if a[0] > offset), key=lambda a: a[0], default=before)
    if after[0] == before[0]:
        return float(before[1])
    return before[1] + (after[1] - before[1]) * (offset - before[0]) / (after[0] - before[0])


def captions(said: Sequence[Word], start: float, duration: float) -> tuple[video.Caption, ...]:
    """The captions of the stretch from `start` (published seconds) for `duration`: words grouped into short
    phrases (a cue's or a sentence's end closes one), each shown from its first word until the next phrase, on the
    clip's own timeline."""
    inside = [w for w in said if w.end > start and w.start < start + duration]
    phrases: list[list[Word]] = []
    for word in inside:
        last = phrases[-1] if phrases else None
        if (
            last is None
            or last[-1].cue != word.cue
            or last[-1].text.endswith(_STOP)
            or len(" ".join(w.text for w in last)) + 1 + len(word.text) > PHRASE_CHARS
            or word.end - last[0].start > PHRASE_SECONDS
        ):
            phrases.append([word])
        else:
            last.append(word)
    out = []
    for index, phrase in enumerate(phrases):
        begin = max(0.0, phrase[0].start - start)
        following = phrases[index + 1][0].start if index + 1 < len(phrases) else phrase[-1].end
        finish = min(duration, (following if following - phrase[-1].end < 1.0 else phrase[-1].end + 0.5) - start)
        if finish > begin:
            text = " ".join(w.text for w in phrase)
            out.append(video.Caption(round(begin, 3), round(finish, 3), text, phrase[0].speaker))
    return tuple(out)


def make(
    config: Config,
    item: Published,
    mastered: Mastered,
    found: transcript.Transcript | None,
    picture: Path | None,
    task: Task,
    fresh: bool = False,
) -> Made:
    """The clips of every soundbite of an episode, in every shape of `[clips] shapes` (from the cache when they were
    made before, unless `fresh`). `found`: the transcript the captions come from (None: no captions, and a note
    says why). ClipError when a clip cannot be made."""
    edition = item.clean if item.clean is not None and item.clean.media_path != item.media_path else None
    source = edition or item
    if edition is not None:  # the clean edition's sound, titles and captions
        audio, audio_key = edition.media.path, edition.media.sha256
    else:
        audio, audio_key = mastered.path, mastered.key
    cues = found.cues if found is not None else ()
    if edition is not None:
        cues = tuple(replace(c, text=clean.masked(c.text, config)) for c in cues)
    said = words(cues, mastered.offset)
    font = video.font()
    picture_sha = file_sha256(picture) if picture is not None else ""
    shelf = artefacts.Shelf(config.cache_dir / "clips", ".mp4")
    titles_of = (config.show.title, source.episode.notes.title)
    out, made = [], 0
    for number, bite in enumerate(source.soundbites, start=1):
        shown = captions(said, bite.start, bite.duration)
        titles = video.Titles(*titles_of, bite.title)
        for shape in config.clips.shapes:
            key = _key(
                audio_key, bite.start, bite.duration, shape, titles, shown, picture_sha, font.name, config, video.METHOD
            )
            record = None if fresh else shelf.get(key)
            fresh_clip = record is None or not _whole(record)
            if fresh_clip:
                record = _render(
                    shelf, key, audio, bite.start, bite.duration, shape, picture, titles, shown, font, config, task
                )
                made += 1
            width, height = layout.CLIP_SIZES[shape]
            out.append(
                Clip(
                    path=layout.clip(item.episode.slug, number, shape),
                    shape=shape,
                    width=width,
                    height=height,
                    start=bite.start,
                    duration=bite.duration,
                    title=bite.title,
                    length=record["length"],
                    sha256=record["sha256"],
                    content=shelf.file(key),
                    captions=bool(record["captions"]),
                    loudness=record["loudness"],
                    caption_path=layout.clip(item.episode.slug, number, shape, ".vtt") if shown else "",
                    caption_file=shelf.folder / f"{key}.vtt" if shown else Path(),
                    caption_sha256=record.get("captions_sha256", "") if shown else "",
                    made=fresh_clip,
                )
            )
    warning = None
    if out and found is None:
        warning = PanelpressError(
            item.episode.notes.path,
            "its clips have no captions: the episode has no published transcript",
            "add a transcript beside the recording (or set [transcripts] make = true and review the draft)",
        )
    elif out and not video.can_draw_text():
        warning = PanelpressError(
            item.episode.notes.path,
            "its clips have no titles or captions: the ffmpeg in use cannot draw text (it lacks drawtext)",
            "install an ffmpeg built with libfreetype on PATH (7.1 or newer), or use the imageio-ffmpeg wheel's",
        )
    return Made(tuple(out), made, warning)


def caption_vtt(shown: Sequence[video.Caption]) -> str:
    """A clip's captions as WebVTT, on the clip's own timeline, each with its speaker where known."""
    cues = [
        transcript.Cue(round(c.start * 1000), round(c.end * 1000), video.clean_text(c.text), c.speaker) for c in shown
    ]
    return transcript.to_vtt(cues)


def _whole(record: dict) -> bool:
    return all(key in record for key in ("length", "sha256", "captions", "loudness", "captions_sha256"))


def _key(
    audio_key: str,
    start: float,
    duration: float,
    shape: str,
    titles,
    shown,
    picture_sha: str,
    font: str,
    config: Config,
    method: str,
) -> str:
    """The cache key of a clip: everything it shows and sounds."""
    parts = [
        audio_key,
        round(start, 3),
        round(duration, 3),
        shape,
        [titles.show, titles.episode, titles.bite],
        [[c.start, c.end, c.text, c.speaker] for c in shown],
        picture_sha,
        font,
        config.clips.loudness,
        config.audio.true_peak,
        video.can_draw_text(),
        method,
        ffmpeg_version(),
    ]
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:32]


def _render(
    shelf: artefacts.Shelf,
    key: str,
    audio: Path,
    start: float,
    duration: float,
    shape: str,
    picture: Path | None,
    titles: video.Titles,
    shown: tuple[video.Caption, ...],
    font: Path,
    config: Config,
    task: Task,
) -> dict:
    """Make one clip into the cache, with its record."""
    with shelf.make(key) as job:
        done = video.render(
            audio,
            start,
            duration,
            job.partial,
            job.work,
            shape,
            picture,
            titles,
            shown,
            font,
            config.clips.loudness,
            config.audio.true_peak,
            task(f"clip {shape}", duration),
        )
        if shown:  # the captions beside the clip, for networks that take a captions file
            vtt = job.work / "captions.vtt"
            vtt.write_text(caption_vtt(shown), encoding="utf-8")
            job.companions.append((vtt, f"{key}.vtt"))
        job.record = {
            "captions_sha256": file_sha256(job.work / "captions.vtt") if shown else "",
            "duration": done.seconds,
            "length": job.partial.stat().st_size,
            "sha256": file_sha256(job.partial),
            "captions": bool(shown) and done.texts,
            "loudness": round(done.measured.integrated, 2),
            "true_peak": round(done.measured.true_peak, 2),
            "gain": done.gain,
            "encodes": done.encodes,
            "wall": done.wall,
            "cpu": done.cpu,
        }
    return job.record
