"""Soak: a short ``psfl train`` killed (SIGKILL) at random moments and resumed, again and again,
against the same run left alone.

``python -m benchmarks.soak_resume [--cycles 20] [--backend loop|flower] [--out DIR]``

First the run goes once without interruption, and the time a process takes to its first
recorded round (``S``: start-up, data, tracing, one round) and the median time of a round after
that (``r``) are measured. Then each cycle starts ``psfl train --resume`` (the first ``psfl train
--out``) and kills it after a time drawn uniformly in ``[S/2, S + 2r]``: about a third of the
kills land in start-up and tracing, the rest anywhere in the next two rounds (training, the
checkpoint write, the CSV series). After the last cycle the run is resumed once more and left to
finish. The two runs are compared: global weights (largest absolute difference), the
per-round rows (every column but wall time and the energy of work that a kill wasted), the
round numbers (continuity) and the closing evaluation. Prints a table and writes ``soak.json``
into ``--out``.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

SETTINGS = ["data.max_train=96", "data.max_test=32", "data.num_mus=2",
            "federation.eval_images=8", "semantic.batch_size=8", "federation.local_steps=3",
            "federation.mentor_steps=2", "federation.init=scratch", "federation.rounds=16",
            "federation.strategy=psfl"]
#: Columns that legitimately differ between an interrupted run and an uninterrupted one.
VARIABLE = {"round_s", "mu_train_s", "train_s", "wasted_compute_energy_j", "compute_energy_j"}


def _rows(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        return []
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def _close(a: str, b: str) -> bool:
    try:
        x, y = float(a), float(b)
    except ValueError:
        return a == b
    return (math.isnan(x) and math.isnan(y)) or math.isclose(x, y, rel_tol=1e-6, abs_tol=1e-9)


def _differing(a: list[dict[str, str]], b: list[dict[str, str]]) -> list[str]:
    if len(a) != len(b):
        return [f"{len(a)} rows against {len(b)}"]
    out = set()
    for ra, rb in zip(a, b, strict=True):
        for k in set(ra) | set(rb):
            if k not in VARIABLE and not _close(ra.get(k, ""), rb.get(k, "")):
                out.add(k)
    return sorted(out)


def _train(args: list[str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "psfl.cli", "train", *args],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cycles", type=int, default=20)
    p.add_argument("--backend", choices=("loop", "flower"), default="loop")
    p.add_argument("--seed", type=int, default=0, help="draws the kill times")
    p.add_argument("--out", default="runs/soak")
    a = p.parse_args(argv)
    from psfl.federation.checkpoint import RunLayout

    root = Path(a.out)
    soaked, alone = root / "soaked", root / "alone"
    sets = [x for s in [*SETTINGS, f"federation.backend={a.backend}"] for x in ("--set", s)]
    rng = np.random.default_rng(a.seed)
    t1 = time.perf_counter()
    proc = _train(["--out", str(alone), *sets])
    stamps: list[float] = []
    while proc.poll() is None:
        n = len(_rows(alone / "rounds.csv"))
        stamps += [time.perf_counter() - t1] * (n - len(stamps))
        time.sleep(0.1)
    if proc.returncode != 0:
        print(proc.stderr.read()[-3000:])
        return 1
    alone_s = time.perf_counter() - t1
    first, per_round = stamps[0], float(np.median(np.diff(stamps)))
    lo, hi = first / 2, first + 2 * per_round
    print(f"uninterrupted run: {alone_s:.1f} s, first round recorded at {first:.1f} s, then "
          f"{per_round:.1f} s per round; kills drawn in [{lo:.1f}, {hi:.1f}] s", flush=True)
    t0, progress = time.perf_counter(), []
    for cycle in range(a.cycles):
        first = cycle == 0 and not (soaked / "config.toml").is_file()
        proc = _train(["--out", str(soaked), *sets] if first else ["--resume", str(soaked)])
        wait = rng.uniform(lo, hi)
        try:
            rc = proc.wait(timeout=wait)
            print(f"cycle {cycle + 1}: the run ended by itself (rc {rc}) before its kill at "
                  f"{wait:.1f} s", flush=True)
            if rc != 0:
                print(proc.stderr.read()[-2000:])
                return 1
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        done = RunLayout(soaked).completed_rounds()
        progress.append(done)
        print(f"cycle {cycle + 1}/{a.cycles}: killed at {wait:.1f} s, {done} rounds kept",
              flush=True)
    proc = _train(["--resume", str(soaked)])
    if proc.wait() != 0:
        print(proc.stderr.read()[-3000:])
        return 1
    soak_s = time.perf_counter() - t0

    ws, wa = RunLayout(soaked).global_weights(), RunLayout(alone).global_weights()
    max_diff = max(float(np.max(np.abs(x - y))) for x, y in zip(ws, wa, strict=True))
    rounds_s, rounds_a = _rows(soaked / "rounds.csv"), _rows(alone / "rounds.csv")
    mu_s, mu_a = _rows(soaked / "mu_rounds.csv"), _rows(alone / "mu_rounds.csv")
    final_s, final_a = _rows(soaked / "final.csv"), _rows(alone / "final.csv")
    wasted = sum(float(r.get("wasted_compute_energy_j") or 0) for r in mu_s + final_s)
    result = {
        "cycles": a.cycles, "backend": a.backend,
        "kill_window_s": [round(lo, 1), round(hi, 1)], "rounds": len(stamps),
        "rounds_kept_after_each_kill": progress,
        "round_numbers": [int(r["round"]) for r in rounds_s],
        "continuous": [int(r["round"]) for r in rounds_s] == list(range(1, len(rounds_s) + 1)),
        "mu_rows": [len(mu_s), len(mu_a)],
        "max_abs_weight_difference": max_diff,
        "round_columns_differing": _differing(rounds_s, rounds_a),
        "mu_columns_differing": _differing(mu_s, mu_a),
        "final_columns_differing": _differing(final_s, final_a),
        "wasted_compute_energy_j": wasted,
        "soak_s": round(soak_s, 1), "uninterrupted_s": round(alone_s, 1),
    }
    (root / "soak.json").write_text(json.dumps(result, indent=1) + "\n")
    for k, v in result.items():
        print(f"{k:<32}{v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
