"""psfl.phy.estimation: interpolation weights, window counts, the LS estimate and the combiners
on numbers checked by hand."""

import numpy as np
import pytest
import tensorflow as tf

from psfl.phy.estimation import (
    LSEstimator,
    combine,
    interpolation_error_shape,
    time_interpolation_weights,
    window_counts,
)


def test_time_interpolation_is_linear_between_pilots_and_constant_outside():
    w = time_interpolation_weights(8, (2, 6))
    np.testing.assert_allclose(w[:3], [[1, 0]] * 3)
    np.testing.assert_allclose(w[3:6], [[0.75, 0.25], [0.5, 0.5], [0.25, 0.75]])
    np.testing.assert_allclose(w[6:], [[0, 1]] * 2)
    np.testing.assert_allclose(w.sum(axis=1), 1.0)


def test_window_counts_shrink_at_the_band_edges():
    assert window_counts(6, 1).tolist() == [2, 3, 3, 3, 3, 2]
    assert window_counts(4, 0).tolist() == [1, 1, 1, 1]


def test_interpolation_error_vanishes_without_doppler_and_grows_with_it():
    w = time_interpolation_weights(14, (2, 11))
    still = interpolation_error_shape(w, (2, 11), 0.0, 7e-5)
    np.testing.assert_allclose(still, 0.0, atol=1e-12)
    slow = interpolation_error_shape(w, (2, 11), 100.0, 7e-5)
    fast = interpolation_error_shape(w, (2, 11), 1000.0, 7e-5)
    assert np.all(slow[[2, 11]] < 1e-12)  # exact at the pilots
    assert 0 < slow.max() < fast.max()


def test_ls_estimate_of_a_constant_channel_is_exact_without_noise():
    nsym, nsc, rows = 6, 8, (1, 4)
    pilots = tf.constant(np.exp(1j * np.pi / 4 * np.arange(2 * nsc)).reshape(2, nsc),
                         tf.complex64)
    est = LSEstimator(pilots, rows, nsym, freq_window=3)
    h = np.complex64(0.6 - 0.8j)
    y = np.zeros((1, 1, nsym, nsc), np.complex64)
    y[0, 0, list(rows)] = h * pilots.numpy()
    h_hat, err_var = est(tf.constant(y), tf.constant([0.5]))
    np.testing.assert_allclose(h_hat.numpy(), h, rtol=1e-5)
    # error variance: N0 · Σ_p w_tp² / (window count), e.g. at a pilot symbol, mid-band: 0.5/3
    assert err_var.numpy()[0, 0, 1, 3] == pytest.approx(0.5 / 3)
    assert err_var.numpy()[0, 0, 1, 0] == pytest.approx(0.5 / 2)


def test_combiners_on_two_antennas_by_hand():
    h = np.array([1.0, 2.0j], np.complex64).reshape(1, 2, 1, 1)
    x = np.complex64(1 - 1j)
    y = tf.constant(h * x)
    no = tf.constant([0.1])
    for method in ("lmmse", "mrc"):
        x_hat, no_eff = combine(y, tf.constant(h), no, 0.0, method)
        assert x_hat.numpy()[0, 0, 0] == pytest.approx(x, abs=1e-6)
        assert no_eff.numpy()[0, 0, 0] == pytest.approx(0.1 / 5)  # N0 / Σ|h|²
    with pytest.raises(ValueError, match="unknown equalizer"):
        combine(y, tf.constant(h), no, method="zf")
