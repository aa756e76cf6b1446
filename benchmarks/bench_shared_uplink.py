"""One federated round's uploads, dedicated against shared carrier, and client selection's bias.

The BS plans round 1 and finishes it with stand-in replies (each MU returns the model it was
sent: fedavg-csc, dense 32-bit CSC student), so only the accounting runs, no training. Prints
one Markdown row per (MUs, uplink, scheduler) and per selection rule.

    .venv/bin/python -m benchmarks.bench_shared_uplink [--mus 5 20 100]
"""

from __future__ import annotations

import argparse
import tempfile
import time

import numpy as np

from psfl.config import load_config
from psfl.federation.population import make_population
from psfl.federation.roles import BaseStation

BASE = ["federation.init=scratch", "federation.strategy=fedavg-csc",
        "federation.max_distance_m=110"]


def one_round(num_mus: int, *extra: str) -> tuple[BaseStation, dict, float]:
    config = load_config(None, [*BASE, f"data.num_mus={num_mus}", *extra])
    fed = config.federation
    bs = BaseStation(config, tempfile.mkdtemp(), log=lambda m: None)
    pop = make_population([40] * num_mus, min_distance_m=fed.min_distance_m,
                          max_distance_m=fed.max_distance_m, memory_mb=fed.memory_mb,
                          compute_gflop=fed.compute_gflop_per_round, seed=config.run.seed)
    bs.register([{"mu": p.mu, "distance_m": p.distance_m, "num_samples": 40} for p in pop])
    plan = bs.plan_round(1)
    replies = {mu: (ins.arrays, {"num_samples": 40}) for mu, ins in plan.instructions.items()}
    started = time.perf_counter()
    summary = bs.finish_round(plan, replies)
    return bs, summary, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mus", type=int, nargs="+", default=[5, 20, 100])
    args = parser.parse_args()
    print("| MUs | uplink | scheduler | mean airtime s | latency s | MU energy J | mean SINR dB "
          "| INR dB | finish_round s |")
    print("|---|---|---|---|---|---|---|---|---|")
    for n in args.mus:
        for uplink, scheduler in (("dedicated", "-"), ("shared", "round-robin"),
                                  ("shared", "proportional-fair")):
            extra = [] if uplink == "dedicated" else ["federation.uplink=shared",
                                                      f"cell.scheduler={scheduler}"]
            bs, s, secs = one_round(n, *extra)
            air = [r["airtime_up_s"] for r in bs.mu_rows]
            sinr = (np.mean([r["uplink_sinr_db"] for r in bs.mu_rows]) if uplink == "shared"
                    else np.mean([r["snr_db"] for r in bs.mu_rows]))
            inr = 10 * np.log10(s["uplink_inr"]) if "uplink_inr" in s else float("nan")
            print(f"| {n} | {uplink} | {scheduler} | {np.mean(air):.3f} | {max(air):.3f} | "
                  f"{s['mu_comm_energy_j']:.3f} | {sinr:.1f} | {inr:.1f} | {secs:.1f} |")
    print()
    print("| MUs | K | selection | selected SNR dB | all SNR dB | SNR bias dB | distance bias m "
          "| latency s (shared, RR) |")
    print("|---|---|---|---|---|---|---|---|")
    for n in args.mus:
        k = max(1, n // 4)
        for rule in ("random", "best"):
            _, s, _ = one_round(n, f"federation.clients_per_round={k}",
                                f"federation.selection={rule}", "federation.uplink=shared")
            print(f"| {n} | {k} | {rule} | {s['selected_snr_db']:.1f} | {s['all_snr_db']:.1f} | "
                  f"{s['selection_snr_bias_db']:+.1f} | {s['selection_distance_bias_m']:+.1f} | "
                  f"{s['uplink_latency_s']:.3f} |")


if __name__ == "__main__":
    main()
