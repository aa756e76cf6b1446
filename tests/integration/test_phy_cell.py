"""A whole multi-cell uplink: a UMa drop of 19 cells, proportional fair, TDL-C with LS
estimation over two antennas; the measured SINR follows the drop's geometry and the figure
shows it."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from psfl.phy import PhyConfig
from psfl.phy.cell import CellConfig, SharedUplink, drop_mus, geometry_sinr_db, plot_drop
from psfl.seeding import set_seed


def test_multicell_uplink_end_to_end(tmp_path):
    phy = PhyConfig(channel="tdl-c", csi="ls", num_rx_ant=2, speed_mps=3.0)
    cell = CellConfig(scenario="uma", num_rings=2, num_mus=12, mus_per_cell=4,
                      scheduler="proportional-fair")
    set_seed(21)
    drop = drop_mus(cell, phy)
    assert drop.num_cells == 19 and drop.num_mus == 12
    k = 3072
    z = np.random.default_rng(0).normal(size=(2, 12, k)) / np.sqrt(2)
    x = tf.constant((z[0] + 1j * z[1]).astype(np.complex64))
    out = SharedUplink(phy, cell, drop).simulate(x)
    y, no_eff = out["y"].numpy(), out["no_eff"].numpy()
    assert np.all(np.isfinite(y)) and np.all(no_eff > 0)
    assert (out["num_prbs"].sum(axis=1) == 6).all()
    # LS errors are accounted for in no_eff up to the estimator's approximations.
    e = np.mean(np.abs(y - x.numpy()) ** 2 / no_eff, axis=1)
    assert np.all(np.abs(e - 1.0) < 0.25), e
    # MUs with a better geometry see a better measured SINR (Spearman rank correlation).
    geo = geometry_sinr_db(drop, cell, phy)[:12]
    rank = np.corrcoef(np.argsort(np.argsort(geo)), np.argsort(np.argsort(out["sinr_db"])))[0, 1]
    assert rank > 0.6, (geo.round(1), out["sinr_db"].round(1))
    sinr = geometry_sinr_db(drop, cell, phy)
    sinr[:12] = out["sinr_db"]
    fig = plot_drop(drop, sinr, title="measured SINR (cell 0), geometry SINR (others)")
    fig.savefig(tmp_path / "drop.png")
    assert (tmp_path / "drop.png").stat().st_size > 10_000
