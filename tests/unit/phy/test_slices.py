"""The per-slice loss rule of the whole-photo baseline (psfl.phy.digital.slices): restart
intervals of real Pillow JPEGs, the TB-to-interval mapping and the concealment on numbers
checkable by hand, the rule on a constructed TB failure, and both rules through psfl's link."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest
from PIL import Image
from skimage import data as skdata

from psfl.phy.digital.slices import (
    LOSS_RULES,
    Received,
    SliceLoss,
    conceal,
    interval_rows,
    jpeg_geometry,
    overlaps,
    restart_intervals,
    tb_byte_ranges,
)
from psfl.phy.digital.source import JpegCoder, source_coder, source_encode


def crop(h: int, w: int, which: int = 0) -> np.ndarray:
    """uint8 [h, w, 3] crop of a scikit-image photo."""
    img = (skdata.astronaut(), skdata.coffee(), skdata.chelsea())[which]
    return np.ascontiguousarray(img[100 : 100 + h, 120 : 120 + w, :3])


def jpeg(img: np.ndarray, subsampling: int = 2, rows: int = 1) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, "JPEG", quality=60, subsampling=subsampling,
                              restart_marker_rows=rows)
    return buf.getvalue()


@pytest.mark.parametrize(("subsampling", "mcu"), [(2, 16), (0, 8)])  # 4:2:0 and 4:4:4
def test_restart_intervals_of_a_real_jpeg(subsampling: int, mcu: int) -> None:
    h, w = 100, 150  # neither a multiple of the MCU: the last row and column are partial
    data = jpeg(crop(h, w), subsampling)
    header, scan = JpegCoder._split(data)
    geo = jpeg_geometry(data)
    assert (geo.height, geo.width, geo.mcu_height, geo.mcu_width) == (h, w, mcu, mcu)
    assert geo.restart_interval == math.ceil(w / mcu)  # one MCU row
    iv = restart_intervals(scan)
    assert len(iv) == math.ceil(h / mcu)  # one interval per MCU row
    assert iv[0, 0] == 0 and iv[-1, 1] == len(scan) and np.all(iv[1:, 0] == iv[:-1, 1])
    assert np.all(iv[:, 1] > iv[:, 0])
    for j, (a, _) in enumerate(iv[1:]):  # each interval opens with RST(j mod 8)
        assert scan[a : a + 2] == bytes([0xFF, 0xD0 + j % 8])
    rows = interval_rows(geo)
    np.testing.assert_array_equal(rows[:, 0], np.arange(0, h, mcu))
    assert rows[-1, 1] == h and np.all(rows[1:, 0] == rows[:-1, 1])


def test_a_scan_without_markers_is_one_interval() -> None:
    buf = io.BytesIO()
    Image.fromarray(crop(32, 32)).save(buf, "JPEG", quality=60)
    header, scan = JpegCoder._split(buf.getvalue())
    np.testing.assert_array_equal(restart_intervals(scan), [[0, len(scan)]])
    np.testing.assert_array_equal(interval_rows(jpeg_geometry(header)), [[0, 32]])


def test_tb_to_interval_mapping_by_hand() -> None:
    # 4 slots of 10, 10, 10 and 0 bytes (a short last slot without TB); side header [0, 1)
    tbs = tb_byte_ranges(np.array([0, 80, 160, 240, 240]))
    np.testing.assert_array_equal(tbs, [[0, 10], [10, 20], [20, 30], [30, 30]])
    intervals = np.array([[1, 5], [5, 12], [12, 20], [20, 27]])
    np.testing.assert_array_equal(overlaps(intervals, tbs[[1]]), [False, True, True, False])
    np.testing.assert_array_equal(overlaps(intervals, tbs[[2]]), [False, False, False, True])
    np.testing.assert_array_equal(overlaps(intervals, tbs[[3]]), [False] * 4)  # empty range
    np.testing.assert_array_equal(overlaps(intervals, tbs[[0, 2]]), [True, True, False, True])
    assert overlaps([[0, 1]], tbs[[0]])[0] and not overlaps([[0, 1]], tbs[[1, 2]])[0]
    with pytest.raises(ValueError, match="whole bytes"):
        tb_byte_ranges(np.array([0, 12]))


def test_concealment_by_hand() -> None:
    img = (np.array([10, 20, 30, 40, 50, 60, 70, 80], np.uint8)[:, None, None]
           * np.ones((1, 2, 3), np.uint8))
    rows = np.array([[0, 2], [2, 4], [4, 6], [6, 8]])
    fill = np.array([1, 2, 3])

    def column(out: np.ndarray) -> list[int]:
        return out[:, 0, 0].tolist()

    # a run of two lost intervals between rows 1 (20) and 6 (70): (1 - w) 20 + w 70,
    # w = 1/5 .. 4/5
    assert column(conceal(img, rows, [False, True, True, False], fill)) == [
        10, 20, 30, 40, 50, 60, 70, 80]  # a linear ramp stays a linear ramp
    img[6:] = 120
    assert column(conceal(img, rows, [False, True, True, False], fill)) == [
        10, 20, 40, 60, 80, 100, 120, 120]
    assert column(conceal(img, rows, [False, True, False, True], fill)) == [
        10, 20, 30, 40, 50, 60, 60, 60]  # nothing below: a copy of the row above
    assert column(conceal(img, rows, [True, False, False, False], fill)) == [
        30, 30, 30, 40, 50, 60, 120, 120]  # nothing above: a copy of the row below
    out = conceal(img, rows, [True] * 4, fill)
    np.testing.assert_array_equal(out, np.broadcast_to([1, 2, 3], img.shape))
    np.testing.assert_array_equal(conceal(img, rows, [False] * 4, fill), img)
    assert conceal(img, rows, [False, True, True, False], fill).dtype == np.uint8


def test_dropping_an_interval_from_the_stream_changes_only_its_rows_and_the_boundaries() -> None:
    # The equivalence stated in the module docstring: a decoder given the stream without
    # interval 3 changes no received pixel except the chroma of the two boundary rows.
    data = jpeg(crop(128, 192))
    header, scan = JpegCoder._split(data)
    a, e = restart_intervals(scan)[3]
    dropped = header + scan[: a + 2] + scan[e:] + b"\xff\xd9"  # its marker, no data

    def decode(d: bytes) -> np.ndarray:
        return np.asarray(Image.open(io.BytesIO(d)).convert("RGB")).astype(int)

    changed = np.flatnonzero(np.any(decode(dropped) != decode(data), axis=(1, 2)))
    assert set(changed) <= {47, *range(48, 64), 64} and 50 in changed


@pytest.fixture(scope="module")
def sent() -> tuple[bytes, np.ndarray, np.ndarray]:
    """A 128x192 photo coded with restart markers into 4 TBs of 200 bytes."""
    img = crop(128, 192)
    coded = source_encode(img, source_coder("jpeg").sliced(), 800, downscale=False)
    assert coded.scale == 1 and coded.quality > 0
    return coded.payload, img, np.arange(0, 6401, 1600)


def run(payload: bytes, offsets: np.ndarray, tb_ok: list[bool]) -> tuple[np.ndarray, dict]:
    info = {k: np.zeros(1, t) for k, t in (("success", bool), ("decode_error", bool),
                                          ("slices_delivered", np.float32),
                                          ("num_slices", np.int64))}
    coder = source_coder("jpeg").sliced()
    out = SliceLoss().receive(coder, Received(payload, payload, np.array(tb_ok), offsets),
                              128, 192, np.full(3, 0.5, np.float32), info, 0)
    return out, info


def test_slice_rule_on_a_constructed_tb_failure(sent) -> None:
    payload, img, offsets = sent
    ref, info = run(payload, offsets, [True] * 4)
    assert info["success"][0] and info["slices_delivered"][0] == 1.0
    assert info["num_slices"][0] == 8
    coder = source_coder("jpeg").sliced()
    np.testing.assert_array_equal(ref, coder.decode(payload, 128, 192) / np.float32(255))
    stream = coder.unframe(payload)[0]
    lost = overlaps(restart_intervals(stream) + 1, tb_byte_ranges(offsets)[[2]])
    out, info = run(payload, offsets, [True, True, False, True])
    assert not info["success"][0] and lost.any() and not lost.all()
    assert info["slices_delivered"][0] == pytest.approx(1 - lost.mean())
    rows = interval_rows(jpeg_geometry(coder.file(b"", 128, 192, payload[0] & 0x7F)))
    expected = conceal(np.rint(ref * 255).astype(np.uint8), rows, lost, np.array([128] * 3))
    np.testing.assert_array_equal(out, expected / np.float32(255))
    out, info = run(payload, offsets, [False, True, True, True])  # the side header's TB
    assert info["slices_delivered"][0] == 0.0 and np.all(out == np.float32(0.5))


def test_slice_needs_a_jpeg_coder() -> None:
    from psfl.config import ConfigError, load_config
    from psfl.phy.digital import PhotoBaseline

    assert tuple(LOSS_RULES) == ("photo", "slice")
    with pytest.raises(ValueError, match=r"^codec='webp' has no restart intervals, which "
                                         r"loss='slice' needs; use codec='jpeg' or "
                                         r"loss='photo'$"):
        PhotoBaseline(864, codec="webp", loss="slice")
    with pytest.raises(ValueError, match="loss='tile' is unknown"):
        PhotoBaseline(864, loss="tile")
    with pytest.raises(ConfigError) as err:
        load_config(None, ["semantic.baseline_codec=avif", "semantic.photo_loss=slice"])
    assert "\n" not in str(err.value)
    assert "set semantic.baseline_codec=jpeg or semantic.photo_loss=photo" in str(err.value)
    assert load_config(None, ["semantic.photo_loss=slice"]).semantic.photo_loss == "slice"


# -- through the link ---------------------------------------------------------------------


def test_both_rules_deliver_the_same_photo_at_high_snr_on_awgn() -> None:
    from psfl.phy import PhyConfig, UplinkLink
    from psfl.phy.digital import PhotoBaseline, symbols_for

    link = UplinkLink(PhyConfig(channel="awgn", csi="perfect"))
    photo = crop(64, 96).astype(np.float32) / 255
    k = symbols_for(64, 96, 1 / 6)
    got = {}
    for loss in LOSS_RULES:
        scheme = PhotoBaseline(link.num_data_per_slot, decoder="abstraction", loss=loss)
        out, info = scheme.transmit(photo, link, 35.0, k)
        ref, ref_info = scheme.source_roundtrip(photo, k, info["mcs"])
        assert info["success"][0] and info["slices_delivered"][0] == 1.0 and info["loss"] == loss
        np.testing.assert_array_equal(out, ref)  # identical to the error-free stream
        assert info["psnr"][0] == ref_info["psnr"][0]
        got[loss] = out, info
    (photo_out, photo), (slice_out, sliced) = got["photo"], got["slice"]
    assert sliced["num_slices"][0] == 4 and photo["num_slices"][0] == 1
    # restart markers change no pixel, and here their few bytes cost no quality step
    assert photo["quality"][0] == sliced["quality"][0] == 96
    assert sliced["source_bits"][0] > photo["source_bits"][0]
    np.testing.assert_array_equal(slice_out, photo_out)
    assert sliced["psnr"][0] == photo["psnr"][0]


def test_slice_rule_keeps_most_of_the_photo_on_tdl_c() -> None:
    from psfl.phy import PhyConfig, UplinkLink
    from psfl.phy.digital import PhotoBaseline, symbols_for
    from psfl.phy.digital.calibration import thresholds_for
    from psfl.seeding import set_seed

    phy = PhyConfig(channel="tdl-c", csi="ls")
    link = UplinkLink(phy)
    photos = np.stack([crop(128, 192, i) for i in range(3)]).astype(np.float32) / 255
    k = symbols_for(128, 192, 1 / 6)
    got = {}
    for loss in LOSS_RULES:  # the same seeds: the same channel and code-block draws
        set_seed(8)
        scheme = PhotoBaseline(link.num_data_per_slot, decoder="abstraction", seed=3,
                               loss=loss, thresholds_db=thresholds_for(phy, 512))
        got[loss] = scheme.transmit(photos, link, 10.0, k)[1]
    photo, sliced = got["photo"], got["slice"]
    np.testing.assert_array_equal(photo["tb_ok"], sliced["tb_ok"])
    assert not photo["success"].any()  # 1 or 2 of 15 TBs failed in each photo: all lost
    assert np.all(photo["slices_delivered"] == 0) and np.all(photo["num_slices"] == 1)
    kept = sliced["slices_delivered"] > 0  # the side header's TB passed
    assert kept.sum() >= 2 and np.all(sliced["slices_delivered"] < 1)
    assert np.all(sliced["psnr"][kept] > photo["psnr"][kept] + 5.0)  # the fallback's + 5 dB


def test_the_configured_rule_reaches_the_photo_baseline() -> None:
    from psfl.phy import PhyConfig
    from psfl.semantic.config import SemanticConfig
    from psfl.semantic.evaluate import digital_baseline

    base = digital_baseline(PhyConfig(channel="awgn"), SemanticConfig(photo_loss="slice"), 512)
    scheme = base.for_photo(3072, "abstraction")
    assert scheme.baseline.loss == "slice" and base.photo_loss == "slice"
    assert base.for_photo(1024, "abstraction").baseline is scheme.baseline  # one per rule
    assert base.for_photo(3072, "abstraction", "photo").baseline.loss == "photo"
