r"""Jain's fairness index (Jain, Chiu, Hawe, 1984):

.. math::
    J(x) = \frac{\left(\sum_{i=1}^N x_i\right)^2}{N \sum_{i=1}^N x_i^2} \in [1/N, 1],

1 when every user gets the same, :math:`1/N` when one user gets everything.
"""

from __future__ import annotations

import numpy as np

__all__ = ["jain_index"]


def jain_index(x: np.ndarray) -> float:
    """:math:`J(x)` of non-negative shares ``x`` [N] (module docstring); 1.0 for all zeros."""
    x = np.asarray(x, np.float64)
    if x.ndim != 1 or x.size == 0 or np.any(x < 0) or not np.all(np.isfinite(x)):
        raise ValueError(f"jain_index takes a non-empty 1-D array of finite shares >= 0, got {x!r}")
    total = float(np.sum(x**2))
    return 1.0 if total == 0.0 else float(np.sum(x) ** 2 / (x.size * total))
