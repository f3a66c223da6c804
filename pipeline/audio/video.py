"""Video: a stretch of a program as a short video for social networks, knowing no episode (it is given a file, times,
a picture and texts).

A clip is made in three steps. Its sound: the stretch cut from the program, levelled to the clip's loudness target
with one gain and the mastering's limiter, encoded as AAC, and measured on its decoded output (corrected once more
when it missed). Its card: one still frame with the picture (blurred to fill the frame, and sharp), and the titles.
Its video: the card, with the sound's waveform drawn live over it and the captions at their times, encoded H.264
(yuv420p) with the sound copied in, the index at the front (`+faststart`). Every text reaches ffmpeg in a file
(`textfile=`, drawn literally: `expansion=none`), never inside the filter graph; the graph names only files, escaped.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..errors import AudioError
from ..progress import Progress
from . import loudness
from .ffmpeg import file_arg, filter_file, has_filter, run_ffmpeg
from .mastering import COMPRESS_ABOVE, KNEE, LIMITER, RATIO

# A clip's sound is short: ffmpeg's own compressor (the masters' dynamics, as a filter) and limiter level it.
COMPRESSOR = (
    f"acompressor=threshold={{threshold:.2f}}dB:ratio={RATIO:g}:attack=5:release=50:knee={KNEE:g}"
    ":detection=peak:link=maximum"
)

METHOD = "clip-v3"
FPS = 30
RATE = 48000  # Hz: the clips' sound
AAC_KBPS = 160
TOLERANCE = 0.5  # LU: a clip's decoded loudness this close to its target is on it
MAX_ENCODES = 5  # the sound's encode, and correcting ones (the limiter takes some of each step of gain)
MAX_GAIN = 30.0  # dB: a near-silent stretch is not lifted into noise
PEAK_MARGIN = 1.0  # dB: the limiter's ceiling under the true-peak ceiling (AAC at 160 kbps overshoots less than MP3)
BACKGROUND = "0x141821"
TEXT = "white"
MUTED = "0xc9cfdb"
WAVE = "0x7fd1ff"
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")


@dataclass(frozen=True)
class Caption:
    """A caption: when it is shown (seconds from the clip's start) and its text (a speaker's name beside it)."""

    start: float
    end: float
    text: str
    speaker: str = ""


@dataclass(frozen=True)
class Geometry:
    """Where things go in one shape of frame (pixels)."""

    width: int
    height: int
    art: tuple[int, int, int]  # x, y, size of the sharp picture
    titles: tuple[int, int, int]  # x (or -1: centred), y, width of the titles' block
    wave: tuple[int, int]  # y, height of the waveform's band (full width)
    captions: tuple[int, int]  # y of the captions' block, and the width they wrap to
    sizes: tuple[int, int, int, int] = (40, 56, 42, 60)  # font sizes: show, episode, soundbite, captions
    alone: tuple[int, int, int] = (-1, 400, 960)  # the titles' block without a picture: centred, higher


SHAPES = {
    "square": Geometry(
        1080, 1080, (60, 60, 380), (480, 70, 560), (500, 200), (760, 960), (34, 50, 38, 54), (-1, 120, 960)
    ),
    "vertical": Geometry(1080, 1920, (190, 200, 700), (-1, 960, 960), (1330, 240), (1620, 960)),
}


@dataclass(frozen=True)
class Titles:
    """The texts of a clip's card: the show's title, the episode's, the soundbite's (any may be "")."""

    show: str = ""
    episode: str = ""
    bite: str = ""


@dataclass(frozen=True)
class Rendered:
    """What making a clip did: its length, its sound's loudness as decoded, the gain, whether texts were drawn."""

    seconds: float
    measured: loudness.Loudness
    gain: float
    texts: bool
    encodes: int
    wall: float = 0.0
    cpu: float = 0.0
    timings: tuple[tuple[str, float, float], ...] = field(default=())


def font() -> Path:
    """The clips' font, which comes with panelpress: Source Sans Pro Semibold (SIL Open Font License 1.1), from the
    font-source-sans-pro wheel."""
    import font_source_sans_pro

    return Path(font_source_sans_pro.font_directory) / "SourceSansPro-Semibold.ttf"


