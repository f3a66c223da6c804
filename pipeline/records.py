"""The immutable records that pass between the stages of the flow."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

from . import layout
from .errors import PanelpressError


@dataclass(frozen=True)
class Panelist:
    """One voice of the panel."""

    name: str
    role: str = "guest"  # host | guest | moderator
    img: str = ""
    href: str = ""


@dataclass(frozen=True)
class Chapter:
    """One chapter: where it starts (seconds), its title, and an optional link and image."""

    start: float
    title: str
    url: str = ""
    image: str = ""  # an http(s) URL, or a JPEG/PNG file relative to the notes file's folder
    line: int = field(default=0, compare=False)  # where it was written (notes or chapters file), for errors


@dataclass(frozen=True)
class Soundbite:
    """A highlight of an episode (podcast:soundbite): where it starts and how long it lasts, in seconds, and its title."""

    start: float
    duration: float
    title: str = ""
    line: int = field(default=0, compare=False)  # where the notes wrote it, for errors


@dataclass(frozen=True)
class Social:
    """Where an episode is discussed: a comments page (RSS <comments>), or a root post on a social protocol
    (podcast:socialInteract); protocol "disabled" says the host wants no public comments."""

    url: str = ""
    protocol: str = ""  # "": a plain comments page; else one of podcastindex.SOCIAL_PROTOCOLS
    account: str = ""
    account_url: str = ""


@dataclass(frozen=True)
class Location:
    """A place a show or an episode is about, or was made in (podcast:location)."""

    name: str
    geo: str = ""  # "geo:LAT,LON" (RFC 5870)
    osm: str = ""  # an OpenStreetMap object: N, W or R and its number
    country: str = ""  # ISO 3166-1 alpha-2
    rel: str = ""  # "subject" (what it is about, the default) or "creator" (where it was made)


@dataclass(frozen=True)
class RemoteItem:
    """Another show, by its podcast:guid (and its feed address, as a fallback): a podroll entry."""

    feed_guid: str
    feed_url: str = ""
    title: str = ""


ROOM = "room"  # who a track is when it is the audience or ambience microphone, not a panelist's


@dataclass(frozen=True)
class TrackSpec:
    """One line of the notes' `tracks:`: a file of the episode's folder, or a channel of its recording, and whose
    microphone it is."""

    source: str  # a file name in episodes/<slug>/, or "" for a channel of the one recording
    channel: int  # 1-based channel of the one recording; 0 for a file
    who: str  # a panelist's name, "room" (audience and ambience) or "skip" (left out of the mix)
    line: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Track:
    """One microphone: a file (or one channel of it) and whose it is."""

    path: Path
    channel: int  # 1-based channel of a multichannel recording; 0: the whole file (its channels together)
    who: str  # a panelist's name, or ROOM
    info: AudioInfo
    sha256: str = ""

    @property
    def label(self) -> str:
        """The track as the host names it."""
        return f"{self.path.name} channel {self.channel}" if self.channel else self.path.name


@dataclass(frozen=True)
class Turn:
    """Who spoke when: one stretch of one voice, in seconds on the episode's timeline."""

    start: float
    end: float
    speaker: str


@dataclass(frozen=True)
class TrackReport:
    """What the mix did with one track."""

    who: str  # a panelist's name, or "room"
    source: str  # the file (and channel) as the host names it
    offset: float  # seconds it was moved to line up with the others (positive: its recorder started late)
    sync: str  # how: "one recorder", "detected", "assumed" (no common sound; lengths agree)
    gain: float  # dB of levelling
    talk: float  # seconds of its own voice in the mix


@dataclass(frozen=True)
class MixReport:
    """What the mix stage made of an episode's tracks."""

    tracks: tuple[TrackReport, ...]
    duration: float
    reference: str  # the track whose timeline the episode keeps


@dataclass(frozen=True)
class Passage:
    """Text of a notes file as written there (a front-matter value's source, quotes and all), and where it starts."""

    text: str
    line: int  # 1-based line of the file
    column: int  # 0-based column of its first character


@dataclass(frozen=True)
class Notes:
    """A show-notes file: front matter and Markdown body."""

    path: Path
    title: str
    date: datetime | None
    body: str = ""
    summary: str = ""
    panelists: tuple[Panelist, ...] = ()
    explicit: bool | None = None  # None: the show's value
    season: int | None = None
    episode: int | None = None
    episode_type: str = "full"
    draft: bool = False
    chapters: tuple[Chapter, ...] = ()
    image: str = ""  # the episode's own art: a JPEG/PNG file relative to the notes file's folder
    soundbites: tuple[Soundbite, ...] = ()  # on the recording's timeline
    comments: Social | None = None
    location: Location | None = None
    tracks: tuple[
        TrackSpec, ...
    ] = ()  # which file or channel is whose microphone (an episode of one track per speaker)
    files: tuple[str, ...] = ()  # links and images of the body that name files beside the notes (URLs as written)
    mentions: tuple[str, ...] = ()  # links of the body to other notes files, `other-episode.md` (URLs as written)
    # Where the text the strong-language scan reads was in the file, so it never reads the file again: the sources
    # of the title and summary, and the body's first character (1-based line, 0-based column).
    passages: tuple[Passage, ...] = field(default=(), compare=False, repr=False)
    body_at: tuple[int, int] = field(default=(1, 0), compare=False, repr=False)
    spaced: tuple[int, ...] = field(default=(), compare=False)  # lines whose vertical tabs or form feeds became spaces


