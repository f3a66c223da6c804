"""Tracks: which recordings of an episode (or which channels of its one recording) are whose microphone.

Read from the notes' `tracks:` when they have one, else from the file names of `episodes/<slug>/` (`dana.wav` is
Dana Whitfield's, `room.wav` the audience microphone). Every track is probed and checked here, before any audio
work, so a track that cannot be mixed fails its episode with the file, the problem and the fix.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import AudioError, NotesError
from ..layout import web_slug
from ..records import ROOM, AudioInfo, Notes, Track
from . import probe
from .discover import Recording
from .notes import ROOM_NAMES, SKIP

# Sample rates ffmpeg's resampler takes in (Hz): anything in between is resampled to the show's rate.
RATES = (8000, 384000)
MIN_SECONDS = 1.0
# Channels of one file the mix can take a microphone from (ffmpeg's pan filter and resampler take at most 64); a panel
# of more microphones is a folder of files, which may hold any number.
MAX_CHANNELS = 64


def resolve(source: Recording, notes: Notes) -> tuple[Track, ...]:
    """The episode's tracks, probed, each with its panelist (or the room); () for a recording mastered as it is."""
    if source.tracks:
        found = _folder(source, notes)
    elif notes.tracks:
        found = _channels(source, notes)
    else:
        return ()
    if not any(track.who != ROOM for track in found):
        raise NotesError(
            notes.path, "no track of the episode is a panelist's", "map at least one track to a panelist in `tracks:`"
        )
    for track in found:
        _check(track)
    return found


def info(source: Recording, found: tuple[Track, ...], recording: AudioInfo | None = None) -> AudioInfo:
    """What the episode's audio is, as the stages after probing see it: its length is the mix's."""
    if recording is not None:  # the channels of one recording: its own facts, chapters and tags
        return recording
    longest = max(found, key=lambda t: t.info.duration)
    return AudioInfo(
        path=source.path,
        format="tracks",
        codec="",
        duration=longest.info.duration,
        sample_rate=max(t.info.sample_rate for t in found),
        channels=len(found),
        bitrate=0,
    )


def _folder(source: Recording, notes: Notes) -> tuple[Track, ...]:
    files = {path.name: path for path in source.tracks}
    folder = f"episodes/{source.path.name}/"
    if any(spec.channel for spec in notes.tracks):
        raise NotesError(
            notes.path,
            f"tracks names channels, but the episode is the folder {folder}",
            "name its files instead: `dana.wav: Dana Whitfield`",
        )
    if notes.tracks:
        mapped = {}
        for spec in notes.tracks:
            if spec.source not in files:
                at = f"line {spec.line}: " if spec.line else ""
                raise NotesError(
                    notes.path,
                    f"{at}track {spec.source!r} is not a recording in {folder}",
                    f"correct the name; the folder holds {', '.join(files)}",
                )
            mapped[spec.source] = spec.who
        for name, path in files.items():
            if name not in mapped:
                raise AudioError(
                    path,
                    f"is not in the tracks of {notes.path.name}",
                    f"add `{name}: <panelist>` (or `{name}: skip`) under `tracks:` in the notes",
                )
        return tuple(
            Track(path=files[name], channel=0, who=who, info=probe.probe(files[name]))
            for name, who in mapped.items()
            if who != SKIP
        )
    found = []
    for path in files.values():
        who = _by_name(path, notes)
        found.append(Track(path=path, channel=0, who=who, info=probe.probe(path)))
    return tuple(found)


def _by_name(path: Path, notes: Notes) -> str:
    """The panelist a track's file name names (`dana.wav`, `dana-whitfield.flac`, `whitfield.m4a`), or the room."""
    stem = web_slug(path.stem)
    if stem in ROOM_NAMES:
        return ROOM
    matches = [
        p.name
        for p in notes.panelists
        if stem in {web_slug(p.name), web_slug(p.name.split()[0]), web_slug(p.name.split()[-1])}
    ]
    if len(matches) == 1:
        return matches[0]
    names = ", ".join(p.name for p in notes.panelists) or "none listed"
    problem = f"matches {' and '.join(matches)}" if matches else f"matches no panelist of {notes.path.name} ({names})"
    return _refuse(
        path,
        problem,
        f"name the file after one panelist ({web_slug(notes.panelists[0].name.split()[0]) if notes.panelists else 'dana'}{path.suffix}), call the audience microphone room{path.suffix}, or map the files under `tracks:` in the notes",
    )


def _refuse(path: Path, problem: str, fix: str) -> str:
    raise AudioError(path, problem, fix)


def _channels(source: Recording, notes: Notes) -> tuple[Track, ...]:
    if any(not spec.channel for spec in notes.tracks):
        raise NotesError(
            notes.path,
            f"tracks names files, but the episode is the one recording {source.path.name}",
            f"map its channels (`1: Dana Whitfield`), or put the tracks in a folder episodes/{source.slug}/",
        )
    recording = probe.probe(source.path)
    mapped = {spec.channel: spec for spec in notes.tracks}
    for channel, spec in mapped.items():
        if channel > recording.channels:
            at = f"line {spec.line}: " if spec.line else ""
            raise NotesError(
                notes.path,
                f"{at}track {channel} is a channel {source.path.name} does not have (it has {recording.channels})",
                "map the channels it has, from 1",
            )
    for channel in range(1, recording.channels + 1):
        if channel not in mapped:
            raise NotesError(
                notes.path,
                f"channel {channel} of {source.path.name} is not in tracks",
                f"add `{channel}: <panelist>` (or `{channel}: skip`) under `tracks:`",
            )
    return tuple(
        Track(path=source.path, channel=channel, who=spec.who, info=recording)
        for channel, spec in sorted(mapped.items())
        if spec.who != SKIP
    )


def _check(track: Track) -> None:
    """A track the mix can take: a rate ffmpeg resamples, channels it can pick from, and some audio."""
    if track.info.channels > MAX_CHANNELS:
        folder = track.path.stem if track.channel else track.path.parent.name
        raise AudioError(
            track.path,
            f"has {track.info.channels} channels, and panelpress takes microphones from files of at most {MAX_CHANNELS}",
            f"export its microphones as separate files (any number of them) into the folder episodes/{folder}/ "
            "and map those under `tracks:`",
        )
    rate = track.info.sample_rate
    if not RATES[0] <= rate <= RATES[1]:
        raise AudioError(
            track.path,
            f"has a sample rate of {rate} Hz, which panelpress cannot resample to the others'",
            "export it again at 44.1 or 48 kHz",
        )
    if track.info.duration < MIN_SECONDS:
        raise AudioError(
            track.path, f"is only {track.info.duration:.1f} s long", f"a track must be at least {MIN_SECONDS:.0f} s"
        )


def duration(source: Recording) -> float:
    """How long an episode's audio is (its longest track), without the notes; AudioError when a track is unreadable."""
    if not source.tracks:
        return probe.probe(source.path).duration
    return max(probe.probe(path).duration for path in source.tracks)
