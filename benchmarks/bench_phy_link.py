"""Throughput of the full uplink (channel + LS + LMMSE) in resource elements per second.

20 MHz carrier: 612 subcarriers (51 RBs) at 30 kHz on a 1024-point FFT, 14-symbol slots
(2 pilot symbols), TDL-C 300 ns at 3 m/s, LS estimation, LMMSE combining, one receive antenna.
Such a carrier carries 612 * 14 * 2000 slots/s = 17.14 M RE/s; the real-time factor is the
simulated RE/s over that. Eager, graph (tf.function) and XLA (jit_compile) are timed in one run
(median of the repetitions).

Reference column: a plain Sionna chain of the same configuration, written as Sionna's
tutorials write it (:func:`sionna_chain`: ResourceGrid on a 1024-point FFT with guard carriers
leaving 612 subcarriers, ResourceGridMapper, TDL through OFDMChannel with AWGN,
LSChannelEstimator with linear interpolation, LMMSEEqualizer), also under XLA. Its timed calls
alternate with psfl's XLA calls (psfl, Sionna, psfl, Sionna, ...) so load on the machine hits
both alike; ``psfl_over_sionna_xla`` is psfl's XLA RE/s over Sionna's. Both chains are also run
at 40 dB and 15 dB to show they do the same job (MSE of the equalized symbols).

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
from sionna.phy.channel import OFDMChannel
from sionna.phy.channel.tr38901 import TDL
from sionna.phy.mimo import StreamManagement
from sionna.phy.ofdm import LMMSEEqualizer, LSChannelEstimator, ResourceGrid, ResourceGridMapper

from psfl.phy import PhyConfig, UplinkLink

REAL_TIME_RE_PER_S = 612 * 14 * 2000  # REs per second of a 20 MHz, 30 kHz carrier


def bench_config() -> PhyConfig:
    return PhyConfig(channel="tdl-c", csi="ls", num_subcarriers=612, fft_size=1024,
                     cp_length=72, delay_spread_s=300e-9, speed_mps=3.0)


def sionna_chain(cfg: PhyConfig):
    """The plain Sionna XLA reference: ``fn(x, snr_db) -> (x_hat, no_eff)``, x [batch, k] with
    k the data REs of one slot, as in Sionna's OFDM tutorials (one TX, one RX antenna).

    Sionna 1.2 has no XLA compatibility switch (``sionna.config.xla_compat`` was Sionna 0.x):
    its blocks run under ``tf.function(jit_compile=True)`` as they are.
    """
    guards = cfg.fft_size - cfg.num_subcarriers  # no DC null: psfl simulates no DC carrier
    rg = ResourceGrid(num_ofdm_symbols=cfg.num_ofdm_symbols, fft_size=cfg.fft_size,
                      subcarrier_spacing=cfg.scs_hz, num_tx=1, num_streams_per_tx=1,
                      cyclic_prefix_length=cfg.cp_length,
                      num_guard_carriers=(guards // 2, guards - guards // 2), dc_null=False,
                      pilot_pattern=cfg.pilot_pattern,
                      pilot_ofdm_symbol_indices=list(cfg.pilot_ofdm_symbol_indices))
    assert rg.num_effective_subcarriers == cfg.num_subcarriers
    sm = StreamManagement(np.array([[1]]), 1)
    mapper = ResourceGridMapper(rg)
    tdl = TDL("C", cfg.delay_spread_s, cfg.carrier_hz, min_speed=cfg.speed_mps,
              max_speed=cfg.speed_mps)
    channel = OFDMChannel(tdl, rg, add_awgn=True, normalize_channel=False)
    estimator = LSChannelEstimator(rg, interpolation_type="lin")
    equalizer = LMMSEEqualizer(rg, sm)

    @tf.function(jit_compile=True)
    def run(x, snr_db):
        no = tf.pow(10.0, -snr_db / 10.0)
        x_rg = mapper(x[:, None, None, :])  # [b, 1, 1, T, fft]
        y = channel(x_rg, no)  # [b, 1, 1, T, fft]
        h_hat, err_var = estimator(y, no)
        x_hat, no_eff = equalizer(y, h_hat, err_var, no)  # [b, 1, 1, k]
        return x_hat[:, 0, 0], no_eff[:, 0, 0]

    return run, rg.num_data_symbols


def mse(fn, x, snr_db: float) -> dict:
    """Mean and median |x_hat - x|^2 of one call at ``snr_db``, and mean |e|^2 / no_eff."""
    y, no_eff = fn(x, tf.constant(snr_db, tf.float32))
    e = np.abs(y.numpy() - x.numpy()) ** 2
    return {"mse": float(e.mean()), "median_se": float(np.median(e)),
            "se_over_no_eff": float(np.mean(e / np.broadcast_to(no_eff.numpy(), e.shape)))}


def cpu_model() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _timed_call(fn, x, snr) -> float:
    t0 = time.perf_counter()
    y, _ = fn(x, snr)
    y.numpy()
    return time.perf_counter() - t0


def time_mode(fn, x, snr, reps: int) -> tuple[float, float]:
    """(first-call seconds incl. tracing/compilation, median seconds of the next ``reps``)."""
    first = _timed_call(fn, x, snr)
    return first, float(np.median([_timed_call(fn, x, snr) for _ in range(reps)]))


def time_interleaved(fns: dict, args: dict, reps: int) -> dict[str, tuple[float, float]]:
    """:func:`time_mode` of several functions (each with its own ``(x, snr)``) with the
    repetitions alternated (a, b, a, b, ...), so that machine load hits all of them alike."""
    first = {name: _timed_call(fn, *args[name]) for name, fn in fns.items()}
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(reps):
        for name, fn in fns.items():
            times[name].append(_timed_call(fn, *args[name]))
    return {name: (first[name], float(np.median(times[name]))) for name in fns}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: small batch, 2 reps")
    parser.add_argument("--batch", type=int, default=None, help="slots per call (default 64)")
    parser.add_argument("--reps", type=int, default=None, help="timed calls per mode")
    parser.add_argument("--json", default="", help="also write the figures to this file")
    args = parser.parse_args(argv)
    batch = args.batch or (4 if args.quick else 64)
    reps = args.reps or (2 if args.quick else 7)

    cfg = bench_config()
    link = UplinkLink(cfg)
    k = link.num_data_per_slot  # one full slot per row
    sionna_fn, sionna_k = sionna_chain(cfg)
    assert sionna_k == k, (sionna_k, k)
    x = tf.complex(tf.random.normal([batch, k]), tf.random.normal([batch, k])) / np.sqrt(2.0)
    snr = tf.constant(15.0)
    re_per_call = batch * link.num_slots(k) * 14 * 612

    modes = {
        "eager": link,
        "graph": tf.function(link),
        "xla": tf.function(link, jit_compile=True),
    }
    res: dict = {"batch_slots": batch, "re_per_call": re_per_call, "reps": reps}
    for name in ("eager", "graph"):
        first, med = time_mode(modes[name], x, snr, reps if name != "eager" else max(2, reps // 2))
        res[name] = {"first_call_s": first, "median_s": med, "re_per_s": re_per_call / med}
    # psfl XLA and the Sionna reference, repetitions alternated.
    timed = time_interleaved({"xla": modes["xla"], "sionna_xla": sionna_fn},
                             {"xla": (x, snr), "sionna_xla": (x, snr)}, reps)
    for name, (first, med) in timed.items():
        res[name] = {"first_call_s": first, "median_s": med, "re_per_s": re_per_call / med}
    res["psfl_over_sionna_xla"] = res["xla"]["re_per_s"] / res["sionna_xla"]["re_per_s"]
    res["check"] = {f"{snr_db:g}dB": {"psfl": mse(modes["xla"], x, snr_db),
                                      "sionna": mse(sionna_fn, x, snr_db)}
                    for snr_db in (40.0, 15.0)}
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    res["peak_rss_mib"] = peak_kib / 1024
    res["xla_over_eager"] = res["xla"]["re_per_s"] / res["eager"]["re_per_s"]
    res["graph_over_eager"] = res["graph"]["re_per_s"] / res["eager"]["re_per_s"]
    res["real_time_factor_xla"] = res["xla"]["re_per_s"] / REAL_TIME_RE_PER_S
    res["cpu"] = cpu_model()
    res["threads"] = tf.config.threading.get_intra_op_parallelism_threads() or "default"

    print(f"phy link throughput: TDL-C, LS + LMMSE, 612 sc x 14 sym, {batch} slots per call")
    print(f"CPU: {res['cpu']}")
    for name in (*modes, "sionna_xla"):
        r = res[name]
        label = "sionna xla" if name == "sionna_xla" else name
        print(f"  {label:10s}: {r['re_per_s'] / 1e6:8.2f} M RE/s  (median {r['median_s'] * 1e3:8.1f}"
              f" ms/call, first call {r['first_call_s']:.2f} s)")
    print(f"  psfl xla / sionna xla: {res['psfl_over_sionna_xla']:.2f}x"
          " (timed calls alternated)")
    for snr_key, c in res["check"].items():
        print(f"  check at {snr_key}: MSE psfl {c['psfl']['mse']:.3e}, sionna {c['sionna']['mse']:.3e}"
              f" (median SE {c['psfl']['median_se']:.2e} / {c['sionna']['median_se']:.2e};"
              f" mean SE/no_eff {c['psfl']['se_over_no_eff']:.2f} /"
              f" {c['sionna']['se_over_no_eff']:.2f})")
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
