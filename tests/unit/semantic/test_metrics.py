"""psfl's SSIM and MS-SSIM (separable window, one pass for both) against ``tf.image``'s."""

import numpy as np
import pytest
import tensorflow as tf

from psfl.semantic.metrics import MS_SSIM_MIN_SIZE, image_metrics, ms_ssim, ssim


@pytest.mark.parametrize("shape", [(2, 32, 32, 3), (1, 8, 9, 3), (2, 177, 203, 3),
                                   (1, 300, 255, 1)])
def test_ssim_and_ms_ssim_equal_tf_image(shape):
    rng = np.random.default_rng(sum(shape))
    x = rng.random(shape, dtype=np.float32)
    y = np.clip(x + rng.normal(0, 0.1, shape), 0, 1).astype(np.float32)
    y[0, : shape[1] // 2] = x[0, : shape[1] // 2]  # a half-identical image, ssim near 1 there
    size = min(11, shape[1], shape[2])
    np.testing.assert_allclose(ssim(x, y), tf.image.ssim(x, y, 1.0, filter_size=size),
                               atol=1e-5)
    got = image_metrics(x, y)
    np.testing.assert_allclose(got["ssim"], ssim(x, y), atol=1e-6)
    if min(shape[1:3]) >= MS_SSIM_MIN_SIZE:
        want = tf.image.ssim_multiscale(x, y, 1.0)
        np.testing.assert_allclose(ms_ssim(x, y), want, atol=1e-5)
        np.testing.assert_allclose(got["ms_ssim"], want, atol=1e-5)
    else:
        assert "ms_ssim" not in got
        with pytest.raises(ValueError, match="at least 176x176"):
            ms_ssim(x, y)


def test_identical_images_score_one_and_worse_images_less():
    rng = np.random.default_rng(0)
    x = rng.random((1, 180, 190, 3), dtype=np.float32)
    assert ssim(x, x).numpy()[0] == pytest.approx(1.0, abs=1e-6)
    assert ms_ssim(x, x).numpy()[0] == pytest.approx(1.0, abs=1e-6)
    a, b = (np.clip(x + rng.normal(0, s, x.shape), 0, 1).astype(np.float32) for s in (.05, .2))
    assert ssim(x, b).numpy()[0] < ssim(x, a).numpy()[0] < 1.0
    assert ms_ssim(x, b).numpy()[0] < ms_ssim(x, a).numpy()[0] < 1.0
