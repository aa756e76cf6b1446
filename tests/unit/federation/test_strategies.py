"""psfl.federation.strategies: the registry's capabilities, each strategy's instructions and
aggregation, FedAdam's server step on numbers checked by hand, its state across a checkpoint,
and a strategy added by a test that the configuration and the bare loop take without an edit.
No TensorFlow: models are tiny NumPy lists, MUs are stand-ins."""

from __future__ import annotations

import numpy as np
import pytest

from psfl.config import ConfigError, load_config
from psfl.federation.channels import RoundChannel
from psfl.federation.checkpoint import RunLayout
from psfl.federation.strategies import STRATEGIES, Aggregated, Instruction, Reply, Strategy
from psfl.federation.strategies.fedadam import FedAdam, server_adam
from psfl.federation.strategies.fedavg import FedAvg
from psfl.federation.strategies.fedprox import FedProx

#: Before strategies were classes, a table of flags held them; their capabilities must stay so.
#: name: (uses_pld, uses_agp, objective, aggregates)
TABLE = {
    "psfl": (True, True, "pld", True),
    "psfl-no-pld": (False, True, "mse", True),
    "psfl-no-agp": (True, False, "pld", True),
    "fedavg-csc": (False, False, "mse", True),
    "fedprox-csc": (False, False, "prox", True),
    "local-only": (False, False, "mse", False),
}

#: A tiny student: one prunable kernel and one bias.
WEIGHTS = [np.array([[1.0, -2.0], [0.5, 3.0]], np.float32), np.array([0.25, -0.5], np.float32)]
CHANNELS = {0: RoundChannel(snr_db=10.0, downlink_snr_db=-5.0, los=False, shadow_db=0.0),
            1: RoundChannel(snr_db=20.0, downlink_snr_db=40.0, los=True, shadow_db=0.0)}


def config(*extra: str):
    return load_config(None, list(extra))


def build(name: str, *extra: str) -> Strategy:
    return STRATEGIES.build(name, config(f"federation.strategy={name}", *extra))


def dense_energy_j(snr_db: float) -> float:
    """Downlink energy of the dense :data:`WEIGHTS` at ``snr_db`` (default configuration)."""
    from psfl.federation.agp import model_bits
    from psfl.federation.channels import transfer_energy

    cfg = config()
    return transfer_energy(cfg.phy, cfg.federation.bs_tx_power_dbm, snr_db)(model_bits(WEIGHTS))


def test_capabilities_equal_the_table_and_the_order_is_kept():
    names = STRATEGIES.names()
    assert names[:6] == tuple(TABLE) and "fedadam-csc" in names
    for name, (pld, agp, objective, aggregates) in TABLE.items():
        cls = STRATEGIES.cls(name)
        assert (cls.uses_pld, cls.uses_agp, cls.objective, cls.aggregates) == (
            pld, agp, objective, aggregates), name
    adam = STRATEGIES.cls("fedadam-csc")
    assert (adam.uses_pld, adam.uses_agp, adam.objective, adam.aggregates) == (
        False, False, "mse", True)
    assert adam.server_state == ("m", "v") and not adam.in_default_study
    assert STRATEGIES.names(in_default_study=True) == tuple(TABLE)
    for name in names:  # the MU trains a mentor exactly for the objective pld
        cls = STRATEGIES.cls(name)
        assert cls.uses_pld == (cls.objective == "pld"), name
    with pytest.raises(ValueError, match=r"unknown strategy 'fedsgd'; choose one of psfl, "
                                         r".*\(federation.strategy \(--strategy\)\)"):
        STRATEGIES.get("fedsgd")


def test_fedprox_is_fedavg_with_another_objective_only():
    assert issubclass(FedProx, FedAvg)
    assert {k for k in vars(FedProx) if not k.startswith("_")} == {"objective"}


