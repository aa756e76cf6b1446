"""Whole-photo evaluation: the receiver rule and the tables."""

from __future__ import annotations

from psfl.semantic.photos import LDPC_MAX_PIXELS, mean_rows, photo_decoder, scheme_rows


def test_auto_decodes_small_photos_by_ldpc_and_large_ones_by_the_abstraction():
    assert photo_decoder("auto", LDPC_MAX_PIXELS) == "ldpc"
    assert photo_decoder("auto", LDPC_MAX_PIXELS + 1) == "abstraction"
    assert photo_decoder("ldpc", 10**7) == "ldpc"
    assert photo_decoder("abstraction", 64) == "abstraction"


ROWS = [
    {"dataset": "a.png", "snr_db": 0.0, "images": 1, "codec_psnr": 20.0, "codec_ssim": 0.5,
     "digital_psnr": 10.0, "digital_ssim": 0.2, "digital_success": 0.0, "windows": 4, "k": 2048,
     "slots": 4, "digital_decoder": "ldpc"},
    {"dataset": "b.jpg", "snr_db": 0.0, "images": 1, "codec_psnr": 24.0, "codec_ssim": 0.7,
     "digital_psnr": 30.0, "digital_ssim": 0.8, "digital_success": 1.0, "windows": 2, "k": 1024,
     "slots": 2, "digital_decoder": "ldpc"},
]


def test_mean_rows_average_the_photos_per_snr():
    (row,) = mean_rows(ROWS)
    assert row["dataset"] == "photos" and row["images"] == 2 and row["snr_db"] == 0.0
    assert row["codec_psnr"] == 22.0 and row["digital_success"] == 0.5 and row["k"] == 1536
    assert "digital_decoder" not in row  # text columns are not averaged


def test_scheme_rows_one_per_photo_and_scheme():
    rows = scheme_rows(ROWS, ["codec", "digital"])
    assert [(r["photo"], r["scheme"]) for r in rows] == [
        ("a.png", "codec"), ("a.png", "digital"), ("b.jpg", "codec"), ("b.jpg", "digital")]
    assert rows[1]["psnr"] == 10.0 and rows[1]["delivered"] == 0.0
    assert rows[1]["decoder"] == "ldpc" and "delivered" not in rows[0]


def test_whole_photo_sweep_wraps_each_codec_once_per_size_across_calls():
    """``by_size`` carries the photo-size codecs from one call to the next (kodak_class_eval sends
    one photo and SNR per call), so they are traced once; the rows are those of a fresh call."""
    import numpy as np

    from psfl.images import Photo
    from psfl.semantic.models import build_codec
    from psfl.semantic.photos import whole_photo_sweep
    from psfl.semantic.pretrain import _ideal_link as link  # noiseless: the codec alone decides

    codec = build_codec("csc", 32, filters=(8, 8))
    rng = np.random.default_rng(0)
    photos = [Photo(f"p{i}", rng.random((64, 96, 3), dtype=np.float32), (2, 3)) for i in range(2)]
    cache: dict = {}
    rows = [whole_photo_sweep({"csc": codec}, link, [p], [10.0], capacity=False, by_size=cache)
            for p in photos]
    assert list(cache) == [(64, 96)]
    sized = cache[(64, 96)]["csc"]
    assert sized is not codec and sized.image_size == (64, 96)
    again = whole_photo_sweep({"csc": codec}, link, photos[1:], [10.0], capacity=False,
                              by_size=cache)
    assert cache[(64, 96)]["csc"] is sized
    fresh = whole_photo_sweep({"csc": codec}, link, photos[1:], [10.0], capacity=False)
    assert again[0]["csc_psnr"] == fresh[0]["csc_psnr"] == rows[1][0]["csc_psnr"]
    assert again[0]["windows"] == 6
