"""The command line: parse arguments, call the flow, print, map errors to exit codes."""

from __future__ import annotations

import argparse
import contextlib
import errno
import os
import signal
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from . import __version__, config, web
from .errors import ConfigError, GuardError, Interrupted, PanelpressError, PublishError, unexpected

if TYPE_CHECKING:
    from rich.progress import Progress

    from .build import BuildResult
    from .show import guard

# Each command imports what only it needs (mutagen, feedparser, Jinja2, …) when it runs: a build with nothing to
# do, the command run most often, starts in a fraction of a second (rich's live bars too: only on a terminal).

# 0 all done; 1 an episode failed or publishing was refused (a folder that cannot be written included); 2 bad settings
# or usage, or another build is running (--no-wait); 3 a bug in panelpress (its trace is in a log file); 130
# interrupted (Ctrl-C), 143 stopped (SIGTERM): nothing was published.
EXIT_OK, EXIT_FAILED, EXIT_CONFIG, EXIT_BUG = 0, 1, 2, 3
INTERRUPTED, STOPPED = 128 + signal.SIGINT, 128 + signal.SIGTERM
# What an interrupted command leaves, in its own words.
AFTER_INTERRUPT = {
    "build": "subscribers see the last good build (the feed is written last); the next build completes or undoes a publish that was cut short",
    "import": "the ledger is written last, whole or not at all: import again",
    "check": "check changes nothing",
    "transcribe": "no draft was written",
    "deploy": "the public feed is the old one or the new one, whole; deploy again to finish",
}
# Errors of the machine rather than of panelpress: said in one line, naming the file, never logged as a bug.
MACHINE_ERRORS = frozenset(
    {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EIO, errno.EMFILE, errno.ENFILE}
)


class _Console:
    """rich's Console, made when first used: a command that prints nothing through it (`stats --format csv` in a
    script) does not import rich."""

    def __init__(self, **options) -> None:
        self._options = options
        self._console = None

    def made(self):
        """The Console itself (for rich's own classes: `Progress(console=…)`)."""
        if self._console is None:
            from rich.console import Console

            self._console = Console(**self._options)
        return self._console

    @property
    def is_terminal(self) -> bool:
        """rich's answer; a stream that is no terminal, when no setting forces one, is answered without rich."""
        stream = sys.stderr if self._options.get("stderr") else sys.stdout
        forced = os.environ.get("FORCE_COLOR") or os.environ.get("TTY_COMPATIBLE")
        if self._console is None and not forced and not _isatty(stream):
            return False
        return self.made().is_terminal

    def __getattr__(self, name: str):
        return getattr(self.made(), name)


console = _Console(stderr=False, highlight=False)
err_console = _Console(stderr=True, highlight=False)


def _isatty(stream) -> bool:
    try:
        return stream.isatty()
    except ValueError:  # closed
        return False


def _note(text: str) -> None:
    """A line of plain text on stderr: through rich on a terminal, as it is otherwise (a script's `stats --format
    csv` loads no rich)."""
    if err_console.is_terminal:
        err_console.print(text, markup=False, highlight=False, emoji=False, soft_wrap=True)
    else:
        sys.stderr.write(text + "\n")


def escape(text: str) -> str:
    """Text shown as written, never read as rich markup (rich's own escape)."""
    from rich.markup import escape as rich_escape

    return rich_escape(text)


class BarReporter:
    """A live bar per running pass, fed by ffmpeg's own progress output; a finished pass leaves the display, so
    a refresh costs the same whatever the number of episodes."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.lock = threading.Lock()  # episodes master in parallel threads
        self.open: dict = {}  # task id → label, of the bars on screen

    def task(self, label: str, total: float) -> Callable[[float], None]:
        with self.lock:
            task_id = self.progress.add_task(label, total=max(total, 0.001))
            self.open[task_id] = label

        def update(done: float) -> None:
            with self.lock:
                if task_id in self.open:
                    self.progress.update(task_id, completed=done)
                    if done >= total:
                        self._close(task_id)

        return update

    def finish(self, label: str) -> None:
        with self.lock:
            for task_id in [t for t, name in self.open.items() if name.startswith(label)]:
                self._close(task_id)

    def _close(self, task_id) -> None:
        del self.open[task_id]
        self.progress.remove_task(task_id)

    def note(self, message: str) -> None:
        self.progress.console.print(escape(message), soft_wrap=True)


class LineReporter:
    """For a log file rather than a terminal: no live bars, a line now and then (an episode's audio work begins,
    so many episodes are made)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.begun: set[str] = set()

    def task(self, label: str, total: float) -> Callable[[float], None]:
        if label != "episodes":
            slug, _, name = label.partition(" · ")
            with self.lock:
                first, _ = slug not in self.begun, self.begun.add(slug)
                if first:
                    err_console.print(escape(f"{slug}: audio work began ({name})"), soft_wrap=True, highlight=False)
            return lambda done: None
        step = max(1, int(total) // 10)

        def update(done: float) -> None:
            if int(done) % step == 0 or done >= total:
                with self.lock:
                    err_console.print(f"{int(done)}/{int(total)} episodes made", highlight=False)

        return update

    def finish(self, label: str) -> None:
        pass

    def note(self, message: str) -> None:
        err_console.print(escape(message), soft_wrap=True)


def _folders(command: argparse.ArgumentParser, site: bool) -> None:
    """--show (and, with `site`, --out): the same options, worded the same, on every command that takes them."""
    command.add_argument("--show", type=Path, default=Path("."), metavar="DIR", help="the show folder (default: here)")
    if site:
        command.add_argument("--out", type=Path, metavar="DIR", help="the site folder, instead of [build] output")


def _running(command: argparse.ArgumentParser) -> None:
    """Where the audio work runs, and how a build meets another: the same options on `build` and `remaster`."""
    command.add_argument(
        "--executor",
        choices=config.EXECUTORS,
        help="where episodes are mastered: threads of this machine, or a Dask cluster ([build] executor)",
    )
    command.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help=f"the Dask scheduler, e.g. {config.SCHEDULER_EXAMPLE} ([build] scheduler); the workers must see the show folder and its cache at the same paths",
    )
    command.add_argument(
        "--no-wait",
        action="store_true",
        help="when another build of this show (or into this site folder) is running, exit with code 2 instead of waiting for it",
    )
    command.add_argument(
        "--no-notify",
        action="store_true",
        help="do not tell the [notify] hubs and Podcast Index of a changed feed, this once",
    )


