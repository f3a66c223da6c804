"""Progress: how the long audio work tells the host how far it is, declared once for every stage and engine.

A `Task` opens a bar for one pass over an episode's audio and returns its `Progress`, called with the seconds of
audio done. A `Reporter` is what the build talks to: the CLI shows bars or lines; tests stay quiet.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

Progress = Callable[[float], None]  # called with seconds of audio done
Task = Callable[[str, float], Progress]  # opens a progress bar for one pass: (name, seconds of audio)


def no_task(name: str, total: float) -> Progress:
    """A task that shows nothing."""
    return lambda seconds: None


class Reporter(Protocol):
    """How the build tells the host what it is doing (the CLI shows bars or lines; tests stay quiet)."""

    def task(self, label: str, total: float) -> Progress:
        """Open a progress bar (seconds of audio, or episodes); it closes when it reaches `total`."""

    def finish(self, label: str) -> None:
        """Close the bars whose label starts with `label` (an episode is done, or failed)."""

    def note(self, message: str) -> None:
        """A line for the host (a build waiting for another, a publish completed after a crash)."""


class QuietReporter:
    """A reporter that shows nothing."""

    def task(self, label: str, total: float) -> Progress:
        return lambda done: None

    def finish(self, label: str) -> None:
        pass

    def note(self, message: str) -> None:
        pass
