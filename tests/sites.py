"""Show folders for the tests of the site as listeners get it (pages, preview server, browser): the example show of
this repository, a show that uses every optional field, and one written by someone hostile."""

from __future__ import annotations

import shutil
from pathlib import Path

from PIL import Image, ImageDraw

from tests.conftest import SPEECH, make_audio, write_notes, write_show

REPO = Path(__file__).resolve().parent.parent

# The full show's episode: long enough for `#t=1:02`, with chapters a test can play through in a few seconds.
FULL_SECONDS = 90
FULL_CHAPTERS = (0.0, 2.5, 5.0, 62.0)
TRANSCRIPT_LINES = 48  # more than pages.FOLD_LINES: the transcript is folded
LONG_WORD = "Supercalifragilistic" * 20  # 400 letters and no space: must not widen a phone's page
HOSTILE_MARKS = ("pwned", "alert(", "onerror", "onmouseover")


def picture(path: Path, side: int, colour: str) -> Path:
    """A real PNG (square, RGB) with a few shapes, as art is."""
    image = Image.new("RGB", (side, side), colour)
    draw = ImageDraw.Draw(image)
    draw.ellipse((side // 5, side // 4, side * 3 // 5, side * 3 // 4), fill="#e8a04c")
    draw.ellipse((side * 2 // 5, side // 4, side * 4 // 5, side * 3 // 4), fill="#4ca0c8")
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, "PNG")
    return path


def demo_show(folder: Path) -> Path:
    """A copy of this repository's example show (`make demo`), ledger and all."""
    folder.mkdir(parents=True)
    for name in ("panelpress.toml", "panelpress-ledger.json", "artwork.jpg"):
        shutil.copy(REPO / name, folder / name)
    for sub in ("episodes", "show_notes"):
        shutil.copytree(REPO / sub, folder / sub, ignore=shutil.ignore_patterns("README.md"))
    return folder


def _vtt(lines: int) -> str:
    cues = ["WEBVTT", ""]
    speakers = ("Ann Host", "Bo Guest", "Cy Moderator")
    step = (FULL_SECONDS - 2) / lines
    for n in range(lines):
        start, end = n * step, n * step + step - 0.2
        words = "the budget" if n == 7 else "a question of leadership"
        cues += [
            f"{_ts(start)} --> {_ts(end)}",
            f"<v {speakers[n % 3 if n % 5 else 0]}>Line {n + 1} is about {words}.",
            "",
        ]
    return "\n".join(cues)


def _ts(seconds: float) -> str:
    ms = int(round(seconds * 1000))
    return f"{ms // 3600000:02d}:{ms // 60000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"


def full_show(folder: Path) -> Path:
    """A show that uses every optional setting and notes field: artwork, copyright, funding, season and episode,
    panelists with links, the episode's own art, chapters with links and images, a long transcript, files the notes
    link to, and a second, short episode."""
    write_show(
        folder,
        extra_show='owner_name = "Ann Owner"\nlanguage = "en-GB"\nartwork = "cover.png"\ncopyright = "© 2026 Test Panel"\ntype = "serial"',
        extra_build="",
        extra_audio="",
    )
    with (folder / "panelpress.toml").open("a", encoding="utf-8") as toml:
        toml.write(
            '\n[podcast]\nlocked = true\nfunding_url = "https://pod.example.com/support"\nfunding_text = "Support the show"\n'
        )
    picture(folder / "cover.png", 1400, "#27304a")
    notes = folder / "show_notes"
    picture(notes / "full-panel.png", 700, "#5a2a3a")
    picture(notes / "board.png", 320, "#203020")
    picture(notes / "chapter-two.png", 300, "#303050")
    (notes / "files").mkdir(parents=True, exist_ok=True)
    (notes / "files" / "slides.pdf").write_bytes(b"%PDF-1.4\n% a test file\n")
    make_audio(
        folder / "episodes" / "full-panel.mp3",
        seconds=FULL_SECONDS,
        source=SPEECH.format(seed=3),
        codec_args=("-c:a", "libmp3lame", "-b:a", "64k"),
    )
    (folder / "episodes" / "full-panel.vtt").write_text(_vtt(TRANSCRIPT_LINES), encoding="utf-8")
    write_notes(
        folder,
        "full-panel",
        f"""
        title: "Budgets, Teams & the Long Tail of Leadership"
        date: 2026-05-12 08:30:00+00:00
        summary: Three panelists argue about budgets, teams and what leading really asks of a manager.
        panelists:
          - name: Ann Host
            role: host
            href: https://pod.example.com/people/ann
          - name: Bo Guest
            href: https://example.com/bo
          - name: Cy Moderator
            role: moderator
        explicit: true
        season: 2
        episode: 5
        episode_type: full
        image: full-panel.png
        chapters:
          - start: {FULL_CHAPTERS[0]}
            title: Welcome
          - start: {FULL_CHAPTERS[1]}
            title: Budgets
            url: https://example.com/budgets
            image: chapter-two.png
          - start: {FULL_CHAPTERS[2]}
            title: Teams
          - start: {FULL_CHAPTERS[3]}
            title: The long tail
        """,
        body=(
            "Three people, one budget.\n\n## What we talked about\n\n- budgets and **teams**\n- *leading* versus managing\n"
            "- the [slides](files/slides.pdf) and the board:\n\n![The whiteboard after the panel](board.png)\n\n"
            "> Manage the work, lead the people.\n\n```\nbudget = people * time\n```\n\n"
            "| who | said |\n|---|---|\n| Ann | yes |\n| Bo | no |\n"
        ),
    )
    make_audio(folder / "episodes" / "short-bonus.wav", seconds=3)
    write_notes(folder, "short-bonus", "title: A short bonus\ndate: 2026-05-01\nepisode_type: bonus")
    return folder


def hostile_show(folder: Path) -> Path:
    """A show whose settings, notes, chapters and transcript hold markup, script, odd URLs and unbreakable words."""
    write_show(
        folder, extra_show='owner_name = "\\"><svg onload=alert(1)>"\ncopyright = "</footer><script>alert(2)</script>"'
    )
    toml = folder / "panelpress.toml"
    text = toml.read_text(encoding="utf-8")
    text = text.replace('title = "Test Panel"', 'title = "Panel </script><script>alert(3)</script><!-- <b id=pwned>"')
    text = text.replace(
        'description = "A panel made by the tests."', f'description = "<img src=x onerror=alert(4)> {LONG_WORD}"'
    )
    text = text.replace('author = "Test Author"', 'author = "\\"><b id=pwned onmouseover=alert(5)>x</b>"')
    toml.write_text(text, encoding="utf-8")
    make_audio(folder / "episodes" / "hostile.wav", seconds=4)
    (folder / "episodes" / "hostile.vtt").write_text(
        "WEBVTT\n\n00:00:00.000 --> 00:00:01.500\n<v <img src=x onerror=alert(6)>>&lt;script&gt;alert(7)&lt;/script&gt;\n\n"
        f"00:00:01.500 --> 00:00:03.000\n<v Bo>{LONG_WORD}\n",
        encoding="utf-8",
    )
    write_notes(
        folder,
        "hostile",
        """
        title: "<img src=x onerror=alert(8)> </title><script>alert(9)</script>"
        date: 2026-05-02
        summary: "\\"><script>alert(10)</script> </script> <!-- -->"
        panelists:
          - name: "<b id=pwned>Mallory</b>"
            href: 'https://example.com/a"b<c>d%20e#f#g'  # a space: refused, not published
        chapters:
          - start: 0
            title: "<script>alert(11)</script>"
            url: 'https://example.com/?q="><script>alert(12)</script>&x=<y>'
          - start: 2
            title: "A chapter whose title never breaks: SupercalifragilisticSupercalifragilisticSupercalifragilisticSupercalifragilistic"
        """,
        body=(
            "<script>alert(13)</script> <img src=x onerror=alert(14)> <b id=pwned>raw</b>\n\n"
            '[js](javascript:alert(15)) [quote](https://example.com/"onmouseover="alert(16)) '
            '[odd](<https://example.com/a b?c="d"&e=<f>>)\n\n'
            f"{LONG_WORD}\n\nhttps://example.com/{LONG_WORD}\n\n`{LONG_WORD}`\n\n```\n{LONG_WORD}\n```\n"
        ),
    )
    return folder
