"""Mastering on short panels of the benchmark's three profiles (realistic, hot, quiet): loudness, true peak and
loudness range measured independently by ffmpeg's ebur128 on the decoded output; gain reduction from the report,
checked against what the output shows."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from pipeline.audio import mastering
from pipeline.audio.ffmpeg import ffmpeg
from pipeline.config import AudioSettings
from pipeline.episode import probe
from tests.conftest import SPEECH, lavfi, make_audio
from tests.test_audio import measure as ebur128
from tests.test_audio import speech_at

TARGET = AudioSettings()
SECONDS = 40
# Two voices 8 dB apart taking 6 s turns (with the pauses of SPEECH), and a plosive-like thump every 7.3 s whose
# peaks stand well above the speech.
VOICE_A = f"{SPEECH.format(seed=11)},volume='if(lt(mod(t,12),6),1,0)':eval=frame"
VOICE_B = f"{SPEECH.format(seed=12)},volume='if(gte(mod(t,12),6),0.398,0)':eval=frame"
THUMP = "aevalsrc='0.9*sin(2*PI*70*t)*exp(-mod(t\\,7.3)/0.015)*lt(mod(t\\,7.3)\\,0.08)':s=44100"
PROFILES = {"realistic": (-28.5, False), "hot": (-12.0, True), "quiet": (-40.0, False)}  # LUFS, peaks held at 0 dBFS


def sample_peak(path: Path) -> float:
    """The highest sample (dBFS) of the decoded file, by astats."""
    log = subprocess.run(
        [
            ffmpeg(),
            "-nostdin",
            "-hide_banner",
            "-nostats",
            "-i",
            str(path),
            "-af",
            "astats=measure_perchannel=none:measure_overall=Peak_level",
            "-f",
            "null",
            "-",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stderr
    return float(re.findall(r"Peak level dB: (\S+)", log)[-1])


def render(path: Path, graph: str, lufs: float, hold_peaks: bool) -> Path:
    """`graph` at the given integrated loudness; with `hold_peaks`, behind a recorder's limiter at 0 dBFS."""
    gain = 0.0
    for _ in range(4):  # a limiter makes loudness bend: home in
        chain = f"pan=stereo|c0=c0|c1=c0,volume={gain:.2f}dB" + (
            ",alimiter=limit=1:attack=1:release=20:level=0" if hold_peaks else ""
        )
        lavfi(f"{graph},{chain}", "-t", str(SECONDS), "-ac", "2", "-c:a", "pcm_s24le", "-y", str(path))
        gain += lufs - ebur128(path)["I"]
    return path


def panel(path: Path, profile: str) -> Path:
    lufs, hold = PROFILES[profile]
    return render(path, f"{VOICE_A}[a];{VOICE_B}[b];{THUMP}[t];[a][b][t]amix=inputs=3:normalize=0", lufs, hold)


def master(path: Path, tmp: Path, settings: AudioSettings = TARGET):
    return mastering.master(probe.probe(path), settings, tmp / "cache")


def assert_mastered(result, settings: AudioSettings = TARGET) -> dict[str, float]:
    level = ebur128(result.path)
    assert abs(level["I"] - settings.loudness) <= 0.3, level
    assert level["TP"] <= settings.true_peak, level
    assert level["LRA"] <= settings.lra + 0.5, level
    report = result.report
    assert report.output_i == pytest.approx(level["I"], abs=0.15) and report.output_lra == pytest.approx(
        level["LRA"], abs=0.5
    )
    assert report.limiter_p99 <= 3.0, report  # the limiter is a safety net: compression did the work
    assert 0 <= report.limiter_p99 <= report.limiter_max and 0 <= report.compressor_p99 <= report.compressor_max
    assert [p.name for p in report.timings][:3] == ["measure", "encode", "verify"]
    assert all(p.wall > 0 and p.cpu > 0 for p in report.timings) and report.passes == len(report.timings)
    return level


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_each_profile_lands_on_target_with_the_limiter_as_a_safety_net(tmp_path, profile):
    src = panel(tmp_path / f"{profile}.wav", profile)
    measured = ebur128(src)
    lufs, hold = PROFILES[profile]
    assert measured["I"] == pytest.approx(lufs, abs=0.3)  # the fixture is what it claims
    if hold:
        assert sample_peak(src) > -0.1
    result = master(src, tmp_path)
    level = assert_mastered(result)
    assert result.report.input_lra > TARGET.lra  # two voices 8 dB apart: levelled into the show's range
    assert level["LRA"] < result.report.input_lra


