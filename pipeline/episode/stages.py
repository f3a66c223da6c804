"""The per-episode map: one recording and its notes through the stage list, to a publishable episode.

Each stage is a function from a frozen `Work` record to the next; the list is written once (`STAGES`).
The first stage reads the notes only (cheap, no audio): the build runs it for every changed episode and
checks what subscribers would see (GUIDs, URLs, dates) before any audio work runs the rest. Inputs and outputs
are plain, picklable records and paths, so the map can run on threads or on a distributed engine.
"""

from __future__ import annotations

import functools
import mimetypes
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from .. import cache, layout, markdown
from ..config import AudioSettings, Config
from ..errors import (
    AudioError,
    CleanEditionError,
    ClipError,
    DraftTranscript,
    Interrupted,
    NotesError,
    PanelpressError,
    TranscriptError,
)
from ..files import file_sha256
from ..progress import Task, no_task
from ..records import (
    Attachment,
    AudioInfo,
    Episode,
    EpisodeResult,
    Identity,
    Mastered,
    Mixed,
    Notes,
    Published,
    Stamp,
    Track,
    Turn,
)
from . import chapters, explicit, notes, probe, tags, tracks, transcript, turns
from .discover import Recording

if TYPE_CHECKING:
    from . import transcribe


@dataclass(frozen=True)
class Setup:
    """What every episode of one build shares: the settings and the moment of the build."""

    config: Config
    now: datetime
    fresh: bool = False  # remaster: make the audio again, whatever the cache holds


@dataclass(frozen=True)
class Work:
    """One episode on its way through the stages."""

    source: Recording
    guid: str = ""  # set by the build after the notes stage (drafts need none)
    notes: Notes | None = None
    skipped: str = ""
    until: datetime | None = None
    info: AudioInfo | None = None
    episode: Episode | None = None
    transcript: transcript.Transcript | None = None
    unreviewed: bool = False  # the transcript is a draft panelpress made: heard for the clean edition, not published
    recording_sha: str = ""
    tracks: tuple[Track, ...] = ()  # an episode of one track per speaker: its microphones
    draft: str = ""  # a transcript made for it (WebVTT), to be written beside its notes by the build
    mixed: Mixed | None = None
    mastered: Mastered | None = None
    tag_set: tags.TagSet | None = None  # what the tag stage wrote, for other editions of the audio
    item: Published | None = None
    warnings: tuple[PanelpressError, ...] = ()
    withheld: tuple[PanelpressError, ...] = ()
    known: Mapping[str, Stamp] = field(default_factory=dict)  # its files as its last build stamped them, by path
    before: Mastered | None = None  # the audio its last build mastered, with these settings and this panelpress

    def sha(self, root: Path, path: Path) -> str:
        """A file's checksum: as its last build stamped it while its size and time are unchanged, else read."""
        return cache.known_sha(root, path, self.known) or file_sha256(path)


def identity(config: Config, source: Recording, guid: str, pub_date: datetime) -> Identity:
    """What subscribers will hold of an episode, known once its notes are read: no audio work needed."""
    slug = source.slug
    return Identity(
        slug,
        guid,
        config.address(layout.media(slug, config.audio.format)),
        page_url(config, slug, pub_date),
        pub_date,
        source.notes_path,
        source.path,
    )


def post_url(config: Config, slug: str, pub_date: datetime) -> str:
    """[blog]: the address of the episode's post, from the engine's permalink rule ("" without [blog])."""
    return layout.post_url(config.blog_url, config.permalink, slug, pub_date) if config.blog.engine else ""


def page_url(config: Config, slug: str, pub_date: datetime) -> str:
    """Where listeners read about the episode: its post on the blog, or its own page."""
    return post_url(config, slug, pub_date) or layout.url(config.site_url, layout.page(slug))


# --- the stages -----------------------------------------------------------------------------------------------------


def read_notes(work: Work, setup: Setup, task: Task) -> Work:
    """The notes: a draft or a future date waits; a published episode needs a date."""
    path = work.source.notes_path
    parsed = notes.read(path, setup.config.root)
    work = replace(work, warnings=work.warnings + tuple(notes.warnings(parsed)))
    if parsed.draft:
        return replace(work, notes=parsed, skipped=draft_skipped(path))
    if parsed.date is None:
        raise PanelpressError(path, "has no date", "add `date: YYYY-MM-DD` to the front matter")
    if parsed.date > setup.now:
        return replace(
            work, notes=parsed, skipped=f"scheduled for {parsed.date.isoformat(timespec='minutes')}", until=parsed.date
        )
    return replace(work, notes=parsed, episode=Episode(slug=work.source.slug, recording=work.source.path, notes=parsed))