@pytest.mark.parametrize("name", list(TABLE) + ["fedadam-csc"])
def test_instructions_follow_the_capabilities(name):
    # a budget that fits the dense model on MU 1's good downlink and nothing on MU 0's
    budget = 1.5 * dense_energy_j(CHANNELS[1].downlink_snr_db)
    assert 0.1 * dense_energy_j(CHANNELS[0].downlink_snr_db) > budget
    strategy = build(name, f"federation.agp_energy_budget_j={budget!r}")
    cls = type(strategy)
    plan = strategy.configure_train(3, WEIGHTS, CHANNELS)
    assert list(plan) == [0, 1]
    for mu, ins in plan.items():
        assert ins.config["round"] == 3 and ins.config["snr_db"] == CHANNELS[mu].snr_db
        assert ins.config["objective"] == cls.objective
        if not cls.aggregates:
            assert ins.arrays is None
            continue
        assert len(ins.arrays) == 2
        np.testing.assert_array_equal(ins.arrays[1], WEIGHTS[1])  # biases are never pruned
    bad, good = plan[0], plan[1]
    if cls.uses_agp:
        assert bad.masks is not None and bad.config["pruned"] and bad.ratio > 0
        assert np.count_nonzero(bad.arrays[0]) < WEIGHTS[0].size
    else:
        assert bad.masks is None and bad.ratio == 0.0 and not bad.config["pruned"]
    assert good.masks is None
    final = strategy.configure_evaluate(4, WEIGHTS, CHANNELS)
    for ins in final.values():
        assert (ins.arrays is None) == (not cls.aggregates) and ins.config["round"] == 4


def _replies(*models, samples=(1.0, 3.0)):
    return {mu: Reply([np.asarray(a, np.float32) for a in m], n)
            for mu, (m, n) in enumerate(zip(models, samples, strict=True))}


def _plan():
    return {mu: Instruction(list(WEIGHTS), {}) for mu in (0, 1)}


def test_fedavg_averages_by_data_size_and_rejects_bad_updates():
    strategy = build("fedavg-csc")
    a = [w + 1.0 for w in WEIGHTS]
    b = [w - 1.0 for w in WEIGHTS]
    out = strategy.aggregate_train(1, WEIGHTS, {}, _plan(), _replies(a, b))
    assert out.status == {0: "ok", 1: "ok"} and out.accepted == 2 and out.state == {}
    for new, w in zip(out.arrays, WEIGHTS, strict=True):  # (1·(w+1) + 3·(w−1)) / 4 = w − 0.5
        np.testing.assert_allclose(new, w - 0.5, rtol=1e-6)
    nan = [np.full_like(w, np.nan) for w in WEIGHTS]
    out = strategy.aggregate_train(1, WEIGHTS, {}, _plan(), _replies(a, nan))
    assert out.status[1].startswith("rejected") and "NaN" in out.status[1]
    np.testing.assert_allclose(out.arrays[0], WEIGHTS[0] + 1.0)
    lines = []
    strategy.log = lines.append
    out = strategy.aggregate_train(2, WEIGHTS, {}, _plan(), {0: Reply(None, 1.0)})
    assert out.status == {0: "rejected: no model"} and out.arrays is WEIGHTS
    assert lines == ["round 2: no valid update; the global model is unchanged"]


def test_local_only_combines_nothing():
    strategy = build("local-only")
    out = strategy.aggregate_train(1, WEIGHTS, {}, {}, {0: Reply(None, 5.0)})
    assert out == Aggregated(WEIGHTS, {}, {0: "ok"}, 0)


# -- FedAdam ------------------------------------------------------------------------------------

