"""Inputs: the rules for what a host's files may name and hold, in one place (every input is untrusted).

- A file that notes, chapters, settings or a recording's neighbours name is used only when it lies inside the show
  folder once symlinks are resolved: nothing from elsewhere on the machine is ever published.
- An image is what its content says (Pillow reads it), within Pillow's decompression-bomb limit; never its suffix.
- Text a feed carries holds no character XML 1.0 cannot carry.
Callers say which file named the input and where; this module says what is wrong and what to do.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .files import write_atomic

if TYPE_CHECKING:
    from PIL import Image

# What podcast apps and the site's pages accept as an episode's or a chapter's picture, by Pillow's format name.
PICTURES = {"JPEG": ("image/jpeg", (".jpg", ".jpeg")), "PNG": ("image/png", (".png",))}
# Pictures in a notes body are shown by browsers, which read more formats.
WEB_PICTURES = {**PICTURES, "GIF": ("image/gif", (".gif",)), "WEBP": ("image/webp", (".webp",))}
ANY_PICTURE = None  # any format Pillow reads (to say what is wrong with it in Apple's words)
# Art embedded in every download: apps show it small, and a large cover would be copied into each file.
EMBED_SIDE, EMBED_BYTES = 1400, 500_000
# Characters XML 1.0 cannot carry: C0 controls but tab, newline and carriage return; U+FFFE, U+FFFF; lone surrogates.
ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
# Of those, Word's line break (vertical tab) and page break (form feed) are whitespace: a space says the same.
SPACES = "\x0b\x0c"
_NAMES = {
    "\x00": "a NUL byte",
    "\x0b": "a vertical tab",
    "\x0c": "a form feed",
    "\x1b": "an escape character",
    "\ufffe": "a non-character",
    "\uffff": "a non-character",
}


class Refused(ValueError):
    """An input that may not be used: what is wrong with it and what to do (the caller says who named it, and where)."""

    def __init__(self, problem: str, fix: str) -> None:
        self.problem = problem
        self.fix = fix
        super().__init__(f"{problem} — {fix}")


class Outside(Refused):
    """A file that is there, but only through a symlink that leads outside the show folder."""


@dataclass(frozen=True)
class Picture:
    """An image, as its content says: Pillow's format name, its MIME type and its size in pixels."""

    format: str
    mime: str
    width: int
    height: int


def show_file(
    root: Path,
    folder: Path,
    name: str | Path,
    missing_fix: str = "put the file in the show folder, or correct the name",
) -> Path:
    """The file `name` (relative to `folder`) names, symlinks resolved; Refused unless it is a file inside the show
    folder `root` (Outside when it is a file elsewhere)."""
    try:
        target = (folder / name).resolve()
        inside = target.is_relative_to(Path(root).resolve())
        there = target.is_file()
    except (OSError, ValueError, RuntimeError) as err:  # a name too long, a NUL byte, a symlink loop
        raise Refused(f"cannot be opened ({_reason(err)})", "correct the name") from err
    if not there:
        raise Refused("does not exist", missing_fix)
    if not inside:
        raise Outside(
            "leads outside the show folder (a symlink)",
            "copy the file into the show folder: panelpress publishes nothing from elsewhere",
        )
    return target


def optional_file(root: Path, path: Path) -> Path | None:
    """A file a recording may have beside it (its chapters or transcript): the file, or None when there is none (or
    there can be none: its name would be too long); Refused when it leads outside the show folder."""
    try:
        if not path.is_file():
            return None
    except (OSError, ValueError):
        return None
    return show_file(root, path.parent, path.name)


def _reason(err: BaseException) -> str:
    return getattr(err, "strerror", None) or str(err) or err.__class__.__name__


def picture(source: Path | bytes, formats: dict[str, tuple[str, tuple[str, ...]]] | None = PICTURES) -> Picture:
    """What an image is by its content; Refused unless Pillow reads it as one of `formats` (None: any) within its
    decompression-bomb limit."""
    try:
        data = source.read_bytes() if isinstance(source, Path) else source
    except OSError as err:
        raise Refused(f"cannot be read ({_reason(err)})", "make it a readable file") from err
    from PIL import Image  # Pillow, with the first picture to check: an edit of words never loads it

    names = [name.replace("WEBP", "WebP") for name in formats or ("JPEG", "PNG")]
    kinds = " or ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names)
    what = f"a {kinds} image (by its content, whatever its name)" if formats else "an image panelpress can read"
    try:
        with warnings.catch_warnings():
            # Pillow only warns between its limit and twice it; either way the size is reported below.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=list(formats) if formats else None) as image:
                width, height = image.size
                if width * height > (Image.MAX_IMAGE_PIXELS or width * height):
                    raise Image.DecompressionBombError(f"{width}×{height}")
                kind = image.format
                _decode(image)
    except Image.DecompressionBombError as err:
        size = str(err) if "×" in str(err) else _header_size(data)
        raise Refused(
            f"is {size} pixels, more than the {Image.MAX_IMAGE_PIXELS:,} panelpress decodes (a decompression bomb?)",
            "export it again at 3000×3000 pixels or less",
        ) from err
    except Exception as err:  # a damaged or hostile image can make a decoder fail in its own way: never a crash
        raise Refused(f"is not {what}", f"export it as {kinds}") from err
    return Picture(kind, (formats or WEB_PICTURES).get(kind, ("application/octet-stream",))[0], width, height)


