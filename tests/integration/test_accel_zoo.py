"""The zoo's accelerator recipe (benchmarks/accel_zoo.py), run here on the CPU at toy size:
prepare → train (a warm start from a shipped file) → export into a scratch zoo."""

import json

import numpy as np
import pytest
from PIL import Image

from benchmarks import accel_zoo
from psfl.semantic import zoo


def test_budget_rate_warms_up_then_decays_to_its_floor():
    lr = 1e-3
    assert accel_zoo.budget_rate(0.0, lr) == pytest.approx(1e-5)
    assert accel_zoo.budget_rate(0.05, lr) == pytest.approx(lr)
    assert accel_zoo.budget_rate(1.0, lr) == pytest.approx(0.05 * lr)
    assert accel_zoo.budget_rate(2.0, lr) == pytest.approx(0.05 * lr)  # past the budget: floor
    rates = [accel_zoo.budget_rate(f, lr) for f in np.linspace(0.05, 1.0, 50)]
    assert all(a >= b for a, b in zip(rates, rates[1:], strict=False))
    assert accel_zoo.budget_rate(0.525, lr) == pytest.approx(lr * (0.05 + 0.95 * 0.5))


def test_crops_are_textured_in_range_and_mirrored_about_half():
    rng = np.random.default_rng(0)
    flat = np.full((64, 64, 3), 128, np.uint8)          # every crop of it is flat
    textured = rng.integers(0, 256, (64, 96, 3), dtype=np.uint8)
    crops = accel_zoo.Crops([flat, textured], batch=64, seed=1, flat_std=0.02)
    x = crops.draw()
    assert x.shape == (64, 32, 32, 3) and x.dtype == np.float32
    assert 0.0 <= x.min() and x.max() <= 1.0
    assert np.all(x.reshape(64, -1).std(axis=1) >= 0.02)  # the flat photo never shows

    # one photo with a left-right ramp: a mirrored crop falls from left to right
    ramp = np.repeat(np.repeat(np.arange(256, dtype=np.uint8)[None, :, None], 40, 0), 3, 2)
    y = accel_zoo.Crops([ramp], batch=400, seed=2, flat_std=0.0).draw()
    mirrored = np.mean(y[:, 0, 0, 0] > y[:, 0, -1, 0])
    assert 0.4 < mirrored < 0.6


@pytest.mark.slow
def test_prepare_train_export_round_trip(tmp_path):
    photos = tmp_path / "public"
    photos.mkdir()
    rng = np.random.default_rng(0)
    for i in range(2):
        smooth = np.cumsum(rng.normal(0, 6, (120, 160, 3)), axis=1)
        img = np.clip(128 + smooth - smooth.mean(), 0, 255).astype(np.uint8)
        Image.fromarray(img).save(photos / f"p{i}.png")
    prep = tmp_path / "prep"
    accel_zoo.prepare(prep, str(photos), "two synthetic photos", rows=32)
    meta = json.loads((prep / "meta.json").read_text())
    assert [s["file"] for s in meta["sources"]] == ["p0.png", "p1.png"]
    assert meta["public_patches"] > 0
    assert np.load(prep / "test.npy").shape == (256, 32, 32, 3)
    assert np.load(prep / "gains_rayleigh_k512.npy").shape == (32, 512)

    out = tmp_path / "out"
    rec = accel_zoo.train_one(prep, "csc-awgn", 600.0, 8, 1e-4, out, eval_every=3, seed=0,
                              max_steps=6)
    assert rec["steps"] == 6 and rec["images"] == 48
    assert [h["step"] for h in rec["history"]] == [0, 3, 6]
    shipped = zoo.provenance("csc-awgn")
    # the first evaluation is of the shipped weights: through the stand-in at 10 dB it is near
    # the shipped file's real-link PSNR at 10 dB
    table10 = next(r["psnr"] for r in shipped["table"] if r["snr_db"] == 10.0)
    assert abs(rec["history"][0]["psnr_test"] - table10) < 1.0

    scratch = tmp_path / "zoo"
    rows = accel_zoo.export(out, prep, write=True, force=True, zoo_dir=scratch)
    assert rows[0]["written"]
    prov = json.loads((scratch / "csc-awgn.json").read_text())
    assert prov["images_seen"] == shipped["images_seen"] + 48
    assert prov["init"] == "pretrained:csc-awgn" and prov["steps"] == 6
    assert [s["sha256"] for s in prov["sources"]["files"]] == [
        s["sha256"] for s in meta["sources"]]
    assert "accel_zoo" in prov["command"] and prov["convergence"]["over_steps"][-1] == 6
    codec = zoo.load_pretrained("pretrained:csc-awgn", directory=scratch)
    with np.load(out / "csc-awgn.npz") as data:
        trained = [data[f"arr_{i}"] for i in range(len(data.files))]
    assert all(np.allclose(a, b, atol=1e-2 * max(1.0, np.abs(b).max()))
               for a, b in zip(codec.get_weights(), trained, strict=True))
