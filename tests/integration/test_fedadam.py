"""FedAdam (``fedadam-csc``) end to end: two rounds in the bare loop and in Flower's simulation,
each resumed after its first round with the server moments from the checkpoint. Tiny settings as
in tests/integration/test_federation_run.py."""

from __future__ import annotations

import numpy as np

from psfl.federation.checkpoint import RunLayout
from psfl.federation.loop import run_loop
from tests.integration.test_federation_run import cfg

FEDADAM = ("federation.strategy=fedadam-csc", "federation.local_steps=6",
           "federation.server_learning_rate=0.01")


def _moments(path):
    saved = RunLayout(path).load_round()
    return saved.state["completed_rounds"], saved.server


def test_fedadam_in_the_loop_resumes_exactly(tmp_path):
    straight = run_loop(cfg(*FEDADAM, "federation.rounds=2"), tmp_path / "straight",
                        log=lambda m: None)
    assert straight.completed == 2 and all(r["status"] == "ok" for r in straight.mu_rows)
    assert [r["accepted"] for r in straight.round_rows] == [2, 2]

    first = run_loop(cfg(*FEDADAM, "federation.rounds=1"), tmp_path / "parts",
                     log=lambda m: None)
    done, server = _moments(tmp_path / "parts")
    assert done == 1 and set(server) == {"m", "v"}
    for m, v, w in zip(server["m"], server["v"], first.dense, strict=True):
        assert m.shape == v.shape == w.shape and np.all(v >= 0) and np.all(np.isfinite(m))
    resumed = run_loop(cfg(*FEDADAM, "federation.rounds=2"), tmp_path / "parts",
                       log=lambda m: None)
    assert resumed.completed == 2 and resumed.mu_rows[:2] == first.mu_rows
    # the resumed run took the step the straight one took: same model, same moments
    for a, b in zip(resumed.dense, straight.dense, strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-6)
    for name in ("m", "v"):
        for a, b in zip(resumed.server_state[name], straight.server_state[name], strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-12)
    assert len(resumed.final_rows) == 2 and all("global_psnr" in r for r in resumed.final_rows)


def test_fedadam_in_flower_resumes_with_its_moments(tmp_path):
    from psfl.federation.apps import run_flower_simulation

    out = tmp_path / "flower"
    first = run_flower_simulation(cfg(*FEDADAM, "federation.rounds=1"), out, log=lambda m: None)
    assert first.completed == 1
    _, after_one = _moments(out)
    bs = run_flower_simulation(cfg(*FEDADAM, "federation.rounds=2"), out, log=lambda m: None)
    assert bs.completed == 2 and [r["round"] for r in bs.round_rows] == [1, 2]
    assert bs.mu_rows[:2] == first.mu_rows and all(r["status"] == "ok" for r in bs.mu_rows)
    assert len(bs.final_rows) == 2 and all("global_psnr" in r for r in bs.final_rows)
    done, after_two = _moments(out)
    assert done == 2
    # round 2 started from round 1's moments: m_2 = β1·m_1 + (1 − β1)·Δ_2 with |Δ_2| ≥ 0, so
    # where Δ_2 = 0 the moment decayed by exactly β1, and nowhere did it restart from zero
    for m1, m2 in zip(after_one["m"], after_two["m"], strict=True):
        assert not np.array_equal(m1, m2)
    for v1, v2 in zip(after_one["v"], after_two["v"], strict=True):
        assert np.all(v2 >= 0.99 * v1 * (1 - 1e-6))
