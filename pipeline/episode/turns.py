"""Who spoke when: the speaker turns the mix found, moved onto the published audio, given to a transcript's cues that
name no speaker, and added up into each panelist's talk time. Pure: reads and writes nothing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from ..records import Turn
from .transcript import Cue, Transcript


def shift(turns: Sequence[Turn], offset: float, duration: float) -> tuple[Turn, ...]:
    """Turns moved onto the mastered audio's timeline (an intro added, silence trimmed); what falls outside is cut."""
    moved = []
    for turn in turns:
        start, end = max(0.0, turn.start + offset), min(duration, turn.end + offset)
        if end > start:
            moved.append(Turn(round(start, 3), round(end, 3), turn.speaker))
    return tuple(moved)


def speaker_at(turns: Sequence[Turn], start: float, end: float) -> str:
    """Who speaks most between `start` and `end` (seconds), or '' when no turn covers any of it."""
    spoken: dict[str, float] = {}
    for turn in turns:
        if turn.end > start and turn.start < end:
            spoken[turn.speaker] = spoken.get(turn.speaker, 0.0) + min(end, turn.end) - max(start, turn.start)
    return max(spoken, key=lambda who: (spoken[who], who)) if spoken else ""


def label(found: Transcript, turns: Sequence[Turn]) -> Transcript:
    """The transcript with a speaker for every cue that names none, from the turns (both on the recording's timeline)."""
    if not turns:
        return found
    cues: list[Cue] = [
        cue if cue.speaker else replace(cue, speaker=speaker_at(turns, cue.start / 1000, cue.end / 1000))
        for cue in found.cues
    ]
    return replace(found, cues=tuple(cues))