def draft_skipped(notes_path: Path) -> str:
    """Why an episode whose notes are a draft waits."""
    return f"draft: review {notes_path.name}, then remove `draft: true`"


def probe_recording(work: Work, setup: Setup, task: Task) -> Work:
    """What the recording is: duration, rate, channels, tags; for an episode of one track per speaker, every track
    and whose it is."""
    found = tracks.resolve(work.source, work.notes)
    if not found:
        return replace(work, info=probe.probe(work.source.path))
    return replace(
        work, tracks=found, info=tracks.info(work.source, found, None if work.source.tracks else found[0].info)
    )


def resolve_chapters(work: Work, setup: Setup, task: Task) -> Work:
    """Chapters from the notes, the chapters file or the recording, and the notes' soundbites, checked against its length."""
    chapters.check_soundbites(work.notes.soundbites, work.info.duration, work.notes.path)
    return replace(work, episode=replace(work.episode, chapters=chapters.resolve(work.episode, work.info)))


def make_transcript(work: Work, setup: Setup, task: Task) -> Work:
    """`[transcripts] make`: an episode without a transcript gets a draft made offline; the build writes it beside
    its notes (never over a file), and from then on it is the episode's transcript, as a host's would be."""
    config = setup.config
    try:
        if not config.transcripts.make or transcript.source(config, work.source.slug) is not None:
            return work
    except TranscriptError:
        return work  # the host's transcript is refused: reading it says why
    from . import transcribe  # the transcriber: loaded by the shows that make transcripts

    blocked = draft_blocker(transcribe.draft_path(config, work.source.slug))
    if blocked is not None:  # found before the transcriber's work, not after it
        return replace(work, withheld=(*work.withheld, blocked))
    path, sha, duration, who = heard(work, config.root)
    work = replace(work, recording_sha=work.recording_sha or (sha if work.mixed is None else ""))
    try:
        text, _ = transcribe.make(config, path, sha, duration, who, task("transcribe", duration))
    except Interrupted:
        raise
    except PanelpressError as err:
        return replace(work, withheld=(*work.withheld, err))
    return replace(work, draft=text)


def draft_blocker(path: Path) -> TranscriptError | None:
    """Why a draft transcript cannot be created at `path` (None: it can): something in its place that is not a
    transcript (a symlink, dangling or not, a folder), or a folder that cannot be written. A draft is only ever
    created as a new file, never written through a symlink."""
    fix = "remove it and make the draft again (build, or `panelpress transcribe`), or put the episode's transcript there as a file"
    if path.is_symlink():
        what = f"is a symlink to {os.readlink(path)}" + ("" if path.exists() else ", which does not exist")
        return TranscriptError(
            path, f"{what}, where a draft transcript would be written: panelpress never writes through a symlink", fix
        )
    if path.is_file():
        return TranscriptError(path, "is there already: panelpress never overwrites a transcript", fix)
    if os.path.lexists(path):
        what = "a folder" if path.is_dir() else "not a file"
        return TranscriptError(path, f"is {what}, where a draft transcript would be written", fix)
    folder = path.parent
    if folder.is_dir() and not os.access(folder, os.W_OK | os.X_OK):
        return TranscriptError(
            folder,
            f"cannot be written, so the draft transcript {path.name} cannot be made in it",
            f"make {folder.name}/ writable, then make the draft again (or put the episode's transcript there yourself)",
        )
    return None


def heard(work: Work, root: Path) -> tuple[Path, str, float, tuple[Turn, ...]]:
    """What a made transcript is heard from (the audio, its checksum, its length, who spoke when): the recording, or
    the mix of an episode of tracks, whose turns name each cue's speaker."""
    if work.mixed is not None:
        return work.mixed.path, work.mixed.key, work.mixed.duration, work.mixed.turns
    return work.source.path, work.recording_sha or work.sha(root, work.source.path), work.info.duration, ()


