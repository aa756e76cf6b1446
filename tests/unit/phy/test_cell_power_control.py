"""psfl.phy.cell.power_control: TS 38.213 open-loop power control (Sionna's) reaches its
target, and the SNR per RE is the link budget."""

from __future__ import annotations

import numpy as np
import pytest

from psfl.phy import PhyConfig
from psfl.phy.budget import thermal_noise_dbm
from psfl.phy.cell.config import CellConfig
from psfl.phy.cell.power_control import snr_per_re_db, subcarrier_noise_dbm, uplink_power_dbm


def test_formula_by_hand():
    # P = min(Pmax, P0 + alpha PL + 10 log10 M): -80 + 0.8*100 + 10 log10 4 = 6.02 dBm.
    p = uplink_power_dbm(np.array([100.0, 140.0]), np.array([4, 4]), p0_dbm=-80.0, alpha=0.8,
                         p_max_dbm=23.0)
    np.testing.assert_allclose(p, [10 * np.log10(4), 23.0], atol=1e-5)  # Sionna: float32 inside
    assert uplink_power_dbm(np.array([100.0]), np.array([0]), p0_dbm=-80, alpha=1,
                            p_max_dbm=23)[0] == -np.inf


@pytest.mark.parametrize("alpha", [1.0, 0.8, 0.5])
def test_target_reached_at_the_cell_centre(alpha):
    """The MU nearest psfl's BS in a drop, below its power limit: received power per PRB
    P - 10 log10 M + G = P0 - (1 - alpha) PL, i.e. exactly P0 with full compensation."""
    from psfl.phy.cell.topology import drop_mus
    from psfl.seeding import set_seed

    set_seed(2)
    drop = drop_mus(CellConfig(num_rings=0, num_mus=20), PhyConfig())
    u = int(np.argmin(drop.serving_distance_m))
    pl = -drop.serving_gain_db[u]
    for m in (1, 3, 6):
        p = uplink_power_dbm(np.array([pl]), np.array([m]), p0_dbm=-90.0, alpha=alpha,
                             p_max_dbm=23.0)[0]
        assert p < 23.0
        rx_per_prb = p - 10 * np.log10(m) - pl
        assert rx_per_prb == pytest.approx(-90.0 - (1 - alpha) * pl, abs=1e-5)


def test_snr_per_re_is_the_link_budget():
    """Power spread over 12 M subcarriers against the noise of one subcarrier equals total
    power against the noise of the occupied band (P + G - N(12 M scs))."""
    cfg = PhyConfig(noise_figure_db=7.0, tx_antenna_gain_dbi=2.0, rx_antenna_gain_dbi=5.0)
    got = snr_per_re_db(np.array([20.0]), np.array([6]), np.array([-110.0]), cfg)[0]
    want = 20.0 + 2.0 + 5.0 - 110.0 - thermal_noise_dbm(72 * 30e3, 7.0)
    assert got == pytest.approx(want, abs=1e-9)
    assert subcarrier_noise_dbm(cfg) == pytest.approx(-173.98 + 10 * np.log10(30e3) + 7, abs=0.01)
