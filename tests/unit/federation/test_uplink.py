"""psfl.federation.uplink and .selection: the shared carrier's schedule against the dedicated
accounting (airtime, PRB shares, latency, energy) on numbers checked by hand, the selection
rules and their bias, refusals naming the fix, and runs recorded before these keys existed
still resuming. No training; the carrier is given, not dropped."""

from __future__ import annotations

import math

import numpy as np
import pytest

from psfl.config import ConfigError, load_config
from psfl.federation.checkpoint import ADDED_KEYS, RunLayout, config_hash
from psfl.federation.selection import select_mus, selection_bias
from psfl.federation.uplink import SharedCarrier, check_uplink, schedule_uploads
from psfl.phy.budget import snr_db_from_config
from psfl.phy.numerology import slot_duration_s

SHARED = ["federation.uplink=shared", "federation.max_distance_m=110"]


def config(*extra: str):
    return load_config(None, list(extra))


def carrier(cfg, inr: float = 0.0) -> SharedCarrier:
    phy = cfg.phy
    return SharedCarrier(num_prbs=phy.num_subcarriers // 12, slot_s=slot_duration_s(phy),
                         prb_hz=12 * phy.scs_hz, inr=inr,
                         budget_db=snr_db_from_config(phy, path_loss=False))


def dedicated_airtime(cfg, bits, snr_db):
    return np.asarray(bits) / (cfg.phy.noise_bandwidth_hz * np.log2(1 + 10 ** (np.asarray(
        snr_db) / 10)))


SNR = np.array([-2.0, 4.0, 11.0, 17.0, 25.0])
BITS = np.array([3e4, 2e4, 4e4, 1e4, 5e4])


@pytest.mark.parametrize("scheduler", ["round-robin", "proportional-fair"])
@pytest.mark.parametrize("inr", [0.0, 3.0])
def test_sharing_is_never_faster_than_a_dedicated_carrier(scheduler, inr):
    cfg = config(*SHARED, f"cell.scheduler={scheduler}")
    car = carrier(cfg, inr)
    out = schedule_uploads(BITS, SNR, car, cfg.cell, cfg.phy)
    assert out["grant_slots"] == 1  # slot by slot: the statements hold exactly
    assert np.all(out["airtime_s"] >= dedicated_airtime(cfg, BITS, SNR))
    # every PRB of every slot is held until the last MU is done: the shares make the carrier
    owner = out["owner"]
    assert owner.shape == (out["num_slots"].max(), car.num_prbs)
    last_busy = int(np.max(np.flatnonzero((owner >= 0).any(axis=1)))) + 1
    assert last_busy == owner.shape[0] and np.all(owner >= 0)
    assert np.all(out["num_prbs"].sum(axis=1) == car.num_prbs)
    assert out["prb_share"].sum() == pytest.approx(1.0, abs=1e-12)
    # the round's latency is the slowest MU's airtime, the carrier's slot count
    assert out["airtime_s"].max() == pytest.approx(owner.shape[0] * car.slot_s, rel=1e-12)
    # energy = power x slots transmitted, slot by slot
    watts = np.where(out["num_prbs"] > 0, 10 ** ((out["tx_power_dbm"] - 30) / 10), 0.0)
    assert np.allclose(out["energy_j"], car.slot_s * watts.sum(axis=0), rtol=1e-12)
    assert np.all(out["tx_slots"] == (out["num_prbs"] > 0).sum(axis=0))
    # power control never exceeds P_max (Sionna computes it to ~1e-8 dB)
    assert np.all(out["tx_power_dbm"][out["num_prbs"] > 0] <= cfg.phy.tx_power_dbm + 1e-6)


def test_one_mu_at_full_power_has_the_dedicated_rate_up_to_the_slot():
    # P0 high: power control is capped at P_max over the whole carrier, no interference
    cfg = config(*SHARED, "cell.p0_dbm=0")
    car = carrier(cfg)
    for snr, bits in ((3.0, 1e5), (20.0, 7e5)):
        out = schedule_uploads(np.array([bits]), np.array([snr]), car, cfg.cell, cfg.phy)
        slots = math.ceil(dedicated_airtime(cfg, bits, snr) / car.slot_s)
        assert out["num_slots"][0] == slots and out["tx_slots"][0] == slots
        assert out["mean_power_dbm"][0] == pytest.approx(cfg.phy.tx_power_dbm, abs=1e-6)
        assert out["mean_sinr_db"][0] == pytest.approx(
            snr - 10 * math.log10(cfg.phy.num_subcarriers * cfg.phy.scs_hz
                                  / cfg.phy.noise_bandwidth_hz), abs=1e-6)
        assert out["energy_j"][0] == pytest.approx(slots * car.slot_s * 10 ** -0.7, rel=1e-6)  # 23 dBm


def test_n_equal_mus_share_round_robin_equally_and_take_n_times_longer():
    cfg = config(*SHARED, "cell.p0_dbm=0")
    car = carrier(cfg)
    one = schedule_uploads(np.array([6e4]), np.array([10.0]), car, cfg.cell, cfg.phy)
    n = 3  # 6 PRBs: 2 each per slot at P_max, so more SNR per RE than alone
    out = schedule_uploads(np.full(n, 6e4), np.full(n, 10.0), car, cfg.cell, cfg.phy)
    assert np.allclose(out["prb_share"], 1 / n)
    assert np.all(out["airtime_s"] > one["airtime_s"][0])
    assert np.all(out["airtime_s"] < n * one["airtime_s"][0] + car.slot_s)


