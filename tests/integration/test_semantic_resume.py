"""Checkpoints: resuming continues the step counter, the optimizer state and the batch sequence."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tensorflow as tf

from psfl.data import load_skimage
from psfl.semantic.models import build_codec
from psfl.semantic.train import CHECKPOINT_NAME, train_codec


def noiseless(x: tf.Tensor, snr_db: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """Deterministic stand-in for the link, so two runs can be compared bit for bit."""
    no = tf.pow(10.0, -tf.reshape(tf.cast(snr_db, tf.float32), [-1, 1]) / 10.0)
    return x, tf.broadcast_to(no, tf.shape(x, out_type=tf.int32))


@pytest.fixture(scope="module")
def images():
    train, _ = load_skimage(patch_size=32)
    return train.images[:256]


def _pair():
    a = build_codec("csc", filters=(8, 8))
    b = build_codec("csc", filters=(8, 8))
    b.set_weights(a.get_weights())
    return a, b


def test_resume_matches_uninterrupted_run(tmp_path, images):
    straight, split = _pair()
    kw = {"batch_size": 8, "learning_rate": 3e-3, "log_every": 2, "seed": 3, "progress": False}
    full = train_codec(straight, noiseless, images, steps=8, **kw)
    assert (full.start_step, full.end_step, full.resumed) == (0, 8, False)

    first = train_codec(split, noiseless, images, steps=4, checkpoint_dir=tmp_path,
                        checkpoint_every=2, **kw)
    assert first.end_step == 4 and (tmp_path / CHECKPOINT_NAME).is_file()
    assert len(json.loads((tmp_path / "history.json").read_text())) == 2

    fresh = build_codec("csc", filters=(8, 8))  # different init: the checkpoint must win
    second = train_codec(fresh, noiseless, images, steps=8, checkpoint_dir=tmp_path, **kw)
    assert second.resumed and (second.start_step, second.end_step) == (4, 8)
    assert [h["step"] for h in second.history] == [2, 4, 6, 8]
    # Adam's moments and the step counter came back with the weights: had they restarted, the
    # updates after step 4 would differ and the weights would not match the uninterrupted run.
    for a, b in zip(full.codec.get_weights(), second.codec.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)



def test_resume_from_other_architecture_is_refused(tmp_path, images):
    build_codec("csc", filters=(8, 8)).save(tmp_path / CHECKPOINT_NAME)
    with pytest.raises(ValueError, match=r"holds codec 'csc'.*expected 'gsc-s'"):
        train_codec(build_codec("gsc-s"), noiseless, images, steps=2, batch_size=4,
                    checkpoint_dir=tmp_path, progress=False)

