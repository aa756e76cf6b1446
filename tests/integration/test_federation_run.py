"""Federated runs end to end (bare loop and Flower simulation): learning, AGP, accounting,
crash safety and faulty MUs. Tiny settings: 2 MUs, few rounds, few steps."""

import csv
import math

import numpy as np
import pytest

from psfl.config import load_config
from psfl.federation.agp import model_bits
from psfl.federation.checkpoint import RunLayout
from psfl.federation.loop import run_loop
from psfl.federation.roles import BaseStation, MobileUserClient
from psfl.phy import dbm_to_w, model_transfer_energy_j
from psfl.results import RunDir
from tests.fakes import GSC_S_ONLY
from tests.figures import assert_figures

BASE = ["data.max_train=240", "data.max_test=48", "data.num_mus=2", "federation.eval_images=32",
        "semantic.batch_size=16", "federation.learning_rate=0.002", "federation.local_steps=30",
        "federation.mentor_steps=10", "federation.rounds=3", "federation.backend=loop",
        "federation.init=scratch"]


def cfg(*extra):
    return load_config(None, BASE + list(extra))


def read_csv(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def test_fedavg_learns_and_accounts(tmp_path):
    config = cfg("federation.strategy=fedavg-csc")
    bs = run_loop(config, tmp_path, log=lambda m: None)
    rows = bs.round_rows
    assert [r["round"] for r in rows] == [1, 2, 3]
    # the global model evaluated as received: round 1 is the initial model
    final = np.mean([r["global_psnr"] for r in bs.final_rows])
    assert final > rows[0]["received_global_psnr"] + 1.5
    assert all(r["status"] == "ok" for r in bs.mu_rows)
    dense_bits = model_bits(bs.dense)
    bw = config.phy.noise_bandwidth_hz
    for r in bs.mu_rows:
        assert r["prune_ratio"] == 0.0
        assert r["bits_down"] == dense_bits and r["bits_up"] == dense_bits
        expect = model_transfer_energy_j(dense_bits, dbm_to_w(config.federation.bs_tx_power_dbm),
                                         bw, r["downlink_snr_db"])
        assert math.isclose(r["energy_down_j"], expect, rel_tol=1e-9)
        assert math.isclose(r["airtime_up_s"], dense_bits / (bw * math.log2(1 + 10 ** (
            r["snr_db"] / 10))), rel_tol=1e-9)
        assert r["compute_energy_j"] > 0 and r["loss_last"] < r["loss_first"] + 0.05
    # the report
    from psfl.federation.report import write_report

    summary = write_report(bs, RunDir(tmp_path / "report"))
    for name in ("rounds.csv", "mu_rounds.csv", "final.csv"):
        assert (tmp_path / "report" / name).is_file(), name
    assert_figures(tmp_path / "report", "psnr_vs_round", "energy_vs_round", "quality_vs_energy",
                   "prune_vs_snr")
    assert summary["rounds"] == 3 and summary["final_global_psnr"] == pytest.approx(final)


def test_gsc_s_only_leaves_every_mu_the_gsc_s_mentor():
    """tests.fakes.GSC_S_ONLY, which several federation tests use, does what it says with the
    real presets' costs at the batch sizes those tests use."""
    from psfl.federation.mentor import select_mentor
    from psfl.federation.population import MobileUser
    from psfl.semantic.models import cost_table

    costs = [c for c in cost_table(32) if c["name"].startswith("gsc")]
    memory_mb = load_config(None, [GSC_S_ONLY]).federation.memory_mb
    mu = MobileUser(mu=0, distance_m=50.0, memory_bytes=memory_mb[0] * 2**20,
                    compute_flops=1e15, num_samples=100)
    assert memory_mb == (24.0,)
    for batch_size in (4, 8, 16):
        choice = select_mentor(costs, mu, batch_size=batch_size, steps=20)
        assert choice["name"] == "gsc-s" and choice["fits"], (batch_size, choice)


def test_psfl_prunes_by_channel_and_resumes_after_a_crash(tmp_path, monkeypatch):
    # a budget that fits the dense model only on good channels
    # (AGP and PLD's bookkeeping are checked here, not learning: a few steps suffice)
    config = cfg("federation.strategy=psfl", "federation.agp_energy_budget_j=3.0",
                 "federation.local_steps=6", "federation.mentor_steps=3",
                 GSC_S_ONLY)
    real_train = MobileUserClient.train

    def crash_in_round_3(self, arrays, c):
        if c["round"] == 3 and self.mu == 1:
            raise KeyboardInterrupt  # the process dies mid-round
        return real_train(self, arrays, c)

    monkeypatch.setattr(MobileUserClient, "train", crash_in_round_3)
    with pytest.raises(KeyboardInterrupt):
        run_loop(config, tmp_path, log=lambda m: None)
    layout = RunLayout(tmp_path)
    state = layout.load()[1]
    assert state["completed_rounds"] == 2
    before = state["mu_rows"]
    assert layout.mu(0).rounds("mentor") == [2, 3]  # MU 0 had finished its part of round 3
    assert layout.mu(0).before("mentor", 3).name == "mentor-r00002.weights.h5"
    assert len(read_csv(layout.rounds_csv)) == 2  # the series of finished rounds, before the end

    monkeypatch.setattr(MobileUserClient, "train", real_train)
    bs = run_loop(config, tmp_path, log=lambda m: None)
    assert bs.completed == 3 and [r["round"] for r in bs.round_rows] == [1, 2, 3]
    assert bs.mu_rows[:len(before)] == before  # finished rounds are kept as they were
    assert len(bs.mu_rows) == 6 and len(bs.final_rows) == 2

    # AGP: worse downlink → higher ratio, fewer bits, within budget when the ratio is below max
    rows = bs.mu_rows
    dense_bits = model_bits(bs.dense)
    assert any(r["prune_ratio"] > 0 for r in rows)
    for r in rows:
        if r["prune_ratio"] > 0:
            assert r["bits_down"] < dense_bits and r["bits_up"] < dense_bits
        if r["prune_ratio"] < config.federation.agp_max_ratio:
            assert r["energy_down_j"] <= 3.0
    by_snr = sorted(rows, key=lambda r: r["downlink_snr_db"])
    assert by_snr[0]["prune_ratio"] >= by_snr[-1]["prune_ratio"]
    # PLD: each MU trained a mentor chosen from its resources
    assert all(r["mentor"] == "gsc-s" for r in rows)
    assert all(np.isfinite(r["mentor_loss_last"]) for r in rows)
    assert all(r["distilled"] in (0, 1) and np.isfinite(r["mentor_gain_db"]) for r in rows)


def test_faulty_mus_do_not_stop_the_round(tmp_path, monkeypatch):
    config = cfg("federation.strategy=fedavg-csc", "federation.rounds=2")
    real_train = MobileUserClient.train

    def faulty(self, arrays, c):
        out, metrics = real_train(self, arrays, c)
        if self.mu == 0 and c["round"] == 1:
            out = [np.full_like(a, np.nan) for a in out]
        if self.mu == 0 and c["round"] == 2:
            out = out[:-1]  # a tensor missing
        if self.mu == 1 and c["round"] == 2:
            raise RuntimeError("MU 1 ran out of memory")
        return out, metrics

    monkeypatch.setattr(MobileUserClient, "train", faulty)
    messages = []
    bs = BaseStation(config, tmp_path, messages.append)
    bs.register([MobileUserClient(config, mu, tmp_path / "s").register() for mu in range(2)])
    monkeypatch.setattr("psfl.federation.loop.BaseStation", lambda *a, **k: bs)
    bs2 = run_loop(config, tmp_path, log=messages.append)
    assert bs2 is bs and bs.completed == 2
    status = {(r["round"], r["mu"]): r["status"] for r in bs.mu_rows}
    assert status[(1, 0)].startswith("rejected") and "NaN" in status[(1, 0)]
    assert status[(1, 1)] == "ok"
    assert status[(2, 0)].startswith("rejected") and "tensors" in status[(2, 0)]
    assert status[(2, 1)].startswith("failed") and "out of memory" in status[(2, 1)]
    assert any("MU 0 rejected" in m for m in messages)
    assert any("no valid update" in m for m in messages)
    assert all(np.all(np.isfinite(w)) for w in bs.dense)
    assert bs.round_rows[0]["accepted"] == 1 and bs.round_rows[1]["accepted"] == 0


def test_resume_refuses_another_strategy(tmp_path):
    config = cfg("federation.strategy=fedavg-csc", "federation.rounds=1",
                 "federation.local_steps=1")
    run_loop(config, tmp_path, log=lambda m: None)
    other = cfg("federation.strategy=local-only", "federation.rounds=1")
    with pytest.raises(ValueError, match="federation.strategy 'fedavg-csc' → 'local-only'"):
        BaseStation(other, tmp_path).restore()


def test_flower_simulation_matches_the_loop(tmp_path, capfd):
    """The same configuration through Flower's simulation (ServerApp/ClientApp messages) and the
    bare loop: same population, channels and pruning, both learn. Flower's engine is reached
    without its deprecated entry point (flwr 1.42 prints a warning for `run_simulation`), and
    neither Flower's INFO block nor Ray's start-up lines are printed."""
    from psfl.federation.apps import run_flower_simulation

    config = cfg("federation.strategy=psfl-no-pld", "federation.rounds=1",
                 "federation.local_steps=8", "federation.agp_energy_budget_j=2.0")
    from psfl.seeding import set_seed

    set_seed(0)  # the BS's initial student, hence AGP's masks, must be the same in both runs
    flower = run_flower_simulation(config, tmp_path / "flower", log=lambda m: None)
    flower_output = capfd.readouterr()
    printed = flower_output.err + flower_output.out
    assert "DEPRECATED" not in printed
    for noise in ("Final results", "[ROUND", "Started a local Ray instance", "FutureWarning"):
        assert noise not in printed, noise
    set_seed(0)
    loop = run_loop(config, tmp_path / "loop", log=lambda m: None)
    assert flower.completed == loop.completed == 1
    assert len(flower.final_rows) == 2 and all("global_psnr" in r for r in flower.final_rows)
    for f, g in zip(flower.mu_rows, loop.mu_rows):
        assert f["status"] == g["status"] == "ok"
        for key in ("distance_m", "snr_db", "prune_ratio", "bits_down", "num_samples"):
            assert f[key] == pytest.approx(g[key]), key
    assert RunLayout(tmp_path / "flower").completed_rounds() == 1


def test_mu_that_times_out_is_counted_and_the_round_goes_on(tmp_path):
    """Flower returns only the replies that arrived before `round_timeout_s`; the BS aggregates
    those and marks the silent MU as failed."""
    config = cfg("federation.strategy=fedavg-csc")
    messages = []
    bs = BaseStation(config, tmp_path, messages.append)
    bs.register([{"mu": 0, "distance_m": 50.0, "num_samples": 10},
                 {"mu": 1, "distance_m": 90.0, "num_samples": 30}])
    plan = bs.plan_round(1)
    before = [w.copy() for w in bs.dense]
    update = [w + 1.0 for w in plan.payloads[0][0]]
    summary = bs.finish_round(plan, {0: (update, {"num_samples": 10})})  # MU 1 never answered
    assert summary["accepted"] == 1 and summary["failed"] == 1
    status = {r["mu"]: r["status"] for r in bs.mu_rows}
    assert status[0] == "ok" and "no reply before the round timeout" in status[1]
    assert any("MU 1 failed" in m for m in messages)
    for new, old in zip(bs.dense, before):
        np.testing.assert_allclose(new, old + 1.0, rtol=1e-6)  # only MU 0's update counts
    assert RunLayout(tmp_path).completed_rounds() == 1


def test_pretrained_start_beats_scratch_after_one_round(tmp_path):
    """federation.init = pretrained: the BS starts from the shipped student, mentors from the
    shipped presets; after one round it is far above a run from a fresh initialization."""
    from psfl.federation.models import initial_weights
    from psfl.semantic.zoo import load_pretrained

    common = ["federation.strategy=fedavg-csc", "federation.rounds=1", "federation.local_steps=10"]
    runs = {}
    for init in ("pretrained", "scratch"):
        config = cfg(*common, f"federation.init={init}")
        bs = run_loop(config, tmp_path / init, log=lambda m: None)
        runs[init] = np.mean([r["global_psnr"] for r in bs.final_rows])
    assert runs["pretrained"] > runs["scratch"] + 3.0, runs
    config = cfg()
    shipped = load_pretrained("pretrained:gsc-s", "rayleigh").get_weights()
    start = initial_weights(config.replace("federation", init="pretrained"), "gsc-s")
    assert all(np.array_equal(a, b) for a, b in zip(shipped, start, strict=True))
    with pytest.raises(ValueError, match="federation.init=scratch"):
        initial_weights(config.replace("federation", init="pretrained")
                        .replace("data", patch_size=16))
