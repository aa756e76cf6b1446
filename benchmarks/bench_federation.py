"""Federation figures: PSFL against FedAvg/FedProx and the ablations at equal rounds, AGP's
energy saving and PSNR cost, Flower simulation against a bare loop, peak memory.

    python -m benchmarks.bench_federation [--quick] [--rounds N] [--skip-flower] [--flower-only]

Every strategy runs on the same data split, MU population, channel draws and seed. Figures are
printed as a table and written to runs/bench-federation-<time>/ (CSV per strategy).
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from typing import Any

STRATEGIES = ("psfl", "psfl-no-pld", "psfl-no-agp", "fedavg-csc", "fedprox-csc", "local-only")


def _config(args: argparse.Namespace, strategy: str, backend: str = "loop"):
    from psfl.config import load_config

    q = args.quick
    return load_config(None, [
        f"federation.strategy={strategy}", f"federation.backend={backend}",
        f"federation.rounds={args.rounds}", f"data.num_mus={3 if q else 5}",
        f"data.max_train={300 if q else 0}", f"data.max_test={64 if q else 256}",
        f"federation.local_steps={5 if q else 24}", f"federation.mentor_steps={3 if q else 8}",
        f"federation.eval_images={16 if q else 128}", f"semantic.batch_size={8 if q else 16}",
        "semantic.learning_rate=0.002"])


def _summary(bs: Any, seconds: float) -> dict[str, Any]:
    from psfl.federation.report import summarize

    s = summarize(bs)
    return {"strategy": s["strategy"], "global_psnr": s["final_global_psnr"],
            "own_psnr": s["final_own_psnr"], "personal_psnr": s["personal_psnr_last_round"],
            "comm_energy_j": s["comm_energy_j"], "bits_down_mbit": s["bits_down"] / 1e6,
            "compute_energy_j": s["compute_energy_j"], "seconds": seconds}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--rounds", type=int, default=None)
    p.add_argument("--skip-flower", action="store_true")
    p.add_argument("--flower-only", action="store_true",
                   help="only Flower against the bare loop: two alternating pairs of runs")
    args = p.parse_args(argv)
    args.rounds = args.rounds or (2 if args.quick else 3)
    if args.flower_only:
        flower_against_loop(args, pairs=2)
        return 0

    from psfl.federation.loop import run_loop
    from psfl.results import RunDir, default_out_dir

    run = RunDir(default_out_dir("bench-federation"))
    rows = []
    for strategy in STRATEGIES:
        t0 = time.perf_counter()
        bs = run_loop(_config(args, strategy), tempfile.mkdtemp(), log=lambda m: None)
        rows.append(_summary(bs, time.perf_counter() - t0))
        run.write_csv(f"{strategy}_rounds.csv", bs.round_rows)
        print(rows[-1], flush=True)
    run.write_csv("strategies.csv", rows)

    by = {r["strategy"]: r for r in rows}
    agp_saving = 1 - by["psfl"]["comm_energy_j"] / by["psfl-no-agp"]["comm_energy_j"]
    agp_cost = by["psfl-no-agp"]["global_psnr"] - by["psfl"]["global_psnr"]
    print(f"\n{'strategy':<14}{'global':>8}{'own':>8}{'personal':>10}{'comm J':>9}"
          f"{'down Mbit':>11}{'comp J':>9}{'s':>7}")
    for r in rows:
        print(f"{r['strategy']:<14}{r['global_psnr']:>8.2f}{r['own_psnr']:>8.2f}"
              f"{r['personal_psnr']:>10.2f}{r['comm_energy_j']:>9.2f}{r['bits_down_mbit']:>11.1f}"
              f"{r['compute_energy_j']:>9.2f}{r['seconds']:>7.0f}")
    print(f"AGP: communication energy -{100 * agp_saving:.1f} %, global PSNR cost "
          f"{agp_cost:+.2f} dB (psfl vs psfl-no-agp)")

    if not args.skip_flower:
        flower_against_loop(args, pairs=1)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of this process: {peak:.0f} MiB; results in {run.path}")
    return 0


def flower_against_loop(args: argparse.Namespace, pairs: int) -> list[float]:
    """Median round time of fedavg-csc (rounds after the first: tracing, per process and per
    Ray actor, is excluded) through the bare loop and Flower's simulation, over the same MU/BS
    code, run alternately so that machine load hits both alike; returns the ratios. Each round
    is also split into the MUs' own work (``mu_train_s``, the sum of their ``train_s``) and the
    rest (planning, messages, aggregation, checkpoint)."""
    import statistics

    from psfl.federation.apps import run_flower_simulation
    from psfl.federation.loop import run_loop

    cfg = _config(args, "fedavg-csc", "flower")
    ratios = []
    for pair in range(1, pairs + 1):
        timings, split = {}, {}
        for backend, runner in (("loop", run_loop), ("flower", run_flower_simulation)):
            bs = runner(cfg, tempfile.mkdtemp(), log=lambda m: None)
            rows = bs.round_rows[1:]
            timings[backend] = statistics.median(r["round_s"] for r in rows)
            split[backend] = (statistics.median(r["mu_train_s"] for r in rows),
                              statistics.median(r["round_s"] - r["mu_train_s"] for r in rows))
        ratios.append(timings["flower"] / timings["loop"])
        print(f"pair {pair}: fedavg-csc round time (median of rounds 2..{args.rounds}): bare loop "
              f"{timings['loop']:.2f} s (MUs {split['loop'][0]:.2f} s + rest "
              f"{split['loop'][1]:.2f} s), Flower simulation {timings['flower']:.2f} s (MUs "
              f"{split['flower'][0]:.2f} s + rest {split['flower'][1]:.2f} s), ratio "
              f"{ratios[-1]:.2f}", flush=True)
    return ratios


if __name__ == "__main__":
    raise SystemExit(main())