@dataclass(frozen=True)
class Episode:
    """A recording paired with its notes by slug."""

    slug: str
    recording: Path
    notes: Notes
    chapters: tuple[Chapter, ...] = ()  # resolved from notes, chapters file or recording; the recording's timeline


@dataclass(frozen=True)
class AudioInfo:
    """What probing a recording tells: stream facts and existing tags."""

    path: Path
    format: str
    codec: str
    duration: float
    sample_rate: int
    channels: int
    bitrate: int  # bits per second, 0 when unknown
    tags: tuple[tuple[str, str], ...] = ()
    art: bytes | None = field(default=None, repr=False)
    art_mime: str = ""
    chapters: tuple[Chapter, ...] = ()
    track: int | None = None
    disc: int | None = None

    def tag(self, name: str) -> str:
        """First value of a normalized tag name (title, artist, album, date, comment), or ''."""
        return next((value for key, value in self.tags if key == name), "")


@dataclass(frozen=True)
class PassTime:
    """One pass of mastering: its name (measure, encode, verify, correct 1), wall and CPU seconds."""

    name: str
    wall: float
    cpu: float  # its own user + system time: the ffmpeg process's, and this thread's where it ran here


@dataclass(frozen=True)
class LoudnessReport:
    """Measured loudness before and after mastering."""

    input_i: float
    input_peak: float  # sample peak, dBFS (a true-peak scan of the recording would cost a pass)
    input_lra: float
    output_i: float
    output_tp: float
    output_lra: float
    gain: float
    method: str
    passes: int
    # Gain reduction (dB) as the compressor and the limiter applied it, sampled every 10 ms of the program.
    compressor_max: float = 0.0
    compressor_p99: float = 0.0
    limiter_max: float = 0.0
    limiter_p99: float = 0.0
    timings: tuple[PassTime, ...] = ()


@dataclass(frozen=True)
class Mastered:
    """A mastered audio file in the cache."""

    path: Path
    key: str
    duration: float
    report: LoudnessReport | None = None
    cached: bool = False
    offset: float = 0.0  # seconds the recording's timeline moved (intro added minus silence trimmed)


@dataclass(frozen=True)
class Mixed:
    """An episode's tracks mixed into one file in the cache, and who spoke when."""

    path: Path
    key: str
    duration: float
    report: MixReport
    turns: tuple[Turn, ...] = ()
    cached: bool = False


@dataclass(frozen=True)
class Attachment:
    """A file published beside an episode's audio: a transcript, a chapters file, art, a file the notes link to."""

    path: str  # relative to the site folder
    mime: str  # text/vtt, application/x-subrip, application/json, application/json+chapters, image/…
    content: bytes | Path = field(repr=False, default=b"")  # bytes, or a file to copy
    rel: str = ""  # "captions" for a VTT transcript
    language: str = ""
    source: str = ""  # the URL the notes body names it by
    sha256: str = ""  # of the content

    def read(self) -> bytes:
        """The content as bytes (read from its file when it is one)."""
        return self.content.read_bytes() if isinstance(self.content, Path) else self.content


@dataclass(frozen=True)
class Alternate:
    """Another edition of an episode's audio, published beside its enclosure (podcast:alternateEnclosure): the Opus
    edition, or one with other content (a clean edition: its own `rel`)."""

    path: str  # relative to the site folder
    mime: str
    length: int  # bytes
    bitrate: int  # average, bits per second
    title: str  # what apps show to choose it (at most 32 characters)
    sha256: str  # of the content (its SRI integrity is made from it)
    content: Path = field(repr=False, default=Path())  # the file to copy (in the cache)
    codecs: str = ""  # RFC 6381, e.g. "opus"
    rel: str = ""  # "": the enclosure's content in another encoding; else what sets it apart
    duration: float = 0.0
    report: LoudnessReport | None = None  # measured on the decoded file

    @property
    def integrity(self) -> str:
        """The Subresource Integrity string of the content (sha256-…, base64)."""
        return "sha256-" + base64.b64encode(bytes.fromhex(self.sha256)).decode("ascii")


