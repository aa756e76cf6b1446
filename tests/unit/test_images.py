"""Every PNG pixel mode to float RGB (psfl.images; issue #13, moved from test_inputs.py)."""

import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from psfl.config import load_config
from psfl.data import load_folder, read_photos
from psfl.images import read_image, to_rgb_float

TOL = 1 / 255


# ------------------------------------------------------------------------------ image modes


def _png(path, arr, depth, color_type, width=None):
    """A PNG written byte by byte, for the kinds Pillow reads but cannot write (16-bit RGB, 2-bit
    grey). ``arr`` holds the samples, or below 8 bits the packed bytes of rows ``width`` wide."""
    h = arr.shape[0]

    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    if depth == 16:
        rows = arr.astype(">u2").reshape(h, -1).view(np.uint8)
    else:
        rows = arr.astype(np.uint8).reshape(h, -1)
    raw = b"".join(b"\x00" + r.tobytes() for r in rows)
    ihdr = struct.pack(">IIBBBBB", width or arr.shape[1], h, depth, color_type, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw))
                     + chunk(b"IEND", b""))


def _over_white(rgb, alpha):
    return rgb * alpha[..., None] + (1 - alpha[..., None])


RNG = np.random.default_rng(13)
H, W = 6, 5
PALETTE = RNG.integers(0, 256, (256, 3), dtype=np.uint8)
INDEX = RNG.integers(0, 4, (H, W), dtype=np.uint8)


def _case(kind, path):
    """Write one file of ``kind``; return the float RGB it must load as."""
    grey8 = RNG.integers(0, 256, (H, W), dtype=np.uint8)
    rgb8 = RNG.integers(0, 256, (H, W, 3), dtype=np.uint8)
    alpha8 = RNG.integers(0, 256, (H, W), dtype=np.uint8)
    grey16 = RNG.integers(0, 65536, (H, W), dtype=np.uint16)
    rep = np.repeat
    if kind == "1":
        bits = RNG.integers(0, 2, (H, W)).astype(bool)
        Image.fromarray(bits).save(path)
        return rep(bits[..., None], 3, -1).astype(float)
    if kind == "L":
        Image.fromarray(grey8).save(path)
        return rep(grey8[..., None] / 255, 3, -1)
    if kind == "LA":
        Image.fromarray(np.stack([grey8, alpha8], -1), "LA").save(path)
        return _over_white(rep(grey8[..., None] / 255, 3, -1), alpha8 / 255)
    if kind.startswith("P"):
        im = Image.fromarray(INDEX, "P")
        im.putpalette(PALETTE.tobytes())
        expect = PALETTE[INDEX] / 255
        if kind == "P":
            im.save(path)
            return expect
        if kind == "P+index":  # index 0 fully transparent
            im.save(path, transparency=0)
            return _over_white(expect, (INDEX != 0).astype(float))
        table = np.array([0, 90, 200, 255], np.uint8)  # "P+alpha": an alpha per palette entry
        im.save(path, transparency=table.tobytes())
        return _over_white(expect, table[INDEX] / 255)
    if kind == "RGB":
        Image.fromarray(rgb8).save(path)
        return rgb8 / 255
    if kind == "RGB+key":  # tRNS colour key: pixels of that colour are transparent
        rgb8[:2] = (10, 20, 30)
        Image.fromarray(rgb8).save(path, transparency=(10, 20, 30))
        return _over_white(rgb8 / 255, (rgb8 != (10, 20, 30)).any(-1).astype(float))
    if kind == "RGBA":
        Image.fromarray(np.dstack([rgb8, alpha8]), "RGBA").save(path)
        return _over_white(rgb8 / 255, alpha8 / 255)
    if kind == "I;16":
        Image.fromarray(grey16).save(path)
        return rep(grey16[..., None] / 65535, 3, -1)
    if kind == "I;16+key":
        grey16[0] = 4321
        Image.fromarray(grey16).save(path, transparency=4321)
        return _over_white(rep(grey16[..., None] / 65535, 3, -1), (grey16 != 4321).astype(float))
    if kind == "grey 2-bit":
        levels = RNG.integers(0, 4, (H, 8), dtype=np.uint8)
        packed = np.packbits(np.unpackbits(levels[..., None], axis=-1)[..., 6:].reshape(H, -1),
                             axis=1)
        _png(path, packed, 2, 0, width=8)
        return rep(levels[..., None] / 3, 3, -1)
    rgb16 = RNG.integers(0, 65536, (H, W, 3), dtype=np.uint16)
    _png(path, rgb16, 16, 2)  # "RGB 16-bit"
    return rgb16 / 65535


KINDS = ["1", "L", "LA", "P", "P+index", "P+alpha", "RGB", "RGB+key", "RGBA", "I;16",
         "I;16+key", "grey 2-bit", "RGB 16-bit"]


@pytest.mark.parametrize("kind", KINDS)
def test_every_png_mode_loads_as_float_rgb(tmp_path, kind):
    path = tmp_path / "x.png"
    expect = _case(kind, path)
    got = read_image(path)
    assert got.dtype == np.float32 and got.shape == expect.shape
    np.testing.assert_allclose(got, expect, atol=TOL, rtol=0)


def test_sixteen_bit_rgba_png_within_pillows_precision(tmp_path):
    rgba = RNG.integers(0, 65536, (H, W, 4), dtype=np.uint16)
    _png(tmp_path / "x.png", rgba, 16, 6)
    # Pillow keeps the high byte of colour and alpha: each within 1/257, the blend within 2/255.
    expect = _over_white(rgba[..., :3] / 65535, rgba[..., 3] / 65535)
    np.testing.assert_allclose(read_image(tmp_path / "x.png"), expect, atol=2 / 255, rtol=0)


@pytest.mark.parametrize("mode, values, scale", [
    ("I;16B", np.array([[0, 1000], [40000, 65535]], ">u2"), 65535),
    ("I;16L", np.array([[0, 1000], [40000, 65535]], "<u2"), 65535),
    ("I", np.array([[0, 1000], [40000, 70000]], np.int32), 65535),
    ("F", np.array([[0.0, 12.5], [255.0, 300.0]], np.float32), 255),
])
def test_modes_pillow_cannot_write_as_png(mode, values, scale):
    got = to_rgb_float(Image.frombytes(mode, (2, 2), values.tobytes()))
    expect = np.clip(values.astype(float) / scale, 0, 1)
    np.testing.assert_allclose(got, np.repeat(expect[..., None], 3, -1), atol=1e-6, rtol=0)


def test_folder_readers_decode_sixteen_bit_grey(tmp_path):
    # The bug: "I;16" through convert("RGB") came out all white (PSNR 5.8 dB).
    for i, level in enumerate((1000, 20000)):
        Image.fromarray(np.full((64, 64), level, np.uint16)).save(tmp_path / f"{i}.png")
    photos = read_photos(tmp_path, 32)
    assert [float(p.image.mean()) for p in photos] == pytest.approx([1000 / 65535, 20000 / 65535],
                                                                    abs=1e-6)
    train, test = load_folder(tmp_path, 32, mode="center", test_fraction=0.5)
    levels = sorted(float(s.images.mean()) for s in (train, test))
    assert levels == pytest.approx([1000 / 65535, 20000 / 65535], abs=1e-6)


# ------------------------------------------------------------------------- data preflight


def _folder_cfg(path, *more):
    return load_config(None, ["data.source=folder", f"data.path={str(path)!r}", *more]).data