def can_draw_text() -> bool:
    """Whether this ffmpeg draws text (drawtext, built with libfreetype)."""
    return has_filter("drawtext")


def clean_text(text: str) -> str:
    """A text as a clip shows it: one line, no control characters (a caption's own line breaks are spaces)."""
    text = unicodedata.normalize("NFC", _CONTROL.sub(" ", text.replace("\r", " ").replace("\n", " ")))
    return " ".join(text.split())


def wrap(text: str, font: Path, size: int, width: int, lines: int) -> list[str]:
    """`text` broken into at most `lines` lines of at most `width` pixels in `font` at `size` (an ellipsis ends a
    text cut short; a word wider than a line is cut)."""
    from PIL import ImageFont

    face = ImageFont.truetype(str(font), size)
    words, out, line = clean_text(text).split(), [], ""
    for word in words:
        while face.getlength(word) > width:  # a word wider than the line: cut where it fits
            cut = max(1, next((n for n in range(len(word), 0, -1) if face.getlength(word[:n]) <= width), 1))
            if line:
                out.append(line)
                line = ""
            out.append(word[:cut])
            word = word[cut:]
        trial = f"{line} {word}" if line else word
        if face.getlength(trial) <= width:
            line = trial
        else:
            out.append(line)
            line = word
    if line:
        out.append(line)
    if len(out) > lines:
        out = out[:lines]
        last = out[-1]
        while last and face.getlength(last + "…") > width:
            last = last[:-1].rstrip()
        out[-1] = last + "…"
    return out


def render(
    audio: Path,
    start: float,
    duration: float,
    out: Path,
    work: Path,
    shape: str,
    picture: Path | None,
    titles: Titles,
    captions: Sequence[Caption],
    font: Path,
    target: float,
    true_peak: float,
    progress: Progress | None = None,
) -> Rendered:
    """Make the clip of `duration` seconds of `audio` from `start` (program seconds) into `out`, in `shape`, its sound
    at `target` LUFS (true peak under `true_peak` dBTP). AudioError when ffmpeg fails or the sound misses its target."""
    geometry = SHAPES[shape]
    texts = can_draw_text()
    sound, measured, gain, encodes, timings = _sound(audio, start, duration, target, true_peak, work)
    card = _card(geometry, picture, titles if texts else Titles(), font, work)
    graph = _graph(geometry, captions if texts else (), font, work)
    ran = run_ffmpeg(
        audio,
        [
            *("-i", file_arg(card)),  # decoded once, repeated by the graph (a looped input decodes every frame)
            *("-i", file_arg(sound)),
            *("-filter_complex", graph, "-map", "[v]", "-map", "1:a:0"),
            *("-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p"),
            *("-r", str(FPS), "-g", str(FPS * 2), "-c:a", "copy", "-t", f"{duration:.3f}"),
            *("-map_metadata", "-1", "-fflags", "+bitexact", "-flags:v", "+bitexact"),
            *("-movflags", "+faststart", "-f", "mp4", "-y", file_arg(out)),
        ],
        duration,
        progress,
    )
    timings += (("video", ran.wall, ran.cpu),)
    return Rendered(
        seconds=duration,
        measured=measured,
        gain=round(gain, 2),
        texts=texts,
        encodes=encodes,
        wall=round(sum(t[1] for t in timings), 2),
        cpu=round(sum(t[2] for t in timings), 2),
        timings=timings,
    )


