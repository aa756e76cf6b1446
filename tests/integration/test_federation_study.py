"""The study's statistics on numbers checked by hand, and its command's bad input."""

import math

import pytest

from psfl.federation.study import (
    energy_to_reach,
    finding,
    findings,
    mean_ci,
    paired_ci,
    quality_at_energy,
    summarize_runs,
)
from tests.fakes import GSC_S_ONLY
from tests.figures import assert_figures


def test_mean_ci_student_t_by_hand():
    ci = mean_ci([1.0, 2.0, 3.0])
    # s = 1, t_{0.975, 2} = 4.302653; half = 4.302653 / sqrt(3)
    assert ci["mean"] == 2.0 and ci["n"] == 3
    assert ci["half"] == pytest.approx(4.302653 / math.sqrt(3), rel=1e-6)
    assert ci["lo"] == pytest.approx(2.0 - ci["half"]) and ci["hi"] == pytest.approx(2 + ci["half"])
    ci = mean_ci([10.0, 12.0, 14.0, 16.0])  # s = 2.5820, t_{0.975, 3} = 3.182446
    assert ci["half"] == pytest.approx(3.182446 * 2.5819889 / 2, rel=1e-6)
    one = mean_ci([5.0])
    assert one["mean"] == 5.0 and math.isnan(one["half"])
    assert mean_ci([None, float("nan")])["n"] == 0


def test_paired_ci_uses_common_seeds_only():
    ci = paired_ci({0: 3.0, 1: 5.0, 2: 4.0, 7: 100.0}, {0: 1.0, 1: 2.0, 2: 3.0})
    assert ci["n"] == 3 and ci["mean"] == pytest.approx(2.0)  # differences 2, 3, 1


def test_energy_to_reach_and_verdicts():
    assert energy_to_reach([20, 23, 25], [1.0, 2.0, 3.0], 23.0) == 2.0
    assert energy_to_reach([20, 21, 22], [1.0, 2.0, 3.0], 23.0) == 3.0  # never: the total
    assert finding({"lo": 0.1, "hi": 0.5, "half": 0.2}, +1) == "confirmed"
    assert finding({"lo": -0.1, "hi": 0.5, "half": 0.3}, +1) == "not confirmed"
    assert finding({"lo": -0.5, "hi": -0.1, "half": 0.2}, +1) == "contradicted"
    assert finding({"lo": -0.5, "hi": -0.1, "half": 0.2}, -1) == "confirmed"
    assert finding({"lo": 1, "hi": 1, "half": float("nan")}, +1).startswith("not confirmed")


def test_quality_at_equal_energy():
    assert quality_at_energy([20, 24, 26], [1.0, 3.0, 4.0], 2.0) == pytest.approx(22.0)
    assert quality_at_energy([20, 24, 26], [1.0, 3.0, 4.0], 9.0) == 26.0  # held at the end
    # psfl spends 8 J in all, fedavg 10 J: both are read at 8 J (fedavg between its rounds)
    runs = {}
    for s, (qa, qb) in enumerate([(27.0, 26.0), (27.5, 26.0), (26.0, 25.5)]):
        runs[("psfl", s)] = {"quality": [24.0, qa], "cum_energy": [4.0, 8.0],
                             "cum_bits": [1.0, 2.0], "final_global_psnr": qa}
        runs[("fedavg-csc", s)] = {"quality": [24.0, 25.0, qb], "cum_energy": [5.0, 10.0, 15.0],
                                   "cum_bits": [1.0, 2.0, 3.0], "final_global_psnr": qb}
    rows = [r for r in findings(runs, ["psfl", "fedavg-csc"], [0, 1, 2])
            if r["measure"].startswith("global PSNR at equal")]
    assert len(rows) == 1 and rows[0]["n"] == 3 and rows[0]["unit"] == "dB"
    # fedavg at 8 J: 24 + (8-5)/5 * 1 = 24.6 dB; differences 2.4, 2.9, 1.4
    assert rows[0]["mean"] == pytest.approx((2.4 + 2.9 + 1.4) / 3)
    assert rows[0]["verdict"] == "confirmed"


