"""Training through psfl.phy: a tiny codec learns (held-back test PSNR), quality rises with SNR."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import sionna.phy

from psfl.config import load_config
from psfl.data import load_images
from psfl.phy import PhyConfig, UplinkLink
from psfl.semantic.models import build_codec
from psfl.semantic.train import evaluate_codec, train_codec


@pytest.fixture(scope="module")
def data():
    keras.utils.set_random_seed(0)
    sionna.phy.config.seed = 0
    train, test = load_images(load_config().data)
    assert not set(map(bytes, train.images[:50])) & set(map(bytes, test.images))
    return train.images, test.images[:128]


@pytest.fixture(scope="module")
def trained(data):
    train, test = data
    link = UplinkLink(PhyConfig(channel="awgn", csi="perfect"))
    codec = build_codec("csc")
    before = evaluate_codec(codec, link, test, [10.0])[0]
    result = train_codec(codec, link, train, steps=150, batch_size=32, learning_rate=2e-3,
                         snr_db_range=(-10.0, 20.0), log_every=50, seed=0, progress=False)
    return link, before, result


def test_training_lowers_loss_and_raises_test_psnr(data, trained):
    _, test = data
    link, before, result = trained
    assert result.start_step == 0 and result.end_step == 150
    losses = [h["loss"] for h in result.history]
    assert len(losses) == 3 and losses[-1] < 0.5 * losses[0]
    after = evaluate_codec(result.codec, link, test, [10.0])[0]
    assert after["psnr"] > before["psnr"] + 4.0, (before, after)
    assert after["ssim"] > before["ssim"]
    assert result.images_per_s > 0


def test_trained_codec_psnr_rises_with_snr(data, trained):
    _, test = data
    link, _, result = trained
    # After 150 steps the codec is source-limited from about 5 dB up (PSNR flat within a few
    # tenths there), so the sweep stays where the channel noise still dominates.
    rows = evaluate_codec(result.codec, link, test, [-10.0, -5.0, 0.0, 10.0])
    psnr = [r["psnr"] for r in rows]
    assert all(a < b + 0.2 for a, b in zip(psnr, psnr[1:])), psnr
    assert psnr[-1] > psnr[0] + 0.7, psnr
    assert all(np.isfinite(r["ssim"]) and "ms_ssim" not in r for r in rows)


def test_gsc_learns_over_fading_channel_with_estimated_csi(data):
    train, _ = data
    link = UplinkLink(PhyConfig(channel="tdl-c", csi="ls"))
    result = train_codec(build_codec("gsc-s"), link, train, steps=30, batch_size=16,
                         log_every=10, seed=1, progress=False)
    losses = [h["loss"] for h in result.history]
    assert np.all(np.isfinite(losses)) and losses[-1] < 0.7 * losses[0], losses


def test_bad_training_arguments(data):
    train, _ = data
    codec = build_codec("csc")
    link = UplinkLink(PhyConfig())
    with pytest.raises(ValueError, match="SNR range"):
        train_codec(codec, link, train, steps=1, snr_db_range=(10.0, 0.0))
    with pytest.raises(ValueError, match="lr_schedule"):
        train_codec(codec, link, train, steps=1, lr_schedule="linear")
    with pytest.raises(ValueError, match="built for 32x32"):
        train_codec(codec, link, np.zeros((4, 16, 16, 3), np.float32), steps=1)


def test_cosine_schedule_decays_to_five_percent(data):
    train, _ = data
    link = UplinkLink(PhyConfig(channel="awgn"))
    result = train_codec(build_codec("csc"), link, train[:64], steps=4, batch_size=8,
                         learning_rate=1e-3, lr_schedule="cosine", progress=False)
    opt = result.codec.optimizer
    assert int(opt.iterations.numpy()) == 4
    assert float(opt.learning_rate) == pytest.approx(5e-5, rel=1e-3)


def test_evaluating_one_snr_at_a_time_traces_once_and_frees_the_codec():
    """A caller sweeping SNRs with one evaluate_codec call each (the demo does) reuses one
    compiled forward pass: no retracing warning from TensorFlow, and the cache does not keep a
    dropped codec alive."""
    import gc
    import io
    import logging
    import weakref

    import tensorflow as tf

    out = io.StringIO()
    handler = logging.StreamHandler(out)
    tf.get_logger().addHandler(handler)
    try:
        codec = build_codec("csc", 32, k_over_n=1 / 6)

        def link(x, snr):
            return x, tf.fill(tf.shape(x), 0.01)

        images = np.random.default_rng(0).random((8, 32, 32, 3)).astype(np.float32)
        rows = [evaluate_codec(codec, link, images, [float(s)])[0] for s in range(8)]
    finally:
        tf.get_logger().removeHandler(handler)
    assert "retracing" not in out.getvalue()
    assert all(np.isfinite(r["psnr"]) for r in rows)
    ref = weakref.ref(codec)
    del codec
    gc.collect()
    assert ref() is None
