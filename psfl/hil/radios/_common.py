"""What the radios that model their own channel share: the static multipath taps."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["config_taps", "exp_taps"]


def exp_taps(delay_spread_s: float, sample_rate_hz: float, seed: int = 0) -> np.ndarray:
    r"""Static multipath taps of the exponential profile: taps at the sample spacing with powers
    :math:`\propto e^{-\tau/\tau_\mathrm{rms}}` (``tau <= 4 tau_rms``), fixed phases from
    ``seed`` (the first tap real), unit total power.

    Output
    ------
    taps : [L], complex128 — unit total power; ``[1]`` for a zero delay spread.
    """
    tau = delay_spread_s * sample_rate_hz  # rms delay spread in samples
    if tau <= 0:
        return np.ones(1, np.complex128)
    n = int(np.floor(4 * tau)) + 1
    p = np.exp(-np.arange(n) / tau)
    rng = np.random.default_rng(seed)
    ph = np.exp(2j * np.pi * rng.random(n))
    ph[0] = 1.0
    taps = np.sqrt(p / p.sum()) * ph
    return taps


def config_taps(hil: Any, sample_rate_hz: float, seed: int | None) -> np.ndarray | None:
    """The taps ``hil.multipath`` asks for (``"exp"``: :func:`exp_taps` at
    ``hil.delay_spread_s``), or ``None``."""
    if hil.multipath == "exp":
        return exp_taps(hil.delay_spread_s, sample_rate_hz, seed or 0)
    return None
