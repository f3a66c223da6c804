"""The master stage: real recordings through real ffmpeg, checked by an independent measurement."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from mutagen import File as MutagenFile

from pipeline import config
from pipeline.audio import mastering
from pipeline.audio.ffmpeg import ffmpeg
from pipeline.config import AudioSettings
from pipeline.episode import probe
from pipeline.errors import AudioError, ConfigError
from tests.conftest import SPEECH, lavfi, make_audio

TARGET = AudioSettings()  # -16 LUFS, -1 dBTP, 128 kbps MP3 at 44.1 kHz


def measure(path: Path) -> dict[str, float]:
    """ffmpeg's ebur128 summary of the decoded file, read from its printed report (not panelpress's parser)."""
    log = subprocess.run(
        [
            ffmpeg(),
            "-nostdin",
            "-hide_banner",
            "-nostats",
            "-i",
            str(path),
            "-af",
            "ebur128=peak=true:framelog=quiet",
            "-f",
            "null",
            "-",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stderr
    summary = log[log.rindex("Summary:") :]
    number = r"(-?[\d.]+|-inf)"
    return {
        "I": float(re.search(r"I:\s+" + number + " LUFS", summary).group(1)),
        "TP": float(re.search(r"Peak:\s+" + number + " dBFS", summary).group(1)),
        "LRA": float(re.search(r"LRA:\s+" + number + " LU", summary).group(1)),
    }


def speech(
    path: Path,
    seconds: float = 20,
    channels: int = 2,
    rate: int = 44100,
    volume_db: float = 0.0,
    codec: tuple[str, ...] = (),
    seed: int = 1,
) -> Path:
    """Speech-like shaped noise with pauses, at a chosen level."""
    return make_audio(
        path,
        seconds=seconds,
        channels=channels,
        rate=rate,
        source=SPEECH.format(seed=seed),
        codec_args=codec,
        volume_db=volume_db,
    )


def speech_at(path: Path, lufs: float, channels: int = 2, clicks: float = 0.0) -> Path:
    """Speech-like noise at a given integrated loudness; with `clicks` (a linear peak, up to 0.99), sharp peaks ride on it."""
    click = f"aevalsrc='if(lt(mod(t\\,1.7)\\,0.004)\\,{clicks}*sin(2*PI*3000*t)\\,0)':s=44100"

    def render(gain: float) -> None:
        graph = f"{SPEECH.format(seed=7)},volume={gain:.2f}dB"
        if clicks:
            graph += f"[s];{click}[c];[s][c]amix=inputs=2:normalize=0,alimiter=limit=0.999:level=0"
        lavfi(graph, "-t", "20", "-ac", str(channels), "-c:a", "pcm_f32le", "-y", str(path))

    gain = 0.0
    for _ in range(3):  # the limiter on the clicks makes loudness bend: home in
        render(gain)
        gain += lufs - measure(path)["I"]
    return path


def master(path: Path, tmp: Path, settings: AudioSettings = TARGET, **kwargs):
    return mastering.master(probe.probe(path), settings, tmp / "cache", **kwargs)


def assert_on_target(path: Path, settings: AudioSettings = TARGET) -> None:
    level = measure(path)
    assert abs(level["I"] - settings.loudness) <= 0.5, level
    assert level["TP"] <= settings.true_peak, level


@pytest.mark.parametrize("channels", [1, 2])
@pytest.mark.parametrize("level", ["quiet", "hot"])
def test_quiet_and_hot_speech_land_on_target(tmp_path, channels, level):
    wanted = -30.0 if level == "quiet" else -8.0
    src = speech_at(tmp_path / f"{level}.wav", wanted, channels=channels, clicks=0.99 if level == "hot" else 0.0)
    measured_in = measure(src)["I"]
    assert measured_in == pytest.approx(wanted, abs=1.0 if level == "quiet" else 2.0)  # the fixture is what it claims
    if level == "hot":
        assert measure(src)["TP"] > -3.5  # peaks near full scale
    result = master(src, tmp_path)
    assert_on_target(result.path)
    info = MutagenFile(result.path).info
    assert info.sample_rate == 44100 and info.channels == channels
    assert result.report.output_i == pytest.approx(measure(result.path)["I"], abs=0.15)
    assert result.report.input_i == pytest.approx(measured_in, abs=0.3)
    assert result.report.method == mastering.METHOD


FORMATS = {
    "s16.wav": ("-c:a", "pcm_s16le"),
    "s24.wav": ("-c:a", "pcm_s24le"),
    "f32.wav": ("-c:a", "pcm_f32le"),
    "flac": ("-c:a", "flac"),
    "mp3": ("-c:a", "libmp3lame", "-b:a", "96k"),
    "m4a": ("-c:a", "aac", "-b:a", "96k"),
    "ogg": ("-c:a", "libvorbis"),
    "opus": ("-c:a", "libopus"),
    "aiff": (),
}


@pytest.mark.parametrize("kind", sorted(FORMATS))
def test_every_input_format_masters(tmp_path, kind):
    rate = 48000 if kind in ("opus", "f32.wav") else 44100
    src = speech(
        tmp_path / f"in.{kind.split('.')[-1]}",
        seconds=12,
        rate=rate,
        channels=1 if kind in ("flac", "ogg") else 2,
        volume_db=-10,
        codec=FORMATS[kind],
    )
    result = master(src, tmp_path)
    assert_on_target(result.path)
    assert abs(result.duration - 12) < 0.2
    assert MutagenFile(result.path).info.sample_rate == 44100


@pytest.mark.parametrize("rate", [8000, 96000])
def test_extreme_sample_rates_come_out_at_the_set_rate(tmp_path, rate):
    result = master(speech(tmp_path / "in.wav", seconds=10, rate=rate), tmp_path, replace(TARGET, sample_rate=48000))
    assert MutagenFile(result.path).info.sample_rate == 48000
    assert_on_target(result.path)


def test_other_targets_and_m4a_output(tmp_path):
    settings = replace(TARGET, loudness=-19.0, true_peak=-2.0, format="m4a", bitrate=96)
    result = master(speech(tmp_path / "in.wav", volume_db=-5), tmp_path, settings)
    assert result.path.suffix == ".m4a"
    assert_on_target(result.path, settings)
    assert MutagenFile(result.path).info.codec.startswith("mp4a")


def _short_term(path: Path, spans: list[tuple[float, float]]) -> float:
    """Mean short-term loudness (3 s window, LUFS) at the ends of the given spans."""
    log = subprocess.run(
        [
            ffmpeg(),
            "-nostdin",
            "-hide_banner",
            "-nostats",
            "-v",
            "verbose",
            "-i",
            str(path),
            "-af",
            "ebur128=framelog=verbose",
            "-f",
            "null",
            "-",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stderr
    frames = [(float(t), float(s)) for t, s in re.findall(r"t:\s*([\d.]+).*?S:\s*(-?[\d.]+)", log)]
    values = [s for t, s in frames if any(end - 0.2 <= t <= end for _, end in spans)]
    return sum(values) / len(values)


def test_level_voices_brings_a_quiet_voice_up(tmp_path):
    # Voice A speaks 6 s, then voice B, 12 dB quieter, 6 s; four turns each.
    a = f"{SPEECH.format(seed=3)},volume='if(lt(mod(t,12),6),1,0)':eval=frame"
    b = f"{SPEECH.format(seed=4)},volume='if(gte(mod(t,12),6),0.2512,0)':eval=frame"  # -12 dB
    src = tmp_path / "panel.wav"
    lavfi(f"{a}[a];{b}[b];[a][b]amix=inputs=2:normalize=0", "-t", "48", "-y", str(src))
    turns_a = [(t, t + 6) for t in range(0, 48, 12)]
    turns_b = [(t + 6, t + 12) for t in range(0, 48, 12)]
    gap_in = _short_term(src, turns_a) - _short_term(src, turns_b)
    assert gap_in > 10  # the fixture really has a quiet voice
    # A show that allows a 20 LU range is not levelled: only the compressor shaves the loud voice's peaks.
    wide = master(src, tmp_path / "wide", replace(TARGET, lra=20.0))
    assert _short_term(wide.path, turns_a) - _short_term(wide.path, turns_b) > 7
    default = master(src, tmp_path / "default")  # at most 8 LU by default: the gap narrows, the voices stay apart
    assert 3 < _short_term(default.path, turns_a) - _short_term(default.path, turns_b) < 7
    assert default.report.input_lra > 10 and default.report.output_lra <= TARGET.lra + 0.5
    leveled = master(src, tmp_path / "leveled", replace(TARGET, level_voices=True))
    assert abs(_short_term(leveled.path, turns_a) - _short_term(leveled.path, turns_b)) < 4
    assert_on_target(leveled.path)


def test_trimming_silence_moves_the_timeline(tmp_path):
    src = tmp_path / "padded.wav"
    graph = f"anullsrc=r=44100:cl=stereo,atrim=0:3[l];{SPEECH.format(seed=5)},atrim=0:10[s];anullsrc=r=44100:cl=stereo,atrim=0:4[t];[l][s][t]concat=n=3:v=0:a=1"
    lavfi(graph, "-y", str(src))
    result = master(src, tmp_path, replace(TARGET, trim_silence=True))
    keep = mastering.TRIM_KEEP_SECONDS
    assert result.offset == pytest.approx(-(3 - keep), abs=0.05)
    # the speech pauses at its end too (SPEECH is silent from 8.8 s of every 3 s cycle's 2.2 s), so allow that
    assert 10 - 1.0 + 2 * keep - 0.1 <= result.duration <= 10 + 2 * keep + 0.1
    assert_on_target(result.path)


def test_intro_and_outro_are_joined_and_shift_the_timeline(tmp_path):
    show = tmp_path / "show"
    make_audio(show / "intro.wav", seconds=2.5, source="sine=frequency=660")
    make_audio(show / "outro.mp3", seconds=3, source="sine=frequency=330", codec_args=("-c:a", "libmp3lame"))
    src = speech(tmp_path / "in.wav", seconds=10)
    result = master(src, tmp_path, replace(TARGET, intro="intro.wav", outro="outro.mp3"), root=show)
    assert result.offset == pytest.approx(2.5, abs=0.01)
    assert result.duration == pytest.approx(10 + 2.5 + 3, abs=0.1)
    assert_on_target(result.path)


def test_highpass_removes_rumble(tmp_path):
    src = tmp_path / "rumble.wav"
    graph = (
        f"{SPEECH.format(seed=8)}[s];sine=frequency=35:sample_rate=44100,volume=0.5[r];[s][r]amix=inputs=2:normalize=0"
    )
    lavfi(graph, "-t", "10", "-y", str(src))

    def rumble(path: Path) -> float:
        log = subprocess.run(
            [
                ffmpeg(),
                "-nostdin",
                "-hide_banner",
                "-i",
                str(path),
                "-af",
                "lowpass=f=45,lowpass=f=45,volumedetect",
                "-f",
                "null",
                "-",
            ],
            capture_output=True,
            text=True,
        ).stderr
        return float(re.search(r"mean_volume: (-?[\d.]+) dB", log).group(1))

    plain = master(src, tmp_path / "a")
    filtered = master(src, tmp_path / "b", replace(TARGET, highpass=80))
    assert rumble(filtered.path) < rumble(plain.path) - 10  # a 2-pole high-pass: about 14 dB down at 35 Hz


def test_progress_is_reported_per_pass(tmp_path):
    seen: dict[str, list[float]] = {}
    master(
        speech_at(tmp_path / "in.wav", -30, clicks=0.25),
        tmp_path,
        task=lambda name, total: seen.setdefault(name, []).append,
    )
    assert list(seen) == ["measure", "encode"]
    for values in seen.values():
        assert values == sorted(values) and values[-1] > 19


@pytest.mark.parametrize("clicks", [0.0, 0.25])
def test_one_analysis_and_one_encode_whatever_the_limiter_does(tmp_path, clicks):
    # Even speech brought up 14 dB keeps its peaks under the limiter: the gain alone lands it on target, uncompressed.
    # Clicks 12 dB under full scale, brought up 14 dB, are limited, and limiting costs loudness: the gain curve is
    # computed with it, so the one encode lands all the same.
    result = master(speech_at(tmp_path / "in.wav", -30, clicks=clicks), tmp_path)
    assert [p.name for p in result.report.timings] == ["measure", "encode", "verify"]
    assert result.report.passes == 3
    report = result.report
    assert (report.compressor_max + report.limiter_max > 3) == bool(clicks) and (report.compressor_max > 0) == bool(
        clicks
    )
    assert_on_target(result.path)


def test_the_cache_remasters_only_when_the_sound_changes(tmp_path):
    src = speech(tmp_path / "in.wav", seconds=6)
    first = master(src, tmp_path)
    again = master(src, tmp_path)
    assert again.cached and again.path == first.path and again.report == first.report
    louder = master(src, tmp_path, replace(TARGET, loudness=-14.0))
    assert not louder.cached and louder.path != first.path
    assert sorted(p.name for p in (tmp_path / "cache" / "master").iterdir()) == sorted(
        f"{made.key}{end}" for made in (first, louder) for end in (".mp3", ".json", ".curve.f32")
    )


def test_a_killed_encode_leaves_nothing_a_later_build_trusts(tmp_path):
    src = speech(tmp_path / "long.wav", seconds=300)
    cache = tmp_path / "cache"
    code = f"from pipeline.audio import mastering; from pipeline.episode import probe; from pipeline.config import AudioSettings; mastering.master(probe.probe(__import__('pathlib').Path({str(src)!r})), AudioSettings(), __import__('pathlib').Path({str(cache)!r}))"
    proc = subprocess.Popen([sys.executable, "-c", code], start_new_session=True)
    deadline = time.monotonic() + 120
    while not any(p.stat().st_size > 0 for p in cache.glob("master/*/partial.mp3")) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert proc.poll() is None, "the encode ended before it could be interrupted"
    import os

    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not list(cache.glob("master/*.mp3")) and not list(cache.glob("master/*.json"))
    result = master(src, tmp_path)
    assert not result.cached and result.path.is_file()


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda p: p.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunkjunkjunk" * 50), "not a recording"),
        (lambda p: make_audio(p, seconds=0.5), "is only 0.5 s long"),
        (lambda p: make_audio(p, seconds=5, source="anullsrc=r=44100:cl=stereo"), "is silent"),
    ],
)
def test_bad_recordings_are_clear_errors(tmp_path, make, expected):
    src = tmp_path / "bad.wav"
    make(src)
    with pytest.raises(AudioError) as error:
        master(src, tmp_path)
    assert expected in str(error.value) and error.value.path == src
    assert not list((tmp_path / "cache").glob("master/*.*"))


def test_a_file_without_an_audio_stream(tmp_path):
    src = tmp_path / "video.m4a"
    lavfi("testsrc=size=64x64:rate=5", "-t", "3", "-c:v", "mpeg4", "-f", "mp4", "-y", str(src))
    with pytest.raises(AudioError) as error:
        master(src, tmp_path)
    assert "audio" in error.value.problem and error.value.path == src


def test_a_missing_intro_is_named(tmp_path):
    src = speech(tmp_path / "in.wav", seconds=3)
    with pytest.raises(AudioError) as error:
        master(src, tmp_path, replace(TARGET, intro="jingles/intro.wav"), root=tmp_path)
    assert error.value.path == tmp_path / "jingles" / "intro.wav"


def test_full_scale_clicks_over_quiet_speech_still_land_on_target(tmp_path):
    # The clicks make most of the measured loudness; once they are limited the speech must carry it, so the
    # loudness gained per dB of gain bends sharply: the gain is solved on the analysis, and one encode lands.
    result = master(speech_at(tmp_path / "in.wav", -30, clicks=0.99), tmp_path)
    assert_on_target(result.path)
    assert [p.name for p in result.report.timings] == ["measure", "encode", "verify"]


def test_the_gain_computer_keeps_every_block_under_the_ceiling_however_the_gain_goes_between_points():
    # A random envelope of loud and quiet 5 ms blocks: after levelling, gain, compressor and limiter, each block's
    # highest sample times the larger gain at its two points (the curve is interpolated between them) is under the
    # ceiling; the limiter gives back what it took (release), and the gain found lands the prediction on what is wanted.
    rng = np.random.default_rng(7)
    n = 20_000
    peak = 10 ** (rng.uniform(-40, 0, n) / 20) * (rng.random(n) < 0.7)
    energy = peak**2 * 100
    program = mastering._Blocks(energy=energy, peak=peak, samples=np.full(n, 220.0), rate=44100)
    level = np.zeros(n)
    settings = TARGET
    for compress in (False, True):
        start = -16.0 - mastering.gated_loudness(program.steps())
        gain, dynamics = mastering._solve(program, level, start, -16.0, -3.0, settings, compress)
        assert mastering._predict(program, level, gain, dynamics) == pytest.approx(-16.0, abs=0.01)
        points = gain - dynamics.total()
        worst = 20 * np.log10(np.maximum(peak, 1e-12)) + np.maximum(points[:-1], points[1:])
        assert worst.max() <= -3.0 + 1e-4  # (gain reduction is kept in float32)
        assert dynamics.limiter.max() > 0.1 and (dynamics.limiter < 0.01).any()  # working at peaks, idle elsewhere
        assert (dynamics.compressor.max() > 0) == compress


def test_the_release_is_an_exponential_hold():
    need = np.zeros(400)
    need[[10, 200]] = [6.0, 2.0]
    held = mastering._hold(need, 0.050)  # 10 points (5 ms each): a factor e every 10 points
    assert held[10] == pytest.approx(6.0) and held[20] == pytest.approx(6.0 / np.e)
    assert held[200] == pytest.approx(max(2.0, 6.0 * np.exp(-19)))
    assert held[9] == 0 and np.all(held >= need)


@pytest.mark.parametrize("value", [1.0, 25, "8"])
def test_a_loudness_range_outside_what_speech_needs_is_refused_with_its_fix(tmp_path, value):
    show = {
        "title": "T",
        "description": "D",
        "author": "A",
        "owner_email": "a@example.org",
        "site_url": "https://example.org/",
    }
    with pytest.raises(ConfigError) as error:
        config.from_dict(tmp_path, {"show": show, "audio": {"lra": value}})
    assert "[audio] lra" in error.value.problem and (
        "between 3 and 20" in error.value.fix or "number" in error.value.fix
    )
    assert config.from_dict(tmp_path, {"show": show, "audio": {"lra": 6}}).audio.lra == 6.0


def test_a_correction_that_must_lower_the_gain_can(tmp_path):
    """A 2-second stretch of speech-like noise whose first encode comes out quiet and whose correction overshoots:
    the next correction must be free to take gain away (it was searched only upwards, and the master failed)."""
    path = tmp_path / "short.wav"
    source = (
        "anoisesrc=color=pink:seed=7:amplitude=0.4:sample_rate=44100,bandpass=f=700:width_type=h:w=1800,"
        "volume='if(lt(mod(t*1.7,3),2.1),1,0.05)':eval=frame,"
        "atrim=start_sample=20022272:end_sample=20110336,asetpts=PTS-STARTPTS"  # one recording of bench/scale.py's
    )
    lavfi(source, "-ac", "2", "-y", str(path))
    settings = replace(TARGET, level_voices=False)
    mastered = master(path, tmp_path, settings)
    level = measure(mastered.path)
    assert abs(level["I"] - settings.loudness) <= 0.3 and level["TP"] <= settings.true_peak, level


def test_chunks_made_ahead_come_in_order_and_carry_the_errors_and_the_end():
    # The measure pass decodes in a thread of its own, a chunk or two ahead of the analysis.
    def counting(count: int, fail: bool = False):
        try:
            for number in range(count):
                yield np.full((2, 4), number, dtype=np.float32)
            if fail:
                raise AudioError(Path("take.wav"), "it does not decode", "export it again")
        finally:
            closed.append(count)

    closed: list[int] = []
    assert [int(chunk[0, 0]) for chunk in mastering._Ahead(counting(7))] == list(range(7))
    with pytest.raises(AudioError, match="does not decode"):
        for _ in mastering._Ahead(counting(3, fail=True)):
            pass
    ahead = mastering._Ahead(counting(1000))
    used = iter(ahead)
    assert int(next(used)[0, 0]) == 0
    used.close()  # the analysis stopped early (an error of its own): the decoding stops and closes its file
    assert closed == [7, 3, 1000]
    assert not ahead._worker.is_alive()


def test_a_cache_folder_of_any_name_holds_the_gain_curve_the_graph_reads(tmp_path):
    # The encode's filter graph opens the gain curve itself (amovie): a folder name with the graph's and the
    # options' special characters still reaches it as it is.
    src = speech(tmp_path / "in.wav", seconds=8, rate=44100, channels=2, volume_db=-12, codec=())
    odd = tmp_path / "show: it's [a], b;c\\d"
    result = mastering.master(probe.probe(src), TARGET, odd / "cache")
    assert_on_target(result.path)
    assert (odd / "cache" / "master" / f"{result.key}.curve.f32").is_file()


@pytest.mark.parametrize("channels", [1, 2])
def test_the_analysis_in_threads_gives_the_envelope_of_one_thread_bit_for_bit(tmp_path, channels):
    # The measure pass decodes, K-weights and takes the envelope each in a thread of its own, a chunk or two apart:
    # the filter still sees the chunks in order, so the envelope is the one a single thread makes, to the last bit.
    src = speech(tmp_path / "in.wav", seconds=30, channels=channels, rate=48000, codec=("-c:a", "pcm_s24le"))
    info = probe.probe(src)
    assert info.duration > mastering.AHEAD_SECONDS
    plan = mastering._Plan(source=src, settings=TARGET, channels=channels, source_rate=48000)
    threaded, cpu = mastering._analyse(info, plan, None)
    envelope = mastering._Envelope(48000, channels)
    for chunk in mastering._decoded(src)[2]:
        envelope.feed(chunk)
    single = envelope.finish()
    for field in ("energy", "peak", "samples"):
        assert np.array_equal(getattr(threaded, field), getattr(single, field)), field
    assert cpu > 0  # the threads' CPU time is counted


@pytest.mark.parametrize("highpass", [0, 80])
def test_a_stopped_analysis_stops_at_once(tmp_path, highpass):
    # The analysis starts before the cache is looked up (beside the checksum); a master found meanwhile stops it, in
    # this process or in ffmpeg (a high-pass: the recording streams through ffmpeg).
    import threading

    src = speech(tmp_path / "in.wav", seconds=30)
    info = probe.probe(src)
    plan = mastering._Plan(source=src, settings=replace(TARGET, highpass=highpass), channels=2, source_rate=44100)
    stop = threading.Event()
    stop.set()
    with pytest.raises(mastering._Stopped):
        mastering._analyse(info, plan, None, stop)


def test_a_checksum_to_read_is_read_once_beside_the_analysis_and_keys_the_same_master(tmp_path):
    from pipeline.files import file_sha256

    src = speech(tmp_path / "in.wav", seconds=8)
    calls: list[int] = []

    def read() -> str:
        calls.append(1)
        return file_sha256(src)

    first = master(src, tmp_path, source_sha=read)
    assert calls == [1] and not first.cached
    known = master(src, tmp_path, source_sha=file_sha256(src))  # the same key, however the checksum came
    opened: list[str] = []
    read_here = master(  # read by mastering itself, beside a new analysis stopped by the cache
        src, tmp_path, task=lambda name, total: opened.append(name) or (lambda done: None)
    )
    assert known.cached and read_here.cached and known.path == read_here.path == first.path
    assert opened == []  # no bar, no "audio work began", for work the cache made needless
    again = master(src, tmp_path, source_sha=read, fresh=True)  # made again: the analysis goes on to the end
    assert not again.cached and again.key == first.key and calls == [1, 1]
    assert again.path.read_bytes() == first.path.read_bytes()


@pytest.mark.parametrize(
    ("codec", "channels", "suffix"),
    [("pcm_s24le", 2, ".wav"), ("pcm_u8", 1, ".wav"), ("pcm_f32le", 2, ".wav"), ("flac", 2, ".flac")],
)
def test_a_wav_is_read_in_big_packets_to_the_same_samples(tmp_path, codec, channels, suffix):
    # ffmpeg reads a WAV in packets of a quarter megabyte (its demuxer's own option, so the demuxer is named): half the
    # CPU of its decoding, the same samples; any other container is read as it always was (ffmpeg refuses an option
    # its demuxer does not know).
    src = speech(tmp_path / f"in{suffix}", seconds=7, channels=channels, rate=48000, codec=("-c:a", codec))
    info = probe.probe(src)
    plan = mastering._Plan(source=src, settings=TARGET, channels=channels, source_format=info.format)
    given = plan.source_input()
    assert ("-max_size" in given) == (suffix == ".wav")

    def decoded(inputs: list[str]) -> bytes:
        command = [ffmpeg(), "-nostdin", "-v", "error", *inputs, "-f", "f32le", "-"]
        return subprocess.run(command, capture_output=True, check=True).stdout

    plain = decoded(["-i", str(src)])
    assert len(plain) > 7 * 48000 * 4 * channels * 0.99 and decoded(given) == plain


def test_a_short_clips_measure_reports_its_progress_too(tmp_path):
    # A clip of a chunk or two is analysed without threads; its bar moves all the same.
    seen: dict[str, list[float]] = {}
    master(speech(tmp_path / "in.wav", seconds=8), tmp_path, task=lambda name, total: seen.setdefault(name, []).append)
    assert seen["measure"] == sorted(seen["measure"]) and seen["measure"][-1] > 7.9