def draft_transcript(config: Config, source: Recording, task: Task | None = None) -> tuple[str, transcribe.Made]:
    """`panelpress transcribe`: one episode's draft transcript, made as a build makes it (an episode of tracks is
    mixed first), without building."""
    from . import transcribe

    task = task or no_task
    setup = Setup(config, datetime.now(UTC))
    if source.notes_path.is_file():
        work = probe_recording(Work(source=source, notes=notes.read(source.notes_path, config.root)), setup, task)
    elif source.tracks:
        raise NotesError(
            source.notes_path,
            "does not exist: an episode of tracks names whose each track is in its notes",
            "run `panelpress build` once to start them, then transcribe",
        )
    else:
        work = Work(source=source, info=probe.probe(source.path))
    path, sha, duration, who = heard(mix_tracks(work, setup, task), config.root)
    return transcribe.make(config, path, sha, duration, who, task("transcribe", duration))


def read_transcript(work: Work, setup: Setup, task: Task) -> Work:
    """The host's transcript, checked before any audio work; a bad one is held back, not the episode."""
    speakers = [p.name for p in work.notes.panelists]
    try:
        if work.draft:  # made by this build: read as it will be written
            found = transcript.read(
                _draft_path(setup.config, work.source.slug), work.info.duration, speakers, text=work.draft
            )
        else:
            path = transcript.source(setup.config, work.source.slug)
            found = transcript.read(path, work.info.duration, speakers) if path else None
    except PanelpressError as err:
        return replace(work, withheld=(*work.withheld, err))
    if found is None or not found.draft or setup.config.transcripts.publish_drafts:
        return replace(work, transcript=found)
    waiting = DraftTranscript(
        found.path,
        f"a transcript panelpress made, waiting for your review: not published (its draft note, line {found.draft})",
        "read and correct it, then delete that note and build; or set [transcripts] publish_drafts = true",
    )
    return replace(work, transcript=found, unreviewed=True, warnings=(*work.warnings, waiting))


def review_explicit(work: Work, setup: Setup, task: Task) -> Work:
    """Strong language in the notes and transcript, and what `[explicit] on_detect` makes of it."""
    config = setup.config
    found = explicit.episode_findings(
        work.episode.notes, config, work.transcript.path if work.transcript else None, work.draft or None
    )
    reviewed, warning = explicit.review(work.episode.notes, found, config)
    warnings = work.warnings + ((warning,) if warning is not None else ())
    return replace(work, episode=replace(work.episode, notes=reviewed), warnings=warnings)


def mix_tracks(work: Work, setup: Setup, task: Task) -> Work:
    """An episode of one track per speaker mixed into one recording, with who spoke when (or taken from the cache)."""
    if not work.tracks:
        return work
    from ..audio import mix  # numpy: imported by the episodes that need it

    config = setup.config
    sums = {path: work.sha(config.root, path) for path in dict.fromkeys(track.path for track in work.tracks)}
    found = tuple(replace(track, sha256=sums[track.path]) for track in work.tracks)
    mixed = mix.mix(
        found, config.mix, config.audio, config.cache_dir, task, together=not work.source.tracks, fresh=setup.fresh
    )
    return replace(work, tracks=found, mixed=mixed, recording_sha=sums.get(work.source.path, ""))


def master(work: Work, setup: Setup, task: Task) -> Work:
    """The recording (or the mix of its tracks) mastered to the show's loudness (or taken from the cache)."""
    config = setup.config
    again = _mastered_before(work, config)
    if again is not None:
        return replace(work, recording_sha=again[0], mastered=again[1])
    from ..audio import mastering  # the audio stack (numpy, PyAV): loaded by the episodes whose sound is made

    if work.mixed is None:
        # a checksum not known yet is read by mastering, beside its analysis (on the other core); read once
        known = work.recording_sha or cache.known_sha(config.root, work.source.path, work.known)
        sha = known or functools.cache(functools.partial(file_sha256, work.source.path))
        mastered = mastering.master(
            work.info, config.audio, config.cache_dir, task, config.root, source_sha=sha, fresh=setup.fresh
        )
        return replace(work, recording_sha=known or sha(), mastered=mastered)
    info, mixed = mixed_info(work), work.mixed
    try:  # the mix is named by its key, and its content follows from it: no need to read it again for a checksum
        mastered = mastering.master(
            info,
            mixed_settings(config.audio),
            config.cache_dir,
            task,
            config.root,
            source_sha=mixed.key,
            fresh=setup.fresh,
        )
    except Interrupted:
        raise
    except AudioError as err:
        raise AudioError(work.source.path, f"its mix: {err.problem}", err.fix) from err
    return replace(work, mastered=mastered)