@dataclass(frozen=True)
class Clip:
    """A soundbite as a short video for social networks (`[clips]`): where it goes, what it shows, and its file."""

    path: str  # relative to the site folder (layout.clip); kept out of the site, its name in the clips folder
    shape: str  # "square" or "vertical"
    width: int
    height: int
    start: float  # on the published audio's timeline
    duration: float
    title: str  # the soundbite's title ("" when the notes give none)
    length: int  # bytes
    sha256: str
    content: Path = field(repr=False, default=Path())  # the file (in the cache)
    captions: bool = False  # whether captions from the transcript are burned in
    loudness: float = 0.0  # LUFS, measured on its decoded sound
    caption_path: str = ""  # its captions as WebVTT, beside it ("" without captions), for networks that take them
    caption_file: Path = field(repr=False, default=Path())  # … in the cache
    caption_sha256: str = ""
    made: bool = field(default=False, compare=False)  # made by the build that made this record (not from the cache)


@dataclass(frozen=True)
class Media:
    """The final, tagged audio file of an episode, ready to publish."""

    path: Path
    filename: str
    mime: str
    length: int
    duration: float
    sha256: str


@dataclass(frozen=True)
class FlaggedWord:
    """A word of strong language in an episode's transcript, for the host's review: when it is said and what the
    clean edition made of it."""

    word: str
    start: float  # seconds of the recording (an allowed word, or one never placed: its cue's times)
    end: float
    state: str  # one of FLAGGED_STATES
    how: str = ""  # where its time came from: "transcript", "aligned", "recognised" ("" when not placed)
    note: str = ""  # what happened to it: silenced again after listening, heard where, why not placed


# silenced: not heard in the clean edition (listened to); allowed: the show's allow list keeps it; heard: still heard
# after silencing (the clean edition is held back); unplaced: no time found for it (held back too); unchecked: the
# clean edition was held back before this word was listened to.
FLAGGED_STATES = ("silenced", "allowed", "heard", "unplaced", "unchecked")


@dataclass(frozen=True)
class Published:
    """An episode as the feed and the pages show it."""

    episode: Episode
    media: Media
    guid: str
    pub_date: datetime
    explicit: bool
    site_url: str  # ends with "/"
    media_path: str  # relative to the site folder
    page_path: str  # relative to the site folder
    report: LoudnessReport | None = None
    attachments: tuple[Attachment, ...] = ()
    chapters: tuple[Chapter, ...] = ()  # on the mastered timeline
    image: str = ""  # the episode's art, relative to the site folder
    links: tuple[
        tuple[str, str], ...
    ] = ()  # links of the notes to other published episodes: (URL as written, their page, or their post's address)
    alternates: tuple[Alternate, ...] = ()  # other editions of the audio (Opus, clean)
    soundbites: tuple[Soundbite, ...] = ()  # on the mastered timeline
    mix: MixReport | None = None  # an episode of one track per speaker: what the mix did
    turns: tuple[Turn, ...] = ()  # who spoke when, on the published audio's timeline
    post_url: str = ""  # [blog]: the address of the episode's post on the blog (its page is the post)
    clean: Published | None = None  # the episode as the clean feed has it ([clean] edition); None: not in it
    flagged: tuple[FlaggedWord, ...] = ()  # [clean] edition: every flagged word of its transcript, for review
    media_site: str = ""  # [deploy] media_url (ends with "/"): where the media are served; "": under site_url
    media_transcripts: bool = True  # [deploy] media_transcripts: transcripts and chapters go with the media
    offset: float = 0.0  # seconds the recording's timeline moved on the way to the published audio (flagged words)
    clips: tuple[Clip, ...] = ()  # [clips]: its soundbites as short videos

    def address(self, rel: str) -> str:
        """The public address of one of the episode's site files (layout.address)."""
        return layout.address(self.site_url, rel, self.media_site, self.media_transcripts)

    def href(self, root: str, rel: str) -> str:
        """How a page `root` away from the site folder links one of the episode's files (layout.href)."""
        return layout.href(root, rel, self.media_site, self.media_transcripts)

    @property
    def media_url(self) -> str:
        return self.address(self.media_path)

    @property
    def relinks(self) -> tuple[tuple[str, str], ...]:
        """(URL as the notes write it, where it points in the site folder): linked files and other episodes' pages."""
        return tuple((a.source, a.path) for a in self.attachments if a.source) + self.links

    @property
    def own_files(self) -> tuple[Attachment, ...]:
        """The files panelpress made for the episode (transcripts, chapters, art), not the ones its notes link to."""
        return tuple(a for a in self.attachments if not a.source)

    @property
    def page_url(self) -> str:
        return self.post_url or layout.url(self.site_url, self.page_path)

    def summary(self) -> Published:
        """The episode as an unchanged one is assembled from (`EpisodeResult.summary`): without what only its own
        page and feed item show (the notes' body, panelists and passages, its loudness, mix, turns, soundbites and
        flagged words), which are kept rendered by the whole record's digest. The index page and the feed's channel
        show the rest (see `pages.INDEX_TEMPLATES`)."""
        notes = replace(self.episode.notes, body="", panelists=(), passages=(), chapters=())
        return replace(
            self,
            episode=replace(self.episode, notes=notes, chapters=()),
            report=None,
            alternates=tuple(replace(a, report=None) for a in self.alternates),
            soundbites=(),
            mix=None,
            turns=(),
            flagged=(),
            clean=self.clean.summary() if self.clean is not None else None,
        )

    @property
    def identity(self) -> Identity:
        """What subscribers hold of the episode, for the guard."""
        return Identity(
            self.episode.slug,
            self.guid,
            self.media_url,
            self.page_url,
            self.pub_date,
            self.episode.notes.path,
            self.episode.recording,
        )


