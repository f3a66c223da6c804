"""Artwork: what Apple Podcasts rejects is named with its fix; --fix-artwork writes a copy that passes."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from PIL import Image

from pipeline.cli import main
from pipeline.errors import ArtworkError
from pipeline.show import artwork
from tests.conftest import write_show


def _image(
    path: Path, mode: str = "RGB", size: tuple[int, int] = (1400, 1400), fmt: str | None = None, color=None, **save
) -> Path:
    """A real image file made with Pillow: a plain field with a mark in the middle (to see crops)."""
    image = Image.new(mode, size, color if color is not None else _color(mode))
    if mode in ("RGB", "RGBA", "CMYK", "L"):
        w, h = size
        image.paste(_mark(mode), (w // 2 - 10, h // 2 - 10, w // 2 + 10, h // 2 + 10))
    image.save(path, fmt, **save)
    return path


def _color(mode: str):
    return {
        "RGB": (200, 40, 40),
        "RGBA": (200, 40, 40, 255),
        "CMYK": (0, 200, 200, 0),
        "L": 120,
        "P": 3,
        "LA": (120, 255),
    }.get(mode, 0)


def _mark(mode: str):
    return {"RGB": (0, 0, 255), "RGBA": (0, 0, 255, 255), "CMYK": (255, 255, 0, 0), "L": 0}[mode]


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize(
    ("name", "size"), [("cover.jpg", (1400, 1400)), ("cover.jpeg", (3000, 3000)), ("cover.png", (2048, 2048))]
)
def test_good_artwork_has_no_problems(tmp_path, name, size):
    assert artwork.problems(_image(tmp_path / name, size=size)) == []


def _palette_with_transparency(path: Path) -> Path:
    image = Image.new("P", (1400, 1400), 0)
    image.putpalette([255, 255, 255, 10, 20, 30] + [0] * 762)
    image.save(path, transparency=0)
    return path


CASES = {
    "non-square": (lambda p: _image(p / "a.jpg", size=(1600, 1400)), ["is 1600×1400 pixels, not square"]),
    "too small": (
        lambda p: _image(p / "a.jpg", size=(1000, 1000)),
        ["is 1000×1000 pixels; podcast apps need at least 1400×1400"],
    ),
    "too large": (
        lambda p: _image(p / "a.png", size=(3200, 3200)),
        ["is 3200×3200 pixels; Apple Podcasts accepts at most 3000×3000"],
    ),
    "cmyk": (
        lambda p: _image(p / "a.jpg", mode="CMYK"),
        ["uses CMYK colour (made for print); Apple Podcasts needs RGB without an alpha channel"],
    ),
    "png with alpha": (
        lambda p: _image(p / "a.png", mode="RGBA", color=(200, 40, 40, 0)),
        ["uses an alpha channel (transparency)"],
    ),
    "palette with transparency": (
        lambda p: _palette_with_transparency(p / "a.png"),
        ["uses indexed colour with transparency"],
    ),
    "greyscale": (lambda p: _image(p / "a.jpg", mode="L"), ["uses greyscale"]),
    "gif": (lambda p: _image(p / "a.gif", mode="P", fmt="GIF"), ["is a GIF image; Apple Podcasts accepts JPEG or PNG"]),
    "png named jpg": (lambda p: _image(p / "a.jpg", fmt="PNG"), ["is a PNG image named .jpg"]),
    "small cmyk rectangle": (
        lambda p: _image(p / "a.jpg", mode="CMYK", size=(1200, 900)),
        ["uses CMYK", "not square", "need at least 1400×1400"],
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_problem_is_named_with_a_fix(tmp_path, case):
    make, expected = CASES[case]
    path = make(tmp_path)
    found = artwork.problems(path)
    assert len(found) == len(expected), [str(e) for e in found]
    for error, text in zip(found, expected):
        assert isinstance(error, ArtworkError) and error.path == path
        assert text in error.problem
        assert error.fix


def test_not_an_image(tmp_path):
    path = tmp_path / "a.jpg"
    path.write_text("a shopping list")
    (error,) = artwork.problems(path)
    assert "is not an image panelpress can read" in error.problem and "JPEG or PNG" in error.fix


@pytest.mark.parametrize("case", sorted(set(CASES) - {"png named jpg"}))
def test_fix_writes_a_copy_that_passes_and_keeps_the_original(tmp_path, case):
    make, _ = CASES[case]
    path = make(tmp_path)
    before = _sha(path)
    fixed = artwork.fix(path)
    assert _sha(path) == before, "the host's file is never touched"
    assert fixed.parent == path.parent and fixed.name.startswith("artwork-") and fixed.suffix == ".jpg"
    assert artwork.problems(fixed) == []
    with Image.open(fixed) as image:
        assert image.format == "JPEG" and image.mode == "RGB"
        assert image.width == image.height and 1400 <= image.width <= 3000


def test_fix_crops_the_centre_and_lays_transparency_on_white(tmp_path):
    wide = _image(tmp_path / "wide.png", size=(3400, 2000))
    with Image.open(artwork.fix(wide)) as image:
        assert image.size == (2000, 2000)
        r, _g, b = image.getpixel((1000, 1000))
        assert b > 200 and r < 60, "the mark in the middle survives the crop"
    clear = _image(tmp_path / "clear.png", mode="RGBA", color=(0, 0, 0, 0))
    with Image.open(artwork.fix(clear)) as image:
        assert min(image.getpixel((5, 5))) > 245, "transparent is white, not black"


def test_fix_never_overwrites_the_file_it_fixes(tmp_path):
    path = _image(tmp_path / "artwork-1400.jpg", size=(1400, 1500))
    with pytest.raises(ArtworkError, match=r"already named artwork-1400\.jpg"):
        artwork.fix(path)


def test_check_fix_artwork_through_the_cli(tmp_path, capsys):
    show = write_show(tmp_path / "show", extra_show='artwork = "cover.png"')
    _image(show / "cover.png", mode="RGBA", size=(1800, 1600), color=(10, 10, 10, 128))
    before = _sha(show / "cover.png")
    assert main(["check", "--show", str(show), "--fix-artwork"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("cover.png: uses an alpha channel")
    assert any(line.startswith("cover.png: is 1800×1600 pixels, not square") for line in out)
    assert 'wrote artwork-1600.jpg: set `artwork = "artwork-1600.jpg"` under [show] in panelpress.toml' in out[-2]
    assert out[-1] == "2 problems"
    assert _sha(show / "cover.png") == before
    toml = show / "panelpress.toml"
    toml.write_text(toml.read_text().replace('artwork = "cover.png"', 'artwork = "artwork-1600.jpg"'))
    assert main(["check", "--show", str(show), "--fix-artwork"]) == 0
    assert capsys.readouterr().out.splitlines() == ["artwork-1600.jpg already fits: nothing to fix", "all good"]


def test_a_build_with_bad_artwork_publishes_and_warns(tmp_path, capsys):
    show = write_show(tmp_path / "show", extra_show='artwork = "cover.jpg"')
    _image(show / "cover.jpg", size=(1400, 1000))
    assert main(["build", "--show", str(show)]) == 0
    assert "warning: cover.jpg: is 1400×1000 pixels, not square" in capsys.readouterr().err.replace("\n", " ")


def test_icons_are_made_once_per_artwork_and_kept_in_the_cache(tmp_path):
    path = tmp_path / "art.png"
    Image.new("RGB", (1400, 1400), (200, 40, 40)).save(path)
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    made = artwork.icons(path, sha)
    cache_dir = tmp_path / "cache"
    assert artwork.icons(path, sha, cache_dir) == made
    (kept,) = (cache_dir / artwork.ICONS_DIR).iterdir()
    path.unlink()  # a second build reads them back from the cache, without the artwork: nothing is made again
    artwork.icons.cache_clear()
    assert artwork.icons(path, sha, cache_dir) == made
    assert made[0] == 1400 and [name for name, _ in made[1]] == [name for name, _ in artwork.ICONS]
    kept.write_bytes(kept.read_bytes()[:100])  # cut short (a crash): made again, the same
    Image.new("RGB", (1400, 1400), (200, 40, 40)).save(path)
    artwork.icons.cache_clear()
    assert artwork.icons(path, sha, cache_dir) == made