def test_a_show_that_wants_a_narrower_range_gets_it(tmp_path):
    src = panel(tmp_path / "in.wav", "realistic")
    settings = replace(TARGET, lra=5.0)
    assert_mastered(master(src, tmp_path, settings), settings)


def test_the_reported_gain_reduction_is_what_the_output_shows(tmp_path):
    # Even speech with clicks 12 dB under full scale: no levelling (its range is narrow), so between input and output
    # stand only the gain, the compressor and the limiter. At the loudest click, what the gain would have made of it
    # minus what came out is what compressor and limiter took there: at least the limiter's most (clicks are where it
    # works hardest), at most both maxima (the compressor's may fall elsewhere); 1 dB either way for MP3's peaks.
    src = speech_at(tmp_path / "clicks.wav", -30, clicks=0.25)
    result = master(src, tmp_path)
    report = result.report
    assert report.input_lra < TARGET.lra and report.compressor_max + report.limiter_max > 3
    taken = sample_peak(src) + report.gain - sample_peak(result.path)
    assert report.limiter_max - 1 <= taken <= report.compressor_max + report.limiter_max + 1


@pytest.mark.skipif(
    shutil.which("espeak-ng") is None, reason="needs espeak-ng for real voices: apt-get install espeak-ng"
)
def test_an_espeak_panel_lands_on_target(tmp_path):
    lines = [
        (
            "en-us+m3",
            0.0,
            "Welcome back to the panel. Today we ask what separates managing from leading, and whether it matters.",
        ),
        (
            "en-gb+f3",
            -8.0,
            "I think management is about the work: the plans, the budgets and the deadlines nobody likes.",
        ),
        (
            "en-us+m7",
            0.0,
            "Let me push back on that. A good manager has to lead, or the plan falls apart by the second quarter.",
        ),
        (
            "en-gb+f3",
            -8.0,
            "Sure, but the skills are different. One is a system, the other is trust, and trust takes years.",
        ),
    ]
    inputs, graph = [], []
    for n, (voice, gain, text) in enumerate(lines * 2):
        wav = tmp_path / f"line{n}.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-w", str(wav), text], check=True)
        inputs += ["-i", str(wav)]
        graph.append(f"[{n}:a]aresample=48000,volume={gain}dB,apad=pad_dur=0.6[p{n}]")
    graph.append("".join(f"[p{n}]" for n in range(len(lines) * 2)) + f"concat=n={len(lines) * 2}:v=0:a=1,volume=-14dB")
    src = tmp_path / "panel.wav"
    subprocess.run(
        [
            ffmpeg(),
            "-nostdin",
            "-v",
            "error",
            *inputs,
            "-filter_complex",
            ";".join(graph),
            "-ac",
            "2",
            "-c:a",
            "pcm_s24le",
            "-y",
            str(src),
        ],
        check=True,
    )
    assert_mastered(master(src, tmp_path))


@pytest.mark.parametrize("channels", [1, 2])
def test_the_program_is_multiplied_by_its_curve_sample_for_sample_whatever_the_frames(tmp_path, channels):
    # The encode's graph cuts both the program and the upsampled gain curve into frames of one size before multiplying
    # them (amultiply then copies nothing): the samples out are those of the graph that multiplies them as they come.
    source = make_audio(
        tmp_path / "speech.wav", 12, 48000, channels, SPEECH.format(seed=5), codec_args=("-c:a", "pcm_s24le")
    )
    times = np.linspace(0.0, 12.0, 11)
    gain_db = np.array([0, 6, 6, -3, 9, 9, 0, -12, 2, 2, 0], dtype=np.float32)  # steps and ramps
    curve = mastering._write_curve(times, gain_db, 12.0, tmp_path / "curve.f32")
    plan = mastering._Plan(source=source, settings=AudioSettings(), channels=channels, curve=curve, source_rate=48000)
    framed = plan.program("out")
    framing = f"asetnsamples=n={mastering.MULTIPLY_FRAME}:p=0"
    assert framed.count(framing) == 2

    def samples(text: str) -> np.ndarray:
        args = [ffmpeg(), "-nostdin", "-v", "error", *plan.inputs(), "-filter_complex", text, "-map", "[out]"]
        out = subprocess.run([*args, "-f", "f32le", "-"], check=True, capture_output=True).stdout
        return np.frombuffer(out, dtype="<f4")

    ours = samples(framed)
    assert len(ours) == 12 * 44100 * channels
    assert np.array_equal(ours, samples(framed.replace(f",{framing}", "")))
    assert np.abs(ours).max() > 0.01
