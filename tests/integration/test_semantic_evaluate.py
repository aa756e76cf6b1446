"""psfl.semantic.evaluate: the one sweep of codecs beside the digital baseline, its documented
order of evaluation (which fixes the channel draws for a seed), its columns, and per-photo
measurement on stitched tiles."""

import numpy as np
import pytest

from psfl.images import Photo
from psfl.seeding import set_seed


@pytest.fixture(scope="module")
def setup():
    from psfl.data import load_skimage
    from psfl.phy import PhyConfig, UplinkLink
    from psfl.semantic import build_codec

    _, test = load_skimage(32)
    images = test.images[:12]
    codecs = {"a": build_codec("csc", filters=(8, 8)), "b": build_codec("csc", filters=(4, 8))}
    return codecs, UplinkLink(PhyConfig(channel="rayleigh")), images


def test_sweep_rows_columns_and_order_of_draws(setup):
    from psfl.phy.digital import DigitalBaseline
    from psfl.semantic.evaluate import sweep
    from psfl.semantic.metrics import image_metrics
    from psfl.semantic.train import evaluate_codec

    codecs, link, images = setup
    baseline = DigitalBaseline(codecs["a"].k)
    points = []
    set_seed(3)
    rows = sweep(codecs, link, {"x": images, "y": images[:4]}, [0.0, 10.0], baseline=baseline,
                 images_for=["y"], progress=False, on_point=points.append)
    assert [(r["dataset"], r["snr_db"], r["images"]) for r in rows] == [
        ("x", 0.0, 12), ("x", 10.0, 12), ("y", 0.0, 4), ("y", 10.0, 4)]
    assert {"a_psnr", "a_ssim", "b_psnr", "b_ssim", "digital_psnr", "digital_ssim",
            "digital_success"} <= set(rows[0])
    assert "capacity_psnr" not in rows[0]
    assert points[0].received == {} and set(points[2].received) == {"a", "b", "digital"}
    assert points[2].delivered.shape == (4,) and points[2].delivered.dtype == bool
    # the same seed, the documented order by hand: per set and SNR, codec a, b, then baseline
    set_seed(3)
    for ds, x in (("x", images), ("y", images[:4])):
        for snr in (0.0, 10.0):
            row = next(r for r in rows if r["dataset"] == ds and r["snr_db"] == snr)
            for label in ("a", "b"):
                got = evaluate_codec(codecs[label], link, x, [snr])[0]["psnr"]
                assert got == pytest.approx(row[f"{label}_psnr"], abs=1e-9), (ds, snr, label)
            rx, info = baseline.transmit(x, link, snr)
            assert float(np.mean(image_metrics(x, rx)["psnr"])) == pytest.approx(
                row["digital_psnr"], abs=1e-9)
    # with an offset (umi/uma/rma) the rows give both values; capacity where asked
    rows = sweep({"a": codecs["a"]}, link, {"x": images[:4]}, [1.0], baseline=baseline,
                 offset_db=20.0, capacity_sets=["x"], progress=False)
    assert rows[0]["snr_db"] == 21.0 and rows[0]["snr_offset_db"] == 1.0
    assert rows[0]["capacity_psnr"] > 0


def test_photo_rows_measure_stitched_photos():
    from psfl.semantic.photos import photo_rows

    rng = np.random.default_rng(0)
    photos = [Photo(f"p{i}", rng.random((64, 96, 3)).astype(np.float32), (2, 3))
              for i in range(2)]
    tiles = np.concatenate([p.tiles() for p in photos])
    noisy = np.clip(tiles + rng.normal(0, 0.01, tiles.shape), 0, 1).astype(np.float32)
    delivered = np.ones(len(tiles), bool)
    delivered[7] = False  # a tile of the second photo
    rows, stitched = photo_rows(photos, {"codec": noisy, "digital": tiles}, 5.0, delivered)
    assert [(r["photo"], r["scheme"]) for r in rows] == [
        ("p0", "codec"), ("p0", "digital"), ("p1", "codec"), ("p1", "digital")]
    assert 38 < rows[0]["psnr"] < 42  # 20·log10(1/0.01) = 40 dB, slightly above after clipping
    assert rows[1]["delivered"] == 1.0 and rows[3]["delivered"] == pytest.approx(5 / 6)
    img, psnr, failed = stitched["digital"][1]
    assert np.array_equal(img, photos[1].image) and failed.tolist() == [0, 1, 0, 0, 0, 0]
    assert stitched["codec"][0][2] is None
