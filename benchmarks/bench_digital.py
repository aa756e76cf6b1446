"""Throughput of the digital baseline (JPEG + CRC24A + 5G LDPC + QAM) on this machine.

Two figures, each the median of a few repeats after one warm-up call (which traces/compiles):

* **LDPC chain**: information bits per second through demapping + LDPC decoding + CRC check of a
  batch of transport blocks (``TransportChain.decode``), eager vs ``tf.function`` vs
  ``tf.function(jit_compile=True)``.
* **End to end**: images per second through ``DigitalBaseline.transmit`` (JPEG search, encode,
  AWGN, decode, JPEG decode) for 32x32 images at k = 512 channel uses.

Run ``python -m benchmarks.bench_digital`` (``--quick`` for a smoke run).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np
import tensorflow as tf

from psfl.phy.digital import DigitalBaseline, TransportChain, mcs_table, transport_format


def _awgn(x: tf.Tensor, snr_db: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    no = tf.pow(10.0, -tf.cast(snr_db, tf.float32) / 10.0)
    no = tf.broadcast_to(tf.reshape(no, [-1, 1]), tf.shape(x))
    std = tf.sqrt(no / 2.0)
    return x + tf.complex(
        tf.random.normal(tf.shape(x)) * std, tf.random.normal(tf.shape(x)) * std
    ), no


def _median_time(fn: Callable[[], object], repeats: int) -> float:
    fn()  # warm-up: tracing / XLA compilation
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def bench_chain(k: int, mcs_index: int, batch: int, repeats: int) -> dict[str, float]:
    """Information bits/s of the decoder chain per mode."""
    table = {m.index: m for m in mcs_table()}
    fmt = transport_format(k, table[mcs_index])
    rng = np.random.default_rng(0)
    bits = tf.constant(rng.integers(0, 2, (batch, fmt.payload_bits)).astype(np.float32))
    snr = tf.fill([batch], tf.constant(table[mcs_index].threshold_db + 2.0))
    out = {}
    for mode in ("eager", "graph", "xla"):
        chain = TransportChain(fmt, mode=mode)
        y, no = _awgn(chain.encode(bits), snr)
        t = _median_time(lambda chain=chain, y=y, no=no: chain.decode(y, no)[1].numpy(), repeats)
        out[mode] = batch * fmt.payload_bits / t
    return out


def bench_end_to_end(batch: int, repeats: int, mode: str) -> float:
    """Images/s through DigitalBaseline.transmit at 20 dB (auto MCS), 32x32 images, k=512."""
    rng = np.random.default_rng(1)
    # smooth random images compress like natural patches, unlike white noise
    base = rng.random((batch, 8, 8, 3)).astype(np.float32)
    images = np.clip(np.repeat(np.repeat(base, 4, axis=1), 4, axis=2), 0, 1)
    db = DigitalBaseline(512, mode=mode)
    t = _median_time(lambda: db.transmit(images, _awgn, 20.0), repeats)
    return batch / t


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small batch, one repeat")
    args = parser.parse_args(argv)
    batch, repeats = (16, 1) if args.quick else (64, 3)
    print(f"batch={batch}, repeats={repeats} (median)")
    for k, mcs in ((512, 4), (512, 27)):
        res = bench_chain(k, mcs, batch, repeats)
        row = ", ".join(f"{m}: {v / 1e6:.3f} Mbit/s" for m, v in res.items())
        print(f"LDPC chain k={k} MCS {mcs}: {row}")
    for mode in ("eager", "graph"):
        ips = bench_end_to_end(batch, repeats, mode)
        print(f"end to end (32x32, k=512, 20 dB), {mode}: {ips:.1f} images/s")


if __name__ == "__main__":
    main()