def test_mus_without_bits_hold_nothing():
    cfg = config(*SHARED)
    out = schedule_uploads(np.array([0.0, 2e4]), np.array([5.0, 5.0]), carrier(cfg), cfg.cell,
                           cfg.phy)
    assert out["airtime_s"][0] == 0 and out["energy_j"][0] == 0 and out["prb_share"][0] == 0
    assert np.isnan(out["mean_sinr_db"][0]) and out["prb_share"][1] == pytest.approx(1.0)


def test_long_uploads_are_granted_in_blocks_of_slots():
    cfg = config(*SHARED)
    out = schedule_uploads(np.full(4, 5.7e6), np.array([0.0, 5.0, 10.0, 20.0]), carrier(cfg),
                           cfg.cell, cfg.phy)
    assert out["grant_slots"] > 1 and out["owner"].shape[0] <= 3 * 2000
    assert np.all(out["airtime_s"] >= dedicated_airtime(cfg, 5.7e6, [0.0, 5.0, 10.0, 20.0]))
    assert 0.99 < out["prb_share"].sum() <= 1.0 + 1e-12


# -- selection ---------------------------------------------------------------------------------
SNRS = {0: 3.0, 1: 12.0, 2: -4.0, 3: 12.0, 4: 20.0, 5: 7.0}


def test_best_picks_the_k_highest_snrs_ties_to_the_lower_index():
    assert select_mus("best", 3, SNRS, seed=0, rnd=1) == [1, 3, 4]
    assert select_mus("best", 2, SNRS, seed=0, rnd=1) == [1, 4]
    assert select_mus("all", 0, SNRS, seed=0, rnd=1) == list(range(6))


def test_random_selects_k_seeded_by_run_and_round():
    a = select_mus("random", 3, SNRS, seed=7, rnd=2)
    assert len(a) == 3 == len(set(a)) and set(a) <= set(SNRS) and a == sorted(a)
    assert a == select_mus("random", 3, SNRS, seed=7, rnd=2)
    draws = {tuple(select_mus("random", 3, SNRS, seed=7, rnd=r)) for r in range(1, 30)}
    assert len(draws) > 5  # rounds draw anew
    counts = np.bincount([m for r in range(1, 601)
                          for m in select_mus("random", 2, SNRS, seed=1, rnd=r)], minlength=6)
    assert np.all(np.abs(counts / 600 - 2 / 6) < 0.06)  # uniform: every MU in 1/3 of rounds


def test_bias_by_hand():
    dist = {0: 100.0, 1: 50.0, 2: 300.0, 3: 60.0, 4: 20.0, 5: 80.0}
    b = selection_bias([1, 4], SNRS, dist)
    assert b["selected_snr_db"] == 16.0 and b["all_snr_db"] == pytest.approx(50 / 6)
    assert b["selection_snr_bias_db"] == pytest.approx(16.0 - 50 / 6)
    assert b["selected_distance_m"] == 35.0 and b["all_distance_m"] == pytest.approx(610 / 6)
    assert b["selection_distance_bias_m"] < 0 and b["selected"] == 2
    assert selection_bias(list(SNRS), SNRS, dist)["selection_snr_bias_db"] == 0.0


# -- refusals, before any training --------------------------------------------------------------
@pytest.mark.parametrize(("settings", "fix"), [
    (["data.num_mus=3", "federation.clients_per_round=4", "federation.selection=random"],
     "set federation.clients_per_round to at most 3"),
    (["federation.selection=best"], "set federation.clients_per_round"),
    (["federation.clients_per_round=2"], "set federation.selection = random or best"),
    (["federation.selection=greedy"], "'random', 'best'"),
    (["federation.uplink=wifi"], "'dedicated', 'shared'"),
    (["federation.uplink=shared"], "set federation.max_distance_m <= 115"),
    ([*SHARED, "cell.scenario=uma"], "set both to the same scenario"),
    ([*SHARED, "phy.num_subcarriers=70"], "multiple of 12"),
])
def test_bad_input_is_refused_in_one_line_naming_the_fix(settings, fix):
    with pytest.raises(ConfigError) as info:
        check_uplink(config(*settings))
    message = str(info.value)
    assert fix in message and "\n" not in message


def test_a_single_cell_may_hold_mus_anywhere():
    check_uplink(config("federation.uplink=shared", "cell.num_rings=0"))


# -- runs recorded before these keys existed ---------------------------------------------------
def test_a_configuration_recorded_without_the_new_keys_still_resumes(tmp_path):
    cfg = config("federation.rounds=3")
    now = cfg.to_dict()
    old = {s: {k: v for k, v in sec.items() if f"{s}.{k}" not in ADDED_KEYS}
           for s, sec in now.items() if s != "cell"}
    assert config_hash(old) == config_hash(now)
    RunLayout(tmp_path).check_config({"config": old, "config_hash": config_hash(old)}, now)
    # a key at another value than the one old runs were computed with is a change
    shared = config("federation.rounds=3", *SHARED).to_dict()
    assert config_hash(shared) != config_hash(now)
    with pytest.raises(Exception, match="federation.uplink"):
        RunLayout(tmp_path).check_config({"config": now, "config_hash": config_hash(now)},
                                         shared)
