"""Crash-safe runs: the round checkpoint under SIGKILL, validated resume, owned run directories,
interrupts. Real processes and real signals; tiny federations (loop backend)."""

from __future__ import annotations

import csv
import json
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from psfl.cli import main
from psfl.federation.checkpoint import RunLayout
from psfl.results import RunDir, RunLock, atomic_write_bytes
from tests.fakes import GSC_S_ONLY

TINY = ["--set", "data.max_train=96", "--set", "data.max_test=32", "--set", "data.num_mus=2",
        "--set", "federation.eval_images=8", "--set", "semantic.batch_size=8",
        "--set", "federation.local_steps=3", "--set", "federation.mentor_steps=2",
        "--set", "federation.backend=loop", "--set", "federation.init=scratch",
        "--set", "federation.rounds=3",
        "--set", GSC_S_ONLY]


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def _wait_for(cond, proc: subprocess.Popen, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"process ended (rc {proc.returncode}) before {what}:\n{err[-3000:]}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_checkpoint_is_whole_whenever_the_writer_is_killed(tmp_path):
    """A writer saving rounds as fast as it can is SIGKILLed at random instants: every time,
    the checkpoint left behind loads, and its weights are those of the round its state names."""
    writer = textwrap.dedent(f"""
        import numpy as np
        from psfl.federation.checkpoint import RunLayout
        layout = RunLayout({str(tmp_path)!r})
        r = 0
        while True:
            r += 1
            w = [np.full((256, 256), r, np.float32), np.full(1000, -r, np.float32)]
            layout.save(w, {{"completed_rounds": r, "rows": list(range(r % 50))}})
            layout.write_rows([{{"round": i}} for i in range(1, r + 1)], [])
    """)
    rng = np.random.default_rng(0)
    seen = set()
    for _ in range(12):
        proc = subprocess.Popen([sys.executable, "-c", writer])
        time.sleep(0.8 + rng.uniform(0, 0.5))
        proc.kill()
        proc.wait()
        weights, state = RunLayout(tmp_path).load()
        r = state["completed_rounds"]
        assert np.all(weights[0] == r) and np.all(weights[1] == -r)
        assert state["rows"] == list(range(r % 50))
        seen.add(r)
    assert len(seen) > 1  # the kills landed at different moments
    assert not [p for p in (tmp_path / "checkpoint").iterdir() if p.name != "round.npz"
                and not p.name.startswith(".round.npz.")]


def test_one_file_two_writers_never_collide(tmp_path):
    """Writers of one file use temporary names of their own: no writer's rename fails and the
    file is always one writer's whole content."""
    path, errors = tmp_path / "summary.json", []

    def write(n: int) -> None:
        try:
            for i in range(300):
                atomic_write_bytes(path, json.dumps({"writer": n, "i": i}).encode())
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert json.loads(path.read_text())["i"] == 299
    assert not list(tmp_path.glob(".*.tmp"))


def test_a_run_directory_has_one_owner(tmp_path, capsys):
    run = RunDir(tmp_path / "d", "psfl demo")
    try:
        assert main(["energy", "--out", str(tmp_path / "d"), "--distances", "20:400:3"]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "in use by psfl demo (PID" in err[0], err
        assert not (tmp_path / "d" / "summary.json").exists()
    finally:
        run.close()
    # an owner killed without releasing: its lock is stale, taken over and logged
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import time
        from psfl.results import RunLock
        lock = RunLock({str(tmp_path / 'd')!r}, "psfl train")
        print("locked", flush=True)
        time.sleep(60)
    """)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "locked"
    with pytest.raises(ValueError, match=r"in use by psfl train \(PID"):
        RunLock(tmp_path / "d", "psfl energy")
    holder.kill()
    holder.wait()
    assert main(["energy", "--out", str(tmp_path / "d"), "--distances", "20:400:3"]) == 0
    log = (tmp_path / "d" / "log.txt").read_text()
    assert f"took over the lock of psfl train (PID {holder.pid}" in log


def test_killed_run_resumes_from_its_last_round_and_refuses_another_configuration(tmp_path,
                                                                                  capsys):
    """SIGKILL after an MU finished its part of round 2 but before the BS recorded it: the
    checkpoint holds round 1; resuming with another configuration is refused (config.toml
    untouched); resuming as it was runs round 2 again from the MU's state before it, and
    counts the killed attempt's computation as wasted."""
    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-m", "psfl.cli", "train", "--out", str(out),
                             "--strategy", "psfl", *TINY, "--rounds", "2"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    layout = RunLayout(out)
    _wait_for(lambda: 2 in layout.mu(0).rounds("mentor"), proc, 600, "MU 0's round-2 mentor")
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    assert layout.completed_rounds() == 1
    assert [r["round"] for r in _rows(layout.rounds_csv)] == ["1"]
    config_before = (out / "config.toml").read_text()
    files_before = sorted(str(p.relative_to(out)) for p in out.rglob("*"))

    for extra, key in ((["--seed", "7"], "run.seed 0 → 7"),
                       (["--set", "data.patch_size=16"], "data.patch_size 32 → 16"),
                       (["--strategy", "fedavg-csc"], "federation.strategy 'psfl' → "
                                                      "'fedavg-csc'")):
        assert main(["train", "--resume", str(out), *extra]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and key in err[0], (extra, err)
        assert (out / "config.toml").read_text() == config_before
        assert sorted(str(p.relative_to(out)) for p in out.rglob("*")) == files_before
    energy = tmp_path / "energy"
    assert main(["energy", "--out", str(energy), "--distances", "20:400:3"]) == 0
    summary = (energy / "summary.json").read_text()
    assert main(["train", "--resume", str(energy)]) == 2
    assert "a run of psfl energy, not of psfl train" in capsys.readouterr().err
    assert (energy / "summary.json").read_text() == summary

    assert main(["train", "--resume", str(out)]) == 0
    log = (out / "log.txt").read_text()
    assert "took over the lock of psfl train" in log and "resuming after 1 finished" in log
    mu_rows = _rows(layout.mu_rounds_csv)
    assert [(r["round"], r["mu"]) for r in mu_rows] == [(str(r), str(m)) for r in (1, 2)
                                                          for m in (0, 1)]
    assert all(r["status"] == "ok" for r in mu_rows)
    wasted = {(r["round"], r["mu"]): float(r["wasted_compute_energy_j"]) for r in mu_rows}
    assert wasted[("2", "0")] > 0  # the killed attempt at round 2
    assert wasted[("1", "0")] == wasted[("1", "1")] == 0.0
    assert json.loads((out / "summary.json").read_text())["rounds"] == 2
    assert len(_rows(out / "final.csv")) == 2


def test_silent_rewrites_are_honoured_or_refused(tmp_path, capsys):
    assert main(["train", "--rounds", "0", "--out", str(tmp_path / "r0"), *TINY]) == 2
    assert "federation.rounds" in capsys.readouterr().err
    missing = ["--set", "data.source=folder",
               "--set", f"data.path={str(tmp_path / 'no-such-folder')!r}"]
    assert main(["train", "--out", str(tmp_path / "m"), *TINY, "--set",
                 "federation.backend=flower", *missing]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no-such-folder" in err[0], err
