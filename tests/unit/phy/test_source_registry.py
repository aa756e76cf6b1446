"""The source-coder registry (psfl.phy.digital.source): names, order, capabilities, and a coder
added by registering one class."""

from __future__ import annotations

import numpy as np
import pytest

from psfl.config import ConfigError, load_config
from psfl.phy.digital.source import (
    SOURCE_CODERS,
    SourceCoder,
    source_coder,
    source_decode,
    source_encode,
)
from psfl.phy.digital.source._pillow import pil_encode


def test_names_in_order_and_the_config_reads_them():
    import psfl.phy.digital.source as source
    from psfl.semantic import config

    assert SOURCE_CODERS.names() == ("jpeg", "webp", "jpeg2000", "avif")
    assert source.CODECS == config.BASELINE_CODECS == SOURCE_CODERS.names()


def test_capabilities():
    rows = {r["name"]: r for r in SOURCE_CODERS.table("pil_format", "rebuilds_header",
                                                      "relative_cost")}
    assert {n: r["pil_format"] for n, r in rows.items()} == {
        "jpeg": "JPEG", "webp": "WEBP", "jpeg2000": "JPEG2000", "avif": "AVIF"}
    assert all(r["rebuilds_header"] for r in rows.values())
    assert rows["jpeg"]["relative_cost"] == 1.0
    assert (rows["jpeg"]["relative_cost"] < rows["webp"]["relative_cost"]
            < rows["jpeg2000"]["relative_cost"] < rows["avif"]["relative_cost"])
    for name in SOURCE_CODERS:  # one module per coder, and the name it answers to
        assert SOURCE_CODERS.cls(name).name == name
        assert SOURCE_CODERS.cls(name).__module__ == ("psfl.phy.digital.source."
                                                     + name.replace("-", "_"))


class WholeJpeg(SourceCoder):
    """Sends the whole JPEG file (no header rebuilt): the smallest coder one can write."""

    name = "jpeg-whole"
    pil_format = "JPEG"
    qualities = (1, 100)

    def full(self, img: np.ndarray, quality: int) -> bytes:
        return pil_encode(img, "JPEG", quality=quality)


@pytest.fixture
def whole_jpeg():
    SOURCE_CODERS.register("jpeg-whole")(WholeJpeg)
    yield "jpeg-whole"
    SOURCE_CODERS._entries.pop("jpeg-whole")


def test_a_registered_coder_is_offered_everywhere(whole_jpeg):
    import psfl.phy.digital.source as source

    assert source.CODECS[-1] == whole_jpeg and not WholeJpeg.rebuilds_header
    coder = source_coder(whole_jpeg)
    img = np.random.default_rng(0).integers(0, 256, (16, 16, 3), dtype=np.uint8)
    coded = source_encode(img, coder, 2000, downscale=False)
    assert len(coded.payload) == 2000 and coded.quality >= 1
    assert source_decode(coded.payload, coder, 16, 16).shape == (16, 16, 3)
    cfg = load_config(None, [f"semantic.baseline_codec={whole_jpeg}"])
    assert cfg.semantic.baseline_codec == whole_jpeg


def test_unknown_coder_is_refused_with_the_choices():
    with pytest.raises(ConfigError, match=r"semantic.baseline_codec: unknown source coder 'bpg'; "
                                          r"choose one of jpeg, webp, jpeg2000, avif"):
        load_config(None, ["semantic.baseline_codec=bpg"])
    assert "jpeg-whole" not in SOURCE_CODERS  # the fixture removed it


def test_encoder_files_are_reused_across_searches_and_bounded(monkeypatch):
    """A second search of the same image (another SNR's budget) encodes only qualities not seen
    before, gives the same payload as an uncached search, and the memo drops old files."""
    from psfl.phy.digital.source import registry

    memo = registry._EncoderMemo(limit_bytes=60_000)
    monkeypatch.setattr(registry, "_ENCODED", memo)
    coder = source_coder("jpeg")
    calls = []
    real = type(coder).full
    monkeypatch.setattr(type(coder), "full",
                        lambda self, img, q: calls.append(q) or real(self, img, q))
    img = np.random.default_rng(0).integers(0, 256, (64, 96, 3), dtype=np.uint8)
    first = coder.fit(img, 3000, 1)
    n = len(calls)
    assert first is not None and n >= 5  # a bisection over 1..100
    again = coder.fit(img, 3000, 1)
    assert again == first and len(calls) == n  # every quality came from the memo
    other = coder.fit(img, 2500, 1)
    assert len(calls) - n < n  # a nearby budget shares the first steps of the bisection
    fresh = registry._EncoderMemo(limit_bytes=0)
    monkeypatch.setattr(registry, "_ENCODED", fresh)
    assert coder.fit(img, 2500, 1) == other and fresh.size == 0  # uncached: the same result
    assert 0 < memo.size <= 60_000
