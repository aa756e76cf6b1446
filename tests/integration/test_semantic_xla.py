"""The training step compiles and runs under XLA (jit_compile=True) through the real link."""

from __future__ import annotations

import numpy as np

from psfl.data import load_skimage
from psfl.phy import PhyConfig, UplinkLink
from psfl.semantic.models import build_codec
from psfl.semantic.train import evaluate_codec, train_codec


def test_xla_training_and_evaluation():
    train, test = load_skimage(patch_size=32)
    link = UplinkLink(PhyConfig(channel="rayleigh", csi="perfect"))
    result = train_codec(build_codec("csc", filters=(8, 8)), link, train.images[:256], steps=3,
                         batch_size=8, jit_compile=True, log_every=1, progress=False)
    assert result.end_step == 3 and all(np.isfinite(h["loss"]) for h in result.history)
    rows = evaluate_codec(result.codec, link, test.images[:16], [5.0], jit_compile=True)
    assert np.isfinite(rows[0]["psnr"]) and rows[0]["snr_db"] == 5.0
