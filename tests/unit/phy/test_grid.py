"""psfl.phy.grid: the slot grid's bookkeeping against counts done by hand and Sionna's own grid."""

import numpy as np
import pytest
import tensorflow as tf

from psfl.phy import PhyConfig
from psfl.phy.grid import SlotGrid


@pytest.fixture(scope="module")
def grid():
    return SlotGrid(PhyConfig())


def test_counts_agree_with_sionnas_grid(grid):
    cfg = grid.cfg
    rg = grid.resource_grid
    total = cfg.num_ofdm_symbols * cfg.num_subcarriers
    assert grid.num_pilots_per_slot == len(grid.pilot_symbol_indices) * cfg.num_subcarriers
    assert grid.num_data_per_slot == total - grid.num_pilots_per_slot == rg.num_data_symbols
    assert grid.pilots.shape == (len(grid.pilot_symbol_indices), cfg.num_subcarriers)
    np.testing.assert_allclose(np.abs(grid.pilots.numpy()), 1.0, rtol=1e-6)  # unit modulus


def test_num_slots_is_a_ceiling(grid):
    nd = grid.num_data_per_slot
    assert [grid.num_slots(k) for k in (1, nd, nd + 1, 3 * nd)] == [1, 1, 2, 3]
    assert grid.num_slots(0) == 1


def test_map_then_unmap_is_the_identity_with_pilots_in_place(grid):
    k = grid.num_data_per_slot + 17  # two slots, the second padded
    x = tf.complex(tf.random.normal([3, k]), tf.random.normal([3, k]))
    slots = grid.num_slots(k)
    g = grid.map(x, slots)
    assert g.shape == (3 * slots, grid.cfg.num_ofdm_symbols, grid.cfg.num_subcarriers)
    np.testing.assert_array_equal(grid.unmap(g, k).numpy(), x.numpy())
    for i, row in enumerate(grid.pilot_symbol_indices):  # every slot carries the pilots
        np.testing.assert_array_equal(g.numpy()[:, row], np.broadcast_to(
            grid.pilots.numpy()[i], g.shape[::2]))
    # row-major: the first data symbol sits on the first data OFDM symbol, first subcarrier
    first = min(set(range(grid.cfg.num_ofdm_symbols)) - set(grid.pilot_symbol_indices))
    assert g.numpy()[0, first, 0] == x.numpy()[0, 0]
    # the padding of the last slot is zero
    assert np.count_nonzero(g.numpy()[3 * slots - 1]) == 17 + grid.num_pilots_per_slot


def test_durations_follow_the_numerology(grid):
    assert grid.slot_duration_s == pytest.approx(
        grid.cfg.num_ofdm_symbols * grid.ofdm_symbol_duration_s)