def _decode(image: Image.Image) -> None:
    """Read the whole image, cheaply: a JPEG at an eighth of its size (every block is still decoded), a PNG's chunks
    checked (a broken or cut file fails here)."""
    if image.format == "JPEG":
        image.draft("RGB", (max(1, image.width // 8), max(1, image.height // 8)))
        image.load()
    elif image.format == "PNG":
        image.verify()
    else:
        image.load()


def _header_size(data: bytes) -> str:
    """Width×height from an image's header, for the message when Pillow refuses to open it (over twice its limit)."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR":
        return f"{int.from_bytes(data[16:20], 'big')}×{int.from_bytes(data[20:24], 'big')}"
    for marker in re.finditer(rb"\xff[\xc0-\xc3\xc5-\xc7\xc9-\xcb\xcd-\xcf]", data):  # a JPEG's start-of-frame
        at = marker.start()
        return f"{int.from_bytes(data[at + 7 : at + 9], 'big')}×{int.from_bytes(data[at + 5 : at + 7], 'big')}"
    return "too many"


def named_picture(
    root: Path,
    folder: Path,
    name: str,
    missing_fix: str = "put the file in the show folder, or correct the name",
    memo: Path | None = None,
) -> Picture:
    """An image file named in the notes or settings: inside the show folder, a JPEG or PNG by content, named for
    what it is (the site serves it by its suffix). `memo`: a file (in the cache folder) where what a picture is, is
    remembered by its size and time, as the cache trusts every input: the show's artwork is read once, not by every
    command (Pillow is not even loaded); it is written only where the folder is there already."""
    suffix = Path(name).suffix.lower()
    if not any(suffix in suffixes for _, suffixes in PICTURES.values()):
        raise Refused("is not a JPEG or PNG file", "use a .jpg or .png image")
    path = show_file(root, folder, name, missing_fix)
    found = _remembered(path, memo) if memo is not None else None
    if found is None:
        found = picture(path)
        if memo is not None:
            _remember(path, memo, found)
    if suffix not in PICTURES[found.format][1]:
        raise Refused(
            f"is a {found.format} image named {suffix or 'without a suffix'}",
            f"rename it to {Path(name).stem}{PICTURES[found.format][1][0]}",
        )
    return found


def _fingerprint(path: Path) -> list | None:
    import PIL  # its version alone

    try:
        info = path.stat()
    except OSError:
        return None
    return [str(path), info.st_size, info.st_mtime_ns, PIL.__version__]


def _remembered(path: Path, memo: Path) -> Picture | None:
    try:
        data = json.loads(memo.read_bytes())
        if data[:4] == _fingerprint(path) and data[4] in PICTURES:
            return Picture(data[4], PICTURES[data[4]][0], int(data[5]), int(data[6]))
    except (OSError, ValueError, TypeError, IndexError, KeyError):
        pass
    return None


def _remember(path: Path, memo: Path, found: Picture) -> None:
    known = _fingerprint(path)
    if known is None or found.format not in PICTURES or not memo.parent.is_dir():
        return
    with contextlib.suppress(OSError):  # remembered next time
        write_atomic(memo, json.dumps([*known, found.format, found.width, found.height]).encode())


def embedded(data: bytes) -> tuple[bytes, str]:
    """Art to embed in the audio (bytes, MIME type): the image as it is when it is small enough, else a JPEG copy
    at most EMBED_SIDE pixels wide and about EMBED_BYTES long. The full image stays on the site."""
    from PIL import Image, ImageOps

    found = picture(data)
    if max(found.width, found.height) <= EMBED_SIDE and len(data) <= EMBED_BYTES:
        return data, found.mime
    with Image.open(io.BytesIO(data)) as image:
        image.draft("RGB", (EMBED_SIDE, EMBED_SIDE))
        small = ImageOps.exif_transpose(image)
        small.thumbnail((EMBED_SIDE, EMBED_SIDE), Image.Resampling.LANCZOS)
        small = flattened(small)
    for quality in (85, 75, 65, 50, 35):
        out = io.BytesIO()
        small.save(out, "JPEG", quality=quality, optimize=True)
        if out.tell() <= EMBED_BYTES:
            break
    return out.getvalue(), "image/jpeg"


def flattened(image: Image.Image) -> Image.Image:
    """The image as RGB; transparency is laid on white, as podcast apps would show it on a light page."""
    from PIL import Image

    if image.mode in ("RGBA", "LA", "PA", "P"):
        image = image.convert("RGBA")
        background = Image.new("RGB", image.size, "white")
        background.paste(image, mask=image.getchannel("A"))
        return background
    return image.convert("RGB")


def illegal(text: str) -> re.Match | None:
    """The first character of `text` that XML cannot carry, or None."""
    return ILLEGAL.search(text)


def describe(char: str) -> str:
    """A character XML cannot carry, as a host can find it: `a vertical tab (U+000B)`."""
    code = f"U+{ord(char):04X}"
    if char in _NAMES:
        return f"{_NAMES[char]} ({code})"
    if "\ud800" <= char <= "\udfff":
        return f"half of a character (a lone surrogate, {code})"
    return f"a control character ({code})"


def without_spaces(text: str) -> tuple[str, list[int]]:
    """`text` with its vertical tabs and form feeds made spaces, and where they were (indices)."""
    places = [i for i, char in enumerate(text) if char in SPACES] if any(c in text for c in SPACES) else []
    return (text.translate({ord(c): " " for c in SPACES}) if places else text), places


def clean(text: str) -> str:
    """`text` without the characters XML cannot carry (vertical tabs and form feeds become spaces), for text that is
    only a starting point (a recording's own tags)."""
    return ILLEGAL.sub(lambda m: " " if m.group() in SPACES else "", text) if ILLEGAL.search(text) else text
