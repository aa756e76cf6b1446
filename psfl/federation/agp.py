"""AGP — adaptive global pruning of the model the BS sends to each MU.

Pruning is global magnitude pruning over the *prunable* tensors (kernels: rank ≥ 2); biases and
normalization parameters stay dense. The BS keeps the dense global model; every round it cuts a
copy for each MU at a ratio chosen from that MU's channel. *Expansion* when the channel improves
is therefore a lower ratio cut from the same dense copy: the weights pruned earlier are restored
from it (the masks are nested, so a lower ratio keeps every weight a higher one kept).

Bit count of a transmitted model (ours, stated here and in the README):

* a dense tensor of ``n`` entries costs ``n·w`` bits (``w`` bits per weight, 32 by default);
* a pruned tensor with ``z`` kept entries costs ``z·w`` value bits, plus its positions in the
  cheaper of a bitmap (``n`` bits) and a coordinate list (``z·⌈log2 n⌉`` bits), plus a 32-bit
  header holding ``z``.

Pruning-ratio rule: candidates ``r ∈ {0, Δ, 2Δ, …, r_max}``; the MU gets the *smallest* ratio
whose transfer energy fits the per-round budget, ``E(bits(r)) ≤ E_budget``, where
``E(b) = p·b / (B·log2(1 + SNR))`` (the MU's current downlink rate); when none fits, ``r_max``.
A worse channel thus means a higher ratio, fewer bits and less energy.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

__all__ = [
    "apply_masks",
    "choose_ratio",
    "magnitude_masks",
    "model_bits",
    "prunable",
]

Weights = list[np.ndarray]


def prunable(weights: Sequence[np.ndarray]) -> list[bool]:
    """Which tensors AGP may prune: kernels (rank ≥ 2), not biases or norm scales."""
    return [np.ndim(w) >= 2 for w in weights]


def magnitude_masks(weights: Sequence[np.ndarray], ratio: float) -> Weights:
    """Global magnitude masks removing the fraction ``ratio`` of the prunable entries.

    Input
    -----
    weights : list of arrays; ratio : float in [0, 1)

    Output
    ------
    list of float32 arrays of the same shapes, 1 = kept, 0 = pruned; non-prunable tensors are
    all ones. Ties at the threshold are broken by position so exactly ``round(ratio·N)`` entries
    are pruned.
    """
    if not 0.0 <= ratio < 1.0:
        raise ValueError(f"pruning ratio must be in [0, 1), got {ratio}")
    flags = prunable(weights)
    mags = [np.abs(np.ravel(w)) for w, f in zip(weights, flags, strict=True) if f]
    masks = [np.ones(np.shape(w), np.float32) for w in weights]
    if not mags:
        return masks
    allm = np.concatenate(mags)
    n_prune = int(round(ratio * allm.size))
    if n_prune == 0:
        return masks
    order = np.argsort(allm, kind="stable")
    keep = np.ones(allm.size, np.float32)
    keep[order[:n_prune]] = 0.0
    offset = 0
    for i, f in enumerate(flags):
        if f:
            size = np.size(weights[i])
            masks[i] = keep[offset:offset + size].reshape(np.shape(weights[i]))
            offset += size
    return masks


def apply_masks(weights: Sequence[np.ndarray], masks: Sequence[np.ndarray]) -> Weights:
    """``w ⊙ m`` per tensor (the model an MU receives); with the dense copy as ``weights`` and a
    lower-ratio mask this is the expansion step."""
    return [np.asarray(w) * np.asarray(m, dtype=np.asarray(w).dtype)
            for w, m in zip(weights, masks, strict=True)]


def model_bits(weights: Sequence[np.ndarray], masks: Sequence[np.ndarray] | None = None,
               weight_bits: int = 32) -> int:
    """Bits to transmit a (possibly pruned) model; see the module docstring for the encoding."""
    total = 0
    for i, w in enumerate(weights):
        n = int(np.size(w))
        m = None if masks is None else np.asarray(masks[i])
        if m is None or m.all():
            total += n * weight_bits
            continue
        z = int(np.count_nonzero(m))
        index_bits = min(n, z * max(1, math.ceil(math.log2(n))))
        total += z * weight_bits + index_bits + 32
    return total


def choose_ratio(weights: Sequence[np.ndarray], energy_of_bits: Callable[[float], float],
                 budget_j: float, max_ratio: float = 0.9, step: float = 0.05,
                 weight_bits: int = 32) -> dict[str, float]:
    """Smallest pruning ratio whose transfer energy fits ``budget_j`` (see the module docstring).

    Parameters
    ----------
    weights
        The dense global model.
    energy_of_bits
        Transfer energy [J] of a model of ``b`` bits over this MU's current channel.
    budget_j, max_ratio, step
        Energy budget [J], largest ratio and candidate grid step.

    Returns
    -------
    dict with ``ratio``, ``bits``, ``energy_j`` and ``fits`` (1.0 or 0.0).
    """
    if budget_j <= 0:
        raise ValueError(f"energy budget must be > 0 J, got {budget_j}")
    ratios = np.round(np.arange(0.0, max_ratio + 1e-9, step), 6)
    if ratios[-1] < max_ratio:
        ratios = np.append(ratios, max_ratio)
    choice = None
    for r in ratios:
        bits = model_bits(weights, magnitude_masks(weights, float(r)), weight_bits)
        energy = float(energy_of_bits(bits))
        choice = {"ratio": float(r), "bits": float(bits), "energy_j": energy,
                  "fits": float(energy <= budget_j)}
        if energy <= budget_j:
            break
    assert choice is not None
    return choice
