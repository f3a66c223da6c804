"""Editions: an episode's audio in another encoding, published beside its enclosure (podcast:alternateEnclosure).

The Opus edition is encoded from the mastered file (so it carries the same mastering), loudness-checked on its
decoded output as the enclosure is, tagged as the enclosure is, and kept in the cache by the mastered file's key and
the edition's settings. Any edition becomes an `Alternate` record (the clean edition will make one the same way).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, replace
from pathlib import Path

from .. import artefacts
from ..audio import mastering
from ..audio.ffmpeg import ffmpeg_version
from ..config import AudioSettings
from ..errors import AudioError
from ..progress import Task
from ..records import Alternate, LoudnessReport, Mastered
from . import tags

OPUS_METHOD = "opus-from-master-v1"
# Speech in Opus: 48 kbps is transparent for a mono voice, 64 kbps for stereo (Xiph's recommended settings).
OPUS_DEFAULT_KBPS = {1: 48, 2: 64}
MAX_OPUS_ENCODES = 2  # the encode, and one correcting encode if the decoded loudness misses


def opus_bitrate(settings: AudioSettings, channels: int) -> int:
    """The Opus edition's bitrate in kbps: the setting, or the default for mono or stereo."""
    return settings.opus_bitrate or OPUS_DEFAULT_KBPS[1 if channels == 1 else 2]


def opus(
    mastered: Mastered,
    tag_set: tags.TagSet,
    settings: AudioSettings,
    channels: int,
    cache_dir: Path,
    path: str,
    task: Task,
    fresh: bool = False,
) -> Alternate:
    """The Opus edition of a mastered episode (from the cache when it was made before, unless `fresh`), published at `path` of the site."""
    kbps = opus_bitrate(settings, channels)
    targets = (settings.normalize, settings.loudness, settings.true_peak)
    key = hashlib.sha256(
        json.dumps([mastered.key, kbps, channels, targets, ffmpeg_version(), OPUS_METHOD]).encode()
    ).hexdigest()[:32]
    shelf = artefacts.Shelf(cache_dir / "opus", ".opus")
    encoded = (None if fresh else mastering.from_record(shelf, key, shelf.get(key))) or _encode(
        mastered, settings, kbps, channels, shelf, key, task
    )
    media = tags.tag(
        encoded,
        replace(tag_set, duration_ms=int(encoded.duration * 1000)),
        cache_dir,
        path.rsplit("/", 1)[-1],
        fresh=fresh,
    )
    return Alternate(
        path=path,
        mime=media.mime,
        length=media.length,
        bitrate=round(media.length * 8 / encoded.duration),
        title=f"Opus {kbps} kbps",
        sha256=media.sha256,
        content=media.path,
        codecs="opus",
        duration=encoded.duration,
        report=encoded.report,
    )


def _encode(
    mastered: Mastered, settings: AudioSettings, kbps: int, channels: int, shelf: artefacts.Shelf, key: str, task: Task
) -> Mastered:
    """Encode, measure the decoded output, correct once if it missed the show's loudness; AudioError if it still does."""
    # The mastered file's peaks sit under the limiter's ceiling already; decoding overshoots them, which it catches.
    ceiling = settings.true_peak - mastering.TRUE_PEAK_MARGIN if settings.normalize else 0.0
    gain = 0.0
    with shelf.make(key) as job:
        partial, work = job.partial, job.work
        for encodes in range(1, MAX_OPUS_ENCODES + 1):
            result, seconds = mastering.encode_opus(
                mastered.path,
                partial,
                kbps,
                channels,
                gain,
                ceiling,
                work,
                task("opus" if encodes == 1 else "opus again", mastered.duration),
            )
            off = settings.normalize and abs(result.integrated - settings.loudness) > mastering.TOLERANCE
            hot = settings.normalize and result.true_peak > settings.true_peak
            if not (off or hot):
                break
            gain += settings.loudness - result.integrated if off else 0.0
            ceiling -= result.true_peak - settings.true_peak + 0.5 if hot else 0.0
        else:
            raise AudioError(
                mastered.path,
                f"the Opus edition missed the show's loudness after {MAX_OPUS_ENCODES} encodes: {result.integrated:.1f} LUFS, true peak {result.true_peak:.1f} dBTP",
                "set [audio] opus_bitrate higher, or opus = false to publish the MP3 alone",
            )
        report = LoudnessReport(
            input_i=mastered.report.output_i if mastered.report else result.integrated,
            input_peak=mastered.report.output_tp if mastered.report else result.true_peak,
            input_lra=mastered.report.output_lra if mastered.report else result.lra,
            output_i=round(result.integrated, 2),
            output_tp=round(result.true_peak, 2),
            output_lra=round(result.lra, 2),
            gain=round(gain, 2),
            method=OPUS_METHOD if settings.normalize else "encode only",
            passes=encodes,
        )
        job.record = {"duration": seconds, "report": asdict(report)}
    return Mastered(path=shelf.file(key), key=key, duration=seconds, report=report)