def _mastered_before(work: Work, config: Config) -> tuple[str, Mastered] | None:
    """The recording's checksum and the audio the episode's last build mastered from it, while everything its sound
    is made from is as it was then: the recording and the intro and outro (their sizes and times; the build gives
    `before` only when the settings and panelpress are the same too). An edit of the notes tags that audio again,
    and neither decodes nor masters anything (nor loads the audio stack); an episode of tracks is mixed again."""
    before, root = work.before, config.root
    if before is None or work.tracks or work.source.tracks or not before.path.is_file():
        return None
    sha = cache.known_sha(root, work.source.path, work.known)
    if not sha or not all(cache.known_sha(root, path, work.known) for path in _jingles(config)):
        return None
    return sha, replace(before, cached=True)


def mixed_info(work: Work) -> AudioInfo:
    """What mastering reads for an episode of tracks: their mix, in the cache."""
    from ..audio import mix  # numpy: imported by the episodes that need it

    mixed = work.mixed
    return AudioInfo(
        path=mixed.path,
        format="FLAC",
        codec="flac",
        duration=mixed.duration,
        sample_rate=mix.mix_rate(work.tracks),
        channels=1,
        bitrate=0,
    )


def mixed_settings(settings: AudioSettings) -> AudioSettings:
    """The mastering settings for a mix: clean-up, high-pass and levelling were done per track by the mix (a
    second levelling would lift the automixer's quiet tracks again)."""
    return replace(settings, highpass=0, level_voices=False, denoise="off", dehum=0, deess=False)


def tag(work: Work, setup: Setup, task: Task) -> Work:
    """The tagged audio file and everything published beside it: chapters, art, files the notes link to."""
    config, episode, master_ = setup.config, work.episode, work.mastered
    notes_, slug = episode.notes, episode.slug
    marks = chapters.shift(episode.chapters, master_.offset, master_.duration)
    art, art_mime = _show_art(config)
    image = notes.image_file(notes_)
    if image is not None:  # the episode's own art replaces the show's in its tags
        art, art_mime = image.read_bytes(), chapters.IMAGE_MIME[image.suffix.lower()]
    page_path = layout.page(slug)
    values = tags.for_episode(
        notes_,
        config.show,
        master_,
        guid=work.guid,
        page_url=page_url(config, slug, notes_.date),
        feed_url=layout.feed_url(config.site_url),
        art=art,
        art_mime=art_mime,
        chapters=chapters.for_tags(marks, master_.duration, notes_.path.parent),
    )
    media = tags.tag(
        master_, values, config.cache_dir, layout.media(slug, config.audio.format).rsplit("/", 1)[-1], fresh=setup.fresh
    )
    extra = chapters.publish(marks, notes_.path.parent, slug, config.site_url, notes_.title, config.show.title)
    image_path = layout.episode_image(slug, image.suffix) if image is not None else ""
    if image is not None:
        extra += (Attachment(path=image_path, mime=art_mime, content=art),)
    for url in notes_.files:  # what the body links to beside the notes goes into a folder of the episode's own
        local = markdown.local_name(url) or ""
        mime = mimetypes.guess_type(local)[0] or "application/octet-stream"
        file = notes_.path.parent / local
        extra += (
            Attachment(
                path=layout.linked(slug, local), mime=mime, content=file, source=url, sha256=work.sha(config.root, file)
            ),
        )
    item = Published(
        episode=episode,
        media=media,
        guid=work.guid,
        pub_date=notes_.date,
        explicit=explicit.effective(notes_.explicit, config.show.explicit),
        site_url=config.site_url,
        media_site=config.media_url,
        media_transcripts=config.deploy.media_transcripts,
        media_path=layout.media(slug, config.audio.format),
        page_path=page_path,
        report=master_.report,
        attachments=_stored(config.cache_dir, extra),
        chapters=marks,
        image=image_path,
        soundbites=chapters.shift_soundbites(notes_.soundbites, master_.offset, master_.duration),
        mix=work.mixed.report if work.mixed else None,
        turns=turns.shift(work.mixed.turns, master_.offset, master_.duration) if work.mixed else (),
        post_url=post_url(config, slug, notes_.date),
        offset=master_.offset,
    )
    return replace(work, item=item, tag_set=values)


def opus_edition(work: Work, setup: Setup, task: Task) -> Work:
    """The Opus edition (`[audio] opus`): encoded from the mastered file, loudness-checked and tagged as the enclosure is."""
    config = setup.config
    if not config.audio.opus:
        return work
    from ..audio import mastering
    from . import edition  # the editions' stack: imported by the shows that make them

    path = layout.edition(work.source.slug, "opus")
    made = edition.opus(
        work.mastered,
        work.tag_set,
        config.audio,
        mastering.output_channels(work.info),
        config.cache_dir,
        path,
        task,
        fresh=setup.fresh,
    )
    return replace(work, item=replace(work.item, alternates=(*work.item.alternates, made)))


