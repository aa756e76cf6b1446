"""The BS's round over the uplink modes and client selection: the default costs every round as
before (dedicated Shannon accounting, no new columns); ``shared`` schedules the replies on the
cell's carrier (never faster than dedicated, latency the slowest MU's); selection trains K MUs
and reports its bias; a bare-loop run with selection. The BS rounds take stand-in replies (the
model as sent), so no training runs except in the last test."""

from __future__ import annotations

import math

import numpy as np
import pytest

from psfl.config import load_config
from psfl.federation.loop import run_loop
from psfl.federation.population import make_population
from psfl.federation.roles import BaseStation
from psfl.phy import dbm_to_w

BASE = ["data.num_mus=4", "federation.init=scratch", "federation.strategy=fedavg-csc"]
SHARED = ["federation.uplink=shared", "federation.max_distance_m=110"]
NEW_COLUMNS = {"uplink_prb_share", "uplink_prbs", "uplink_power_dbm", "uplink_sinr_db",
               "uplink_slots", "uplink_latency_s", "uplink_inr", "selected",
               "selection_snr_bias_db", "selection_distance_bias_m"}


def one_round(tmp_path, *extra: str, rnd: int = 1):
    """A BS, its population registered, round ``rnd`` planned and finished with every
    selected MU replying the model it was sent."""
    config = load_config(None, BASE + list(extra))
    fed = config.federation
    bs = BaseStation(config, tmp_path, log=lambda m: None)
    pop = make_population([40] * config.data.num_mus, min_distance_m=fed.min_distance_m,
                          max_distance_m=fed.max_distance_m, memory_mb=fed.memory_mb,
                          compute_gflop=fed.compute_gflop_per_round, seed=config.run.seed)
    bs.register([{"mu": p.mu, "distance_m": p.distance_m, "num_samples": p.num_samples}
                 for p in pop])
    plan = bs.plan_round(rnd)
    replies = {mu: (ins.arrays, {"num_samples": 40}) for mu, ins in plan.instructions.items()}
    return config, bs, plan, bs.finish_round(plan, replies)


def dedicated(config, bits: float, snr_db: float) -> float:
    return bits / (config.phy.noise_bandwidth_hz * math.log2(1 + 10 ** (snr_db / 10)))


@pytest.mark.parametrize("strategy", ["fedavg-csc", "psfl"])
def test_the_default_costs_every_round_as_before(tmp_path, strategy):
    config, bs, _, summary = one_round(tmp_path, f"federation.strategy={strategy}")
    p_mu = float(dbm_to_w(config.phy.tx_power_dbm))
    p_bs = float(dbm_to_w(config.federation.bs_tx_power_dbm))
    assert len(bs.mu_rows) == 4
    for r in bs.mu_rows:
        up = dedicated(config, r["bits_up"], r["snr_db"])
        down = dedicated(config, r["bits_down"], r["downlink_snr_db"])
        assert r["airtime_up_s"] == pytest.approx(up, rel=1e-12)
        assert r["energy_up_j"] == pytest.approx(p_mu * up, rel=1e-12)
        assert r["airtime_down_s"] == pytest.approx(down, rel=1e-12)
        assert r["energy_down_j"] == pytest.approx(p_bs * down, rel=1e-12)
        assert not NEW_COLUMNS & set(r)
    assert not NEW_COLUMNS & set(summary)
    assert summary["mu_comm_energy_j"] == pytest.approx(sum(r["energy_up_j"]
                                                            for r in bs.mu_rows), rel=1e-12)


def test_shared_uploads_are_scheduled_on_the_cells_carrier(tmp_path):
    config, bs, _, summary = one_round(tmp_path, *SHARED)
    _, ded, _, ded_summary = one_round(tmp_path / "dedicated", "federation.max_distance_m=110")
    rows, before = bs.mu_rows, ded.mu_rows
    for r, d in zip(rows, before, strict=True):
        # same channel draws and downlink; the upload costed on the shared carrier
        for key in ("snr_db", "downlink_snr_db", "bits_up", "bits_down", "energy_down_j"):
            assert r[key] == d[key], key
        assert r["airtime_up_s"] >= d["airtime_up_s"]
        assert r["energy_up_j"] > 0 and r["uplink_power_dbm"] <= config.phy.tx_power_dbm + 1e-6
        assert 0 < r["uplink_prb_share"] < 1 and 1 <= r["uplink_prbs"] <= 6
    assert sum(r["uplink_prb_share"] for r in rows) == pytest.approx(1.0, abs=0.01)
    assert summary["uplink_latency_s"] == max(r["airtime_up_s"] for r in rows)
    assert summary["uplink_inr"] > 0  # one ring of neighbouring cells
    assert summary["mu_comm_energy_j"] == pytest.approx(sum(r["energy_up_j"] for r in rows))


