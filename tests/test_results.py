"""Run directories: atomic writes, JSON that survives NaN and numpy types, CSV columns."""

import json

import numpy as np

from psfl.results import RunDir


def test_summary_and_csv(tmp_path):
    run = RunDir(tmp_path / "r")
    run.write_summary({"psnr": np.float32(21.5), "nan": float("nan"), "arr": np.arange(3)})
    data = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert data == {"psnr": 21.5, "nan": None, "arr": [0, 1, 2]}
    run.write_csv("s.csv", [{"a": 1, "b": 2}, {"a": 3, "c": np.float64(0.5)}])
    lines = (tmp_path / "r" / "s.csv").read_text().splitlines()
    assert lines == ["a,b,c", "1,2,", "3,,0.5"]
    run.log("hello")
    run.close()
    assert "hello" in (tmp_path / "r" / "log.txt").read_text()
    assert not list((tmp_path / "r").glob(".*.tmp"))


def test_failed_write_keeps_previous_file(tmp_path):
    run = RunDir(tmp_path)
    run.write_summary({"ok": 1})

    class Bad:
        def tolist(self):
            raise RuntimeError("boom")

    try:
        run.write_summary({"bad": Bad()})
    except RuntimeError:
        pass
    assert json.loads((tmp_path / "summary.json").read_text()) == {"ok": 1}
