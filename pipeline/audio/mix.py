"""Mix: one track per speaker → one levelled, automixed file in the cache, and who spoke when.

A panel recorded one microphone per speaker (the files of `episodes/<slug>/`, or the channels of one recording)
becomes the one recording mastering takes, in three steps, each streamed (memory does not grow with length):

    analyse   every track decoded at 8 kHz by one ffmpeg: a loudness envelope per 20 ms (K-weighted, roughly as
              BS.1770 weighs), and the first minutes as samples, to line up tracks from separate recorders
    decide    on the envelopes alone: offsets between recorders (GCC-PHAT), each track's noise floor and speech
              level, how much of each other voice it hears (bleed), and so, every 20 ms, which tracks carry their
              own panelist's voice; from that the gain of every track (levelling × automixer × the room's duck)
              and the speaker turns
    render    every track decoded at the output rate, lined up and cleaned (high-pass, `[audio]` clean-up), times
              its gain curve, summed in numpy a block at a time, and encoded to FLAC by a second ffmpeg

The automixer is a gain-sharing one in the spirit of Dugan's: the tracks whose own panelist speaks share the
gain by their level (two speaking at once both stay, 3 dB down each, so the total stays constant), the others go
down to a floor. What counts as "own voice" is what a track's level holds beyond the bleed of the other
microphones and its noise floor, both measured on the episode itself, so a quiet guest next to a loud host is not
mistaken for the host's bleed.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from .. import artefacts
from ..config import AudioSettings, MixSettings
from ..errors import AudioError
from ..progress import Progress, Task, no_task
from ..records import ROOM, Mixed, MixReport, Track, TrackReport, Turn
from . import cleanup
from .ffmpeg import ffmpeg, ffmpeg_version, file_arg, halt_if_stopped

AUDIENCE = "Audience"  # the room's own sound (questions, applause) in the speaker turns
METHOD = "gcc-automix-v3"

RATE = 8000  # Hz, analysis
HOP = 0.02  # s, one analysis frame
FRAME = int(RATE * HOP)
HEAD = 120.0  # s of samples kept to line up recorders
MAX_OFFSET = 10.0  # s, the furthest apart two recorders may have started
TOGETHER = 0.03  # s: closer than this, tracks are one recorder's (what remains is sound travelling between microphones)
CONFIDENT = 20.0  # GCC-PHAT peak over the spread of the rest: measured 75-550 with bleed 15-20 dB down, 4-9 between unrelated tracks
LENGTH_SLACK = 3.0  # s tracks may differ in length when no common sound lines them up
TARGET = -30.0  # LUFS each voice is levelled to in the mix: room for peaks; mastering sets the loudness
MAX_GAIN = 24.0  # dB, the most levelling may add or take
OPEN_DB, KEEP_DB = 9.0, 5.0  # own voice this far above what bleed and noise explain: opens the track, keeps it open
PREROLL, HOLD, RAMP = 0.06, 0.30, 0.06  # s: a track opens a little before the voice, holds over pauses between words
SHARE_WINDOW = 0.3  # s over which tracks open together share the gain
DUCK_HOLD = 0.6  # s the room stays ducked after a panelist stops
GAP, SHORTEST = 0.6, 0.3  # s: a pause this short stays in one turn; a turn this short is a word over another's
PEAK = 0.99  # the mix never clips (the limiter comes in mastering)
MAX_INPUTS = 64  # the most inputs ffmpeg's amerge takes: a larger panel is read by several ffmpeg runs, in step
MASTER_MARGIN = 2.0  # dB mastering's limiter sits under the true-peak ceiling (audio.TRUE_PEAK_MARGIN)


def cache_key(tracks: Sequence[Track], settings: MixSettings, audio: AudioSettings, together: bool) -> str:
    """Key of a mix: every track's content and role, and every setting that changes the sound."""
    parts = {
        "tracks": [(t.sha256, t.channel, t.who) for t in tracks],
        "mix": asdict(settings),
        "cleanup": cleanup.chain(audio),
        "together": together,
        "ffmpeg": ffmpeg_version(),
        "method": METHOD,
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:32]


