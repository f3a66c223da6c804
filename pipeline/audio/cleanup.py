"""Clean-up: the ffmpeg filters `[audio] denoise`, `dehum` and `deess` ask for, in the order they work best.

Hum is notched out before noise reduction (a steady tone would otherwise be learnt as noise and pump), and the
de-esser comes last, on the cleaned voice. Mastering runs the chain on a one-file recording; the mix runs it on
each track of a panel (where it runs once per microphone, before the tracks are summed).
"""

from __future__ import annotations

from ..config import AudioSettings

# afftdn: reduction (dB) at each strength; the noise profile is tracked (tn=1), so a changing room is followed.
DENOISE = {"light": 6, "medium": 12, "strong": 24}
HUM_HARMONICS = 5  # 50 Hz mains: 50, 100, 150, 200, 250 Hz
HUM_Q = 25  # narrow enough to leave voices alone: a notch at 100 Hz is 4 Hz wide
DEESS = "deesser=i=0.7:m=0.5:f=0.5:s=o"  # measured: the band above 4 kHz 4-5 dB down on voices (bench/cleanup.py)


def chain(settings: AudioSettings) -> list[str]:
    """The clean-up filters for these settings (empty when all are off)."""
    filters = []
    if settings.dehum:
        filters += [f"bandreject=f={settings.dehum * n}:width_type=q:w={HUM_Q}" for n in range(1, HUM_HARMONICS + 1)]
    if settings.denoise != "off":
        filters.append(f"afftdn=nr={DENOISE[settings.denoise]}:nf=-50:tn=1")  # (anlmdn crashes ffmpeg 9.0 here)
    if settings.deess:
        filters.append(DEESS)
    return filters