def _seconds(value: str) -> float:
    """`--timeout`: a number of seconds, from a tenth of a second to ten minutes."""
    try:
        seconds = float(value)
    except ValueError:
        seconds = float("nan")
    if not 0.1 <= seconds <= 600:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of seconds from 0.1 to 600")
    return seconds


def _port(text: str) -> int:
    """A TCP port, 0-65535 (0: any free one), as argparse reads an option."""
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port: use a number from 0 to 65535 (0 takes a free one)")
    return port


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="panelpress",
        description="Turn panel recordings into a podcast: mastered, tagged audio, show-notes pages and an RSS feed every podcast app accepts.",
        epilog="A show folder holds panelpress.toml, episodes/ (recordings) and show_notes/ (<episode>.md). Start one with `panelpress init`.",
    )
    parser.add_argument("--version", action="version", version=f"panelpress {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    init = commands.add_parser(
        "init",
        help="start a show folder",
        description=(
            "Write a starter panelpress.toml, episodes/ and show_notes/. Never overwrites a file. With --blog ENGINE PATH, "
            "write the [blog] settings that publish each episode as a post of that blog (after checking the folder is one of that engine's)."
        ),
    )
    init.add_argument("folder", nargs="?", default=".", type=Path, help="where to start the show (default: here)")
    init.add_argument(
        "--blog",
        nargs=2,
        metavar=("ENGINE", "PATH"),
        help=f"publish into an existing blog: ENGINE is one of {', '.join(config.BLOG_ENGINES)}, PATH its folder",
    )

    build_ = commands.add_parser(
        "build",
        help="master, tag and publish every episode",
        description=(
            "Master each recording in episodes/ to podcast loudness, tag it, render its show-notes page and write the "
            "RSS feed, into the site folder ([build] output, default public/). Recordings without notes get a starter "
            "notes file to review. An episode that fails is reported and the others publish; one published before stays in the "
            "feed as it was. Exit code 0: all published; 1: an episode failed or publishing was refused; 2: bad settings."
        ),
    )
    _folders(build_, site=True)
    allow = build_.add_argument_group(
        "changes subscribers notice",
        "A build that would change what subscribers already have stops and says what would change. "
        "Name an episode (its slug, or its GUID) to make that change on purpose; each option may be repeated.",
    )
    allow.add_argument(
        "--allow-remove", action="append", metavar="SLUG", help="withdraw a published episode from the feed"
    )
    allow.add_argument(
        "--allow-move",
        action="append",
        metavar="SLUG",
        help="let a published episode's audio URL change (a new site_url or [deploy] media_url; '*': every episode)",
    )
    allow.add_argument(
        "--allow-redate", action="append", metavar="SLUG", help="let a published episode's pubDate change"
    )
    allow.add_argument(
        "--allow-new-guid",
        action="append",
        metavar="SLUG",
        help="give a published episode a new GUID (apps download it again as new)",
    )
    _running(build_)

    remaster = commands.add_parser(
        "remaster",
        help="produce every episode's audio again and publish it",
        description=(
            "Master, tag and publish every episode's audio again, whatever the cache holds (after an ffmpeg upgrade or a "
            "change of [audio] or [mix] settings), through the same engine and guard as `build`: GUIDs, addresses and dates stay "
            "as published; new enclosure lengths are expected. Prints, per episode, its loudness, size and duration as "
            "published before and now. Exit codes as for `build`."
        ),
    )
    _folders(remaster, site=True)
    _running(remaster)

    migrate = commands.add_parser(
        "import",
        help="take GUIDs and dates from the feed a show had before panelpress",
        description=(
            "Read an existing podcast feed (a file: save it from the old host first) and write into the ledger the GUID, "
            "first-publish date and podcast GUID of every episode that matches a recording in episodes/ (by the enclosure's "
            "file name, else by title), so subscribers' apps keep their history. Recordings without notes get notes from the "
            "feed. Exit code 0: every item matched; 1: some items matched no recording (listed); 2: the feed or the settings are bad."
        ),
    )
    migrate.add_argument("feed", type=Path, metavar="FEED.xml", help="the old feed, as a file")
    _folders(migrate, site=False)

    info = commands.add_parser(
        "info",
        help="show what panelpress reads from one recording",
        description="Print what panelpress reads from a recording: format, duration, rate, channels, bitrate, tags, cover art and chapters. Changes nothing.",
    )
    info.add_argument("file", type=Path, help="a recording (.wav .flac .mp3 .m4a .aac .ogg .opus .aif/.aiff)")
    transcribe_ = commands.add_parser(
        "transcribe",
        help="make a draft transcript of one episode, offline, for review",
        description=(
            "Recognise the words of episodes/SLUG.* with the [transcripts] engine (faster-whisper with Whisper tiny.en, which "
            "ships with panelpress, or the model folder the settings name; or pocketsphinx; nothing is downloaded) and write "
            "them as a WebVTT draft beside the notes (show_notes/SLUG.vtt), each word with its time. Never overwrites a file: "
            "an episode that has a transcript keeps it (--out FILE writes the draft elsewhere). The draft starts with a line "
            "`draft: true`: the build publishes it once you have read it and deleted that line. Exit code 0: written; 1: not "
            "written; 2: bad settings or usage."
        ),
    )
    transcribe_.add_argument("slug", metavar="SLUG", help="the episode: its recording's file name without extension")
    transcribe_.add_argument("--out", type=Path, metavar="FILE", help="write the draft here instead (a new file)")
    transcribe_.add_argument(
        "--show", type=Path, default=Path("."), metavar="DIR", help="the show folder (default: here)"
    )
    check_ = commands.add_parser(
        "check",
        help="validate the show and the built feed without publishing",
        description=(
            "Check panelpress.toml, every notes file, transcripts, the artwork (JPEG or PNG, RGB, square, 1400-3000 px) "
            "and the built feed in the site folder (parsed back with feedparser and podcastparser and compared with the "
            "ledger and the notes); with --url, also the live feed and every enclosure over HTTP(S). Prints one line per "
            "problem (file: problem — fix), then a summary. Writes nothing, except the fixed artwork copy with --fix-artwork. "
            "Exit code 0: all good; 1: problems found; 2: bad settings."
        ),
    )
    _folders(check_, site=True)
    check_.add_argument(
        "--fix-artwork",
        action="store_true",
        help="write a copy of the artwork that podcast apps accept (never overwrites yours)",
    )
    check_.add_argument(
        "--url",
        nargs="?",
        const="",
        metavar="URL",
        help="also fetch the live feed (the show's own address, or URL) and every enclosure over HTTP(S): status, HEAD, byte ranges, types, lengths, redirects, and that it is the feed panelpress published",
    )
    check_.add_argument(
        "--words",
        action="store_true",
        help="with [clean] edition: list every flagged word of each episode with its time and what the clean edition made of it (without it: a line per episode, and the words that hold its clean edition back)",
    )
    check_.add_argument(
        "--timeout",
        type=_seconds,
        default=None,
        metavar="SECONDS",
        help=f"with --url: the most each request may take in all, redirects and answer included (default: {web.DEADLINE:g})",
    )

    deploy_ = commands.add_parser(
        "deploy",
        help="copy the built site to object storage, an SSH host or a Pages branch",
        description=(
            "After a build, copy the site folder to [deploy] to (or --to): s3://BUCKET/PREFIX/, sftp://USER@HOST/PATH or "
            "git+ssh://HOST/REPO.git#BRANCH. Uploads only what changed (by content), media first and the feed last; deletes "
            "only files an earlier deploy put there and the site no longer has; a deploy cut short is finished by the next. "
            "Ends with `check --url` against the public feed. Exit code 0: deployed and checked; 1: refused, failed, or the "
            "check found problems; 2: bad settings, or a build of the show is running."
        ),
    )
    _folders(deploy_, site=False)
    deploy_.add_argument("--to", metavar="URL", help="the destination, instead of [deploy] to, this once")
    deploy_.add_argument(
        "--dry-run", action="store_true", help="print what would be uploaded and deleted; write nothing"
    )
    deploy_.add_argument(
        "--allow-remove",
        action="store_true",
        help="delete more files at the destination than [deploy] max_deletes allows, this once",
    )
    deploy_.add_argument(
        "--no-verify",
        action="store_true",
        help="skip the check of the public feed and its enclosures after the deploy (a destination not yet public)",
    )

    serve = commands.add_parser(
        "serve",
        help="look at the site before publishing it",
        description=(
            "Serve the site as the next build would publish it, on http://127.0.0.1:PORT under the path of site_url, and "
            "make it again (the open pages reload) when a file of the show changes. It writes only to the cache: never "
            "the site folder, the ledger or the notes. Beside the site, it shows you the studio at /.panelpress/studio/ (to "
            "this machine alone, never published): what waits for review and why, loudness before and after mastering, "
            "talk time, flagged words to listen to, downloads. Ctrl-C stops it. Exit code 0: stopped; 2: bad settings or a busy port."
        ),
    )
    _folders(serve, site=False)
    serve.add_argument(
        "--port",
        type=_port,
        default=8000,
        metavar="N",
        help="the port to listen on (default: 8000; 0 takes a free one)",
    )
    stats = commands.add_parser(
        "stats",
        help="count downloads in the web server's access logs (IAB v2.2)",
        description=(
            "Count each episode's downloads in access logs by the IAB Podcast Measurement Technical Guidelines v2.2: GET "
            "only, a minute of audio past the ID3 tag delivered (ranges of one listener summed; bytes=0-1 probes and HEAD "
            "never count), one per address and app in 24 hours (IPv6 by /64), bots, libraries, previews and Apple "
            "Watch left out (the OPAWG user-agent list). Reads nginx and Apache combined logs (with or without a Range "
            "field), Caddy JSON, S3 and CloudFront logs, gzipped or not. Only new lines are read: the counts are kept in "
            "the cache, with addresses hashed under a salt that changes daily. Exit code 0: counted; 2: a log or the "
            "show cannot be read."
        ),
    )
    stats.add_argument("logs", nargs="*", type=Path, metavar="LOG", help="access logs (none: show the counts kept)")
    _folders(stats, site=False)
    stats.add_argument(
        "--format",
        choices=("table", "json", "csv"),
        default="table",
        help="table (default), json ({episodes: [...], feed_fetches}) or csv (one row per episode, day, app and platform)",
    )
    stats.add_argument("--reset", action="store_true", help="forget the counts kept and read every log from its start")
    return parser


