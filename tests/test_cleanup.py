"""Clean-up of one-file recordings: `[audio] denoise`, `dehum`, `deess`, checked in the settings and measured on
what a build publishes (ffmpeg sources for the voice, the hum and the noise; ffmpeg's astats for the levels)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from pipeline import config as config_module
from pipeline.audio.cleanup import chain
from pipeline.audio.ffmpeg import ffmpeg
from pipeline.cli import main
from pipeline.config import AudioSettings
from pipeline.errors import ConfigError
from tests.conftest import make_audio, write_notes, write_show

HUM = "aevalsrc='0.05*sin(2*PI*50*t)+0.025*sin(2*PI*100*t)+0.012*sin(2*PI*150*t)':s=48000"
# A voice-band tone that speaks 1 s in every 2: the noise shows in the gaps.
TONE = "aevalsrc='0.2*sin(2*PI*700*t)*lt(mod(t\\,2)\\,1)':s=48000"
HISS = "anoisesrc=c=pink:r=48000:a=0.01:seed=4"
SIBILANT = "anoisesrc=c=white:r=48000:a=0.05:seed=5,highpass=f=5000"


def level(path: Path, band: str, start: float = 0.0, every: float = 0.0) -> float:
    """RMS (dBFS) of a file through a band filter; `every`: only the second half of each such period (the gaps)."""
    pick = f",aselect='gte(mod(t\\,{every})\\,{every / 2 + 0.1})',asetpts=N/SR/TB" if every else ""
    log = subprocess.run(
        [
            ffmpeg(),
            "-hide_banner",
            "-nostats",
            "-ss",
            str(start),
            "-i",
            str(path),
            "-af",
            f"{band}{pick},astats=measure_perchannel=none:measure_overall=RMS_level",
            "-f",
            "null",
            "-",
        ],
        capture_output=True,
        text=True,
    ).stderr
    return float(re.findall(r"RMS level dB: (-?[\d.]+|-inf)", log)[-1])


def published(tmp_path: Path, name: str, sources: list[str], audio: str) -> Path:
    """Build a show of one recording made of `sources` (mixed), with `[audio]` lines; its published MP3."""
    show = write_show(tmp_path / name, extra_audio=audio)
    graph = (
        "".join(f"{source}[s{i}];" for i, source in enumerate(sources))
        + "".join(f"[s{i}]" for i in range(len(sources)))
        + f"amix=inputs={len(sources)}:normalize=0"
    )
    make_audio(show / "episodes" / "take.wav", seconds=6, channels=1, source=graph)
    write_notes(show, "take", "title: Take\ndate: 2026-01-05")
    assert main(["build", "--show", str(show)]) == 0
    return show / "public" / "media" / "take.mp3"


def test_every_option_is_off_by_default_and_its_filters_are_in_order():
    assert chain(AudioSettings()) == []
    filters = chain(AudioSettings(denoise="medium", dehum=60, deess=True))
    assert [f.split("=")[0] for f in filters] == ["bandreject"] * 5 + [
        "afftdn",
        "deesser",
    ]  # hum out before the noise is learnt
    assert [f.split("f=")[1].split(":")[0] for f in filters[:5]] == ["60", "120", "180", "240", "300"]


@pytest.mark.parametrize(
    "line, words",
    [
        ('denoise = "loud"', "use one of off, light, medium, strong"),
        ("dehum = 55", "use 50"),
        ('deess = "yes"', "true or false"),
    ],
)
def test_bad_clean_up_settings_are_refused_before_any_work(show, line, words):
    path = show / config_module.CONFIG_NAME
    path.write_text(path.read_text().replace("[audio]", f"[audio]\n{line}"))
    with pytest.raises(ConfigError, match=re.escape(words)):
        config_module.load(show)


def test_dehum_takes_mains_hum_and_its_harmonics_out(tmp_path):
    plain = published(tmp_path, "plain", [TONE, HUM], "")
    dehummed = published(tmp_path, "dehum", [TONE, HUM], "dehum = 50")
    for harmonic in (50, 100, 150):
        band = f"bandpass=f={harmonic}:width_type=q:w=20,bandpass=f={harmonic}:width_type=q:w=20"
        assert level(plain, band, start=1) - level(dehummed, band, start=1) >= 20, harmonic
    voice = "bandpass=f=700:width_type=q:w=10"
    assert abs(level(plain, voice, start=1) - level(dehummed, voice, start=1)) <= 0.5, "the voice is left alone"


def test_denoise_lowers_the_noise_between_words_more_at_each_strength(tmp_path):
    found = {}
    for strength in ("off", "light", "strong"):
        out = published(tmp_path, strength, [TONE, HISS], f'denoise = "{strength}"')
        found[strength] = level(out, "highpass=f=1000,lowpass=f=8000", start=2, every=2) - level(
            out, "bandpass=f=700:width_type=q:w=10", start=2
        )
    assert found["off"] - found["light"] >= 3 and found["light"] - found["strong"] >= 2, found


def test_deess_turns_down_sibilance_more_than_the_voice(tmp_path):
    plain = published(tmp_path, "plain", [TONE, SIBILANT], "")
    deessed = published(tmp_path, "deess", [TONE, SIBILANT], "deess = true")
    hiss = level(plain, "highpass=f=5000", start=1) - level(deessed, "highpass=f=5000", start=1)
    voice = level(plain, "bandpass=f=700:width_type=q:w=10", start=1) - level(
        deessed, "bandpass=f=700:width_type=q:w=10", start=1
    )
    assert hiss >= 2 and hiss - voice >= 2, (hiss, voice)
