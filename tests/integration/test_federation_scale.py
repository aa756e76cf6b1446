"""Many MUs on one uplink (issue 25, item 4): a 100-MU round of the bare loop through
``psfl train`` completes with every MU's state on disk and bounded memory; an MU object holds
indices into the one copy of the data, not images; a split that cannot give every MU its
images is refused in one line before anything trains.

The 100-MU run takes about 20 s on 2 busy cores (``benchmarks/bench_scale.py`` measures
500 MUs and Flower's simulation)."""

import os
import subprocess
import sys
import threading
import time

import numpy as np
import psutil

from psfl.cli import main
from psfl.config import load_config
from psfl.federation.checkpoint import RunLayout

#: Peak resident memory allowed to the 100-MU run (all its processes): about 1 GiB is measured.
PEAK_BYTES = 2 * 2**30


def _peak_rss(proc: subprocess.Popen, stop: threading.Event, peak: list[int]) -> None:
    ps = psutil.Process(proc.pid)
    while not stop.is_set():
        try:
            rss = ps.memory_info().rss + sum(c.memory_info().rss
                                             for c in ps.children(recursive=True))
        except psutil.Error:
            rss = 0
        peak[0] = max(peak[0], rss)
        time.sleep(0.1)


def test_hundred_mus_one_round_in_the_bare_loop(tmp_path):
    out = tmp_path / "run"
    settings = ["federation.backend=loop", "federation.strategy=fedavg-csc", "data.num_mus=100",
                "federation.rounds=1", "federation.local_steps=2", "federation.eval_images=8",
                "semantic.batch_size=4"]
    argv = [sys.executable, "-m", "psfl.cli", "train", "--out", str(out)]
    for s in settings:
        argv += ["--set", s]
    env = {**os.environ, "PSFL_PROGRESS": "0", "TF_CPP_MIN_LOG_LEVEL": "2"}
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    stop, peak = threading.Event(), [0]
    sampler = threading.Thread(target=_peak_rss, args=(proc, stop, peak), daemon=True)
    sampler.start()
    try:
        output, _ = proc.communicate(timeout=600)
    finally:
        stop.set()
        sampler.join()
    assert proc.returncode == 0, output[-2000:]
    layout = RunLayout(out)
    state = layout.load()[1]
    assert state["completed_rounds"] == 1
    assert sorted(r["mu"] for r in state["mu_rows"]) == list(range(100))
    assert all(r["status"] == "ok" for r in state["mu_rows"])
    assert len(state["final_rows"]) == 100
    # the default (Dirichlet) split of the embedded data at 100 MUs: every MU holds images
    sizes = [p["num_samples"] for p in state["population"]]
    assert len(sizes) == 100 and min(sizes) >= 2
    # what each MU keeps across rounds is on disk, one folder per MU
    for mu in range(100):
        assert layout.mu(mu).spent_j() > 0, mu
    assert peak[0] < PEAK_BYTES, f"peak {peak[0] / 2**20:.0f} MiB"


def test_an_mu_holds_indices_not_images(tmp_path):
    from psfl.federation.cache import SharedData
    from psfl.federation.roles import MobileUserClient

    config = load_config(None, ["data.num_mus=20", "federation.eval_images=8",
                                "federation.init=scratch"])
    mus = [MobileUserClient(config, mu, tmp_path) for mu in range(3)]
    data = SharedData.get(config)
    for mu in mus:
        arrays = [v for v in vars(mu).values() if isinstance(v, np.ndarray)]
        assert arrays and all(a.dtype.kind == "i" for a in arrays)  # indices only
        assert np.array_equal(mu.images, data.train.images[data.parts[mu.mu]])
        assert mu.own_test.shape[0] <= 8 and mu.num_samples == len(data.parts[mu.mu])
    assert mus[0].global_test is mus[1].global_test  # one array for every MU


def test_a_split_without_images_for_every_mu_is_refused_before_training(tmp_path, capsys):
    out = tmp_path / "run"
    # 1 625 embedded training patches: the default Dirichlet split (alpha 0.5) cannot give 500
    # MUs two each
    code = main(["train", "--out", str(out), "--set", "data.num_mus=500",
                 "--set", "federation.backend=loop"])
    err = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
    assert code == 2
    assert len(err) == 1 and "500 MUs" in err[0] and "data.partition = iid" in err[0], err
    assert not RunLayout(out).exists()  # nothing trained, no checkpoint