def test_summarize_runs_table():
    runs = {("a", s): {"final_global_psnr": v, "bits": 10.0} for s, v in enumerate([1.0, 2, 3])}
    runs[("b", 0)] = {"final_global_psnr": 7.0}
    rows = summarize_runs(runs)
    assert [r["strategy"] for r in rows] == ["a", "b"]
    assert rows[0]["final_global_psnr"] == 2.0 and rows[0]["seeds"] == 3
    assert rows[0]["final_global_psnr_ci95"] == pytest.approx(4.302653 / math.sqrt(3), rel=1e-6)
    assert math.isnan(rows[1]["final_global_psnr_ci95"]) and math.isnan(rows[1]["bits"])


def test_study_bad_input(tmp_path, capsys):
    from psfl.cli import main

    assert main(["study", "--out", str(tmp_path / "a"), "--strategies", "psfl,fedsgd"]) == 2
    assert "unknown fedsgd" in capsys.readouterr().err
    assert main(["study", "--out", str(tmp_path / "b"), "--seeds", "0"]) == 2
    assert "--seeds 0" in capsys.readouterr().err


def test_study_strategies_come_from_the_registry():
    """The default arms are the paper's six (registry order); any registered strategy, fedadam-csc
    included, may be asked for; finding 2 compares PSFL with every plain federated baseline."""
    from psfl.commands.study import _strategies
    from psfl.federation.study import plain_federated

    six = ["psfl", "psfl-no-pld", "psfl-no-agp", "fedavg-csc", "fedprox-csc", "local-only"]
    assert _strategies(None) == six
    assert _strategies("psfl, fedadam-csc") == ["psfl", "fedadam-csc"]
    assert plain_federated(["fedadam-csc", "local-only", "psfl", "fedavg-csc"]) == [
        "fedavg-csc", "fedadam-csc"]
    with pytest.raises(ValueError, match="choose from psfl, .*, fedadam-csc"):
        _strategies("fedsgd")


def test_study_end_to_end_tiny(tmp_path):
    """Two strategies x two seeds at a tiny budget: every run, the table, the findings and the
    figures are written; a second start repeats no finished run."""
    import csv
    import json

    from psfl.cli import main

    argv = ["study", "--out", str(tmp_path), "--seeds", "2", "--strategies", "psfl,psfl-no-agp",
            "--set", "data.max_train=64", "--set", "data.max_test=16", "--set", "data.num_mus=2",
            "--set", "federation.rounds=1", "--set", "federation.local_steps=2",
            "--set", "federation.mentor_steps=1", "--set", "federation.eval_images=8",
            "--set", "semantic.batch_size=4", "--set", GSC_S_ONLY]
    assert main(argv) == 0
    for name in ("table.csv", "findings.csv", "runs.csv"):
        assert (tmp_path / name).is_file(), name
    assert_figures(tmp_path, "finding1_personalization", "finding2_efficiency",
                   "finding3_pruning")
    runs = sorted(p.name for p in (tmp_path / "runs").iterdir())
    assert runs == ["psfl-no-agp-s0", "psfl-no-agp-s1", "psfl-s0", "psfl-s1"]
    table = list(csv.DictReader(open(tmp_path / "table.csv")))
    assert [r["strategy"] for r in table] == ["psfl", "psfl-no-agp"]
    assert all(r["seeds"] == "2" and float(r["final_global_psnr_ci95"]) >= 0 for r in table)
    findings = list(csv.DictReader(open(tmp_path / "findings.csv")))
    pruning = [f for f in findings if f["verdict"] != "(cost)"]
    assert len(pruning) == 1 and pruning[0]["unit"] == "J"
    assert pruning[0]["verdict"] in ("confirmed", "not confirmed", "contradicted")
    stamp = (tmp_path / "runs" / "psfl-s0" / "summary.json").stat().st_mtime_ns
    assert main(argv) == 0
    assert (tmp_path / "runs" / "psfl-s0" / "summary.json").stat().st_mtime_ns == stamp
    assert json.loads((tmp_path / "summary.json").read_text())["seeds"] == [0, 1]
