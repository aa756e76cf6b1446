r"""Frame synchronization: Schmidl–Cox detection, timing and carrier-frequency offset.

With ``L = N/2`` and the received samples :math:`r`,

.. math::
    P(d) = \sum_{m=0}^{L-1} r^*(d+m)\, r(d+m+L),\qquad
    R(d) = \tfrac12 \sum_{m=0}^{2L-1} |r(d+m)|^2,\qquad
    M(d) = |P(d)|^2 / R(d)^2 .

:math:`R` spans both halves (not only the second, as in the original paper) so that
:math:`M \le 1` by Cauchy–Schwarz; with the half-window energy, the trailing edge of a frame
into the silent guard gives :math:`M \gg 1` at high SNR. On S1, :math:`M` has a plateau of
``C + 1`` samples (from the start of the CP to the start of the body) at
:math:`(\mathrm{SNR}/(1+\mathrm{SNR}))^2`; elsewhere it is about :math:`1/L`.

The CFO in subcarrier spacings is :math:`\epsilon = \epsilon_f + 2g` with
:math:`\epsilon_f = \angle P / \pi` and the even integer :math:`2g` found from S2 by the
differential correlation

.. math::
    \Lambda(m) = \Big|\sum_f Y_{b_f+m}\,Y^*_{b_{f+1}+m}\,X^*_{f}\,X_{f+1}\Big|,

which is insensitive to the channel (adjacent subcarriers see nearly the same gain) and to
the timing (a constant phase step between neighbours).
"""

from __future__ import annotations

import numpy as np

__all__ = ["find_plateaus", "integer_cfo", "schmidl_cox"]


def schmidl_cox(r: np.ndarray, half: int) -> tuple[np.ndarray, np.ndarray]:
    """Schmidl–Cox correlation and timing metric (formulas in the module docstring).

    Parameters
    ----------
    half : int
        Length ``L`` of one half of the training symbol's body.

    Input
    -----
    r : [n], complex

    Output
    ------
    p : [n - 2L + 1], complex128 — :math:`P(d)`.
    m : [n - 2L + 1], float64 — :math:`M(d)` in [0, 1].
    """
    r = np.asarray(r, np.complex128)
    n = r.size - 2 * half + 1
    if n <= 0:
        return np.zeros(0, np.complex128), np.zeros(0)
    prod = np.conj(r[:-half]) * r[half:]
    cp = np.concatenate([[0], np.cumsum(prod)])
    p = cp[half:half + n] - cp[:n]
    e = np.concatenate([[0.0], np.cumsum(np.abs(r) ** 2)])
    energy = 0.5 * (e[2 * half:2 * half + n] - e[:n])
    floor = 1e-12 * max(float(e[-1]) / max(r.size, 1), 1e-30)
    m = np.abs(p) ** 2 / np.maximum(energy, floor) ** 2
    return p, np.minimum(m, 1.0)


def find_plateaus(m: np.ndarray, threshold: float, min_len: int, min_gap: int
                  ) -> list[tuple[int, int]]:
    """Runs of the timing metric above ``threshold``; for each, the span where it stays
    within 90 % of the run's maximum (the plateau).

    Parameters
    ----------
    threshold : float
        Detection threshold on :math:`M`.
    min_len : int
        Shortest run accepted (shorter ones are noise spikes).
    min_gap : int
        Runs closer than this are merged (a plateau broken by noise).

    Input
    -----
    m : [n], float

    Output
    ------
    list of (first, last) indices of each plateau, in increasing order.
    """
    above = m > threshold
    if not above.any():
        return []
    edges = np.flatnonzero(np.diff(np.concatenate([[0], above.astype(np.int8), [0]])))
    runs = list(zip(edges[::2], edges[1::2] - 1, strict=True))
    merged: list[list[int]] = []
    for a, b in runs:
        if merged and a - merged[-1][1] <= min_gap:
            merged[-1][1] = b
        else:
            merged.append([a, b])
    out = []
    for a, b in merged:
        if b - a + 1 < min_len:
            continue
        seg = m[a:b + 1]
        hi = np.flatnonzero(seg >= 0.9 * seg.max())
        out.append((int(a + hi[0]), int(a + hi[-1])))
    return out


def integer_cfo(y_fft: np.ndarray, bins: np.ndarray, ref: np.ndarray, candidates: np.ndarray
                ) -> tuple[int, np.ndarray]:
    """Integer CFO (in FFT bins) by the differential correlation :math:`\\Lambda(m)`.

    Input
    -----
    y_fft : [N], complex — FFT of the received S2 body after fractional-CFO correction.
    bins : [F], int — FFT bins of the grid subcarriers.
    ref : [F], complex — transmitted S2 on the grid.
    candidates : [c], int — shifts to test.

    Output
    ------
    shift : int — the best candidate.
    metric : [c], float64 — :math:`\\Lambda` per candidate (normalized to the total energy).
    """
    n = y_fft.size
    rr = np.conj(ref[:-1]) * ref[1:]
    idx = (bins[None, :] + candidates[:, None]) % n  # [c, F]
    yy = y_fft[idx]
    lam = np.abs(np.sum(yy[:, :-1] * np.conj(yy[:, 1:]) * rr, axis=1))
    lam = lam / max(float(np.sum(np.abs(y_fft) ** 2)), 1e-30)
    return int(candidates[int(np.argmax(lam))]), lam