def attach_transcript(work: Work, setup: Setup, task: Task) -> Work:
    """The transcript as VTT, SRT and JSON, moved onto the mastered audio's timeline (a draft waits for review)."""
    if work.transcript is None or work.unreviewed:
        return work
    config, master_ = setup.config, work.mastered
    files = transcript.attachments(
        _labelled(work), work.source.slug, master_.offset, master_.duration, config.show.language
    )
    return replace(work, item=replace(work.item, attachments=work.item.attachments + _stored(config.cache_dir, files)))


def _labelled(work: Work) -> transcript.Transcript | None:
    """The transcript, its cues without a speaker given the one the mix heard (an episode of tracks)."""
    return turns.label(work.transcript, work.mixed.turns) if work.mixed and work.transcript else work.transcript


def clean_edition(work: Work, setup: Setup, task: Task) -> Work:
    """`[clean] edition`: the episode without its strong language, verified; one that fails is held back, not the episode."""
    config = setup.config
    if not config.clean.edition:
        return work
    if work.unreviewed and work.item.explicit:
        # A recogniser misses strong words (whisper tiny.en wrote 18 of 33 on a generated panel): a word the draft
        # lacks would stay audible in the edition called Clean. The host's review of the draft is what makes it clean.
        waits = DraftTranscript(
            work.transcript.path,
            "the clean edition of this explicit episode waits for your review of this transcript panelpress made: "
            "a strong word the draft missed would stay audible in it",
            "read the draft and correct every strong word, then delete its draft note and build; or set "
            "[transcripts] publish_drafts = true to publish the draft, and a clean edition made from it, unreviewed",
        )
        return replace(work, warnings=(*work.warnings, waits))
    from . import clean  # the clean edition's stack (word alignment, listening): imported by the shows that make one

    try:
        if work.mixed is None:
            made = clean.make(
                config,
                work.item,
                work.info,
                work.mastered,
                work.tag_set,
                work.transcript,
                work.recording_sha,
                config.audio,
                task,
                setup.fresh,
            )
        else:  # the words are found in the mix, which is what was mastered
            made = clean.make(
                config,
                work.item,
                mixed_info(work),
                work.mastered,
                work.tag_set,
                _labelled(work),
                work.mixed.key,
                mixed_settings(config.audio),
                task,
                setup.fresh,
            )
    except CleanEditionError as err:
        return replace(work, withheld=(*work.withheld, err))
    except Interrupted:
        raise
    except PanelpressError as err:  # the audio or the aligner failed: the clean edition is held back, not the episode
        return replace(
            work,
            withheld=(
                *work.withheld,
                CleanEditionError(err.path, f"its clean edition could not be made: {err.problem}", err.fix),
            ),
        )
    item = replace(work.item, flagged=made.review)
    withheld = work.withheld + ((made.refused,) if made.refused else ())
    if made.item is not None:
        clean_item = replace(
            made.item, attachments=_stored(config.cache_dir, _reviewed(work, made.item.attachments)), flagged=()
        )
        item = replace(
            item, clean=clean_item, alternates=item.alternates + ((made.alternate,) if made.alternate else ())
        )
    warnings = work.warnings + ((made.warning,) if made.warning else ())
    return replace(work, item=item, warnings=warnings, withheld=withheld)


def make_clips(work: Work, setup: Setup, task: Task) -> Work:
    """`[clips]`: every soundbite as short videos (from the clean edition where the episode has one); clips that
    cannot be made are held back, not the episode."""
    config = setup.config
    if not config.clips.make or not work.item.soundbites:
        return work
    from . import clips  # the video stack and the clean edition's masking: imported by the episodes that make clips

    image = notes.image_file(work.episode.notes)
    picture = image if image is not None else config.artwork_path
    try:
        made = clips.make(
            config,
            work.item,
            work.mastered,
            None if work.unreviewed else _labelled(work),
            picture,
            task,
            setup.fresh,
        )
    except Interrupted:
        raise
    except PanelpressError as err:
        held = ClipError(err.path, f"its clips could not be made: {err.problem}", err.fix)
        return replace(work, withheld=(*work.withheld, held))
    warnings = work.warnings + ((made.warning,) if made.warning else ())
    return replace(work, item=replace(work.item, clips=made.clips), warnings=warnings)