class Stopped(KeyboardInterrupt):
    """SIGTERM (a stop asked for: `kill`, a service manager, a shutdown), taken as Ctrl-C is: nothing is published."""


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `panelpress` command."""
    args = _parser().parse_args(argv)
    with _guarded(args):
        try:
            return _run(args)
        except Interrupted as err:  # Ctrl-C reached ffmpeg before this process
            return _interrupted(args, err.path)
        except KeyboardInterrupt as err:
            return _interrupted(args, None, STOPPED if isinstance(err, Stopped) else INTERRUPTED)
        except PanelpressError as err:
            err_console.print(
                f"[bold red]error:[/] {escape(err.message(Path.cwd()))}", markup=True, highlight=False, soft_wrap=True
            )
            # bad settings or input: nothing was done (2); refused or failed while publishing (1)
            return EXIT_FAILED if isinstance(err, (GuardError, PublishError)) else EXIT_CONFIG
        except BrokenPipeError:  # the output was closed (`panelpress check | head`): nothing more to say
            _quiet()
            return EXIT_FAILED
        except OSError as err:
            if err.errno not in MACHINE_ERRORS:
                return _bug(args, err)
            where = f"{err.filename}: " if err.filename else ""
            err_console.print(
                f"[bold red]error:[/] {escape(where)}{escape(err.strerror or str(err))} — free some space or fix the permissions, then run it again",
                markup=True,
                highlight=False,
                soft_wrap=True,
            )
            return EXIT_FAILED
        except Exception as err:  # a bug: one line, never a traceback; the trace goes to a log file
            return _bug(args, err)


def _run(args: argparse.Namespace) -> int:
    if args.command == "init":
        return _init(args.folder, args.blog)
    if args.command == "import":
        return _import(args.show, args.feed)
    if args.command == "info":
        return _info(args.file)
    if args.command == "check":
        return _check(args.show, args.out, args.fix_artwork, args.url, args.timeout, args.words)
    if args.command == "transcribe":
        return _transcribe(args.show, args.slug, args.out)
    if args.command == "serve":
        return _serve(args.show, args.port)
    if args.command == "stats":
        return _stats(args.show, args.logs, args.format, args.reset)
    if args.command == "deploy":
        return _deploy(args.show, args.to, args.dry_run, args.allow_remove, not args.no_verify)
    running = {
        "wait": not args.no_wait,
        "notify": not args.no_notify,
        "executor": args.executor,
        "scheduler": args.scheduler,
    }
    if args.command == "remaster":
        return _build(args.show, args.out, remaster=True, **running)
    from .show import guard

    allow = guard.Allow(
        remove=guard.slugs(args.allow_remove),
        move=guard.slugs(args.allow_move),
        redate=guard.slugs(args.allow_redate),
        new_guid=guard.slugs(args.allow_new_guid),
    )
    return _build(args.show, args.out, allow, **running)


def _interrupted(args: argparse.Namespace, where: Path | None, code: int = INTERRUPTED) -> int:
    said = "stopped" if code == STOPPED else "interrupted"
    if where is not None:
        said += f" ({escape(str(where))}: ffmpeg was stopped)"
    after = AFTER_INTERRUPT.get("build" if args.command == "remaster" else args.command)
    with contextlib.suppress(OSError):
        err_console.print(f"{said}" + (f": {after}" if after else ""), soft_wrap=True, highlight=False)
    return code


def _bug(args: argparse.Namespace, err: BaseException) -> int:
    error = unexpected(f"running `panelpress {args.command}`", err, _log_dir(args))
    with contextlib.suppress(OSError):
        err_console.print(
            f"[bold red]error:[/] {escape(error.message())}", markup=True, highlight=False, soft_wrap=True
        )
    return EXIT_BUG


def _quiet() -> None:
    """Send what is still to be printed nowhere: the reader of the output has gone."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


