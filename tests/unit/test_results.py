"""Run directories: atomic writes, JSON that survives NaN and numpy types, CSV columns."""

import json

import numpy as np
import pytest

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


def test_earlier_outputs_are_versioned_not_overwritten(tmp_path):
    with RunDir(tmp_path) as run:
        run.write_summary({"attempt": 1})
        run.write_csv("link.csv", [{"a": 1}])
    with RunDir(tmp_path) as run:
        assert run.previous == tmp_path / "versions" / "1"
        run.write_summary({"attempt": 2})
    with RunDir(tmp_path) as run:
        assert run.previous == tmp_path / "versions" / "2"
    assert json.loads((tmp_path / "versions" / "1" / "summary.json").read_text()) == {
        "attempt": 1}
    assert (tmp_path / "versions" / "1" / "link.csv").read_text().splitlines() == ["a", "1"]
    assert json.loads((tmp_path / "versions" / "2" / "summary.json").read_text()) == {
        "attempt": 2}
    assert "earlier outputs moved to versions/1/" in (tmp_path / "log.txt").read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == [".psfl.lock", "log.txt", "versions"]


def test_a_run_failing_before_its_own_outputs_puts_the_earlier_ones_back(tmp_path):
    with RunDir(tmp_path) as run:
        run.write_summary({"attempt": 1})
    with RunDir(tmp_path) as run:
        run.write_text("config.toml", "x = 1\n")
        assert run.restore_previous()
    assert json.loads((tmp_path / "summary.json").read_text()) == {"attempt": 1}
    assert not (tmp_path / "config.toml").exists() and not (tmp_path / "versions").exists()
    with RunDir(tmp_path) as run:  # a run that wrote outputs of its own keeps them
        run.write_summary({"attempt": 3})
        assert not run.restore_previous()
    assert json.loads((tmp_path / "versions" / "1" / "summary.json").read_text()) == {
        "attempt": 1}


def test_out_that_is_a_file_is_refused(tmp_path):
    import pytest

    (tmp_path / "f").write_text("x")
    with pytest.raises(ValueError, match="is an existing file"):
        RunDir(tmp_path / "f")


def test_log_progress_eta_leaves_out_the_first_steps_compilation():
    """In a plain log, progress is one line per interval; the ETA is measured from the end of
    the first step (tracing and compilation) on, not averaged over it."""
    from psfl.results import LogProgress

    t = [0.0]
    lines: list[str] = []
    bar = LogProgress(total=100, desc="train csc", unit="step", every=10.0,
                      clock=lambda: t[0], write=lines.append)
    t[0] = 60.0  # the first step: 60 s of compilation
    bar.update(1)
    assert len(lines) == 1 and "ETA" not in lines[0]  # no rate is known after one step
    bar.set_postfix(psnr="25.00")
    for _ in range(20):  # then 0.5 s per step
        t[0] += 0.5
        bar.update(1)
    assert len(lines) == 2, lines  # 10 s after the first line
    last = lines[-1]
    # 20 steps in 10 s after the first: 2 steps/s, 79 left → 40 s (an average over the
    # compilation would say about 4 min)
    assert "train csc: 21/100 step (21.0 %), 1 min 10 s elapsed" in last, last
    assert "2 step/s" in last and "ETA 40 s" in last and last.endswith("psnr=25.00"), last
    t[0] += 1.0
    bar.close()
    assert lines[-1].endswith("(stopped)") and len(lines) == 3
    bar.close()
    assert len(lines) == 3
    slow = LogProgress(total=3, desc="study", unit="run", every=0.0, clock=lambda: t[0],
                       write=lines.append)
    for _ in range(3):
        t[0] += 40.0
        slow.update(1)
    slow.close()  # the last line already says 3/3: no closing line repeats it
    assert len(lines) == 6 and "40 s/run" in lines[-1] and lines[-1].startswith("study: 3/3")


def test_log_progress_is_silent_for_short_work_and_iterates():
    from psfl.results import LogProgress

    lines: list[str] = []
    assert list(LogProgress(range(5), every=30.0, write=lines.append)) == [0, 1, 2, 3, 4]
    assert lines == []


def test_progress_picks_log_lines_off_a_terminal(monkeypatch):
    import io

    from psfl.results import LogProgress, progress

    monkeypatch.delenv("PSFL_PROGRESS", raising=False)
    monkeypatch.setattr("sys.stderr", io.StringIO())
    assert isinstance(progress(total=3), LogProgress)
    monkeypatch.setenv("PSFL_PROGRESS_EVERY", "soon")
    with pytest.raises(ValueError, match="PSFL_PROGRESS_EVERY='soon': give the seconds"):
        progress(total=3)
    monkeypatch.setenv("PSFL_PROGRESS", "0")
    assert not isinstance(progress(total=3), LogProgress) and progress(total=3).disable


def test_progress_in_a_notebook_is_a_bar_and_warns_of_nothing(monkeypatch, recwarn):
    """In a notebook (stderr is not a terminal there): a tqdm bar, not log lines, and no
    warning (tqdm.auto warned "IProgress not found" into executed notebooks without ipywidgets;
    that needs a live kernel to show, which the notebooks' own execution provides)."""
    import io

    from psfl import results

    monkeypatch.delenv("PSFL_PROGRESS", raising=False)
    monkeypatch.setattr("sys.stderr", io.StringIO())
    monkeypatch.setattr(results, "_in_notebook", lambda: True)
    bar = results.progress(total=2, desc="sweep")
    assert not isinstance(bar, results.LogProgress) and not bar.disable
    bar.update(2)
    bar.close()
    assert not [w for w in recwarn if "IProgress" in str(w.message)]