def test_server_adam_two_steps_by_hand():
    """η = 0.01, β1 = 0.9, β2 = 0.99, τ = 1e-3 on x = ([1, −2], [[0.5]]).

    Step 1, Δ = ([0.1, −0.2], [[0]]): m = 0.1·Δ = [0.01, −0.02]; v = 0.01·Δ² = [1e-4, 4e-4];
    √v = [0.01, 0.02]; x += 0.01·m/(√v + 0.001) = [+0.01·0.01/0.011, −0.01·0.02/0.021]
    = [+0.00909091, −0.00952381]; the zero entry stays (m = v = 0).
    Step 2, Δ = ([0.1, 0], [[0.3]]): m = 0.9·[0.01, −0.02] + 0.1·[0.1, 0] = [0.019, −0.018];
    v = 0.99·[1e-4, 4e-4] + 0.01·[0.01, 0] = [1.99e-4, 3.96e-4]; √v = [0.0141067, 0.0198997];
    x += 0.01·[0.019/0.0151067, −0.018/0.0208997] = [+0.0125773, −0.0086126].
    Second tensor: m = 0.03, v = 0.0009, √v = 0.03: x += 0.01·0.03/0.031 = +0.0096774.
    """
    hp = {"lr": 0.01, "beta1": 0.9, "beta2": 0.99, "tau": 1e-3}
    x = [np.array([1.0, -2.0], np.float32), np.array([[0.5]], np.float32)]
    x1, m1, v1 = server_adam(x, [np.array([0.1, -0.2]), np.array([[0.0]])], None, None, **hp)
    np.testing.assert_allclose(m1[0], [0.01, -0.02], rtol=1e-6)
    np.testing.assert_allclose(v1[0], [1e-4, 4e-4], rtol=1e-6)
    np.testing.assert_allclose(x1[0], [1.00909091, -2.00952381], rtol=1e-6)
    assert x1[1][0, 0] == np.float32(0.5) and m1[1][0, 0] == 0 and v1[1][0, 0] == 0
    x2, m2, v2 = server_adam(x1, [np.array([0.1, 0.0]), np.array([[0.3]])], m1, v1, **hp)
    np.testing.assert_allclose(m2[0], [0.019, -0.018], rtol=1e-6)
    np.testing.assert_allclose(v2[0], [1.99e-4, 3.96e-4], rtol=1e-6)
    np.testing.assert_allclose(x2[0], [1.00909091 + 0.0125773, -2.00952381 - 0.0086126],
                               rtol=1e-6)
    np.testing.assert_allclose(m2[1], [[0.03]], rtol=1e-6)
    np.testing.assert_allclose(v2[1], [[0.0009]], rtol=1e-6)
    np.testing.assert_allclose(x2[1], [[0.5096774]], rtol=1e-6)
    assert x2[0].dtype == np.float32 and m2[0].dtype == v2[0].dtype == np.float32


def test_fedadam_steps_on_the_weighted_mean_update():
    """Two MUs with 1 and 3 samples send x + 0.4 and x − 0.4: Δ = (0.4 − 3·0.4)/4 = −0.2 on every
    entry; first step x − 0.01·0.02/(0.02 + 0.001) (m = −0.02, √v = 0.02)."""
    strategy = build("fedadam-csc")
    assert isinstance(strategy, FedAdam)
    up = [w + 0.4 for w in WEIGHTS]
    down = [w - 0.4 for w in WEIGHTS]
    out = strategy.aggregate_train(1, WEIGHTS, {}, _plan(), _replies(up, down))
    assert out.accepted == 2 and set(out.state) == {"m", "v"}
    for m, v, new, w in zip(out.state["m"], out.state["v"], out.arrays, WEIGHTS, strict=True):
        np.testing.assert_allclose(m, -0.02, rtol=1e-5)
        np.testing.assert_allclose(v, 0.0004, rtol=1e-5)
        np.testing.assert_allclose(new, w - 0.01 * 0.02 / 0.021, rtol=1e-6)
    # no valid update: model and moments as they were
    again = strategy.aggregate_train(2, out.arrays, out.state, _plan(), {0: Reply(None, 1.0)})
    assert again.arrays is out.arrays and again.state is out.state and again.accepted == 0


def test_fedadam_keys_are_checked():
    cfg = config("federation.strategy=fedadam-csc", "federation.server_learning_rate=0.1",
                 "federation.server_tau=1e-6")
    assert cfg.federation.server_learning_rate == 0.1 and cfg.federation.server_tau == 1e-6
    with pytest.raises(ConfigError, match=r"federation.server_beta2: 1.0 is out of range; "
                                          r"allowed \[0.0, 0.9999\]"):
        config("federation.server_beta2=1.0")
    with pytest.raises(ConfigError, match="federation.server_learning_rate: 0.0 is out of range"):
        config("federation.server_learning_rate=0")