@contextlib.contextmanager
def _guarded(args: argparse.Namespace) -> Iterator[None]:
    """While a command runs, nothing but its own words reaches the host: an error in a thread is one line (its trace
    in the log, as any bug's), Python's warnings are kept for those who ask for them (-W, PYTHONWARNINGS), SIGTERM
    stops the command as Ctrl-C does, and Ctrl-C is heard even when the shell that started panelpress ignores it
    (ffmpeg always hears it: a build that went on without its ffmpeg would publish half its work)."""
    main_thread = threading.current_thread() is threading.main_thread()
    handlers = {}
    if main_thread:
        handlers[signal.SIGTERM] = signal.signal(signal.SIGTERM, _stop)
        if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
            handlers[signal.SIGINT] = signal.signal(signal.SIGINT, signal.default_int_handler)
    hooks = threading.excepthook, sys.unraisablehook

    def in_thread(hook: threading.ExceptHookArgs) -> None:
        if hook.exc_type is SystemExit or hook.exc_value is None:
            return
        if isinstance(hook.exc_value, KeyboardInterrupt):
            return  # Ctrl-C: the main thread says it
        error = unexpected(
            f"running `panelpress {args.command}` ({hook.thread.name if hook.thread else 'a thread'})",
            hook.exc_value,
            _log_dir(args),
        )
        with contextlib.suppress(OSError):
            err_console.print(
                f"[bold red]error:[/] {escape(error.message())}", markup=True, highlight=False, soft_wrap=True
            )

    def unraisable(hook) -> None:  # an error Python could only ignore (in a finaliser): its trace goes to the log
        if hook.exc_value is not None and not isinstance(hook.exc_value, (KeyboardInterrupt, BrokenPipeError)):
            unexpected(
                f"running `panelpress {args.command}` ({hook.err_msg or 'a finaliser'})", hook.exc_value, _log_dir(args)
            )

    threading.excepthook, sys.unraisablehook = in_thread, unraisable
    try:
        with warnings.catch_warnings():
            if not sys.warnoptions:
                warnings.simplefilter("ignore")
            yield
    finally:
        threading.excepthook, sys.unraisablehook = hooks
        for number, handler in handlers.items():
            signal.signal(number, handler)


def _stop(number: int, frame) -> None:
    raise Stopped


def _log_dir(args: argparse.Namespace) -> Path:
    """Where a bug's trace goes: the show's cache folder when the settings can be read, else beside them; the
    temporary folder for a command on no show (`init`, `info`), or a folder that holds none (no cache is made
    among someone's files)."""
    show = getattr(args, "show", None)
    if show is not None:
        try:
            return config.load(show).cache_dir / "logs"
        except Exception:  # the settings may be what the bug is about
            if (Path(show) / config.CONFIG_NAME).is_file():
                return Path(show) / config.BuildSettings().cache / "logs"
    import tempfile  # here: only a bug's log outside a show needs it

    return Path(tempfile.gettempdir()) / "panelpress-logs"


def _init(folder: Path, blog: list[str] | None = None) -> int:
    section = config.blog_section(folder, *blog) if blog else ""  # checked before anything is written
    try:
        return _start(folder, section)
    except OSError as err:
        raise config.ConfigError(
            Path(err.filename) if err.filename else folder,
            f"cannot be made: {err.strerror or err}",
            "start the show in a folder you can write, with a name no file has",
        ) from err


def _start(folder: Path, section: str) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    made = []
    target = folder / config.CONFIG_NAME
    if target.exists() and section:
        if config.has_blog_section(target):
            raise config.ConfigError(target, "already has a [blog] section", "edit it there; nothing was changed")
        with target.open("a", encoding="utf-8") as settings:
            settings.write("\n" + section)
        console.print(f"added [blog] to {escape(str(target))}")
    elif target.exists():
        err_console.print(f"{target} already exists; nothing was overwritten")
    else:
        target.write_text(
            config.STARTER.format(title=folder.resolve().name.replace('"', ""), **config.PLACEHOLDERS)
            + ("\n" + section if section else ""),
            encoding="utf-8",
        )
        made.append(target)
    for sub in ("episodes", "show_notes"):
        if not (folder / sub).is_dir():
            (folder / sub).mkdir()
            made.append(folder / sub)
    for path in made:
        console.print(f"created {path}")
    console.print("Next: edit panelpress.toml, drop a recording into episodes/, then run `panelpress build`.")
    return EXIT_OK


