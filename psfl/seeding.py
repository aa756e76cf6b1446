r"""One seed makes a run reproducible.

``run.seed`` is never handed to a library as it is. Each generator gets its own 63-bit seed
derived by hashing, :func:`derive_seed`:

.. math::
    s_\mathrm{lib} = \mathrm{SeedSequence}(\mathrm{run.seed},\ \mathrm{spawn\_key} =
    (\mathrm{crc32}(\mathrm{lib}),))\ \text{state}[0:2]\ \text{as one 64-bit word} \gg 1

(ours). Two reasons. Sionna's ``tf.random.Generator.from_seed`` / ``reset_from_seed`` puts the
seed into the Philox *counter*, so raw seeds ``s`` and ``s + 1`` give the same normal stream
shifted by four samples and repeated-seed studies would be correlated; hashed seeds land
``~2^62`` counter steps apart. And one library's stream no longer equals another's because both
got the same integer.

Seeded: Python's ``random``, NumPy's global generator, TensorFlow's global seed, Keras's
``SeedGenerator`` default, and Sionna's ``config.seed`` (its Python, NumPy and TensorFlow
generators, which draw the channels and the link's noise).

What stays bit-exact: the same seed gives the same numbers in a new process on the same machine
and the same thread count (a test compares two subprocesses of ``psfl link``, ``train``,
``energy`` and ``hil --radio emulated``). With another thread count, evaluation is still
identical (``psfl link`` with a shipped codec, Rayleigh, 1 vs 2 intra-op threads: the same PSNR
to the last bit at 0, 10 and 20 dB), but training is not: gradient reductions are summed in
another order, and 30 training steps (``psfl link --steps 30``) ended 2e-4 dB apart
(measured 2026-12-02). Expect such spreads to grow with the number of steps, as for any
floating-point training.
"""

from __future__ import annotations

import os
import random
import zlib

__all__ = ["STREAMS", "derive_seed", "set_seed"]

#: The generators :func:`set_seed` seeds, each from its own derived stream.
STREAMS: tuple[str, ...] = ("python", "numpy", "tensorflow", "keras", "sionna")


def derive_seed(seed: int, stream: str) -> int:
    """The seed of ``stream`` derived from the run seed (formula in the module docstring).

    Input
    -----
    seed : int
        The run seed, any non-negative integer.
    stream : str
        Name of the generator (one of :data:`STREAMS`, or any other name a caller wants its own
        independent stream for).

    Output
    ------
    : int
        In ``[0, 2**63)``.
    """
    import numpy as np

    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"run.seed must be a non-negative integer, got {seed!r}")
    key = zlib.crc32(stream.encode("utf-8"))
    words = np.random.SeedSequence(int(seed), spawn_key=(key,)).generate_state(2, np.uint32)
    return int((int(words[0]) << 32 | int(words[1])) >> 1)


def set_seed(seed: int) -> None:
    """Seed Python, NumPy, TensorFlow, Keras and Sionna from one run seed."""
    import numpy as np

    s = {name: derive_seed(seed, name) for name in STREAMS}
    os.environ["PYTHONHASHSEED"] = str(seed)
    import keras
    import tensorflow as tf
    from sionna.phy import config as sionna_config

    # Keras's helper also seeds random, NumPy and TF; the per-library seeds are set after it.
    keras.utils.set_random_seed(s["keras"] % 2**32)
    random.seed(s["python"])
    np.random.seed(s["numpy"] % 2**32)
    tf.random.set_seed(s["tensorflow"])
    sionna_config.seed = s["sionna"]