def _sound(
    audio: Path, start: float, duration: float, target: float, true_peak: float, work: Path
) -> tuple[Path, loudness.Loudness, float, int, tuple[tuple[str, float, float], ...]]:
    """The clip's sound: cut and measured once, then levelled with one gain under the limiter, encoded as AAC and
    measured as decoded, the gain corrected while it misses (at most MAX_ENCODES encodes)."""
    cut, meter = work / "cut.wav", work / "cut.meter"
    ran = run_ffmpeg(
        audio,
        [
            *("-ss", f"{start:.3f}", "-t", f"{duration:.3f}", "-i", file_arg(audio), "-map", "0:a:0", "-vn"),
            *("-af", loudness.ebur128(meter, peak=False), "-ar", str(RATE), "-c:a", "pcm_f32le"),
            *("-f", "wav", "-y", file_arg(cut)),
        ],
        duration,
    )
    timings = (("cut", ran.wall, ran.cpu),)
    found = loudness.read_metering(meter).integrated
    silent = not math.isfinite(found) or found <= loudness.SILENT
    gain = 0.0 if silent else max(-MAX_GAIN, min(MAX_GAIN, target - found))
    ceiling = true_peak - PEAK_MARGIN
    sound, last = work / "sound.m4a", None
    for encodes in range(1, MAX_ENCODES + 1):
        chain = ",".join(
            (
                f"aformat=sample_fmts=dbl,apad=whole_dur={duration:.3f},volume={gain:.3f}dB",  # the whole soundbite
                COMPRESSOR.format(threshold=target + COMPRESS_ABOVE),
                LIMITER.format(linear=10 ** (ceiling / 20)),
            )
        )
        ran = run_ffmpeg(
            cut,
            [
                *("-i", file_arg(cut), "-af", chain, "-c:a", "aac", "-b:a", f"{AAC_KBPS}k", "-ar", str(RATE)),
                *("-fflags", "+bitexact", "-flags:a", "+bitexact", "-f", "mp4", "-y", file_arg(sound)),
            ],
            duration,
        )
        measured, decoded = measure(sound, work / f"sound-{encodes}.meter")
        timings += (("sound" if encodes == 1 else "sound again", ran.wall + decoded[0], ran.cpu + decoded[1]),)
        if silent:
            return sound, measured, gain, encodes, timings
        off = abs(measured.integrated - target) > TOLERANCE
        hot = measured.true_peak > true_peak
        if not (off or hot):
            return sound, measured, gain, encodes, timings
        if off:  # a secant step: the loudness each dB of gain brought last time (the limiter takes some of it)
            slope = (
                1.0 if last is None else (measured.integrated - last[1]) / (gain - last[0]) if gain != last[0] else 1.0
            )
            last = (gain, measured.integrated)
            gain = max(-MAX_GAIN, min(MAX_GAIN, gain + (target - measured.integrated) / max(0.2, min(1.0, slope))))
        if hot:
            ceiling -= measured.true_peak - true_peak + 0.5
    raise AudioError(
        audio,
        f"a clip from {start:.2f} s missed its loudness after {MAX_ENCODES} encodes: {measured.integrated:.1f} LUFS, true peak {measured.true_peak:.1f} dBTP (target {target:.1f} LUFS)",
        "set [clips] loudness lower, or choose a soundbite with more speech in it",
    )


def measure(file: Path, meter: Path) -> tuple[loudness.Loudness, tuple[float, float]]:
    """A file's sound as decoded, by ffmpeg's ebur128 meter (true peak), and what measuring cost (wall, CPU)."""
    ran = run_ffmpeg(
        file, ["-i", file_arg(file), "-map", "0:a:0", "-af", loudness.ebur128(meter, peak=True), "-f", "null", "-"], 0
    )
    return loudness.read_metering(meter), (ran.wall, ran.cpu)


def _text_filter(font: Path, textfile: Path, size: int, color: str, x: str, y: int, extra: str = "") -> str:
    """drawtext of a file's text, drawn as it is (`expansion=none`): the graph holds only the escaped file names."""
    return (
        f"drawtext=fontfile={filter_file(font)}:textfile={filter_file(textfile)}:expansion=none"
        f":fontsize={size}:fontcolor={color}:line_spacing={size // 4}:x={x}:y={y}{extra}"
    )


