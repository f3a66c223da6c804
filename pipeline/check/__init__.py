"""Check: a show and its built site, without publishing anything.

The sources are read as a build reads them (those unchanged since the last build were read by it), the published
feed is read as apps read it, and the site is compared with the plan a build makes (`build.plan`): what `check`
expects is what a build publishes, never a second derivation of it. Every problem is a PanelpressError (file,
problem, fix); the CLI prints one line each.

    findings   the report and the notebook of one run     memory    what the cache remembers since the last build
    sources    artwork, notes, transcripts, changes       site      the site against the plan (files, feed values)
    feed       the feed's form and the parsers' view      live      the site as apps fetch it (`--url`)
    review     each episode's flagged words (the clean edition), as the last build heard them
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from .. import config, layout, lock
from ..errors import ConfigError, PanelpressError
from ..targets import seam
from . import review, sources
from .findings import Checker, CheckReport
from .memory import Memory
from .site import check as check_site


def run(
    root: Path,
    fix_artwork: bool = False,
    site: Path | None = None,
    waiting: Callable[[str], None] = lambda message: None,
    url: str | None = None,
    seconds: float | None = None,
    words: bool = False,
) -> CheckReport:
    """Validate the config, notes, transcripts, artwork and the built site of the show in `root`. With
    `fix_artwork`, it writes a file into the show, so it waits for a running build (telling `waiting` why). With
    `url` (a feed's address; "" for the show's own), the live site is checked too, over HTTP(S), each request within
    `seconds` (None: the client's deadline). With `words`, the review lists every flagged word, not only those
    that hold a clean edition back."""
    try:
        settings = config.load(root)
        settings = config.with_output(settings, site) if site is not None else settings
    except ConfigError as err:
        return CheckReport(problems=(err,), config_ok=False)
    checker = Checker(settings, Memory.load(settings))
    checker.warnings += settings.warnings
    if fix_artwork:
        with lock.hold(lock.show_lock(settings), "this show", waiting=waiting):
            done = sources.check_artwork(checker, fix_artwork)
    else:
        done = sources.check_artwork(checker, fix_artwork)
    by_slug = sources.check_notes(checker)
    sources.check_transcripts(checker, by_slug)
    book = check_site(checker)
    if book is not None:
        sources.check_changes(checker, by_slug, set(book.episodes))
    if url is not None:
        done += _live(checker, url or layout.feed_url(settings.site_url), seconds)
    return CheckReport(
        problems=tuple(checker.problems),
        done=tuple(done),
        warnings=tuple(checker.warnings),
        review=tuple(review.lines(checker, words)),
    )


def _live(checker: Checker, url: str, seconds: float | None) -> list[str]:
    """The site as apps fetch it (live.py), against the feed panelpress last published into the site folder."""
    from .. import web
    from . import live

    settings = checker.config
    try:
        published = seam.for_config(settings).published_feed()
    except PanelpressError:
        published = None  # a damaged manifest is reported with the site's problems
    found = live.check(url, published, checker.local, seconds or web.DEADLINE)
    checker.problems += found.problems
    checker.warnings += found.warnings
    return found.done


def summary(report: CheckReport) -> str:
    """The last line of `panelpress check`."""
    count = len(report.problems)
    return "all good" if not count else f"{count} problem{'s' if count != 1 else ''}"
