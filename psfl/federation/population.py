"""The MU population: heterogeneous resources and positions, fixed for a run."""

from __future__ import annotations

import dataclasses

import numpy as np

__all__ = ["MobileUser", "make_population"]


@dataclasses.dataclass(frozen=True)
class MobileUser:
    """One mobile user.

    Attributes
    ----------
    mu : int — index
    distance_m : float — ground distance to the BS [m] (sets path loss and so the SNR)
    memory_bytes : float — memory available for local training [bytes]
    compute_flops : float — floating-point operations it can spend per round [FLOP]
    num_samples : int — local training images (FedAvg weight)
    """

    mu: int
    distance_m: float
    memory_bytes: float
    compute_flops: float
    num_samples: int


def make_population(num_samples: list[int], *, min_distance_m: float, max_distance_m: float,
                    memory_mb: tuple[float, ...], compute_gflop: tuple[float, ...],
                    seed: int) -> list[MobileUser]:
    """Draw one MU per entry of ``num_samples``.

    Distances are uniform over the *area* of the annulus between ``min_distance_m`` and
    ``max_distance_m`` (MUs dropped uniformly in a cell). Memory and compute tiers are dealt in
    shuffled rounds (every tier once before any repeats, independently for memory and compute),
    so that even a handful of MUs mixes small and large devices.
    """
    rng = np.random.default_rng(seed)
    n = len(num_samples)
    r2 = rng.uniform(min_distance_m**2, max_distance_m**2, size=n)

    def deal(tiers: tuple[float, ...]) -> np.ndarray:
        t = np.asarray(tiers, float)
        return np.concatenate([rng.permutation(t) for _ in range(-(-n // len(t)))])[:n]

    mem, comp = deal(memory_mb), deal(compute_gflop)
    return [MobileUser(mu=i, distance_m=float(np.sqrt(r2[i])), memory_bytes=float(mem[i]) * 2**20,
                       compute_flops=float(comp[i]) * 1e9, num_samples=int(num_samples[i]))
            for i in range(n)]
