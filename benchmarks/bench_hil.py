"""HIL throughput: frames per second through the Pluto twin and the emulated radio, and the
receiver's DSP time per frame against the frame's airtime (real-time factor = DSP time /
airtime; below 1 the receiver keeps up with the radio).

Default numerology (72 subcarriers at 30 kHz, FFT 128, CP 9, 3.84 MS/s), k = 512 symbols per
frame (one slot), 25 dB SNR, CFO 3.3 subcarrier spacings, random timing, 8 frames per cyclic
TX buffer. The emulated radio also has phase noise, IQ imbalance, DC offset and the static
``exp`` multipath; the twin runs the real pyadi-iio + libiio path over loopback TCP.

    python -m benchmarks.bench_hil [--quick] [--frames N]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from psfl.hil.link import HilLink
from psfl.hil.radios import EmulatedRadio, TwinRadio, exp_taps
from psfl.hil.waveform import FrameFormat
from psfl.phy import PhyConfig

K = 512
CFO_SC = 3.3


def _symbols(n: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    return ((rng.standard_normal((n, K)) + 1j * rng.standard_normal((n, K))) / np.sqrt(2))


def _run(radio, fmt: FrameFormat, z: np.ndarray) -> dict:
    link = HilLink(radio, fmt)
    t0 = time.perf_counter()
    try:
        res = link.run(z)
    finally:
        radio.close()
    wall = time.perf_counter() - t0
    n = z.shape[0]
    got = [f for f in res.frames if f["detected"]]
    return {
        "frames": n,
        "detected": float(res.detected.mean()),
        "frames_per_s": n / wall,
        "wall_s": wall,
        "radio_s": res.radio_s,
        "dsp_s": res.dsp_s,
        "dsp_ms_per_frame_captured": 1e3 * res.dsp_s / (res.captured_samples / fmt.frame_len),
        "dsp_ms_per_frame": 1e3 * res.dsp_s / n,
        "airtime_ms_per_frame": 1e3 * fmt.airtime_s,
        "realtime_factor": res.dsp_s / (res.captured_samples / fmt.sample_rate_hz),
        "max_cfo_error_sc": max(abs(f["cfo_sc"] - CFO_SC) for f in got),
        "mean_evm_db": float(np.mean([f["evm_db"] for f in got])),
        "mean_snr_db": float(np.mean([f["snr_db"] for f in got])),
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: 16 frames")
    parser.add_argument("--frames", type=int, default=None, help="frames per radio (200)")
    parser.add_argument("--json", default="", help="also write the figures to this file")
    args = parser.parse_args(argv)
    n = args.frames or (16 if args.quick else 200)
    fmt = FrameFormat(PhyConfig(), K)
    z = _symbols(n)
    cfo_hz = CFO_SC * fmt.scs_hz
    out: dict = {"k": K, "frame_samples": fmt.frame_len, "sample_rate_hz": fmt.sample_rate_hz}
    emu = EmulatedRadio(fmt.sample_rate_hz, snr_db=25.0, cfo_hz=cfo_hz, phase_noise_hz=2.0,
                        iq_amplitude_db=0.2, iq_phase_deg=1.0, dc_offset=0.01,
                        taps=exp_taps(300e-9, fmt.sample_rate_hz), seed=1)
    out["emulated"] = _run(emu, fmt, z)
    twin = TwinRadio(snr_db=25.0, cfo_hz=cfo_hz, seed=1, lo_hz=2.44e9,
                     sample_rate_hz=fmt.sample_rate_hz)
    out["twin"] = _run(twin, fmt, z)
    for name in ("emulated", "twin"):
        r = out[name]
        print(f"{name:9s} {r['frames']} frames: detected {100 * r['detected']:.1f} %, "
              f"{r['frames_per_s']:.1f} frames/s, receiver {r['dsp_ms_per_frame']:.2f} ms/frame "
              f"(airtime {r['airtime_ms_per_frame']:.3f} ms, real-time factor "
              f"{r['realtime_factor']:.1f}), max |CFO err| {r['max_cfo_error_sc']:.4f} sc, "
              f"EVM {r['mean_evm_db']:.1f} dB, SNR {r['mean_snr_db']:.1f} dB")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=2)
    return out


if __name__ == "__main__":
    main()