def _card(geometry: Geometry, picture: Path | None, titles: Titles, font: Path, work: Path) -> Path:
    """The clip's still frame: the picture blurred to fill it and darkened, the picture itself, the titles."""
    width, height = geometry.width, geometry.height
    ax, ay, asize = geometry.art
    card = work / "card.png"
    if picture is not None:
        inputs = ["-i", file_arg(picture)]
        chain = [
            f"[0:v]scale={width}:{height}:force_original_aspect_ratio=increase,crop={width}:{height},"
            "gblur=sigma=40,eq=brightness=-0.28:saturation=0.8,format=rgb24[bg]",
            f"[0:v]scale={asize}:{asize}:force_original_aspect_ratio=decrease,"
            f"pad={asize}:{asize}:(ow-iw)/2:(oh-ih)/2:color={BACKGROUND},format=rgb24[art]",
            f"[bg][art]overlay={ax}:{ay}[base]",
        ]
    else:
        inputs = ["-f", "lavfi", "-i", f"color=c={BACKGROUND}:s={width}x{height}:r=1"]
        chain = ["[0:v]format=rgb24[base]"]
    texts = _title_filters(
        geometry if picture is not None else replace(geometry, titles=geometry.alone), titles, font, work
    )
    chain.append("[base]" + (",".join(texts) if texts else "null") + "[card]")
    run_ffmpeg(
        picture or card,
        [*inputs, "-filter_complex", ";".join(chain), "-map", "[card]", "-frames:v", "1", "-y", file_arg(card)],
        0,
    )
    return card


def _title_filters(geometry: Geometry, titles: Titles, font: Path, work: Path) -> list[str]:
    """drawtext for the show's, the episode's and the soundbite's titles, each wrapped to the titles' block."""
    tx, ty, tw = geometry.titles
    show, episode, bite, _ = geometry.sizes
    filters, y = [], ty
    for name, text, size, color, lines in (
        ("show", titles.show, show, MUTED, 1),
        ("episode", titles.episode, episode, TEXT, 3),
        ("bite", f"“{titles.bite}”" if titles.bite else "", bite, MUTED, 2),
    ):
        wrapped = wrap(text, font, size, tw, lines) if text else []
        if not wrapped:
            continue
        textfile = work / f"title-{name}.txt"
        textfile.write_text("\n".join(wrapped), encoding="utf-8")
        x = "(w-text_w)/2" if tx < 0 else str(tx)
        filters.append(_text_filter(font, textfile, size, color, x, y))
        y += len(wrapped) * (size + size // 4) + size // 2
    return filters


def _graph(geometry: Geometry, captions: Sequence[Caption], font: Path, work: Path) -> str:
    """The video's filter graph: the card, the sound's waveform over it, the captions at their times."""
    wy, wh = geometry.wave
    cy, cw = geometry.captions
    size = geometry.sizes[3]
    steps = [
        f"[1:a]aformat=channel_layouts=mono,showwaves=s={geometry.width}x{wh}:mode=cline:rate={FPS}"
        f":colors={WAVE}:scale=sqrt:draw=full[wave]",
        f"[0:v]format=yuv420p,loop=loop=-1:size=1:start=0,setpts=N/{FPS}/TB[card]",
        f"[card][wave]overlay=0:{wy}:format=yuv420[waved]",
    ]
    drawn = []
    for number, caption in enumerate(captions, start=1):
        lines = wrap(caption.text, font, size, cw, 2)
        if not lines:
            continue
        textfile = work / f"caption-{number}.txt"
        textfile.write_text("\n".join(lines), encoding="utf-8")
        when = f":enable='gte(t,{caption.start:.3f})*lt(t,{caption.end:.3f})'"
        box = f":box=1:boxcolor=black@0.6:boxborderw={size // 3}"
        drawn.append(_text_filter(font, textfile, size, TEXT, "(w-text_w)/2", cy, box + when))
        if caption.speaker:
            who = work / f"speaker-{number}.txt"
            who.write_text(clean_text(caption.speaker)[:60], encoding="utf-8")
            small = size * 2 // 3
            drawn.append(_text_filter(font, who, small, WAVE, "(w-text_w)/2", cy - small - size // 2, when))
    steps.append("[waved]" + ",".join([*drawn, "format=yuv420p"]) + "[v]")
    return ";".join(steps)
