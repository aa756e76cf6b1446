"""Federation figures: PSFL against FedAvg/FedProx and the ablations at equal rounds, AGP's
energy saving and PSNR cost, Flower simulation against a bare loop, peak memory.

    python -m benchmarks.bench_federation [--quick] [--rounds N] [--skip-flower]

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
    args = p.parse_args(argv)
    args.rounds = args.rounds or (2 if args.quick else 3)

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
        from psfl.federation.apps import run_flower_simulation

        cfg = _config(args, "fedavg-csc", "flower")
        import statistics

        timings = {}
        for backend in ("loop", "flower"):
            runner = run_loop if backend == "loop" else run_flower_simulation
            bs = runner(cfg, tempfile.mkdtemp(), log=lambda m: None)
            # rounds after the first: tracing (per process, per Ray actor) is excluded
            timings[backend] = statistics.median(r["round_s"] for r in bs.round_rows[1:])
        print(f"fedavg-csc round time (median of rounds 2..{args.rounds}): bare loop "
              f"{timings['loop']:.1f} s, Flower simulation {timings['flower']:.1f} s, ratio "
              f"{timings['flower'] / timings['loop']:.2f}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of this process: {peak:.0f} MiB; results in {run.path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