def _info(path: Path) -> int:
    from rich.table import Table
    from rich.text import Text

    if not path.is_file():
        raise PanelpressError(path, "no such file", "name a recording, e.g. episodes/panel.wav")
    from .episode import probe
    from .episode.chapters import timestamp
    from .show.pages import clock

    info = probe.probe(path)
    table = Table(title=str(path), show_header=False)
    table.add_column("what", style="bold")
    table.add_column("value")
    table.add_row("format", f"{info.format} ({info.codec})")
    table.add_row("duration", f"{clock(info.duration)} ({info.duration:.3f} s)")
    table.add_row("sample rate", f"{info.sample_rate} Hz")
    table.add_row("channels", str(info.channels))
    table.add_row("bitrate", f"{round(info.bitrate / 1000)} kbps" if info.bitrate else "unknown")
    for name, value in info.tags:
        table.add_row(name, Text(value))  # Text: a tag is shown as written, never read as rich markup
    if info.track or info.disc:
        table.add_row("episode / season", f"{info.track or '-'} / {info.disc or '-'}  (from track / disc)")
    size = probe.image_size(info.art) if info.art else None
    art = (
        f"{info.art_mime or 'image'}, {len(info.art):,} bytes" + (f", {size[0]}×{size[1]} px" if size else "")
        if info.art
        else "none"
    )
    table.add_row("cover art", art)
    table.add_row("chapters", str(len(info.chapters)) if info.chapters else "none")
    console.print(table)
    if info.chapters:
        links = any(chapter.url for chapter in info.chapters)
        marks = Table(title="chapters")
        for column in ("#", "start", "title", "url")[: 4 if links else 3]:
            marks.add_column(column)
        for number, chapter in enumerate(info.chapters, start=1):
            marks.add_row(
                str(number), timestamp(chapter.start), Text(chapter.title), *([Text(chapter.url)] if links else [])
            )
        console.print(marks)
    return EXIT_OK


def _build(
    show: Path,
    out: Path | None,
    allow: guard.Allow | None = None,
    wait: bool = True,
    notify: bool = True,
    executor: str | None = None,
    scheduler: str | None = None,
    remaster: bool = False,
) -> int:
    settings = config.with_executor(config.load(show), executor, scheduler)
    if out is not None:
        settings = config.with_output(settings, out)  # refused when it would write into the show's own folders
    from .build import build  # the build's stack: imported by the commands that build, not by `--help`

    options = {"allow": allow, "wait": wait, "notify": notify, "remaster": remaster}
    if err_console.is_terminal:
        from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

        columns = (
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TextColumn("{task.percentage:>3.0f}%"),
            TimeRemainingColumn(),
        )
        with Progress(*columns, console=err_console.made(), transient=True) as progress:
            result = build(settings, BarReporter(progress), **options)
    else:
        result = build(settings, LineReporter(), **options)
    _summary(result, settings.root)
    _remastered(result)
    return EXIT_OK if result.ok else EXIT_FAILED


def _transcribe(show: Path, slug: str, out: Path | None) -> int:
    settings = config.load(show)
    from .episode import stages, transcribe, transcript
    from .episode.discover import discover

    found = next((rec for rec in discover(settings)[0] if rec.slug == slug), None)
    if found is None:
        raise PanelpressError(
            settings.episodes_dir,
            f"holds no recording named {slug!r}",
            "name an episode by its recording's file name without extension, e.g. `panelpress transcribe 2026-11-20-panel`",
        )
    # --out FILE as named, never resolved: a draft is not written through a symlink
    target = Path(os.path.abspath(out)) if out is not None else transcribe.draft_path(settings, slug)
    existing = [] if out is not None else transcript.sources(settings, slug)
    if existing:
        err_console.print(
            f"[yellow]not written:[/] {escape(str(existing[0]))} is there already; panelpress never overwrites a transcript — use --out FILE to write the draft elsewhere",
            soft_wrap=True,
        )
        return EXIT_FAILED
    blocked = stages.draft_blocker(target)  # before the transcriber's work, not after it
    if blocked is not None:
        err_console.print(f"[yellow]not written:[/] {escape(blocked.message(Path.cwd()))}", soft_wrap=True)
        return EXIT_FAILED
    text, made = stages.draft_transcript(settings, found)
    try:
        written = transcribe.write_draft(target, text)
    except OSError as err:
        raise PublishError(
            target,
            f"could not be written: {err.strerror or err}",
            "check the folder's permissions and free space, then transcribe again",
        ) from err
    if not written:
        err_console.print(
            f"[yellow]not written:[/] {escape(str(target))} appeared meanwhile; it was left as it is", soft_wrap=True
        )
        return EXIT_FAILED
    cost = (
        "from the cache"
        if made.cached
        else f"{made.cpu:.0f} s of CPU ({made.cpu / max(made.seconds, 1) * 3600 / 60:.0f} min per hour of audio), {made.wall:.0f} s"
    )
    console.print(
        escape(
            f"wrote {target} ({len(made.words)} words, {made.engine}; {cost}): a draft — read and correct it, then delete its `draft: true` line to publish it"
        ),
        soft_wrap=True,
    )
    return EXIT_OK


def _serve(show: Path, port: int) -> int:
    from . import serve

    root = show.resolve()

    def told(outcome: BuildResult | PanelpressError) -> None:
        if isinstance(outcome, PanelpressError):
            _errors("[red]error:[/] the preview was not rebuilt:", [outcome], root)
            return
        for failure in outcome.failures:
            err_console.print(f"[red]error:[/] {escape(failure.error.message(root))}", soft_wrap=True)
        _errors("[yellow]warning:[/]", outcome.warnings, root)
        shown = len(outcome.plan.files) if outcome.plan else 0
        console.print(
            f"preview: {len(outcome.published) + len(outcome.unchanged)} episodes, {len(outcome.skipped)} skipped, {len(outcome.failures)} failed ({shown} files)"
        )
        sys.stdout.flush()

    def ready(url: str) -> None:
        console.print(
            f"Serving the preview at {url} — it is made again when a file of the show changes; Ctrl-C stops it.",
            soft_wrap=True,
        )
        sys.stdout.flush()  # a program reading the address waits for this line

    try:
        serve.run(show, port, LineReporter(), told, ready)
    except (KeyboardInterrupt, Interrupted):  # Ctrl-C, which may reach a rebuild's ffmpeg first, or SIGTERM
        console.print("stopped")
    return EXIT_OK


