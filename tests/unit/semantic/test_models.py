"""Semantic codecs: shapes, dtypes, power constraint, metrics, costs, saving and bad input."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from psfl.config import ConfigError, load_config
from psfl.semantic import metrics
from psfl.semantic.config import MODEL_NAMES
from psfl.semantic.models import MODELS, build_codec, cost_table, load_codec
from psfl.semantic.power import k_from_ratio, normalize_power


def _images(b: int = 3, size: int = 32, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random((b, size, size, 3), dtype=np.float32)


@pytest.fixture(scope="module")
def codecs():
    return {name: build_codec(name) for name in MODELS}


def test_k_over_n_definition():
    # n = H·W·3 real values, k complex channel uses: 1/6 on 32×32 → 512 symbols.
    assert k_from_ratio(32, 1 / 6) == 512
    assert k_from_ratio((64, 32), 1 / 12) == 512
    with pytest.raises(ValueError, match="k_over_n"):
        k_from_ratio(32, 0.0)


@pytest.mark.parametrize("name", list(MODELS))
def test_shapes_dtypes_and_power(codecs, name):
    codec = codecs[name]
    x = _images(5)
    snr = tf.constant([0.0, 5.0, 10.0, 15.0, 20.0])
    z = codec.encode(x, snr)
    assert z.dtype == tf.complex64 and z.shape == (5, 512)
    power = tf.reduce_mean(tf.abs(z) ** 2, axis=-1).numpy()
    np.testing.assert_allclose(power, 1.0, atol=1e-3)
    # Scaled input and a scalar SNR: still unit power per image.
    z2 = codec.encode(0.01 * x, 3.0)
    np.testing.assert_allclose(tf.reduce_mean(tf.abs(z2) ** 2, -1).numpy(), 1.0, atol=1e-3)
    no = tf.fill([5, 512], 0.1)
    out = codec.decode(z, no)
    assert out.dtype == tf.float32 and out.shape == (5, 32, 32, 3)
    assert float(tf.reduce_min(out)) >= 0.0 and float(tf.reduce_max(out)) <= 1.0
    # no_eff as a per-image column broadcasts.
    out2 = codec.decode(z, tf.fill([5, 1], 0.1))
    np.testing.assert_allclose(out.numpy(), out2.numpy(), atol=1e-6)


@pytest.mark.parametrize("name", list(MODELS))
def test_decode_features_are_the_decoders_own(codecs, name):
    codec = codecs[name]
    z = codec.encode(_images(2), 10.0)
    images, feats = codec.decode_features(z, 0.1)
    np.testing.assert_allclose(images.numpy(), codec.decode(z, 0.1).numpy(), atol=1e-6)
    width = codec.filters[1] if codec.family == "csc" else codec.dim
    assert tuple(feats.shape) == (2, *codec.grid, width)  # on the channel grid, 8x8 at 32x32
    # the features carry the received symbols: other symbols, other features
    _, other = codec.decode_features(codec.encode(_images(2, seed=1), 10.0), 0.1)
    assert float(tf.reduce_max(tf.abs(feats - other))) > 1e-3
    # and their energy varies over the grid (what attention transfer compares); a normalized
    # transformer token would have the same energy everywhere
    energy = tf.reduce_mean(tf.square(feats), axis=-1).numpy().reshape(2, -1)
    assert np.all(energy.std(axis=1) / energy.mean(axis=1) > 1e-3)  # after a LayerNorm: ~1e-7


def test_snr_side_information_reaches_encoder_and_decoder(codecs):
    codec = codecs["csc"]
    # FiLM layers start at the identity; perturb them so the SNR path is exercised.
    for layer in codec.enc_film + codec.dec_film:
        w = layer.out.kernel
        w.assign(tf.random.normal(w.shape, stddev=0.5, seed=1))
    x = _images(2)
    z0, z1 = codec.encode(x, 0.0), codec.encode(x, 20.0)
    assert float(tf.reduce_max(tf.abs(z0 - z1))) > 1e-3
    y0 = codec.decode(z0, tf.fill([2, 512], 1.0))
    y1 = codec.decode(z0, tf.fill([2, 512], 0.01))
    assert float(tf.reduce_max(tf.abs(y0 - y1))) > 1e-4


def test_normalize_power_gradient_is_finite():
    z = tf.Variable(tf.complex(tf.random.normal([2, 8]), tf.random.normal([2, 8])))
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(tf.math.real(normalize_power(z)))
    g = tape.gradient(loss, z)
    assert np.all(np.isfinite(g.numpy()))


def test_other_image_size_and_k():
    codec = build_codec("gsc-s", image_size=64, k_over_n=1 / 12)
    assert codec.k == 1024 and codec.patch == 8
    z = codec.encode(_images(2, 64), 10.0)
    assert z.shape == (2, 1024)
    assert codec.decode(z, 0.1).shape == (2, 64, 64, 3)


def test_metrics_values():
    x = np.full((2, 32, 32, 3), 0.5, np.float32)
    y = x + 0.1
    np.testing.assert_allclose(metrics.psnr(x, y).numpy(), 20.0, atol=1e-3)
    assert metrics.psnr(x, x).numpy().max() == metrics.PSNR_CAP_DB
    r = _images(2)
    np.testing.assert_allclose(metrics.ssim(r, r).numpy(), 1.0, atol=1e-5)
    assert np.all(metrics.ssim(r, np.clip(r + 0.2 * _images(2, seed=1) - 0.1, 0, 1)).numpy() < 0.99)
    m = metrics.image_metrics(r, r)
    assert set(m) == {"psnr", "ssim"}  # 32 px: no MS-SSIM
    with pytest.raises(ValueError, match="176"):
        metrics.ms_ssim(r, r)
    big = _images(1, 176)
    m = metrics.image_metrics(big, big)
    assert set(m) == {"psnr", "ssim", "ms_ssim"}
    np.testing.assert_allclose(m["ms_ssim"], 1.0, atol=1e-4)
    assert metrics.mean_metrics({"psnr": np.array([10.0, 20.0])}) == {"psnr": 15.0}


def test_cost_table(codecs):
    assert [r["name"] for r in cost_table(32, models=["csc"])] == ["csc"]
    rows = cost_table(codecs=list(codecs.values()))
    by = {r["name"]: r for r in rows}
    assert set(by) == set(MODELS)
    for r in rows:
        assert r["params"] > 0 and r["flops"] > 0 and r["activation_memory_bytes"] > 0
        assert r["k"] == 512
    gsc = [by[n] for n in ("gsc-s", "gsc-m", "gsc-l")]
    for key in ("params", "flops", "activation_memory_bytes"):
        assert gsc[0][key] < gsc[1][key] < gsc[2][key]
    # Hand count of the CSC's first convolution alone: 16·16 outputs · 25 taps · 3 · 16 MACs.
    assert by["csc"]["flops"] > 2 * 16 * 16 * 25 * 3 * 16


def test_config_section():
    cfg = load_config(overrides=["semantic.model=gsc-m", "semantic.steps=10"])
    assert cfg.semantic.model == "gsc-m" and cfg.semantic.steps == 10
    assert abs(cfg.semantic.k_over_n - 1 / 6) < 1e-12
    assert tuple(MODELS) == MODEL_NAMES
    with pytest.raises(ConfigError, match="semantic.model"):
        load_config(overrides=["semantic.model=resnet"])


@pytest.mark.parametrize("name", ["csc", "gsc-s"])
def test_save_load_identical(tmp_path, codecs, name):
    codec = codecs[name]
    path = tmp_path / f"{name}.keras"
    codec.save(path)
    loaded = load_codec(path, model=name, image_size=32, k=512)
    assert type(loaded) is type(codec) and loaded.get_config() == codec.get_config()
    x = _images(4)
    snr = tf.constant([0.0, 5.0, 10.0, 20.0])
    np.testing.assert_array_equal(codec.encode(x, snr).numpy(), loaded.encode(x, snr).numpy())
    z = codec.encode(x, snr)
    np.testing.assert_array_equal(codec.decode(z, 0.1).numpy(), loaded.decode(z, 0.1).numpy())


def test_bad_images(codecs):
    codec = codecs["gsc-s"]
    with pytest.raises(ValueError, match=r"images are 64x64 .* built for 32x32.*resize"):
        codec.encode(_images(1, 64), 10.0)
    with pytest.raises(ValueError, match=r"4 channels.*RGB"):
        codec.encode(np.zeros((1, 32, 32, 4), np.float32), 10.0)
    with pytest.raises(ValueError, match=r"dtype uint8.*astype\('float32'\) / 255"):
        codec.encode(np.zeros((1, 32, 32, 3), np.uint8), 10.0)
    with pytest.raises(ValueError, match=r"\[B, H, W, 3\]"):
        codec.encode(np.zeros((32, 32, 3), np.float32), 10.0)
    with pytest.raises(ValueError, match=r"expects \[B, 512\]"):
        codec.decode(tf.zeros([1, 256], tf.complex64), 0.1)


@pytest.mark.parametrize("name", ["csc", "gsc-m"])
def test_k_that_does_not_fit(name):
    with pytest.raises(ValueError, match=r"k=500 does not fit .*multiple of 64.*k_over_n"):
        build_codec(name, k=500)
    with pytest.raises(ValueError, match="unknown codec 'vit'.*gsc-s"):
        build_codec("vit")


def test_checkpoint_of_other_architecture(tmp_path, codecs):
    path = tmp_path / "csc.keras"
    codecs["csc"].save(path)
    with pytest.raises(ValueError, match=r"holds codec 'csc'.*architecture 'csc' \(expected "
                                         r"'gsc-s'\).*semantic.model='csc'"):
        load_codec(path, model="gsc-s")
    with pytest.raises(ValueError, match=r"k=512 \(expected k=256\)"):
        load_codec(path, k=256)
    with pytest.raises(ValueError, match="not found"):
        load_codec(tmp_path / "missing.keras")
    (tmp_path / "junk.keras").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="cannot load checkpoint"):
        load_codec(tmp_path / "junk.keras")


def test_conv_refiner_starts_as_identity_and_saves(tmp_path):
    """A GSC with residual conv blocks after its pixel head decodes exactly as the same GSC
    without them until trained (zero-initialized outputs: a warm start loses nothing), and the
    blocks survive a save/load."""
    plain = build_codec("gsc-s", 32, k=512, dim=32, depth=1)
    refined = build_codec("gsc-s", 32, k=512, dim=32, depth=1, refine=2, refine_filters=8)
    base = plain.get_weights()
    extra = refined.get_weights()[len(base):]
    assert [w.shape for w in extra] == [(3, 3, 3, 8), (8,), (3, 3, 8, 8), (8,), (3, 3, 8, 3),
                                        (3,)] * 2
    refined.set_weights(base + extra)
    x = tf.random.uniform([2, 32, 32, 3], seed=1)
    z = plain.encode(x, tf.constant(10.0))
    assert np.array_equal(plain.decode(z, tf.constant(10.0)), refined.decode(z, tf.constant(10.0)))
    # trained (here: perturbed) blocks change the output, and a save keeps them
    refined.set_weights(base + [w + 0.05 for w in extra])
    moved = refined.decode(z, tf.constant(10.0))
    assert float(tf.reduce_max(tf.abs(moved - plain.decode(z, tf.constant(10.0))))) > 1e-3
    refined.save(tmp_path / "r.keras")
    back = load_codec(tmp_path / "r.keras", compile=False)
    assert back.refine == 2 and np.allclose(back.decode(z, tf.constant(10.0)), moved, atol=1e-6)
