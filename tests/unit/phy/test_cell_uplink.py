"""psfl.phy.cell.uplink.SharedUplink against theory: the single MU equals today's link bit for
bit, PRBs sum to the carrier, interference at its closed-form mean, errors at no_eff."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import tensorflow as tf

from psfl.config import ConfigError
from psfl.phy import PhyConfig, UplinkLink
from psfl.phy.cell.config import CellConfig
from psfl.phy.cell.fairness import jain_index
from psfl.phy.cell.interference import mean_inr
from psfl.phy.cell.power_control import snr_per_re_db, uplink_power_dbm
from psfl.phy.cell.topology import drop_mus
from psfl.phy.cell.uplink import SharedUplink
from psfl.seeding import set_seed


def _symbols(n: int, k: int, seed: int = 0) -> tf.Tensor:
    z = np.random.default_rng(seed).normal(size=(2, n, k)) / np.sqrt(2)
    return tf.constant((z[0] + 1j * z[1]).astype(np.complex64))


@pytest.mark.parametrize("channel,csi,ant,k", [("rayleigh", "perfect", 1, 2000),
                                               ("tdl-c", "ls", 2, 1500),
                                               ("awgn", "perfect", 1, 900)])
def test_single_mu_equals_uplink_link_exactly(channel, csi, ant, k):
    phy = PhyConfig(channel=channel, csi=csi, num_rx_ant=ant, speed_mps=3.0)
    cell = CellConfig(num_rings=0, num_mus=1)
    set_seed(1)
    drop = drop_mus(cell, phy)
    x = _symbols(1, k)
    set_seed(7)
    out = SharedUplink(phy, cell, drop).simulate(x)
    assert np.unique(out["snr_db"]).size == 1 and (out["num_prbs"] == 6).all()
    set_seed(7)
    y, no_eff = UplinkLink(phy)(x, tf.constant(out["snr_db"][0, 0], tf.float32))
    np.testing.assert_array_equal(out["y"].numpy(), y.numpy())
    np.testing.assert_array_equal(out["no_eff"].numpy(), no_eff.numpy())


@pytest.mark.parametrize("scheduler,n,channel", [("round-robin", 4, "rayleigh"),
                                                 ("round-robin", 9, "rayleigh"),
                                                 ("proportional-fair", 4, "rayleigh"),
                                                 ("proportional-fair", 3, "awgn")])
def test_prbs_sum_to_the_carrier_and_every_symbol_arrives(scheduler, n, channel):
    phy = PhyConfig(channel=channel)
    cell = CellConfig(num_mus=n, mus_per_cell=3, scheduler=scheduler)
    set_seed(3)
    drop = drop_mus(cell, phy)
    k = 1000
    out = SharedUplink(phy, cell, drop).simulate(_symbols(n, k))
    owner, m = out["owner"], out["num_prbs"]
    busy = np.array([(m[s] > 0).sum() for s in range(len(m))])
    assert (owner >= 0).all() and (m.sum(axis=1) == 6).all()  # the whole carrier, every slot
    assert np.all(busy <= min(n, 6))
    # Each MU got at least the data REs its symbols need (12 data symbols per PRB and slot).
    assert np.all(m.sum(axis=0) * 12 * 12 >= k)
    assert out["y"].shape == (n, k) and np.all(np.isfinite(out["no_eff"].numpy()))
    np.testing.assert_array_equal(out["tx_power_dbm"] == -np.inf, m == 0)


def _interference_case():
    """A fixed 7-cell drop whose MUs all stay below the power limit (power per PRB then
    independent of the PRBs held), 3 MUs per neighbouring cell sharing 6 PRBs (2 each)."""
    phy = PhyConfig(channel="rayleigh")
    cell = CellConfig(num_mus=2, mus_per_cell=3, p0_dbm=-100.0, alpha=0.8)
    set_seed(11)
    return phy, cell, drop_mus(cell, phy)


def test_interference_power_matches_the_analytical_mean():
    phy, cell, drop = _interference_case()
    m = np.full(len(drop.cell), 2.0)  # round robin: 6 PRBs over 3 MUs; cell 0: 3 each
    power = uplink_power_dbm(-drop.serving_gain_db, m, p0_dbm=-100, alpha=0.8, p_max_dbm=23)
    assert power.max() < 23.0
    at0 = snr_per_re_db(power, m, drop.gain_db[:, 0], phy)
    want = mean_inr(drop, 0, np.full(len(drop.cell), 1 / 3), at0)
    out = SharedUplink(phy, cell, drop).simulate(_symbols(2, 400 * 432))  # 400 slots
    per_slot = out["inr"].mean(axis=1)  # independent fading per slot
    got, se = per_slot.mean(), per_slot.std() / np.sqrt(per_slot.size)
    assert out["owner"].shape[0] == 400
    assert abs(got - want) < 4 * se and abs(got / want - 1) < 0.1, (got, want, se)


def test_post_equalization_errors_match_no_eff_with_interference():
    """The interference actually added to y is the one the receiver accounts for: normalized
    errors |x_hat - x|^2 / no_eff have mean 1 (perfect CSI, LMMSE over 2 antennas)."""
    phy, cell, drop = _interference_case()
    phy = dataclasses.replace(phy, num_rx_ant=2)
    cell = dataclasses.replace(cell, p0_dbm=-70.0)  # interference well above the noise
    x = _symbols(2, 60 * 432)
    set_seed(4)
    out = SharedUplink(phy, cell, drop).simulate(x)
    e = np.abs(out["y"].numpy() - x.numpy()) ** 2 / out["no_eff"].numpy()
    assert out["inr"].mean() > 3.0  # interference matters here
    np.testing.assert_allclose(e.mean(axis=1), 1.0, atol=0.05)
    # Without interference the SINR rises.
    quiet = SharedUplink(phy, dataclasses.replace(cell, interference=False), drop).simulate(x)
    assert (quiet["inr"] == 0).all() and np.all(quiet["sinr_db"] > out["sinr_db"])


def test_proportional_fair_is_fair_across_mus_with_equal_channels():
    """Serving-cell MUs given identical large-scale gains: PF over many slots shares the
    PRBs with a Jain index near 1."""
    phy = PhyConfig(channel="rayleigh")
    cell = CellConfig(num_rings=0, num_mus=4, scheduler="proportional-fair")
    set_seed(5)
    drop = drop_mus(cell, phy)
    drop = dataclasses.replace(drop, path_loss_db=np.full_like(drop.path_loss_db, 100.0),
                               shadowing_db=np.zeros_like(drop.shadowing_db))
    out = SharedUplink(phy, cell, drop).simulate(_symbols(4, 600 * 144))  # 400 slots
    s = out["num_slots"].min()  # slots in which all four still had data
    share = out["num_prbs"][:s].sum(axis=0)
    assert s > 300 and jain_index(share) > 0.99, share


def test_bad_input_is_refused_with_the_fix():
    phy = PhyConfig(channel="rayleigh")
    cell = CellConfig(num_rings=0, num_mus=2)
    set_seed(1)
    drop = drop_mus(cell, phy)
    with pytest.raises(ConfigError, match="small-scale channel"):
        SharedUplink(dataclasses.replace(phy, channel="umi"), cell, drop)
    with pytest.raises(ConfigError, match="multiple of 12"):
        SharedUplink(dataclasses.replace(phy, num_subcarriers=70), cell, drop)
    link = SharedUplink(phy, cell, drop)
    with pytest.raises(ValueError, match=r"num_mus=2"):
        link(_symbols(3, 10))


def test_semantic_and_digital_symbols_ride_the_same_allocation():
    """with_allocation(owner) reuses the PRBs, slots and power of an earlier call (new
    channel and noise draws); snr_db shifts every MU's SNR by the offset."""
    phy = PhyConfig(channel="rayleigh")
    cell = CellConfig(num_mus=3, mus_per_cell=2, scheduler="proportional-fair")
    set_seed(8)
    drop = drop_mus(cell, phy)
    link = SharedUplink(phy, cell, drop)
    first = link.simulate(_symbols(3, 700))
    digital = link.with_allocation(first["owner"])
    y, no_eff = digital(_symbols(3, 700, seed=1))
    assert y.shape == (3, 700) and no_eff.shape == (3, 700)
    again = link.simulate(_symbols(3, 650, seed=2), -3.0, owner=first["owner"])
    np.testing.assert_array_equal(again["owner"], first["owner"])
    np.testing.assert_array_equal(again["tx_power_dbm"], first["tx_power_dbm"])
    np.testing.assert_allclose(again["snr_db"], first["snr_db"] - 3.0)
    with pytest.raises(ValueError, match="fewer than k"):
        digital(_symbols(3, 5000))