def _check(
    show: Path,
    out: Path | None,
    fix_artwork: bool,
    url: str | None = None,
    seconds: float | None = None,
    words: bool = False,
) -> int:
    from . import check

    report = check.run(
        show,
        fix_artwork=fix_artwork,
        site=out,
        waiting=lambda message: err_console.print(escape(message), soft_wrap=True),
        url=url,
        seconds=seconds,
        words=words,
    )
    root = show.resolve()
    for problem in report.problems:
        console.print(problem.message(root), markup=False, highlight=False, soft_wrap=True)
    _errors("[yellow]warning:[/]", report.warnings, root)
    for line in report.done:
        console.print(line, markup=False, highlight=False, soft_wrap=True)
    if report.review:
        console.print("flagged words (the clean edition):", markup=False)
        for line in report.review:
            console.print(f"  {line}", markup=False, highlight=False, soft_wrap=True)
    console.print(check.summary(report), markup=False)
    if not report.config_ok:
        return EXIT_CONFIG
    return EXIT_FAILED if report.problems else EXIT_OK


def _stats(show: Path, logs: list[Path], fmt: str, reset: bool) -> int:
    from .stats import count, media, report

    settings = config.load(show)
    state = count.state_path(settings)
    published = None
    if logs or reset:
        with contextlib.ExitStack() as stack:
            tell = count.no_tell
            if err_console.is_terminal:
                from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

                columns = (
                    TextColumn("[bold]{task.description}"),
                    BarColumn(),
                    TextColumn("{task.fields[lines]:,} lines, {task.fields[rate]:,.0f} lines/s"),
                    TimeRemainingColumn(),
                )
                bars = stack.enter_context(Progress(*columns, console=err_console.made(), transient=True))

                def tell(label: str, total: int) -> Callable[[int, int], None]:
                    task = bars.add_task(label, total=max(total, 1), lines=0, rate=0.0)
                    began = time.monotonic()

                    def update(done: int, lines: int) -> None:
                        rate = lines / max(time.monotonic() - began, 1e-6)
                        bars.update(task, completed=done, lines=lines, rate=rate)

                    return update

            run = count.count(settings, logs, tell, reset, waiting=_note)
            published = run.show
        for read in run.logs:
            if read.unread:
                err_console.print(
                    f"[yellow]warning:[/] {escape(str(read.path))}: {read.unread:,} lines in no {read.format} form were "
                    f"left out (the first: line {read.first_unread:,})",
                    soft_wrap=True,
                )
        left = ", ".join(f"{n:,} {why}" for why, n in run.left_out.items()) or "nothing"
        _note(
            f"read {run.lines:,} new lines of {len(run.logs)} logs in {run.seconds:.1f} s "
            f"({sum(read.skipped for read in run.logs)} with nothing new): {run.requests:,} requests for the show, "
            f"{run.downloads:,} new downloads; left out: {left}"
        )
    if fmt == "csv":  # the state's rows as they are
        report.write_csv(report.rows(state), sys.stdout)
        return EXIT_OK
    published = published or media.show(settings)
    released = {(m.slug, m.edition): _day(m.released) for m in published.files.values()}
    found = report.report(state, released)
    if fmt == "json":
        sys.stdout.write(report.as_text(found.as_json()))
    else:
        _stats_table(found)
    return EXIT_OK


def _day(ts: int) -> str:
    from .stats.rules import day_of

    return day_of(ts) if ts else ""


def _stats_table(found) -> None:
    from rich.table import Table
    from rich.text import Text

    table = Table(title="Downloads (IAB v2.2)")
    table.add_column("episode")
    for heading in ("day 1", "day 7", "day 30", "all time"):
        table.add_column(heading, justify="right")
    table.add_column("apps")
    table.add_column("platforms")

    def top(counts: dict[str, int], total: int) -> Text:
        shown = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:3]
        more = len(counts) - len(shown)
        text = ", ".join(f"{name} {100 * n / total:.0f}%" for name, n in shown) + (f" +{more}" if more > 0 else "")
        return Text(text)

    for episode in found.episodes:
        total = episode.downloads
        table.add_row(
            Text(f"{episode.slug} ({episode.edition})"),
            *(f"{episode.within(days):,}" for days in (1, 7, 30)),
            f"{total:,}",
            top(episode.apps, total) if total else Text("-"),
            top(episode.platforms, total) if total else Text("-"),
        )
    console.print(table)
    feed = found.feed
    subscribers = feed["subscribers"]
    aggregators = ", ".join(f"{name} {n:,}" for name, n in subscribers["aggregators"].items())
    console.print(
        f"feed: {feed['requests']:,} fetches; about {subscribers['estimate']:,} subscribers "
        f"({subscribers['direct']:,} apps fetching it themselves" + (f", {aggregators}" if aggregators else "") + ")",
        soft_wrap=True,
        highlight=False,
        markup=False,
    )