@dataclass(frozen=True)
class Identity:
    """What subscribers' apps hold of an episode: known from the notes and the ledger before any audio work."""

    slug: str
    guid: str
    media_url: str
    page_url: str
    pub_date: datetime
    notes_path: Path
    recording: Path


@dataclass(frozen=True)
class Stamp:
    """A file an episode was made from, as it was: its cheap fingerprint (size, mtime) and its content hash."""

    path: str  # relative to the show folder where it lies inside it
    size: int  # -1: the file did not exist (a transcript or chapters file that may be added later)
    mtime_ns: int
    sha256: str


@dataclass(frozen=True)
class EpisodeResult:
    """What the per-episode map made of one recording: a publishable episode, or why it waits."""

    slug: str
    item: Published | None = None
    skipped: str = ""  # why it is not published (a draft, a future date); "" when `item` is set
    until: datetime | None = None  # a scheduled episode: when it is due
    warnings: tuple[PanelpressError, ...] = ()  # published anyway, but the host should look
    withheld: tuple[PanelpressError, ...] = ()  # files held back (a bad transcript), not the episode
    inputs: tuple[Stamp, ...] = ()  # every file it was made from
    drafts: tuple[tuple[Path, str], ...] = ()  # files made for the host to review (a made transcript): (where, text),
    # written into the show folder by the build on the host's machine, never by a stage
    mastered: Mastered | None = None  # the audio it was tagged from: an edit of its words alone tags it again

    def summary(self) -> EpisodeResult:
        """The record as a build that does not make the episode again assembles it: its item's summary
        (`Published.summary`), without the files it was made from or the audio it was tagged from. A fraction of
        the whole record to read back, for each of a thousand unchanged episodes on every edit."""
        item = self.item.summary() if self.item is not None else None
        return replace(self, item=item, inputs=(), drafts=(), mastered=None)


@dataclass(frozen=True)
class PlanFile:
    """One file of the site as it should be: bytes, or a file to copy (from the cache or the show folder)."""

    content: bytes | Path = field(repr=False)
    sha256: str


@dataclass(frozen=True)
class SitePlan:
    """Every file of the site (the feed last), decided before anything is written. Treat `files` as read-only."""

    files: Mapping[str, PlanFile]  # path in the site folder → content; the feed is not among them
    feed_path: str
    feed: bytes = field(repr=False)
    digest: str  # of every path and checksum: two plans with one digest make the same site
    blog: Mapping[str, PlanFile] = field(
        default_factory=dict
    )  # [blog]: posts and helper files, relative to the blog's folder


@dataclass(frozen=True)
class PublishReport:
    """What applying a plan changed."""

    written: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    adopted: tuple[str, ...] = ()  # files already there, identical to the plan's, taken as panelpress's own
    edited: tuple[str, ...] = ()  # files panelpress wrote that the host edited since: left as the host made them


@dataclass(frozen=True)
class Failure:
    """An episode that could not be published, and why."""

    slug: str
    error: PanelpressError


@dataclass(frozen=True)
class Sound:
    """What listeners get of an episode's audio: its loudness (of the recording and as published), size and length."""

    input_i: float | None  # LUFS of the recording (None: not measured, normalize = false)
    output_i: float | None  # LUFS of the published file, decoded
    output_tp: float | None  # its true peak, dBTP
    length: int  # bytes
    duration: float  # seconds
    sha256: str

    @classmethod
    def of(cls, item: Published) -> Sound:
        """The sound of a published episode."""
        report = item.report
        return cls(
            report.input_i if report else None,
            report.output_i if report else None,
            report.output_tp if report else None,
            item.media.length,
            item.media.duration,
            item.media.sha256,
        )


@dataclass(frozen=True)
class Remastered:
    """An episode produced again by `panelpress remaster`: its sound before (None: never published) and now."""

    slug: str
    before: Sound | None
    after: Sound
