"""The flagged words of each episode, for the host's review (`[clean] edition`): when each strong word of the
transcript is said and what the clean edition made of it (silenced, allowed by the show's allow list, still heard
after silencing, never placed), as the last build kept them in the episode's record. Nothing is listened to again:
check reads what the build heard."""

from __future__ import annotations

from collections import Counter

from ..records import FLAGGED_STATES, EpisodeResult
from .findings import Checker

SHOWN = 5  # words named in an episode's line without --words; the rest are counted


def lines(checker: Checker, every_word: bool = False) -> list[str]:
    """A line per episode with flagged words (and, with `every_word`, a line per word under it)."""
    memory = checker.memory
    if not checker.config.clean.edition or memory.store is None or not memory.entries:
        return []
    out = []
    for slug, entry in sorted(memory.entries.items()):
        result = memory.store.result(entry.result)
        if result is None or result.item is None or not result.item.flagged:
            continue
        words = result.item.flagged
        out.append(f"{slug}: {summary(result)}")
        if every_word:
            out += [_line(w) for w in words]
        else:
            waiting = [w for w in words if w.state in ("heard", "unplaced")]
            out += [_line(w) for w in waiting[:SHOWN]]
            if len(waiting) > SHOWN:
                out.append(f"  and {len(waiting) - SHOWN} more (panelpress check --words lists them all)")
    return out


def summary(result: EpisodeResult) -> str:
    """An episode's flagged words counted by state, and whether its clean edition is published."""
    item = result.item
    counts = Counter(w.state for w in item.flagged)
    said = ", ".join(f"{counts[state]} {state}" for state in FLAGGED_STATES if counts[state])
    total = len(item.flagged)
    if item.clean is not None and item.clean.guid != item.guid:
        edition = "its clean edition is published"
    elif any(w.state in ("heard", "unplaced", "unchecked") for w in item.flagged):
        edition = "its clean edition is held back"
    else:
        edition = "no clean edition"
    return f"{total} flagged word{'s' if total != 1 else ''} ({said}); {edition}"


def _line(word) -> str:
    how = f" ({word.how})" if word.how else ""
    return f"  {_clock(word.start)}  {word.word}  {word.state}{how}" + (f": {word.note}" if word.note else "")


def _clock(seconds: float) -> str:
    whole = int(seconds)
    return (
        f"{whole // 3600:d}:{whole // 60 % 60:02d}:{whole % 60:02d}.{int(round((seconds - whole) * 1000)) % 1000:03d}"
    )