def _deploy(show: Path, to: str | None, dry_run: bool, allow_remove: bool, verify: bool) -> int:
    from . import layout, lock
    from .progress import QuietReporter
    from .targets import deploy, remote

    settings = config.load(show)
    url = to or settings.deploy.to
    if not url:
        raise ConfigError(
            settings.path, "no destination to deploy to", "set [deploy] to, e.g. s3://BUCKET/PREFIX/, or pass --to URL"
        )
    if to is not None and not config.deploy_address(to):
        raise ConfigError(None, f"--to {to!r} is not a destination panelpress can deploy to", config.DEPLOY_HINT)
    media_to = settings.deploy.media_to
    with lock.hold(lock.show_lock(settings), "this show", wait=False):
        site = deploy.local_site(settings.output_dir)
        legs = deploy.legs(site, url, media_to, settings.deploy.media_transcripts, settings.cache_dir)
        try:
            if dry_run:
                for leg in legs:
                    _dry_run(leg, settings.deploy.max_deletes, allow_remove)
                return EXIT_OK
            if not allow_remove:
                for leg in legs:  # before any write, at either destination
                    deploy.refuse_deletes(leg.plan, settings.deploy.max_deletes, leg.url)
            if any(leg.plan.resumed for leg in legs):
                err_console.print("finishing the deploy that was cut short", soft_wrap=True)
            moved = settings.show.new_feed_url
            summaries = []
            with contextlib.ExitStack() as stack:
                if err_console.is_terminal:
                    from rich.progress import (
                        BarColumn,
                        DownloadColumn,
                        Progress,
                        TextColumn,
                        TimeRemainingColumn,
                        TransferSpeedColumn,
                    )

                    columns = (
                        TextColumn("[bold]{task.description}"),
                        BarColumn(),
                        DownloadColumn(),
                        TransferSpeedColumn(),
                        TimeRemainingColumn(),
                    )
                    reporter, said = (
                        BarReporter(
                            stack.enter_context(Progress(*columns, console=err_console.made(), transient=True))
                        ),
                        (lambda line: None),
                    )
                else:  # a log: a line per file
                    reporter, said = QuietReporter(), _said
                for leg in legs:  # the media first (their deletions wait), then the pages and the feed
                    summaries.append(
                        deploy.apply(
                            leg.plan,
                            leg.store,
                            settings.output_dir,
                            leg.state,
                            reporter,
                            "" if leg.media else moved,
                            settings.site_url,
                            said,
                            keep=leg.media,
                            label="media" if leg.media else "deploy",
                            media_url="" if leg.media or not media_to else settings.media_url,
                        )
                    )
            dropped = sum(deploy.drop(leg.plan, leg.store, said) for leg in legs if leg.media)  # the feed is up
        finally:
            for leg in legs:
                leg.store.close()
    for note in (note for summary in summaries for note in summary.notes):
        console.print(note, markup=False, soft_wrap=True)
    if media_to:
        media = summaries[0]
        console.print(
            f"media deployed to {media_to}: uploaded {media.uploaded} files ({_bytes(media.bytes)}), deleted {dropped}, "
            f"unchanged {media.unchanged}; served at {settings.media_url}",
            markup=False,
            soft_wrap=True,
        )
    summary = summaries[-1]
    store = legs[-1].store
    feed = layout.feed_url(settings.site_url)
    console.print(
        f"deployed to {url}: uploaded {summary.uploaded} files ({_bytes(summary.bytes)}), deleted {summary.deleted}, "
        f"unchanged {summary.unchanged} in {summary.seconds:.1f} s; the feed: {feed}",
        markup=False,
        soft_wrap=True,
    )
    if store.kind == remote.PAGES and verify:  # the host builds the branch in its own time: the feed is not up yet
        console.print(
            f"the Pages host publishes the branch in a minute or two: then run `panelpress check --url` ({feed})",
            markup=False,
            soft_wrap=True,
        )
        return EXIT_OK
    if not verify:
        return EXIT_OK
    return _check(show, None, False, feed)


def _dry_run(leg, max_deletes: int, allow_remove: bool) -> None:
    """What a deploy would do at one destination (`--dry-run`)."""
    what = "media: " if leg.media else ""
    for key in leg.plan.upload:
        console.print(f"{what}upload {key} ({_bytes(leg.plan.site[key].size)})", markup=False, soft_wrap=True)
    for key in leg.plan.delete:
        console.print(
            f"{what}delete {key}" + (" (after the new feed is up)" if leg.media else ""), markup=False, soft_wrap=True
        )
    console.print(
        f"dry run: would upload {len(leg.plan.upload)} files ({_bytes(leg.plan.bytes)}), delete {len(leg.plan.delete)}, "
        f"leave {leg.plan.unchanged} unchanged at {leg.url}; nothing was written",
        markup=False,
        soft_wrap=True,
    )
    if len(leg.plan.delete) > max_deletes and not allow_remove:
        console.print(
            f"a deploy would stop: more than [deploy] max_deletes = {max_deletes} deletions at {leg.url} (--allow-remove lets them through)",
            markup=False,
            soft_wrap=True,
        )


def _said(line: str) -> None:
    err_console.print(escape(line), soft_wrap=True, highlight=False)


def _bytes(count: int) -> str:
    for unit in ("bytes", "kB", "MB", "GB"):
        if count < 1000 or unit == "GB":
            return f"{count} {unit}" if unit == "bytes" else f"{count:.1f} {unit}"
        count /= 1000
    return str(count)


def _summary(result: BuildResult, root: Path) -> None:
    from rich.table import Table

    table = Table(title="panelpress build", show_lines=False)
    for column in ("episode", "status", "detail"):
        table.add_column(column)
    for item in result.published:
        detail = ", ".join(
            x
            for x in (
                item.pub_date.date().isoformat(),
                _clock(item.media.duration),
                "explicit" if item.explicit else "",
            )
            if x
        )
        table.add_row(escape(item.episode.slug), "[green]published[/]" if not result.blocked else "held back", detail)
    for slug, why in result.skipped:
        table.add_row(escape(slug), "[yellow]skipped[/]", escape(why))
    kept = {item.episode.slug for item in result.kept}
    for failure in result.failures:
        status = "[red]failed[/], [yellow]kept[/]" if failure.slug in kept else "[red]failed[/]"
        table.add_row(escape(failure.slug), status, escape(failure.error.problem))
    if table.row_count:  # episodes published as they were are counted below, not listed: a show may have a thousand
        console.print(table)
    _loudness(result)
    _talk(result)
    _clips(result, root)
    _errors("[red]error:[/]", [failure.error for failure in result.failures], root)
    _errors("[red]refused:[/]", result.blocked, root)
    _errors("[red]not published:[/]", result.withheld, root)
    _errors("[yellow]warning:[/]", result.warnings, root)
    for path in result.started_notes:
        console.print(f"started notes: {path.relative_to(root)} — review them, then remove `draft: true` to publish")
    for line in result.notes:
        console.print(escape(line), soft_wrap=True)
    if result.blocked:
        console.print("Nothing was published: the site folder is as it was.")
        return
    if result.kept:
        names = ", ".join(sorted(kept))
        console.print(
            f"kept: {names} failed in this build, so the feed keeps what was published before; fix the error above and build again"
        )
    counts = (
        f"{len(result.published)} published, "
        + (f"{len(result.unchanged)} unchanged, " if result.unchanged else "")
        + f"{len(result.skipped)} skipped, {len(result.failures)} failed"
    )
    if result.warnings:
        counts += f", {len(result.warnings)} warning{'s' if len(result.warnings) > 1 else ''}"
    if result.report is None and not result.published and not result.failures:
        counts += ". Nothing changed since the last build: the site is as it was"
    console.print(f"{counts}. Feed: {result.feed_path}  Pages: {result.index_path}")


