"""The per-symbol link stand-in used to train codecs on an accelerator (psfl.semantic.surrogate):
its noise and fading statistics against the real link and theory, the round trip against the
codec's own TensorFlow path, learning, weights that load into a fresh codec, bad input."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import sionna.phy
import tensorflow as tf

from psfl.config import load_config
from psfl.data import load_images
from psfl.phy import PhyConfig, UplinkLink
from psfl.semantic.models import build_codec
from psfl.semantic.surrogate import SurrogateTrainer, TimeBudget, gain_table
from psfl.semantic.train import evaluate_codec


def _tiny_csc():
    return build_codec("csc", image_size=16, k=128, filters=(8, 16))


def test_awgn_noise_matches_the_link():
    codec = _tiny_csc()
    trainer = SurrogateTrainer(codec, seed=1)
    snr = 5.0
    rng = np.random.default_rng(0)
    z = rng.normal(size=(512, codec.k, 2)).astype(np.float32)
    z /= np.sqrt(np.mean(np.sum(z**2, -1), -1))[:, None, None]
    y, no_eff = trainer.channel(tf.constant(z), tf.fill([512], snr))
    err_stand_in = np.mean(np.sum((y.numpy() - z) ** 2, -1))
    assert np.allclose(no_eff.numpy(), 10 ** (-snr / 10))
    sionna.phy.config.seed = 0
    zc = tf.complex(z[..., 0], z[..., 1])
    y_link, no_link = UplinkLink(PhyConfig(channel="awgn"))(zc, snr)
    err_link = np.mean(np.abs(y_link.numpy() - zc.numpy()) ** 2)
    assert err_stand_in == pytest.approx(10 ** (-snr / 10), rel=0.02)
    assert err_stand_in == pytest.approx(err_link, rel=0.03)
    assert np.allclose(no_link.numpy(), 10 ** (-snr / 10), rtol=1e-5)


def test_gain_table_follows_theory_and_the_links_no_eff():
    k = 128
    assert np.allclose(gain_table(UplinkLink(PhyConfig(channel="awgn")), k, 64, batch=32), 1.0)
    link = UplinkLink(PhyConfig(channel="rayleigh"))
    g = gain_table(link, k, 2048, batch=512)
    assert g.shape == (2048, k) and g.dtype == np.float32
    # Rayleigh block fading: |h|^2 ~ Exp(1), one value per slot (all k symbols of an image).
    assert np.allclose(g, g[:, :1])
    assert g.mean() == pytest.approx(1.0, abs=0.06)
    assert np.mean(g[:, 0] < 0.1) == pytest.approx(1 - np.exp(-0.1), abs=0.02)
    # The stand-in's no_eff = N0/g is what the link reports with perfect CSI.
    sionna.phy.config.seed = 3
    out = link.simulate(tf.ones([256, k], tf.complex64), 10.0)
    assert np.allclose(out["no_eff"].numpy(), 0.1 / out["gain"].numpy(), rtol=1e-4)


def test_round_trip_at_high_snr_equals_the_codec_path():
    keras.utils.set_random_seed(0)
    codec = _tiny_csc()
    x = np.random.default_rng(1).random((4, 16, 16, 3)).astype(np.float32)
    trainer = SurrogateTrainer(codec, snr_db_range=(60.0, 60.0), seed=0)
    got = trainer(x).numpy()
    want = codec((x, np.full(4, 60.0, np.float32))).numpy()
    assert np.max(np.abs(got - want)) < 2e-3


def test_fit_learns_and_weights_load_into_a_fresh_codec(tmp_path):
    keras.utils.set_random_seed(0)
    sionna.phy.config.seed = 0
    tr, te = load_images(load_config().data)

    def half(a):  # 32x32 embedded patches -> 16x16, for a tiny codec
        return a.reshape(len(a), 16, 2, 16, 2, 3).mean(axis=(2, 4))

    train, test = half(tr.images[:1024]), half(te.images[:128])
    codec = _tiny_csc()
    link = UplinkLink(PhyConfig(channel="awgn"))
    before = evaluate_codec(codec, link, test, [10.0])[0]["psnr"]
    trainer = SurrogateTrainer(codec, snr_db_range=(0.0, 20.0), seed=0)
    trainer.compile(optimizer=keras.optimizers.Adam(3e-3), loss="mse")
    hist = trainer.fit(train, train, batch_size=32, epochs=6, verbose=0,
                       callbacks=[TimeBudget(600.0)])
    losses = hist.history["loss"]
    assert losses[-1] < 0.5 * losses[0], losses
    codec.save_weights(tmp_path / "c.weights.h5")
    fresh = _tiny_csc()
    fresh.load_weights(tmp_path / "c.weights.h5")
    after = evaluate_codec(fresh, link, test, [10.0])[0]["psnr"]
    assert after > before + 3.0, (before, after)


def test_time_budget_stops_fit_and_lowers_the_rate():
    codec = _tiny_csc()
    trainer = SurrogateTrainer(codec, seed=0)
    trainer.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
    x = np.zeros((64, 16, 16, 3), np.float32)
    budget = TimeBudget(0.0)
    hist = trainer.fit(x, x, batch_size=8, epochs=5, verbose=0, callbacks=[budget])
    assert len(hist.history["loss"]) == 1 and int(trainer.optimizer.iterations) == 1
    assert float(trainer.optimizer.learning_rate) == pytest.approx(1e-4)


def test_bad_input_is_named():
    codec = _tiny_csc()
    with pytest.raises(ValueError, match=r"\[rows, 128\]"):
        SurrogateTrainer(codec, gains=np.ones((10, 64)))
    with pytest.raises(ValueError, match="SNR range"):
        SurrogateTrainer(codec, snr_db_range=(10.0, 0.0))
    with pytest.raises(ValueError, match="link budget"):
        gain_table(UplinkLink(PhyConfig(channel="umi")), 128, 4)