class _Tiny:
    """A stand-in MU: moves every weight by ``+step`` (MU 0) or ``−2·step`` (MU 1)."""

    def __init__(self, config, mu, state_dir):
        self.mu, self.step = mu, (0.1 if mu == 0 else -0.2)

    def register(self):
        return {"mu": self.mu, "distance_m": 50.0 + 10 * self.mu, "num_samples": 10}

    def train(self, arrays, cfg):
        return [a + self.step for a in arrays], {"num_samples": 10, "personal_psnr": 20.0}

    def evaluate(self, arrays, cfg):
        return {"global_psnr": 20.0, "own_psnr": 21.0}


@pytest.fixture
def tiny_weights(monkeypatch):
    """Every BS starts from :data:`WEIGHTS` and the bare loop's MUs are :class:`_Tiny`."""
    monkeypatch.setattr("psfl.federation.roles.base_station.initial_weights",
                        lambda config: [w.copy() for w in WEIGHTS])
    monkeypatch.setattr("psfl.federation.loop.MobileUserClient", _Tiny)


def test_fedadam_state_survives_a_checkpoint_and_the_run_continues_exactly(tmp_path,
                                                                           tiny_weights):
    from psfl.federation.loop import run_loop
    from psfl.federation.roles import BaseStation

    base = ["federation.strategy=fedadam-csc", "data.num_mus=2"]
    straight = run_loop(config(*base, "federation.rounds=3"), tmp_path / "a", log=lambda m: None)
    run_loop(config(*base, "federation.rounds=2"), tmp_path / "b", log=lambda m: None)
    saved = RunLayout(tmp_path / "b").load_round()
    assert set(saved.server) == {"m", "v"} and saved.state["completed_rounds"] == 2
    bs = BaseStation(config(*base, "federation.rounds=3"), tmp_path / "b", lambda m: None)
    assert bs.restore() == 2
    for name in ("m", "v"):
        for a, b in zip(bs.server_state[name], saved.server[name], strict=True):
            assert a.dtype == np.float32 and np.array_equal(a, b)
    resumed = run_loop(config(*base, "federation.rounds=3"), tmp_path / "b", log=lambda m: None)
    assert resumed.completed == 3
    for a, b in zip(resumed.dense, straight.dense, strict=True):
        assert np.array_equal(a, b)  # the resumed run took the step the straight one took
    for name in ("m", "v"):
        for a, b in zip(resumed.server_state[name], straight.server_state[name], strict=True):
            assert np.array_equal(a, b)
    # the moments moved: Δ = (0.1 − 0.2)/2 = −0.05 each round
    np.testing.assert_allclose(straight.server_state["m"][1], -0.05 * (1 - 0.9 ** 3), rtol=1e-5)


# -- a strategy added by a test -----------------------------------------------------------------

@pytest.fixture
def half_step():
    """``half-step``: FedAvg that moves only halfway to the mean; removed afterwards."""

    @STRATEGIES.register("half-step", order=999)
    class HalfStep(FedAvg):
        def aggregate_train(self, server_round, arrays, state, plan, replies):
            out = super().aggregate_train(server_round, arrays, state, plan, replies)
            half = [0.5 * (a + b) for a, b in zip(arrays, out.arrays, strict=True)]
            return Aggregated(half, state, out.status, out.accepted)

    yield HalfStep
    STRATEGIES._entries.pop("half-step")


def test_a_new_strategy_needs_no_other_edit(tmp_path, half_step, tiny_weights):
    from psfl.federation.loop import run_loop

    cfg = config("federation.strategy=half-step", "data.num_mus=2", "federation.rounds=2")
    assert cfg.federation.strategy == "half-step"
    assert "half-step" in STRATEGIES.names()
    bs = run_loop(cfg, tmp_path, log=lambda m: None)
    assert isinstance(bs.strategy, half_step) and bs.completed == 2
    # mean step (0.1 − 0.2)/2 = −0.05, half of it per round, two rounds: −0.05
    for new, w in zip(bs.dense, WEIGHTS, strict=True):
        np.testing.assert_allclose(new, w - 0.05, rtol=1e-5)
    assert len(bs.final_rows) == 2 and bs.final_rows[0]["global_psnr"] == 20.0


def test_a_removed_strategy_is_refused_again():
    with pytest.raises(ConfigError, match="federation.strategy: unknown strategy 'half-step'"):
        config("federation.strategy=half-step")
