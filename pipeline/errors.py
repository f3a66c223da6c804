"""The one exception root: every error a host sees names the file, the problem and the fix."""

from __future__ import annotations

import contextlib
from pathlib import Path


class PanelpressError(Exception):
    """Something a host must fix: where it is, what is wrong, what to do."""

    def __init__(self, path: Path | str | None, problem: str, fix: str = "") -> None:
        self.path = Path(path) if path is not None else None
        self.problem = problem
        self.fix = fix
        super().__init__(self.message())

    def message(self, relative_to: Path | None = None) -> str:
        """The error as one line: `file: problem (fix)`."""
        where = ""
        if self.path is not None:
            shown = self.path
            if relative_to is not None:
                with contextlib.suppress(ValueError):
                    shown = self.path.resolve().relative_to(relative_to.resolve())
            where = f"{shown}: "
        text = f"{where}{self.problem}"
        return f"{text} — {self.fix}" if self.fix else text

    def __reduce__(self):
        # Pickled by its fields, not its message: an error raised on a Dask worker reaches the build as it was raised.
        return (_restore, (type(self), self.args, self.__dict__))


def _restore(cls: type, args: tuple, state: dict) -> PanelpressError:
    error = cls.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    return error


class ConfigError(PanelpressError):
    """panelpress.toml is missing, malformed or holds a bad value."""


class NotesError(PanelpressError):
    """A show-notes file cannot be read or holds a bad value."""


class ChapterError(NotesError):
    """A chapter list is malformed, out of order or runs past the end of the audio."""

    def __init__(self, path: Path | str | None, line: int, problem: str, fix: str = "") -> None:
        self.line = line  # 1-based line in `path`; 0 when the chapter has no line (read from a recording)
        super().__init__(path, f"line {line}: {problem}" if line else problem, fix)


class ExplicitContentError(NotesError):
    """Strong language in an episode not marked explicit (a warning, or a failure with on_detect = "fail")."""


class AudioError(PanelpressError):
    """A recording cannot be probed, mastered or tagged."""


class FeedError(PanelpressError):
    """The feed cannot be built from what the show holds."""


class GuardError(PanelpressError):
    """Publishing would break what subscribers already have (GUIDs, enclosure URLs)."""


class PublishError(PanelpressError):
    """The site folder cannot be written safely."""


class TranscriptError(PanelpressError):
    """A transcript file (.vtt or .srt) cannot be read or does not fit its recording."""

    def __init__(self, path: Path | str | None, problem: str, fix: str = "", line: int = 0, unit: str = "line") -> None:
        self.line = line  # 1-based line (or JSON segment) of the file; 0 when the whole file is at fault
        super().__init__(path, f"{unit} {line}: {problem}" if line else problem, fix)


class DraftTranscript(PanelpressError):
    """A transcript panelpress made waits for the host's review (a warning: the episode is published without it)."""


class CleanEditionError(PanelpressError):
    """An episode's clean edition could not be made clean (it is not published; the episode is)."""


class ClipError(PanelpressError):
    """An episode's clips could not be made (they are not published; the episode is)."""


class ArtworkError(PanelpressError):
    """The show artwork is not what podcast apps accept."""


class NotifyError(PanelpressError):
    """A hub or Podcast Index could not be told of a published feed (a warning: the feed is published)."""


class LiveError(PanelpressError):
    """The live site (what apps fetch over HTTP) is not what panelpress published, or not served as apps need."""


class ExecutorError(PanelpressError):
    """The engine the episodes run on (a Dask cluster) cannot be reached, cannot see the show, or lost an episode."""


class BusyError(PanelpressError):
    """Another build of the same show, or into the same site folder, is running."""


class Interrupted(PanelpressError):
    """The work was stopped on purpose (Ctrl-C, which reaches ffmpeg too, or a stop asked for): the build stops and
    publishes nothing; it says nothing about the recording."""


def unexpected(doing: str, err: BaseException, log_dir: Path) -> PanelpressError:
    """A bug (an exception panelpress did not foresee) as one line naming what was being done and the log file
    that holds the full trace (in `log_dir`, else the system's temporary folder); the trace never reaches the host's
    screen."""
    import datetime
    import os
    import tempfile
    import traceback

    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    name = f"error-{stamp}-{os.getpid()}.log"
    trace = f"while {doing}:\n{''.join(traceback.format_exception(err))}\n"
    where, log = "the trace could not be written anywhere", None
    for folder in (log_dir, Path(tempfile.gettempdir()) / "panelpress-logs"):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            with (folder / name).open("a", encoding="utf-8") as handle:
                handle.write(trace)
        except OSError:
            continue
        where, log = f"the full trace is in {folder / name}", folder / name
        break
    said = " ".join(str(err).split())  # one line, however the exception words itself
    said = said if len(said) <= 300 else said[:299] + "…"
    error = UnexpectedError(
        None,
        f"a bug in panelpress: it failed unexpectedly while {doing}: {type(err).__name__}: {said}",
        f"{where}; please report it",
    )
    error.log = log
    return error


class UnexpectedError(PanelpressError):
    """A bug in panelpress: reported in one line, its trace in a log file."""

    log: Path | None = None
