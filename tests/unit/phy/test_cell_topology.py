"""psfl.phy.cell.topology / config / figure: the hexagonal drop against TR 38.901 geometry."""

from __future__ import annotations

import math

import numpy as np
import pytest

from psfl.config import ConfigError
from psfl.phy import PhyConfig
from psfl.phy.budget import path_loss_db
from psfl.phy.cell.config import DEFAULT_ISD_M, DEFAULT_MIN_DISTANCE_M, CellConfig
from psfl.phy.cell.topology import drop_mus


@pytest.fixture(scope="module")
def drop():
    from psfl.seeding import set_seed

    set_seed(3)
    return drop_mus(CellConfig(num_mus=12, mus_per_cell=6), PhyConfig(speed_mps=3.0))


def test_defaults_are_sionnas_3gpp_parameters():
    from sionna.phy.channel.utils import set_3gpp_scenario_parameters

    for s in ("umi", "uma", "rma"):
        min_d, isd, *_ = set_3gpp_scenario_parameters(s)
        assert DEFAULT_ISD_M[s] == float(isd) and DEFAULT_MIN_DISTANCE_M[s] == float(min_d)


def test_cell_smaller_than_min_distance_refused_with_the_fix():
    with pytest.raises(ConfigError, match=r"cell.min_distance_m.*raise cell.isd_m"):
        CellConfig(isd_m=50.0, min_distance_m=30.0)
    with pytest.raises(ConfigError, match="cell.scheduler: unknown scheduler 'fifo'"):
        CellConfig(scheduler="fifo")


def test_layout_counts_and_serving_cell(drop):
    # 1 ring: 7 sites at the ISD from the centre (hexagonal spiral), cell 0 at the origin.
    assert drop.num_cells == 7 and drop.num_mus == 12
    assert np.bincount(drop.cell).tolist() == [12] + [6] * 6
    r = np.linalg.norm(drop.site_xy, axis=1)
    np.testing.assert_allclose(r, [0] + [200.0] * 6, atol=1e-3)
    # No MU nearer a site than the minimum ground distance; each is served by the site of its
    # strongest large-scale gain (association by RSRP), mostly the nearest one.
    assert drop.distance_2d_m.min() >= 10.0 - 1e-3
    np.testing.assert_array_equal(np.argmax(drop.gain_db, axis=1), drop.cell)
    assert np.mean(np.argmin(drop.distance_2d_m, axis=1) == drop.cell) > 0.6
    np.testing.assert_allclose(drop.speed_mps, 3.0, rtol=1e-5)
    np.testing.assert_allclose(drop.ut_xyz[:, 2], 1.5, rtol=1e-6)


def test_wraparound_distances_are_at_most_half_the_layout(drop):
    # With wrap-around every MU sees every site within the mirrored layout: no distance exceeds
    # the largest MU-site distance of a centred 7-cell layout (1.5 ISD + corner radius).
    assert drop.wraparound
    assert drop.distance_2d_m.max() <= 1.5 * 200 + 200 / math.sqrt(3) + 1e-3
    np.testing.assert_allclose(drop.distance_3d_m, np.hypot(drop.distance_2d_m, 10 - 1.5))


def test_path_loss_is_tr38901_of_the_link_los_state(drop):
    d, los = drop.distance_2d_m, drop.los
    expect = np.where(los, path_loss_db("umi", d, los=True), path_loss_db("umi", d, los=False))
    np.testing.assert_allclose(drop.path_loss_db, expect)
    np.testing.assert_allclose(drop.gain_db, -drop.path_loss_db + drop.shadowing_db)


def test_los_and_shadowing_statistics_follow_tr38901():
    """Over a large drop: LoS fraction against the TR 38.901 probability at each distance,
    shadow-fading standard deviation 4 dB (LoS) and 7.82 dB (NLoS) for UMi."""
    from psfl.phy.budget import los_probability
    from psfl.seeding import set_seed

    set_seed(5)
    big = drop_mus(CellConfig(num_rings=1, num_mus=100, mus_per_cell=100), PhyConfig())
    d, los = big.distance_2d_m.ravel(), big.los.ravel()
    p = los_probability("umi", d)
    n = d.size  # 7 x 700 links
    # Bernoulli sum: observed LoS count within 4 standard deviations of its mean.
    assert abs(los.sum() - p.sum()) < 4 * math.sqrt(np.sum(p * (1 - p))), (los.sum(), p.sum(), n)
    sf = big.shadowing_db.ravel()
    assert abs(np.std(sf[los]) - 4.0) < 0.4 and abs(np.std(sf[~los]) - 7.82) < 0.6
    assert abs(np.mean(sf[~los])) < 0.6


def test_single_cell_and_no_wraparound():
    from psfl.seeding import set_seed

    set_seed(1)
    one = drop_mus(CellConfig(num_rings=0, num_mus=4, scenario="uma"), PhyConfig())
    assert one.num_cells == 1 and one.distance_2d_m.shape == (4, 1)
    assert one.serving_distance_m.min() >= 35.0 - 1e-3
    assert one.serving_distance_m.max() <= 500 / math.sqrt(3) + 1e-3
    flat = drop_mus(CellConfig(num_mus=3, mus_per_cell=2, wraparound=False), PhyConfig())
    # Without wrap-around the distance is to the site itself.
    direct = np.linalg.norm(flat.ut_xyz[:, None, :2] - flat.site_xy[None], axis=-1)
    np.testing.assert_allclose(flat.distance_2d_m, direct, atol=1e-3)


def test_same_seed_same_drop():
    from psfl.seeding import set_seed

    cfg = CellConfig(num_mus=3, mus_per_cell=2)
    set_seed(9)
    a = drop_mus(cfg, PhyConfig())
    set_seed(9)
    b = drop_mus(cfg, PhyConfig())
    np.testing.assert_array_equal(a.ut_xyz, b.ut_xyz)
    np.testing.assert_array_equal(a.shadowing_db, b.shadowing_db)


def test_figure_draws_cells_and_mus(drop, tmp_path):
    from psfl.phy.cell.figure import plot_drop
    from psfl.phy.cell.interference import geometry_sinr_db

    sinr = geometry_sinr_db(drop, CellConfig(num_mus=12, mus_per_cell=6), PhyConfig())
    fig = plot_drop(drop, sinr)
    ax = fig.axes[0]
    assert len(ax.lines) == 2 * drop.num_cells  # one hexagon and one site marker per cell
    assert sum(len(c.get_offsets()) for c in ax.collections) == len(drop.cell)
    fig.savefig(tmp_path / "drop.png")
    assert (tmp_path / "drop.png").stat().st_size > 10_000
