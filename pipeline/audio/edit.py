"""Edits laid over a finished program (the clean edition): where the gain drops to silence, and the bleep's tone."""

from __future__ import annotations

import array
import math
from dataclasses import dataclass
from pathlib import Path

from ..config import AudioSettings
from .ffmpeg import file_arg

MASK_RATE = 1000  # Hz: the clean edition's control stream (1 ms steps), upsampled by ffmpeg to the audio's rate
EDIT_FADE = 0.010  # s: a raised-cosine fade into and out of each silenced stretch, so no click is heard
TONE_HZ = 1000.0
TONE_UNDER = 3.0  # LU: the bleep sits this far under the show's loudness


@dataclass(frozen=True)
class Edit:
    """Gain and a tone laid over the finished program: mono control streams at MASK_RATE, the program's gain and
    (bleep) the tone's. (Two mono files: ffmpeg's resampler upsampling a two-channel f32 stream by 44.1 writes -1 at
    every frame's first sample.)"""

    mask: Path
    tone_mask: Path | None
    tone: float  # the tone's amplitude (ffmpeg's sine source is 1/8 of full scale)

    def inputs(self) -> list[str]:
        raw = ["-f", "f32le", "-ar", str(MASK_RATE), "-ac", "1", "-i"]
        return [*raw, file_arg(self.mask), *([*raw, file_arg(self.tone_mask)] if self.tone_mask else [])]

    def graph(self, source: str, label: str, index: int, rate: int, channels: int) -> str:
        spread = "pan=mono|c0=c0" if channels == 1 else "pan=stereo|c0=c0|c1=c0"
        up = f"aresample={rate},aformat=sample_fmts=dbl,{spread}"
        speech = f"[{index}:a]{up}[{label}g];[{source}]aformat=sample_fmts=dbl[{label}p];[{label}p][{label}g]amultiply"
        if self.tone_mask is None:
            return f"{speech}[{label}]"
        return (
            f"{speech}[{label}m];[{index + 1}:a]{up}[{label}t];"
            f"sine=frequency={TONE_HZ:g}:sample_rate={rate},aformat=sample_fmts=dbl,volume={8 * self.tone:.6f},{spread}[{label}s];"
            f"[{label}s][{label}t]amultiply[{label}b];[{label}m][{label}b]amix=inputs=2:duration=first:normalize=0[{label}]"
        )


def write_mask(
    folder: Path, windows: list[tuple[float, float]], seconds: float, tone: bool
) -> tuple[Path, Path | None]:
    """The control streams of an edit: gain 0 inside each window (program seconds), 1 elsewhere, with raised-cosine
    fades just outside it; and for a bleep, the tone's gain, its complement. f32, mono, MASK_RATE."""
    n = int((seconds + 2.0) * MASK_RATE)  # a little longer than the program: amultiply stops at the shorter
    gain = array.array("f", [1.0]) * n
    fade = max(1, round(EDIT_FADE * MASK_RATE))
    for start, end in windows:
        a, b = max(0, round(start * MASK_RATE)), min(n, round(end * MASK_RATE))
        for k in range(max(0, a - fade), min(n, b + fade)):
            if k < a:
                value = 0.5 + 0.5 * math.cos(math.pi * (k - (a - fade)) / fade)
            elif k >= b:
                value = 0.5 - 0.5 * math.cos(math.pi * (k - b + 1) / fade)
            else:
                value = 0.0
            gain[k] = min(gain[k], value)
    paths = (folder / "edit-gain.f32", folder / "edit-tone.f32" if tone else None)
    with paths[0].open("wb") as handle:
        gain.tofile(handle)
    if paths[1] is not None:
        with paths[1].open("wb") as handle:
            array.array("f", (1.0 - g for g in gain)).tofile(handle)
    return paths


def tone_level(settings: AudioSettings, channels: int) -> float:
    """The bleep's amplitude: a 1 kHz sine TONE_UNDER under the show's loudness (ITU-R BS.1770 of a sine: its mean
    square, -0.691 dB, +3 dB for two channels)."""
    loudness = (settings.loudness if settings.normalize else -16.0) - TONE_UNDER
    return 10 ** ((loudness + 0.691 + 3.010 - (3.010 if channels == 2 else 0.0)) / 20)
