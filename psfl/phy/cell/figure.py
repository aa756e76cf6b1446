r"""The figure of a drop: hexagonal cells, sites, and the MUs coloured by their SINR.

Cells are drawn as Sionna's :class:`~sionna.sys.topology.Hexagon` has them (corners at
:math:`k \cdot 60°` from the site, radius :math:`\mathrm{isd}/\sqrt3`). psfl's MUs (the serving
cell 0) are filled circles, the other cells' MUs small crosses, both on one colour scale.
Uses matplotlib's Agg backend through :mod:`psfl.plotting` (no display needed).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .topology import Drop

__all__ = ["plot_drop"]


def plot_drop(drop: Drop, sinr_db: np.ndarray | None = None, *, ax: Any = None,
              title: str | None = None) -> Any:
    """Draw ``drop`` (module docstring).

    Parameters
    ----------
    drop : Drop
    sinr_db : [U] or None
        Colour of each MU (e.g. :func:`~psfl.phy.cell.interference.geometry_sinr_db` or the
        post-equalization SINR the shared uplink measured); None draws the large-scale gain to
        the serving site instead.
    ax : matplotlib Axes or None
        Draw into it; None makes a new figure.
    title : str or None

    Output
    ------
    fig : matplotlib Figure
    """
    from psfl.plotting import channel_name, subplots

    if ax is None:
        fig, ax = subplots(figsize=(6.4, 5.6))
    else:
        fig = ax.figure
    radius = drop.isd_m / np.sqrt(3.0)
    angles = np.arange(7) * np.pi / 3.0
    for c, (x, y) in enumerate(drop.site_xy):
        ax.plot(x + radius * np.cos(angles), y + radius * np.sin(angles),
                color="0.25" if c == 0 else "0.6", lw=1.5 if c == 0 else 0.8)
        ax.plot(x, y, marker="^", color="k", ms=7, ls="none",
                label="site (psfl's BS)" if c == 0 else None)
        ax.annotate(str(c), (x, y), textcoords="offset points", xytext=(4, 4), fontsize=8)
    value = drop.serving_gain_db if sinr_db is None else np.asarray(sinr_db, np.float64)
    label = "large-scale gain [dB]" if sinr_db is None else "SINR [dB]"
    vmin, vmax = np.percentile(value, [2, 98]) if value.size > 1 else (value[0] - 1, value[0] + 1)
    own = drop.cell == 0
    xy = drop.ut_xyz[:, :2]
    sc = ax.scatter(xy[own, 0], xy[own, 1], c=value[own], cmap="viridis", vmin=vmin, vmax=vmax,
                    s=36, edgecolors="k", linewidths=0.5, label="psfl's MUs (cell 0)", zorder=3)
    if (~own).any():
        ax.scatter(xy[~own, 0], xy[~own, 1], c=value[~own], cmap="viridis", vmin=vmin,
                   vmax=vmax, s=18, marker="x", label="co-channel MUs", zorder=2)
    fig.colorbar(sc, ax=ax, label=label)
    ax.set_aspect("equal", adjustable="box")
    ax.set_xlabel("x [m]")
    ax.set_ylabel("y [m]")
    wrap = "wrap-around" if drop.wraparound else "no wrap-around"
    ax.set_title(title or f"{channel_name(drop.scenario)}, ISD {drop.isd_m:g} m, "
                 f"{drop.num_cells} cells, {wrap}")
    ax.legend(loc="upper right", fontsize=7)
    return fig
