"""Tests of the one PSNR rule (psfl.phy.quality) and of the TF metric that computes it too."""

from __future__ import annotations

import numpy as np
import pytest

from psfl.phy.quality import MSE_FLOOR, PSNR_CAP_DB, psnr
from psfl.semantic import metrics


def _both(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return psnr(a, b), metrics.psnr(a, b).numpy()


def test_floor_and_cap_are_one_rule() -> None:
    assert MSE_FLOOR == pytest.approx(1e-10, rel=1e-15)
    assert PSNR_CAP_DB == 100.0 == 10 * np.log10(1 / MSE_FLOOR)
    assert metrics.PSNR_CAP_DB is PSNR_CAP_DB


def test_hand_checked_value() -> None:
    """A constant error of 0.1 on every pixel: MSE 0.01, PSNR 20 dB."""
    a = np.zeros((1, 4, 4, 3), np.float64)
    b = np.full((1, 4, 4, 3), 0.1, np.float64)
    for v in _both(a, b):
        assert v.dtype == np.float32 and v.shape == (1,)
        assert v[0] == pytest.approx(20.0, abs=1e-5)


def test_numpy_and_tf_agree_on_the_same_images() -> None:
    rng = np.random.default_rng(0)
    x = rng.random((16, 8, 8, 3)).astype(np.float32)
    sigma = np.logspace(-6, 0, 16)[:, None, None, None]
    y = np.clip(x + sigma * rng.standard_normal(x.shape), 0, 1).astype(np.float32)
    p_np, p_tf = _both(x, y)
    assert p_np.dtype == p_tf.dtype == np.float32
    np.testing.assert_allclose(p_np, p_tf, rtol=0, atol=1e-5)
    assert p_np.min() < 20 and p_np.max() > 90  # from heavy noise to near the floor


def test_identical_and_near_identical_images_score_the_cap_in_both() -> None:
    """Where the floor matters: MSE 0 and MSE below 1e-10 both give exactly the cap."""
    rng = np.random.default_rng(1)
    x = rng.random((3, 8, 8, 3)).astype(np.float32)
    y = x.copy()
    y[1, 0, 0, 0] += 1e-5  # MSE ~ 5e-13 < 1e-10
    y[2] = np.clip(y[2] + 3e-5, 0, 1)  # MSE ~ 9e-10 > 1e-10: just under the cap
    p_np, p_tf = _both(x, y)
    assert p_np[0] == p_tf[0] == PSNR_CAP_DB
    assert p_np[1] == p_tf[1] == PSNR_CAP_DB
    assert p_np[2] == pytest.approx(p_tf[2], abs=1e-5) and 85 < p_np[2] < PSNR_CAP_DB
