"""Tests of the digital baseline's source coders (psfl.phy.digital.source) on tiny images."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image
from skimage import data as skdata

from psfl.phy.digital.source import (
    CODECS,
    Jpeg2000Coder,
    SourceCoder,
    source_coder,
    source_decode,
    source_encode,
)


def patches(n: int = 3, size: int = 32) -> np.ndarray:
    """uint8 natural-image patches from photos shipped with scikit-image."""
    photos = [skdata.astronaut(), skdata.coffee(), skdata.chelsea()]
    return np.stack([photos[i % 3][60 + 40 * i : 60 + 40 * i + size, 90 : 90 + size, :3]
                     for i in range(n)])


def psnr_u8(a: np.ndarray, b: np.ndarray) -> float:
    return float(10 * np.log10(255.0**2 / np.mean((a.astype(np.float64) - b) ** 2)))


@pytest.fixture(scope="module")
def imgs() -> np.ndarray:
    return patches()


def test_codecs_match_the_config_choices() -> None:
    from psfl.semantic.config import BASELINE_CODECS

    assert CODECS == BASELINE_CODECS == ("jpeg", "webp", "jpeg2000", "avif")


def test_unknown_coder_names_the_valid_ones() -> None:
    with pytest.raises(ValueError, match=r"unknown source coder 'bpg'; choose one of jpeg, webp, "
                                         r"jpeg2000, avif \(semantic.baseline_codec\)"):
        source_coder("bpg")


@pytest.mark.parametrize("name", CODECS)
def test_roundtrip_within_budget_and_higher_budget_is_better(name: str, imgs) -> None:
    coder = source_coder(name)
    mean_psnr = []
    for budget in (60, 150, 400):
        values = []
        for img in imgs:
            coded = source_encode(img, coder, budget)
            assert len(coded.payload) == budget and 0 < coded.source_bytes <= budget
            assert coded.quality >= 0 and coded.scale in (1, 2)
            rec = source_decode(coded.payload, coder, 32, 32)
            assert rec.shape == (32, 32, 3) and rec.dtype == np.uint8
            values.append(psnr_u8(rec, img))
        mean_psnr.append(np.mean(values))
    assert mean_psnr[0] < mean_psnr[1] < mean_psnr[2], mean_psnr
    assert mean_psnr[2] > 34.0, mean_psnr  # 400 bytes for 32x32 (3 bits/pixel) is plenty


@pytest.mark.parametrize("name,saved", [("jpeg", 500), ("webp", 20), ("jpeg2000", 100),
                                        ("avif", 280)])
def test_stripped_stream_decodes_to_the_encoders_image(name: str, saved: int, imgs) -> None:
    """What is sent plus what the receiver rebuilds is the encoder's own file, byte for byte,
    and plain Pillow decodes it to the pixels the receiver shows."""
    coder = source_coder(name)
    img = imgs[0]
    coded = source_encode(img, coder, 200, downscale=False)
    full = coder.full(img, coded.quality)
    stream = coder.strip(full)
    assert coder.file(stream, 32, 32, coded.quality) == full
    assert len(full) - len(stream) >= saved  # header bytes not sent
    with Image.open(io.BytesIO(full)) as im:
        assert im.format == coder.pil_format
        ref = np.asarray(im.convert("RGB"))
    np.testing.assert_array_equal(source_decode(coded.payload, coder, 32, 32), ref)
    assert stream in coded.payload


@pytest.mark.parametrize("name", CODECS)
def test_too_small_budget_sends_the_no_image_marker(name: str, imgs) -> None:
    coder = source_coder(name)
    coded = source_encode(imgs[0], coder, 3)
    assert coded.quality == -1 and coded.scale == 0 and coded.source_bytes == 0
    assert source_decode(coded.payload, coder, 32, 32) is None


@pytest.mark.parametrize("name,small", [("jpeg", 12), ("webp", 40), ("avif", 28)])
def test_downscale_fallback_fits_where_full_resolution_does_not(name: str, small: int,
                                                                 imgs) -> None:
    """(JPEG 2000's shortest stream at half resolution is no shorter than at full resolution
    here: its fallback never fits where the full image does not.)"""
    coder = source_coder(name)
    assert coder.fit(imgs[1], small, 1) is None  # full resolution does not fit
    coded = source_encode(imgs[1], coder, small)
    assert coded.scale == 2 and len(coded.payload) == small
    assert source_decode(coded.payload, coder, 32, 32).shape == (32, 32, 3)


def test_side_header_width() -> None:
    assert [SourceCoder.side_bytes(p) for p in (1, 127, 128, 32767, 32768)] == [1, 1, 2, 2, 3]


def test_jpeg2000_resolution_levels() -> None:
    assert [Jpeg2000Coder.num_resolutions(n, n) for n in (4, 16, 32, 64, 512)] == [1, 2, 3, 4, 6]


def test_other_image_sizes_roundtrip() -> None:
    img = patches(1, 48)[0][:, :40]
    for name in CODECS:
        coder = source_coder(name)
        coded = source_encode(img, coder, 500)
        assert coded.quality >= 0
        assert source_decode(coded.payload, coder, 48, 40).shape == (48, 40, 3)
