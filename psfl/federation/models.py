"""Models of a federated run: the shared student and where every model starts
(``federation.init``). The per-process cache of built models lives in :mod:`.cache`."""

from __future__ import annotations

import numpy as np

from psfl.config import Config

__all__ = ["build_student", "initial_weights"]


def build_student(config: Config):
    """The shared CSC student of this configuration (image size and k from [data]/[semantic])."""
    from psfl.semantic import build_codec

    sem = config.semantic
    return build_codec("csc", config.data.patch_size, k=sem.k or None, k_over_n=sem.k_over_n)


def initial_weights(config: Config, preset: str = "csc") -> list[np.ndarray]:
    """Starting weights of ``preset`` under ``federation.init``: the shipped zoo file for the
    federation's small-scale channel (``pretrained:<preset>``), or a fresh initialization."""
    from psfl.semantic import build_codec

    sem = config.semantic
    if config.federation.init == "scratch":
        import keras

        from psfl.seeding import derive_seed

        # Keras draws initializers from a per-thread generator seeded from Python's `random`,
        # whose state depends on what ran before in the process (Ray draws from it); the BS
        # may build this in Flower's ServerApp thread. A seed of its own makes the start a
        # function of run.seed alone, on every backend.
        keras.utils.set_random_seed(derive_seed(config.run.seed, f"initial-{preset}") % 2**32)
        return build_codec(preset, config.data.patch_size, k=sem.k or None,
                           k_over_n=sem.k_over_n).get_weights()
    from psfl.semantic.power import k_from_ratio
    from psfl.semantic.zoo import PREFIX, load_pretrained

    k = sem.k or k_from_ratio(config.data.patch_size, sem.k_over_n)
    try:
        codec = load_pretrained(PREFIX + preset, config.federation.small_scale,
                                image_size=config.data.patch_size, k=k)
    except ValueError as exc:
        raise ValueError(f"{exc}; or set federation.init=scratch") from None
    return codec.get_weights()
