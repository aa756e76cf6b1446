"""Image files: finding the PNG/JPEG files of a folder, decoding any pixel mode to float RGB, and
a user's photo as whole tiles (:class:`Photo`, :func:`stitch`).

Every reader of image files in psfl (:func:`psfl.data.load_folder`, :func:`psfl.data.read_photos`,
the BS's public images in :mod:`psfl.semantic.pretrain`) decodes through :func:`to_rgb_float`, so
a file reads the same everywhere. Pillow's mode decides the scale:

==============================================  ==============================================
Pillow mode                                     float RGB in [0, 1]
==============================================  ==============================================
``"1"``                                         black 0, white 1
``"L"``, ``"P"``, ``"RGB"``, ``"CMYK"``, …      8-bit value / 255 (palette looked up, grey
                                                replicated to R, G and B)
``"I;16"``, ``"I;16B"``, ``"I;16L"``,           value / 65535: PNG's 16-bit grey (older Pillow
``"I;16N"``, ``"I"``                            reports it as 32-bit ``"I"``), clipped to [0, 1]
``"F"``                                         value / 255, clipped: Pillow's own ``"L"`` →
                                                ``"F"`` conversion keeps the 8-bit scale
``"LA"``, ``"La"``, ``"PA"``, ``"RGBA"``,       alpha composited over white (below)
``"RGBa"``, or a ``tRNS`` colour key
==============================================  ==============================================

16-bit RGB, RGBA and grey-with-alpha PNGs come back from Pillow as 8-bit ``"RGB"``/``"RGBA"``
(the high byte of each value), which is within 1/255 of value / 65535.

Transparency
    Alpha is composited over white, ``out = a·c + (1 − a)`` with ``a`` in [0, 1], not dropped:
    the colour under a fully transparent pixel is undefined (often black or left-over pixels),
    while over white the codec sees what a viewer shows on a light page.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from psfl.errors import DataError

if TYPE_CHECKING:
    from PIL import Image

__all__ = ["IMAGE_SUFFIXES", "Photo", "image_files", "image_size", "read_image", "stitch",
           "to_rgb_float"]

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
_SIXTEEN_BIT = ("I;16", "I;16B", "I;16L", "I;16N", "I")
_WITH_ALPHA = ("LA", "La", "PA", "RGBA", "RGBa")


def to_rgb_float(im: Image.Image) -> np.ndarray:
    """Decode a Pillow image of any mode into float RGB (see the module docstring for scales).

    Output
    ------
    [H, W, 3], np.float32, values in [0, 1]
    """
    key = im.info.get("transparency")
    alpha = None
    if im.mode in _SIXTEEN_BIT or im.mode == "F":
        raw = np.asarray(im)
        scale = 255.0 if im.mode == "F" else 65535.0
        grey = np.clip(raw.astype(np.float32) / scale, 0.0, 1.0)
        rgb = np.repeat(grey[..., None], 3, axis=-1)
        if isinstance(key, int | float):
            alpha = (raw != key).astype(np.float32)[..., None]
    else:
        # Pillow turns a palette's or a tRNS colour key's transparency into alpha on RGBA.
        transparent = im.mode in _WITH_ALPHA or key is not None
        arr = np.asarray(im.convert("RGBA" if transparent else "RGB"), np.float32) / 255.0
        rgb = arr[..., :3]
        if transparent:
            alpha = arr[..., 3:]
    if alpha is not None:
        rgb = rgb * alpha + (1.0 - alpha)
    return np.ascontiguousarray(rgb, np.float32)


def _open_error(file: Path, exc: Exception) -> DataError:
    return DataError(f"image {str(file)!r} cannot be read ({exc.__class__.__name__}: {exc}); "
                     "remove or replace the file")


def _unreadable() -> tuple[type[Exception], ...]:
    from PIL import Image, UnidentifiedImageError

    return (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError,
            ValueError)


def read_image(file: str | Path) -> np.ndarray:
    """The pixels of an image file as float RGB (:func:`to_rgb_float`).

    Raises a :class:`~psfl.errors.DataError` naming the file for one Pillow cannot decode.

    Output
    ------
    [H, W, 3], np.float32, values in [0, 1]
    """
    from PIL import Image

    file = Path(file)
    try:
        with Image.open(file) as im:
            im.load()
            return to_rgb_float(im)
    except _unreadable() as exc:
        raise _open_error(file, exc) from exc


def image_size(file: str | Path) -> tuple[int, int]:
    """(width, height) of an image file from its header, without decoding the pixels.

    Raises a :class:`~psfl.errors.DataError` naming the file when Pillow does not recognise it.
    """
    from PIL import Image

    file = Path(file)
    try:
        with Image.open(file) as im:
            return im.size
    except _unreadable() as exc:
        raise _open_error(file, exc) from exc


def image_files(root: Path, what: str, fix: str) -> list[Path]:
    """The PNG/JPEG files under ``root`` (recursively, sorted); a missing folder or one without
    images raises a :class:`~psfl.errors.DataError` naming ``what`` it is and the ``fix``."""
    if not root.is_dir():
        raise DataError(f"{what} {str(root)!r} does not exist; {fix}")
    files = sorted(f for f in root.rglob("*") if f.suffix.lower() in IMAGE_SUFFIXES and f.is_file())
    if not files:
        raise DataError(f"no PNG/JPEG images in {str(root)!r}; add *.png or *.jpg files")
    return files


@dataclasses.dataclass(frozen=True)
class Photo:
    """A user photo cut into a whole number of non-overlapping tiles.

    ``image`` is the photo cropped at the right and bottom to ``grid`` tiles (at most
    ``patch_size - 1`` pixels lost per side), so that :meth:`tiles` and :func:`stitch` are exact
    inverses.
    """

    name: str
    image: np.ndarray  # float32 [rows * p, cols * p, 3] in [0, 1]
    grid: tuple[int, int]  # (rows, cols) of tiles

    @property
    def num_tiles(self) -> int:
        return self.grid[0] * self.grid[1]

    def tiles(self) -> np.ndarray:
        """float32 [rows * cols, p, p, 3], row-major."""
        rows, cols = self.grid
        p = self.image.shape[0] // rows
        t = self.image.reshape(rows, p, cols, p, 3).transpose(0, 2, 1, 3, 4)
        return np.ascontiguousarray(t.reshape(rows * cols, p, p, 3))


def stitch(tiles: np.ndarray, grid: tuple[int, int]) -> np.ndarray:
    """Put row-major tiles [rows * cols, p, p, 3] back into one image [rows * p, cols * p, 3]."""
    rows, cols = grid
    p = tiles.shape[1]
    return tiles.reshape(rows, cols, p, p, 3).transpose(0, 2, 1, 3, 4).reshape(
        rows * p, cols * p, 3)