def mix(
    tracks: Sequence[Track],
    settings: MixSettings,
    audio: AudioSettings,
    cache_dir: Path,
    task: Task | None = None,
    *,
    together: bool = False,
    fresh: bool = False,
) -> Mixed:
    """Mix the tracks into the cache (or reuse the cached mix, unless `fresh`); `together`: channels of one recorder
    (never offset). Raise AudioError naming the track at fault."""
    task = task or no_task
    key = cache_key(tracks, settings, audio, together)
    shelf = artefacts.Shelf(cache_dir / "mix", ".flac")
    cached = None if fresh else _from_record(shelf, key, shelf.get(key))
    if cached is not None:
        return cached
    with shelf.make(key) as job:
        starts, syncs, duration, plan = analyse(tracks, settings, audio, job.work, task, together=together)
        reference = _reference(tracks)
        _render(
            tracks, starts, duration, plan.gains, audio, settings, job.partial, job.work, task("mix tracks", duration)
        )
        talk = {
            who: sum(t.end - t.start for t in plan.turns if t.speaker == who) for who in {t.speaker for t in plan.turns}
        }
        report = MixReport(
            tracks=tuple(
                TrackReport(
                    who=t.who,
                    source=t.label,
                    offset=round(start, 3),
                    sync=sync,
                    gain=round(gain, 1),
                    talk=round(talk.get(AUDIENCE if t.who == ROOM else t.who, 0.0), 1),
                )
                for t, start, sync, gain in zip(tracks, starts, syncs, plan.levels)
            ),
            duration=round(duration, 3),
            reference=tracks[reference].label,
        )
        job.record = {"report": asdict(report), "turns": [[t.start, t.end, t.speaker] for t in plan.turns]}
    return Mixed(path=shelf.file(key), key=key, duration=report.duration, report=report, turns=plan.turns)


def analyse(
    tracks: Sequence[Track],
    settings: MixSettings,
    audio: AudioSettings,
    work: Path,
    task: Task,
    *,
    together: bool = False,
) -> tuple[list[float], list[str], float, Plan]:
    """The decisions of a mix, before any of it is rendered: where each track starts on the reference timeline (and
    how that was found), the mix's length, and the plan (gains and turns)."""
    longest = max(t.info.duration for t in tracks)
    envelopes, peaks, head = _analyse(tracks, longest, work, task("analyse tracks", longest))
    reference = _reference(tracks)
    starts, syncs = (
        ([0.0] * len(tracks), ["one recorder"] * len(tracks)) if together else _offsets(tracks, head, reference)
    )
    del head
    duration = tracks[reference].info.duration
    return (
        starts,
        syncs,
        duration,
        decide(
            _aligned(envelopes, starts, duration),
            _aligned(peaks, starts, duration),
            [t.who for t in tracks],
            settings,
            audio,
        ),
    )


def _from_record(shelf: artefacts.Shelf, key: str, data: dict | None) -> Mixed | None:
    if data is None:
        return None
    try:
        report = MixReport(
            tracks=tuple(TrackReport(**t) for t in data["report"]["tracks"]),
            duration=data["report"]["duration"],
            reference=data["report"]["reference"],
        )
        turns = tuple(Turn(float(s), float(e), str(who)) for s, e, who in data["turns"])
    except (ValueError, TypeError, KeyError):
        return None
    return Mixed(path=shelf.file(key), key=key, duration=report.duration, report=report, turns=turns, cached=True)


def mix_rate(tracks: Sequence[Track]) -> int:
    """The rate the mix is made at: most tracks' own (mastering resamples once, to the show's rate)."""
    rates = [t.info.sample_rate for t in tracks]
    return max(set(rates), key=lambda rate: (rates.count(rate), rate))


def _reference(tracks: Sequence[Track]) -> int:
    """The track whose timeline the episode keeps: the longest (a room recorder runs from first word to last)."""
    return max(range(len(tracks)), key=lambda i: (tracks[i].info.duration, -i))


# --- analyse ----------------------------------------------------------------------------------------------------------


def _inputs(tracks: Sequence[Track]) -> tuple[list[str], list[int]]:
    """ffmpeg's input arguments (each file once) and each track's input index."""
    files = list(dict.fromkeys(t.path for t in tracks))
    return [arg for path in files for arg in ("-i", file_arg(path))], [files.index(t.path) for t in tracks]