def _reviewed(work: Work, files: tuple[Attachment, ...]) -> tuple[Attachment, ...]:
    """An edition's files without its transcript while that is a draft waiting for review."""
    if not work.unreviewed:
        return files
    drafts = {
        layout.transcript(work.source.slug, kind, label)
        for kind in layout.TRANSCRIPT_SUFFIXES
        for label in ("", layout.CLEAN)
    }
    return tuple(file for file in files if file.path not in drafts)


Stage = Callable[[Work, Setup, Task], Work]
# The stage list, written once. The notes stage runs first, alone, for the guard; the rest is the audio work.
NOTES: tuple[Stage, ...] = (read_notes,)
AUDIO: tuple[Stage, ...] = (
    probe_recording,
    resolve_chapters,
    mix_tracks,
    make_transcript,
    read_transcript,
    review_explicit,
    master,
    tag,
    opus_edition,
    attach_transcript,
    clean_edition,
    make_clips,
)
STAGES = NOTES + AUDIO


def run(work: Work, setup: Setup, stages: tuple[Stage, ...], task: Task | None = None) -> Work:
    """Run stages on one episode until it is done (published or waiting); raise the first PanelpressError."""
    task = task or no_task
    for stage in stages:
        if work.skipped:
            break  # a draft or a scheduled episode: nothing more to do
        work = stage(work, setup, task)
    return work


def result(work: Work, config: Config) -> EpisodeResult:
    """The episode's result, with a fingerprint of every file it was made from."""
    root = config.root

    def stamp(path: Path, sha: str = "") -> Stamp:
        return cache.stamp(root, path, sha, work.known)

    stamps = [stamp(work.source.path, work.recording_sha), stamp(work.source.notes_path)]
    sums = {track.path: track.sha256 for track in work.tracks}  # a folder of tracks: every recording in it
    stamps += [stamp(path, sums.get(path, "")) for path in work.source.tracks]
    stamps += [stamp(path) for path in _inputs(work, config)]
    return EpisodeResult(
        slug=work.source.slug,
        item=work.item,
        skipped=work.skipped,
        until=work.until,
        warnings=work.warnings,
        withheld=work.withheld,
        inputs=tuple(dict.fromkeys(stamps)),
        drafts=((_draft_path(config, work.source.slug), work.draft),) if work.draft else (),
        mastered=work.mastered,
    )


def _inputs(work: Work, config: Config) -> list[Path]:
    """The files beside the recording and the notes that the episode was (or would be) made from."""
    slug, found = work.source.slug, []
    # Transcripts and the chapters file count even when absent: adding one must re-make the episode.
    found += [
        folder / f"{slug}{suffix}"
        for folder in (config.episodes_dir, config.notes_dir)
        for suffix in transcript.SUFFIXES
    ]
    found.append(chapters.file_for(work.source.path))
    found += [path for path in (config.artwork_path, *_jingles(config)) if path is not None]
    if work.notes is not None:
        folder = work.notes.path.parent
        image = notes.image_file(work.notes)
        found += [image] if image is not None else []
        found += [path for chapter in work.notes.chapters if (path := chapters.image_file(chapter, folder)) is not None]
        found += [folder / (markdown.local_name(url) or "") for url in work.notes.files]
    return found


def _draft_path(config: Config, slug: str) -> Path:
    from . import transcribe

    return transcribe.draft_path(config, slug)


def _jingles(config: Config) -> list[Path]:
    return [config.root / name for name in (config.audio.intro, config.audio.outro) if name]


def _show_art(config: Config) -> tuple[bytes | None, str]:
    path = config.artwork_path
    if path is None:
        return None, ""
    return path.read_bytes(), "image/png" if path.suffix.lower() == ".png" else "image/jpeg"


def _stored(cache_dir: Path, files: tuple[Attachment, ...]) -> tuple[Attachment, ...]:
    """Attachments made as bytes, kept in the cache's file store and named by path (the result stays small)."""
    stored = []
    for attachment in files:
        if isinstance(attachment.content, bytes):
            path, sha = cache.store(cache_dir, attachment.content)
            attachment = replace(attachment, content=path, sha256=sha)
        stored.append(attachment)
    return tuple(stored)


def interrupted(path: Path) -> Interrupted:
    """The error of an episode whose audio work was stopped by Ctrl-C (the build stops: it is no fault of the episode)."""
    return Interrupted(path, "was interrupted", "build again")
