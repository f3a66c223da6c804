"""Loudness: ITU-R BS.1770 and EBU Tech 3342 maths, and ffmpeg's ebur128 meter written to and read from a file."""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from pathlib import Path

from .ffmpeg import filter_path

R128 = re.compile(r"^lavfi\.r128\.(I|LRA|true_peak|sample_peak)=(\S+)$", re.M)
SILENT = -69.9  # ebur128 reports -70 LUFS (its absolute gate) for silence


@dataclass(frozen=True)
class Loudness:
    """An ebur128 measurement: integrated loudness (LUFS), true peak (dBTP), loudness range (LU)."""

    integrated: float
    true_peak: float
    lra: float
    sample_peak: float = float("-inf")  # dBFS


def ebur128(file: Path, peak: bool) -> str:
    """ebur128 writing its running values to a file (the last lines are the final measurement)."""
    return f"ebur128=framelog=quiet:metadata=1:peak={'true' if peak else 'sample'},ametadata=mode=print:file={filter_path(file)}"


def read_metering(file: Path) -> Loudness:
    """The final values of a metering file; -inf where the audio was silent."""
    with file.open("rb") as handle:
        handle.seek(0, os.SEEK_END)
        handle.seek(max(0, handle.tell() - 8192))
        tail = handle.read().decode(errors="replace")
    values = {key: float(value) for key, value in R128.findall(tail)}
    return Loudness(
        integrated=values.get("I", float("-inf")),
        true_peak=decibels(values.get("true_peak", 0.0)),
        lra=values.get("LRA", 0.0),
        sample_peak=decibels(values.get("sample_peak", 0.0)),
    )


def read_blocks(file: Path) -> tuple[list[float], list[float]]:
    """The momentary (400 ms) and short-term (3 s) loudness every 100 ms of a metering file."""
    momentary, short = [], []
    with file.open() as handle:
        for line in handle:
            if line.startswith("lavfi.r128.M="):
                momentary.append(float(line[13:]))
            elif line.startswith("lavfi.r128.S="):
                short.append(float(line[13:]))
    return momentary, short


def decibels(linear: float) -> float:
    return 20 * math.log10(linear) if linear > 0 else float("-inf")


def power(lufs: float) -> float:
    return 10 ** (lufs / 10)


def integrated(blocks: list[float]) -> float:
    """Integrated loudness (ITU-R BS.1770-4 gating) of momentary-loudness blocks; -70 when all are silent."""
    loud = [b for b in blocks if b > -70]
    if not loud:
        return -70.0
    gate = 10 * math.log10(sum(map(power, loud)) / len(loud)) - 10
    kept = [power(b) for b in loud if b > gate]
    return 10 * math.log10(sum(kept) / len(kept))


def loudness_range(short: list[float]) -> float:
    """Loudness range (EBU Tech 3342) of short-term loudness values: 95th minus 10th percentile, gated."""
    loud = [s for s in short if s > -70]
    if len(loud) < 2:
        return 0.0
    gate = 10 * math.log10(sum(map(power, loud)) / len(loud)) - 20
    kept = sorted(s for s in loud if s > gate)
    return kept[round(0.95 * (len(kept) - 1))] - kept[round(0.10 * (len(kept) - 1))]