def _readings(tracks: Sequence[Track], outputs: int, graph) -> tuple[list[list[str]], list[int]]:
    """ffmpeg's arguments for reading the tracks as raw samples, in as few runs as amerge allows (`outputs` channels
    per track, at most MAX_INPUTS a run), and how many tracks each run reads. `graph(positions, input indices)`: the
    filter chains of a run reading the tracks at those positions, ending in [m]."""
    size = MAX_INPUTS // outputs
    groups = [range(k, min(len(tracks), k + size)) for k in range(0, len(tracks), size)]
    runs = []
    for group in groups:
        args, index = _inputs([tracks[k] for k in group])
        runs.append([*args, "-filter_complex", ";".join(graph(group, index)), "-map", "[m]", "-f", "f32le", "-"])
    return runs, [len(group) for group in groups]


def _pick(track: Track) -> str:
    """The filter taking a track's channel (or all its channels, together) as mono."""
    if track.channel:
        return f"pan=mono|c0=c{track.channel - 1},"
    return "aformat=channel_layouts=mono," if track.info.channels != 1 else ""


def _analyse(
    tracks: Sequence[Track], longest: float, work: Path, progress: Progress
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every track's K-weighted power and sample peak per frame (each n × frames) and its first HEAD seconds as
    samples (n × samples), at 8 kHz."""
    total = int(np.ceil(longest / HOP)) * FRAME
    pad = f"apad=whole_len={total},atrim=end_sample={total},aformat=sample_fmts=flt:channel_layouts=mono"

    def graph(group: range, index: list[int]) -> list[str]:
        m = len(group)
        return [
            *(
                f"[{index[i]}:a]{_pick(tracks[k])}aresample={RATE},highpass=f=60,asplit=2[w{i}][p{i}];"
                f"[w{i}]highshelf=f=1500:g=4,{pad}[a{i}];[p{i}]{pad}[b{i}]"  # roughly BS.1770's K-weighting; and as it is, for peaks
                for i, k in enumerate(group)
            ),
            "".join(f"[a{i}]" for i in range(m)) + "".join(f"[b{i}]" for i in range(m)) + f"amerge=inputs={2 * m}[m]",
        ]

    runs, sizes = _readings(tracks, 2, graph)
    n = len(tracks)
    head = np.zeros((n, int(min(HEAD, longest) * RATE)), dtype=np.float32)
    powers, peaks, done = [], [], 0
    with _Reading(tracks[0].path.parent, runs, [2 * m for m in sizes], work / "analyse.log") as reader:
        for parts in reader.blocks(FRAME * 250):
            # Each run gives its tracks' weighted samples, then their samples as they are: all of the first, then all of the second.
            block = np.concatenate(
                [p[:, :m] for p, m in zip(parts, sizes)] + [p[:, m:] for p, m in zip(parts, sizes)], axis=1
            )
            frames = len(block) // FRAME
            block = block[: frames * FRAME].reshape(frames, FRAME, 2 * n)
            powers.append(np.mean(np.square(block[:, :, :n]), axis=1, dtype=np.float32).T)
            peaks.append(np.max(np.abs(block[:, :, n:]), axis=1).T)
            if done < head.shape[1]:
                take = min(frames * FRAME, head.shape[1] - done)
                head[:, done : done + take] = block[:, :, n:].reshape(-1, n)[:take].T
            done += frames * FRAME
            progress(done / RATE)
    if not powers:
        return np.zeros((n, 0), np.float32), np.zeros((n, 0), np.float32), head
    return np.concatenate(powers, axis=1), np.concatenate(peaks, axis=1), head


class _Reading:
    """ffmpeg runs (one per group of tracks) whose outputs (raw float samples, all of one length) Python reads a block
    at a time, in step."""

    def __init__(self, where: Path, runs: list[list[str]], channels: list[int], log: Path) -> None:
        self.where, self.runs, self.channels = where, runs, channels
        self.logs = [log if k == 0 else log.with_name(f"{log.stem}-{k + 1}{log.suffix}") for k in range(len(runs))]

    def __enter__(self) -> _Reading:
        self.errors, self.procs = [], []
        try:
            for args, log in zip(self.runs, self.logs):
                self.errors.append(log.open("wb"))
                self.procs.append(
                    subprocess.Popen(
                        # info, not error: a run stopped by Ctrl-C while it opens its input exits 0 having
                        # read nothing, and only its "received signal" line says so (halt_if_stopped)
                        [ffmpeg(), "-nostdin", "-hide_banner", "-nostats", "-v", "info", *args],
                        stdout=subprocess.PIPE,
                        stderr=self.errors[-1],
                    )
                )
        except BaseException:
            self._close(killed=True)
            raise
        return self

    def blocks(self, frames: int):
        """Blocks of `frames` samples until the end: one array (frames × channels) per run."""
        while True:
            parts = []
            for proc, channels in zip(self.procs, self.channels):
                data = proc.stdout.read(frames * channels * 4)
                usable = len(data) // (4 * channels) * channels
                parts.append(np.frombuffer(data[: usable * 4], dtype="<f4").reshape(-1, channels))
            rows = min(len(part) for part in parts)
            if not any(len(part) for part in parts):
                return
            if rows:  # (runs that ended early are read to their end all the same: none is left blocked on its pipe)
                yield [part[:rows] for part in parts]

    def __exit__(self, kind, value, trace) -> None:
        codes = self._close(killed=kind is not None)
        if kind is None:
            for log, code in zip(self.logs, codes):
                halt_if_stopped(code, log.read_text(errors="replace"), self.where)
        failed = [log for log, code in zip(self.logs, codes) if code != 0]
        if failed and kind is None:
            raise AudioError(
                self.where,
                f"ffmpeg could not read the tracks: {_last_line(failed[0])}",
                "check that every track plays; if one does not, export it again as WAV or FLAC",
            )

    def _close(self, killed: bool) -> list[int]:
        if killed:
            for proc in self.procs:
                proc.kill()
        for proc in self.procs:
            proc.stdout.close()
        codes = [proc.wait() for proc in self.procs]
        for handle in self.errors:
            handle.close()
        return codes


def _last_line(log: Path) -> str:
    lines = [line.strip() for line in log.read_text(errors="replace").splitlines() if line.strip()]
    return lines[-1] if lines else "unknown error"


# --- line up ----------------------------------------------------------------------------------------------------------


def _offsets(tracks: Sequence[Track], head: np.ndarray, reference: int) -> tuple[list[float], list[str]]:
    """Where each track starts on the reference track's timeline (seconds) and how that was found; AudioError when
    tracks disagree in length and no common sound lines them up."""
    n = len(tracks)
    starts: list[float | None] = [None] * n
    starts[reference] = 0.0
    syncs = ["reference"] * n
    todo = [i for i in range(n) if i != reference]
    size = 1 << int(np.ceil(np.log2(2 * head.shape[1])))
    spectra: dict[int, np.ndarray] = {}  # each track's spectrum, once: a large panel compares many pairs
    tried: set[tuple[int, int]] = set()
    for _ in range(2):  # a track that shares no sound with the reference may share some with a track lined up already
        for i in list(todo):
            for j in [reference, *(k for k in range(n) if starts[k] is not None and k != reference)]:
                if (i, j) in tried:
                    continue
                tried.add((i, j))
                for k in (i, j):
                    if k not in spectra:
                        spectra[k] = np.fft.rfft(head[k], size)
                lag, score = gcc_phat(spectra[j] * np.conj(spectra[i]), size, MAX_OFFSET, RATE)
                if score >= CONFIDENT:
                    starts[i] = starts[j] + (0.0 if abs(lag) < TOGETHER else lag)
                    syncs[i] = "detected"
                    todo.remove(i)
                    break
    ref = tracks[reference]
    for i in todo:
        apart = abs(tracks[i].info.duration - ref.info.duration)
        if apart > LENGTH_SLACK:
            raise AudioError(
                tracks[i].path,
                f"is {tracks[i].info.duration:.1f} s long and {ref.label} {ref.info.duration:.1f} s: the tracks differ by {apart:.1f} s and share no sound "
                f"to line them up by (searched ±{MAX_OFFSET:.0f} s)",
                "export every track of the session from the same start (or trim them to a common clap), then build again",
            )
        starts[i], syncs[i] = 0.0, "assumed"
    return [float(s) for s in starts], syncs


def gcc_phat(spectrum: np.ndarray, size: int, max_lag: float, rate: int) -> tuple[float, float]:
    """The lag (seconds) by which `b`'s sound comes later in `a` (b[t] ≈ a[t + lag]), and how sure: the peak of the
    phase transform's cross-correlation over the spread of the rest; from their cross-spectrum
    `rfft(a, size) * conj(rfft(b, size))`."""
    spectrum /= np.abs(spectrum) + 1e-12
    corr = np.fft.irfft(spectrum, size)
    reach = int(max_lag * rate)
    window = np.concatenate([corr[-reach:], corr[: reach + 1]])  # lags -reach … +reach
    peak = int(np.argmax(window))
    rest = np.delete(window, slice(max(0, peak - 40), peak + 41))
    spread = float(np.std(rest)) or 1e-12
    return (peak - reach) / rate, float(window[peak] / spread)


def _aligned(envelopes: np.ndarray, starts: Sequence[float], duration: float) -> np.ndarray:
    """The envelopes moved onto the reference timeline (frames outside a track are 0: absent)."""
    frames = int(np.ceil(duration / HOP))
    out = np.zeros((envelopes.shape[0], frames), dtype=np.float32)
    for i, start in enumerate(starts):
        shift = int(round(start / HOP))
        lo, hi = max(0, shift), min(frames, shift + envelopes.shape[1])
        if hi > lo:
            out[i, lo:hi] = envelopes[i, lo - shift : hi - shift]
    return out


# --- decide -----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """What the mix does: every track's gain per frame (linear), its levelling (dB) and the speaker turns."""

    gains: np.ndarray
    levels: tuple[float, ...]
    turns: tuple[Turn, ...]
    own: np.ndarray  # per track and frame: how open its gate is (0-1), for the turns and the tests


def decide(
    power: np.ndarray, peaks: np.ndarray, whos: Sequence[str], settings: MixSettings, audio: AudioSettings
) -> Plan:
    """Gains and turns from the tracks' aligned envelopes (n × frames: K-weighted mean square, and sample peak, per
    frame); `audio`: the mastering the mix goes to (its limiter takes more from a voice with sharper peaks)."""
    n, frames = power.shape
    present = power > 0
    smooth = _box(power, 3)
    level = 10 * np.log10(smooth + 1e-12)
    floor = np.array(
        [np.percentile(level[i][present[i]], 10) if present[i].any() else -120.0 for i in range(n)], dtype=np.float32
    )
    snr = level - floor[:, None]

    # What each track hears of each other voice: measured where that voice clearly leads.
    bleed = np.full((n, n), -120.0)
    for j in range(n):
        others = np.max(np.delete(snr, j, axis=0), axis=0) if n > 1 else np.full(frames, -120.0)
        leads = present[j] & (snr[j] > 15) & (snr[j] > others + 6)
        for i in range(n):
            both = leads & present[i]
            if i != j and both.sum() >= 1.0 / HOP:
                bleed[i, j] = min(-3.0, float(np.percentile(level[i][both] - level[j][both], 70)))
    explained = (10 ** (bleed / 10)).astype(np.float32) @ smooth + (10 ** (floor / 10))[:, None]
    own_db = level - 10 * np.log10(explained)
    del level, snr
    gate = np.stack([_gate(own_db[i] * present[i]) for i in range(n)])

    panel = np.array([who != ROOM for who in whos])
    open_panel = gate[panel].max(axis=0) if panel.any() else np.zeros(frames, np.float32)
    # Levelling: every voice's own speech (where it alone is open) to TARGET.
    measured, alones = [], []
    for i in range(n):
        others = np.delete(gate, i, axis=0).max(axis=0) if n > 1 else np.zeros(frames, np.float32)
        alone = (gate[i] > 0.99) & (others < 0.01) & present[i]
        alones.append(alone)
        measured.append(loudness(power[i][alone]) if alone.sum() * HOP >= 1.0 else None)
    known = [m for m in measured if m is not None]
    common = TARGET - float(np.mean(known)) if known else 0.0
    levels = [
        float(np.clip(TARGET - m if settings.level and m is not None else common, -MAX_GAIN, MAX_GAIN))
        for m in measured
    ]
    if settings.level and audio.normalize:
        levels = _after_limiter(
            levels,
            [power[i][a] for i, a in enumerate(alones)],
            [peaks[i][a] for i, a in enumerate(alones)],
            measured,
            audio,
        )
    amplitude = (10 ** (np.array(levels) / 20)).astype(np.float32)

    # The automixer: open tracks share the gain by their own (levelled) voice; the others go down to the floor.
    excess = _box(np.maximum(smooth - explained, 0) * (amplitude**2)[:, None], SHARE_WINDOW / HOP)
    del explained, smooth
    if settings.automix:
        weight = gate * excess
        share = weight / (weight.sum(axis=0) + 1e-20)
        low = 10 ** (settings.floor / 20)
        mixing = low + (1 - low) * np.sqrt(share)
    else:
        mixing = np.ones((n, frames), np.float32)
    if (~panel).any() and panel.any():  # the room goes down while a panelist speaks (a sidechain)
        speaking = _box(_dilate(open_panel > 0.5, 0, DUCK_HOLD / HOP).astype(np.float32), RAMP / HOP)
        mixing[~panel] *= 1 - (1 - 10 ** (-settings.room_duck / 20)) * speaking
    gains = _box(mixing * amplitude[:, None], 2).astype(np.float32)
    gains *= present  # a track that is not there adds nothing (its padding is silence anyway)
    return Plan(gains=gains, levels=tuple(levels), turns=_turns(gate, excess, whos, panel), own=gate)


def _after_limiter(
    levels: list[float],
    power: list[np.ndarray],
    peaks: list[np.ndarray],
    measured: list[float | None],
    audio: AudioSettings,
) -> tuple[float, ...]:
    """Levelling gains corrected for what mastering's peak limiter will take from each voice: a voice with sharper
    peaks loses more loudness to it, so it is given that much more here (levels equal after mastering, not before)."""
    ceiling = 10 ** ((audio.true_peak - MASTER_MARGIN) / 20)
    voices = [i for i, m in enumerate(measured) if m is not None]
    levels = list(levels)
    for _ in range(3):  # more gain means more limiting: a few rounds settle it
        master = audio.loudness - TARGET
        losses = {}
        for i in voices:
            peak = peaks[i] * 10 ** ((levels[i] + master) / 20)
            cut = np.minimum(1.0, ceiling / np.maximum(peak, 1e-9))
            cut = np.minimum(cut, np.minimum(np.roll(cut, 1), np.roll(cut, -1)))  # the limiter's attack and release
            losses[i] = measured[i] + levels[i] - loudness(power[i] * cut**2 * 10 ** (levels[i] / 10))
        mean = float(np.mean(list(losses.values()))) if losses else 0.0
        for i in voices:
            levels[i] = float(np.clip(TARGET - measured[i] + losses[i] - mean, -MAX_GAIN, MAX_GAIN))
    return tuple(levels)


def loudness(power: np.ndarray, hop: float = HOP) -> float:
    """Integrated loudness (LUFS) of K-weighted mean-square frames, gated as BS.1770 gates: 400 ms blocks, those
    under -70 LUFS and then those 10 LU under the mean of the rest left out (pauses do not pull a voice down)."""
    width = max(1, int(round(0.4 / hop)))
    blocks = (
        _box(power[None, :], width)[0][width // 2 : len(power) - width // 2 : max(1, width // 4)]
        if len(power) > width
        else power
    )
    blocks = blocks[blocks > 10 ** ((-70 + 0.691) / 10)]
    if not len(blocks):
        return -70.0
    blocks = blocks[blocks > np.mean(blocks) * 10 ** (-10 / 10)]
    return float(10 * np.log10(np.mean(blocks)) - 0.691)


def _gate(own: np.ndarray) -> np.ndarray:
    """0-1 per frame: open where the own voice rises OPEN_DB above what bleed and noise explain, kept open while it
    stays KEEP_DB above, a little early and over pauses between words, with short ramps."""
    strong, weak = own > OPEN_DB, own > KEEP_DB
    edges = np.diff(np.concatenate([[0], weak.astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    counted = np.concatenate([[0], np.cumsum(strong)])
    keep = counted[ends] - counted[starts] > 0  # runs above KEEP_DB that reach OPEN_DB somewhere (hysteresis)
    marks = np.zeros(len(own) + 1, np.int32)
    np.add.at(marks, starts[keep], 1)
    np.add.at(marks, ends[keep], -1)
    held = _dilate(np.cumsum(marks[:-1]) > 0, PREROLL / HOP, HOLD / HOP)
    return _box(held.astype(np.float32), RAMP / HOP)


def _dilate(mask: np.ndarray, before: float, after: float) -> np.ndarray:
    """`mask` widened by `before` frames earlier and `after` frames later."""
    before, after = int(round(before)), int(round(after))
    counted = np.concatenate([[0], np.cumsum(mask, dtype=np.int64)])
    index = np.arange(len(mask))
    hi = np.minimum(len(mask), index + before + 1)
    lo = np.maximum(0, index - after)
    return counted[hi] - counted[lo] > 0


def _box(values: np.ndarray, width: float) -> np.ndarray:
    """A centred moving average over `width` frames along the last axis (edges averaged over what there is)."""
    width = max(1, int(round(width)))
    if width == 1:
        return values.astype(np.float32)
    pad = [(0, 0)] * (values.ndim - 1) + [(width // 2, width - 1 - width // 2)]
    padded = np.pad(values.astype(np.float64), pad, mode="edge")
    counted = np.cumsum(padded, axis=-1)
    counted = np.concatenate([np.zeros((*values.shape[:-1], 1)), counted], axis=-1)
    return ((counted[..., width:] - counted[..., :-width]) / width).astype(np.float32)


def _turns(gate: np.ndarray, excess: np.ndarray, whos: Sequence[str], panel: np.ndarray) -> tuple[Turn, ...]:
    """Who spoke when: per frame the open panelist with the most own voice (else the room's own sound, the
    audience); short pauses stay inside a turn, a word over another's turn does not start one."""
    names = list(dict.fromkeys([who for who in whos if who != ROOM] + ([AUDIENCE] if not panel.all() else [])))
    frames = gate.shape[1]
    label = np.full(frames, -1, dtype=np.int32)
    if panel.any():
        score = np.where(gate[panel] > 0.5, excess[panel], -1.0)
        best = np.argmax(score, axis=0)
        speaking = score[best, np.arange(frames)] >= 0
        index = np.array([names.index(who) for who in np.array(whos)[panel]])
        label[speaking] = index[best[speaking]]
    if not panel.all():
        room = (gate[~panel].max(axis=0) > 0.5) & (label < 0)
        label[room] = names.index(AUDIENCE)
    runs = _runs(label)
    # A pause shorter than GAP between two stretches of one voice is part of its turn.
    runs = _merge(
        [
            (
                v
                if v >= 0 or not (0 < k < len(runs) - 1 and runs[k - 1][0] == runs[k + 1][0] and (e - s) * HOP < GAP)
                else runs[k - 1][0],
                s,
                e,
            )
            for k, (v, s, e) in enumerate(runs)
        ]
    )
    # A stretch shorter than SHORTEST inside someone's turn is theirs (a word over it, a cough).
    runs = _merge(
        [
            (runs[k - 1][0] if v >= 0 and k > 0 and runs[k - 1][0] >= 0 and (e - s) * HOP < SHORTEST else v, s, e)
            for k, (v, s, e) in enumerate(runs)
        ]
    )
    return tuple(
        Turn(round(s * HOP, 2), round(e * HOP, 2), names[v]) for v, s, e in runs if v >= 0 and (e - s) * HOP >= SHORTEST
    )


def _runs(label: np.ndarray) -> list[tuple[int, int, int]]:
    """(value, start, end) of every run of equal values."""
    if not len(label):
        return []
    cuts = np.flatnonzero(np.diff(label)) + 1
    starts = np.concatenate([[0], cuts])
    ends = np.concatenate([cuts, [len(label)]])
    return [(int(label[s]), int(s), int(e)) for s, e in zip(starts, ends)]


def _merge(runs: list[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
    merged: list[tuple[int, int, int]] = []
    for value, start, end in runs:
        if merged and merged[-1][0] == value:
            merged[-1] = (value, merged[-1][1], end)
        else:
            merged.append((value, start, end))
    return merged


# --- render -----------------------------------------------------------------------------------------------------------


def blocks(
    tracks: Sequence[Track],
    starts: Sequence[float],
    duration: float,
    gains: np.ndarray,
    audio: AudioSettings,
    settings: MixSettings,
    work: Path,
):
    """Every track decoded at the output rate, lined up and cleaned, with its gain per sample: (samples, gains), each
    (frames × tracks), two seconds at a time."""
    rate = mix_rate(tracks)
    total = int(round(duration * rate))
    clean = [*([f"highpass=f={settings.highpass}"] if settings.highpass else []), *cleanup.chain(audio)]
    chain = ",".join(clean) + "," if clean else ""

    def graph(group: range, index: list[int]) -> list[str]:
        chains = []
        for i, k in enumerate(group):
            shift = int(round(starts[k] * rate))
            move = (
                f"adelay=delays={shift}S:all=1,"
                if shift > 0
                else f"atrim=start_sample={-shift},asetpts=PTS-STARTPTS,"
                if shift < 0
                else ""
            )
            chains.append(
                f"[{index[i]}:a]{_pick(tracks[k])}aresample={rate},{move}{chain}apad=whole_len={total},atrim=end_sample={total},aformat=sample_fmts=flt:channel_layouts=mono[t{i}]"
            )
        m = len(group)
        return [*chains, "".join(f"[t{i}]" for i in range(m)) + (f"amerge=inputs={m}[m]" if m > 1 else "anull[m]")]

    runs, sizes = _readings(tracks, 1, graph)
    n = len(tracks)
    done, frames = 0, gains.shape[1]
    with _Reading(tracks[0].path.parent, runs, sizes, work / "render.log") as reader:
        for parts in reader.blocks(rate * 2):
            block = np.concatenate(parts, axis=1)
            at = (done + np.arange(len(block), dtype=np.float64)) / (
                rate * HOP
            ) - 0.5  # frame k's gain is its value at its middle
            k0, k1 = max(0, int(at[0]) - 1), min(frames, int(at[-1]) + 3)
            known = np.arange(k0, k1, dtype=np.float64)
            gain = np.empty(block.shape, np.float32)
            for i in range(n):  # np.interp on the block's few frames: a gather over every sample costs twice as much
                gain[:, i] = np.interp(at, known, gains[i, k0:k1])
            yield block, gain
            done += len(block)


def _render(
    tracks: Sequence[Track],
    starts: Sequence[float],
    duration: float,
    gains: np.ndarray,
    audio: AudioSettings,
    settings: MixSettings,
    out: Path,
    work: Path,
    progress: Progress,
) -> None:
    """The tracks times their gain curves, summed a block at a time and encoded to FLAC (24 bit)."""
    rate = mix_rate(tracks)
    encode = [
        ffmpeg(),
        "-nostdin",
        "-hide_banner",
        "-v",
        "error",
        "-f",
        "f32le",
        "-ar",
        str(rate),
        "-ac",
        "1",
        "-i",
        "-",
        "-c:a",
        "flac",
        "-sample_fmt",
        "s32",
        "-bits_per_raw_sample",
        "24",
        "-compression_level",
        "0",
        "-map_metadata",
        "-1",
        "-fflags",
        "+bitexact",
        "-flags:a",
        "+bitexact",
        "-y",
        file_arg(out),
    ]
    done = 0
    with (work / "encode.log").open("wb") as log:
        encoder = subprocess.Popen(encode, stdin=subprocess.PIPE, stderr=log)
        try:
            for block, gain in blocks(tracks, starts, duration, gains, audio, settings, work):
                mixed = np.einsum("tn,tn->t", block, gain)
                np.clip(mixed, -PEAK, PEAK, out=mixed)
                encoder.stdin.write(mixed.astype("<f4").tobytes())
                done += len(block)
                progress(done / rate)
        finally:
            encoder.stdin.close()
            code = encoder.wait()
    halt_if_stopped(code, (work / "encode.log").read_text(errors="replace"), out.parent)
    if code != 0:
        raise AudioError(
            out.parent,
            f"ffmpeg could not write the mix: {_last_line(work / 'encode.log')}",
            "check that the disk has room, then build again",
        )
    if done < (duration - 1) * rate:
        raise AudioError(
            tracks[0].path.parent,
            f"the tracks gave {done / rate:.1f} s of audio, not {duration:.1f} s",
            "check that every track plays to its end; export it again if it does not",
        )