def _clips(result: BuildResult, root: Path) -> None:
    """The clips of the episodes this build made: how many were made now, with captions, and where they are."""
    clips = result.clips
    if not clips:
        return
    made = sum(clip.made for clip in clips)
    captioned = sum(clip.captions for clip in clips)
    folder = result.clips_dir
    if folder is not None:
        shown = folder.relative_to(root) if folder.is_relative_to(root) else folder
        where = f"kept in {shown}/ for you to upload"
    else:
        where = "published beside the episodes' audio, linked from their pages"
    console.print(
        escape(
            f"clips: {made} made, {len(clips) - made} from the cache, {captioned} of {len(clips)} with captions; {where}"
        ),
        soft_wrap=True,
    )


def _remastered(result: BuildResult) -> None:
    """What a remaster changed, per episode: loudness of the recording and as published, true peak, bytes, length."""
    from rich.table import Table

    if not result.remastered:
        return

    def change(before, after, shown) -> str:
        if before is None:
            return shown(after)
        return f"= {shown(after)}" if before == after else f"{shown(before)} → {shown(after)}"

    lufs = lambda value: "-" if value is None else f"{value:.1f}"  # noqa: E731
    table = Table(title="remastered: as published before → now (= unchanged)")
    for column in ("episode", "recording LUFS", "published LUFS", "true peak dBTP", "bytes", "duration", "audio"):
        table.add_column(column, justify="left" if column == "episode" else "right")
    same = 0
    for entry in result.remastered:
        old, new = entry.before, entry.after
        pick = lambda name, old=old: getattr(old, name) if old is not None else None  # noqa: E731
        unchanged = old is not None and old.sha256 == new.sha256
        same += unchanged
        table.add_row(
            escape(entry.slug),
            change(pick("input_i"), new.input_i, lufs),
            change(pick("output_i"), new.output_i, lufs),
            change(pick("output_tp"), new.output_tp, lufs),
            change(pick("length"), new.length, lambda v: f"{v:,}"),
            change(pick("duration"), new.duration, _clock),
            "the same bytes" if unchanged else ("new" if old is None else "[yellow]changed[/]"),
        )
    console.print(table)
    console.print(
        f"{len(result.remastered)} episodes remastered: {len(result.remastered) - same} with new audio, {same} the same to the byte."
    )


def _clock(seconds: float) -> str:
    from .show.pages import clock

    return clock(seconds)


def _loudness(result: BuildResult) -> None:
    """The mastering report of every published episode: what came in, what went out, what each pass cost."""
    from rich.table import Table

    reports = [(item.episode.slug, item.report) for item in result.published if item.report]
    reports += [
        (f"{item.episode.slug} · {alt.title}", alt.report)
        for item in result.published
        for alt in item.alternates
        if alt.report
    ]
    if not reports:
        return
    table = Table(
        title="loudness: LUFS / peak / LRA; published: measured on the decoded file, true peak; limiter: gain reduction, max / 99th percentile"
    )
    for column in ("episode", "recording", "gain", "published", "limiter"):
        table.add_column(column, justify="left" if column == "episode" else "right", no_wrap=column != "episode")
    for slug, r in reports:
        table.add_row(
            escape(slug),
            f"{r.input_i:.1f} / {r.input_peak:.1f} / {r.input_lra:.1f}",
            f"{r.gain:+.1f} dB",
            f"{r.output_i:.1f} / {r.output_tp:.1f} / {r.output_lra:.1f}",
            f"{r.limiter_max:.1f}/{r.limiter_p99:.1f} dB",
        )
    console.print(table)
    for slug, r in reports:
        if r.timings:
            passes = ", ".join(f"{p.name} {p.wall:.1f} / {p.cpu:.1f} s" for p in r.timings)
            console.print(
                escape(
                    f"{slug}: {r.passes} passes, {passes} (wall / CPU); compressor gain reduction {r.compressor_max:.1f} / {r.compressor_p99:.1f} dB"
                ),
                soft_wrap=True,
            )


def _talk(result: BuildResult) -> None:
    """Who spoke how long in every published episode of one track per speaker, and what the mix did with each track."""
    from rich.table import Table

    mixed = [item for item in result.published if item.mix]
    if not mixed:
        return
    table = Table(
        title="tracks: who spoke how long; offset: how far a recorder was moved to line up; level: the mix's gain"
    )
    for column in ("episode", "track", "speaker", "talk time", "offset", "level"):
        table.add_column(column, justify="left" if column in ("episode", "track", "speaker") else "right")
    for item in mixed:
        for track in item.mix.tracks:
            offset = (
                track.sync if track.sync in ("reference", "one recorder") else f"{track.offset:+.3f} s ({track.sync})"
            )
            table.add_row(
                escape(item.episode.slug),
                escape(track.source),
                escape(track.who),
                _clock(track.talk),
                offset,
                f"{track.gain:+.1f} dB",
            )
    console.print(table)


def _errors(label: str, errors, root: Path) -> None:
    for error in errors:
        # messages name [sections]: never let rich read them as markup
        err_console.print(f"{label} {escape(error.message(root))}", soft_wrap=True)


def _import(show: Path, feed_path: Path) -> int:
    settings = config.load(show)
    from . import importer

    result = importer.run(settings, feed_path.resolve())
    root = settings.root
    _errors("[yellow]repaired:[/]", result.repaired, root)
    for match in result.matched:
        moved = (
            f"; its audio moves from {match.item.enclosure_url} to {match.new_url} (apps follow the GUID)"
            if match.item.enclosure_url != match.new_url
            else ""
        )
        console.print(
            escape(f"matched {match.slug} by {match.by}: {match.item.title!r}, GUID {match.item.guid}{moved}"),
            soft_wrap=True,
        )
    for item in result.unmatched:
        err_console.print(
            "[yellow]unmatched:[/] "
            + escape(
                f"{item.title!r} (GUID {item.guid}, {item.enclosure_url or 'no enclosure'}) — no recording in episodes/ has its file name or title; add it and import again"
            ),
            soft_wrap=True,
        )
    _errors("[red]not imported:[/]", result.problems, root)
    _errors("[yellow]before you build:[/]", result.hints, root)
    for path in result.started_notes:
        console.print(f"wrote notes: {path.relative_to(root)} (from the old feed; review them)")
    console.print(
        f"{len(result.matched)} imported, {len(result.unmatched)} unmatched, {len(result.problems)} not imported. Podcast GUID: {result.podcast_guid or 'none (panelpress makes one from site_url)'}. Ledger: {settings.ledger_path.name}"
    )
    # what is to fix before the first build (a date the notes give otherwise) is as much a failure: that build refuses
    return EXIT_OK if not (result.unmatched or result.problems or result.hints) else EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
