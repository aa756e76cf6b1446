"""The PHY abstraction of the photo baseline (psfl.phy.digital.abstraction): its table
interpolation on numbers checkable by hand, and code-block fates from SINRs."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import ndtr, ndtri

from psfl.phy.digital.abstraction import (
    PROBIT_CLIP,
    CodeBlockAbstraction,
    ProbitInterpolation,
    sinr_from_noise,
)
from psfl.phy.digital.mcs import mcs_table
from psfl.phy.digital.segmentation import tb_layout

TABLE = {m.index: m for m in mcs_table()}


def test_probit_interpolation_by_hand() -> None:
    # BLER 0.99 at 0 dB and 0.01 at 2 dB: the probit is symmetric, so 50 % falls at 1 dB;
    # the line (slope 2.326 per dB) extends beyond the table: at 3 dB the probit is twice
    # that at 2 dB.
    z = np.array([[0.99, 0.01], [0.99, 0.01]])
    out = ProbitInterpolation().struct(z, [100, 200], [0.0, 2.0], [100, 150, 300],
                                       [0.0, 1.0, 2.0, 3.0])
    assert out.shape == (3, 4)
    np.testing.assert_allclose(out[:, 0], 0.99, rtol=1e-9)
    np.testing.assert_allclose(out[:, 1], 0.5, rtol=1e-9)
    np.testing.assert_allclose(out[:, 2], 0.01, rtol=1e-9)
    np.testing.assert_allclose(out[:, 3], ndtr(-2 * ndtri(0.99)), rtol=1e-6)  # 1.6e-6


def test_probit_interpolation_clips_zero_and_one() -> None:
    out = ProbitInterpolation().struct(np.array([[1.0, 0.0], [1.0, 0.0]]), [1, 2], [0.0, 1.0],
                                       [1], [0.0, 0.5, 1.0])
    np.testing.assert_allclose(out[0], [1 - PROBIT_CLIP, 0.5, PROBIT_CLIP], rtol=1e-6)


def test_sinr_from_noise() -> None:
    np.testing.assert_allclose(sinr_from_noise([0.1, 1.0, 0.0]), [10.0, 1.0, 1e6], rtol=1e-6)


def test_code_block_bler_falls_with_sinr_and_fates_are_seeded() -> None:
    abst = CodeBlockAbstraction(seed=5)
    layout = tb_layout(0, 0, 864, TABLE[10])
    snr_db = np.arange(4.0, 14.0, 0.5)
    sinr = np.repeat(10 ** (snr_db / 10), 864).reshape(-1, 864).astype(np.float32)
    bler = abst.cb_bler(sinr, layout, 10)[:, 0]
    assert np.all(np.diff(bler) <= 1e-6) and bler[0] > 0.99 and bler[-1] < 1e-3
    # 10 % near the AWGN threshold measured for the full chain (8.8 dB at k = 512)
    assert 7.5 < snr_db[np.argmin(np.abs(bler - 0.1))] < 10.0
    ok1, _ = CodeBlockAbstraction(seed=5)(sinr, layout, 10)
    ok2, _ = CodeBlockAbstraction(seed=5)(sinr, layout, 10)
    np.testing.assert_array_equal(ok1, ok2)


def test_one_faded_code_block_fails_its_tb() -> None:
    # 7344 REs at MCS 20: five code blocks; a deep fade on the symbols of the third only
    layout = tb_layout(0, 0, 7344, TABLE[20])
    sinr = np.full((1, 7344), 1e3, np.float32)
    a, b = layout.cb_symbols[2]
    sinr[0, a:b] = 0.1
    ok, bler = CodeBlockAbstraction(seed=0)(sinr, layout, 20)
    assert bler.shape == (1, 5) and not ok[0]
    assert bler[0, 2] > 0.999 and np.delete(bler[0], 2).max() < 1e-3


def test_unknown_interpolation() -> None:
    with pytest.raises(ValueError, match="interpolation='cubic' is unknown"):
        CodeBlockAbstraction(interpolation="cubic")