def test_clients_per_round_selects_k_and_reports_the_bias(tmp_path):
    config, bs, plan, summary = one_round(tmp_path, "federation.clients_per_round=2",
                                          "federation.selection=best")
    all_snr = {mu: ch.snr_db for mu, ch in bs._channels(1).items()}  # noqa: SLF001
    top = sorted(sorted(all_snr, key=all_snr.get)[-2:])
    assert sorted(plan.mus) == top and [r["mu"] for r in bs.mu_rows] == top
    assert summary["selected"] == 2 and summary["accepted"] == 2
    assert summary["selection_snr_bias_db"] > 0
    assert summary["selected_snr_db"] == pytest.approx(np.mean([all_snr[m] for m in top]))
    assert summary["uplink_latency_s"] == max(r["airtime_up_s"] for r in bs.mu_rows)

    picks = [sorted(one_round(tmp_path / f"r{i}", "federation.clients_per_round=3",
                              "federation.selection=random", rnd=2)[2].mus) for i in range(2)]
    assert picks[0] == picks[1] and len(picks[0]) == 3


def test_loop_and_flower_train_the_selected_mus_only_and_cost_them_alike(tmp_path):
    from psfl.federation.apps import run_flower_simulation

    config = load_config(None, [
        "data.max_train=96", "data.max_test=32", "data.num_mus=3", "federation.eval_images=16",
        "semantic.batch_size=8", "federation.local_steps=2", "federation.rounds=2",
        "federation.backend=loop", "federation.init=scratch", "federation.strategy=fedavg-csc",
        "federation.clients_per_round=2", "federation.selection=random", *SHARED])
    loop = run_loop(config, tmp_path / "loop", log=lambda m: None)
    flower = run_flower_simulation(config.replace("federation", backend="flower"),
                                   tmp_path / "flower", log=lambda m: None)
    for bs in (loop, flower):
        assert [len([r for r in bs.mu_rows if r["round"] == k]) for k in (1, 2)] == [2, 2]
        assert all(r["status"] == "ok" and r["uplink_slots"] > 0 for r in bs.mu_rows)
        assert [r["selected"] for r in bs.round_rows] == [2, 2]
        assert len(bs.final_rows) == 3  # the closing evaluation reaches every MU
    keys = ("round", "mu", "bits_up", "airtime_up_s", "energy_up_j", "uplink_prb_share")
    assert ([[r[k] for k in keys] for r in loop.mu_rows]
            == [[r[k] for k in keys] for r in flower.mu_rows])
    assert ([r["uplink_latency_s"] for r in loop.round_rows]
            == [r["uplink_latency_s"] for r in flower.round_rows])


def test_uplink_by_mu_is_the_bs_round_per_mu(tmp_path):
    from psfl.federation.energy import uplink_by_mu

    config, bs, _, _ = one_round(tmp_path, *SHARED)
    rows = uplink_by_mu(config, weights=bs.dense)
    assert [r["mu"] for r in rows] == [r["mu"] for r in bs.mu_rows] == [0, 1, 2, 3]
    for r, b in zip(rows, bs.mu_rows, strict=True):
        assert (r["distance_m"], r["snr_db"], r["bits"]) == (b["distance_m"], b["snr_db"],
                                                             b["bits_up"])
        assert r["airtime_dedicated_s"] == pytest.approx(dedicated(config, r["bits"],
                                                                   r["snr_db"]), rel=1e-12)
        assert r["energy_shared_j"] == b["energy_up_j"]
        assert r["airtime_shared_s"] == b["airtime_up_s"] >= r["airtime_dedicated_s"]
    with pytest.raises(Exception, match="set federation.max_distance_m <= 115"):
        uplink_by_mu(load_config(None, BASE), weights=bs.dense)
