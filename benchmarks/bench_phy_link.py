"""Throughput of the full uplink (channel + LS + LMMSE) in resource elements per second.

20 MHz carrier: 612 subcarriers (51 RBs) at 30 kHz on a 1024-point FFT, 14-symbol slots
(2 pilot symbols), TDL-C 300 ns at 3 m/s, LS estimation, LMMSE combining, one receive antenna.
Such a carrier carries 612 * 14 * 2000 slots/s = 17.14 M RE/s; the real-time factor is the
simulated RE/s over that. Eager, graph (tf.function) and XLA (jit_compile) are timed in one run
(median of the repetitions).

    python -m benchmarks.bench_phy_link [--quick] [--batch N] [--reps N]
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import time

import numpy as np
import tensorflow as tf

from psfl.phy import PhyConfig, UplinkLink

REAL_TIME_RE_PER_S = 612 * 14 * 2000  # REs per second of a 20 MHz, 30 kHz carrier


def bench_config() -> PhyConfig:
    return PhyConfig(channel="tdl-c", csi="ls", num_subcarriers=612, fft_size=1024,
                     cp_length=72, delay_spread_s=300e-9, speed_mps=3.0)


def cpu_model() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def time_mode(fn, x, snr, reps: int) -> tuple[float, float]:
    """(first-call seconds incl. tracing/compilation, median seconds of the next ``reps``)."""
    t0 = time.perf_counter()
    y, _ = fn(x, snr)
    y.numpy()
    first = time.perf_counter() - t0
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        y, _ = fn(x, snr)
        y.numpy()
        times.append(time.perf_counter() - t0)
    return first, float(np.median(times))


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: small batch, 2 reps")
    parser.add_argument("--batch", type=int, default=None, help="slots per call (default 64)")
    parser.add_argument("--reps", type=int, default=None, help="timed calls per mode")
    parser.add_argument("--json", default="", help="also write the figures to this file")
    args = parser.parse_args(argv)
    batch = args.batch or (4 if args.quick else 64)
    reps = args.reps or (2 if args.quick else 7)

    link = UplinkLink(bench_config())
    k = link.num_data_per_slot  # one full slot per row
    x = tf.complex(tf.random.normal([batch, k]), tf.random.normal([batch, k])) / np.sqrt(2.0)
    snr = tf.constant(15.0)
    re_per_call = batch * link.num_slots(k) * 14 * 612

    modes = {
        "eager": link,
        "graph": tf.function(link),
        "xla": tf.function(link, jit_compile=True),
    }
    res: dict = {"batch_slots": batch, "re_per_call": re_per_call, "reps": reps}
    for name, fn in modes.items():
        first, med = time_mode(fn, x, snr, reps if name != "eager" else max(2, reps // 2))
        res[name] = {"first_call_s": first, "median_s": med, "re_per_s": re_per_call / med}
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    res["peak_rss_mib"] = peak_kib / 1024
    res["xla_over_eager"] = res["xla"]["re_per_s"] / res["eager"]["re_per_s"]
    res["graph_over_eager"] = res["graph"]["re_per_s"] / res["eager"]["re_per_s"]
    res["real_time_factor_xla"] = res["xla"]["re_per_s"] / REAL_TIME_RE_PER_S
    res["cpu"] = cpu_model()
    res["threads"] = tf.config.threading.get_intra_op_parallelism_threads() or "default"

    print(f"phy link throughput: TDL-C, LS + LMMSE, 612 sc x 14 sym, {batch} slots per call")
    print(f"CPU: {res['cpu']}")
    for name in modes:
        r = res[name]
        print(f"  {name:5s}: {r['re_per_s'] / 1e6:8.2f} M RE/s  (median {r['median_s'] * 1e3:8.1f}"
              f" ms/call, first call {r['first_call_s']:.2f} s)")
    print(f"  graph/eager {res['graph_over_eager']:.1f}x, xla/eager {res['xla_over_eager']:.1f}x,"
          f" real-time factor (xla) {res['real_time_factor_xla']:.2f}"
          f" vs {REAL_TIME_RE_PER_S / 1e6:.2f} M RE/s")
    print(f"  peak RSS {res['peak_rss_mib']:.0f} MiB")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=2)
    return res


if __name__ == "__main__":
    main()
