"""One look for every figure psfl draws: commands, the federated report, benchmarks, notebooks.

The rules, each one function or table here so that no figure restates them:

- **One colour per scheme everywhere** (:func:`color`): a transmission scheme (the semantic
  codec, the digital baseline, the capacity reference), a federated strategy, a link direction or
  an energy component has the same colour in every panel, plot and notebook. Names outside the
  table get a colour from the rest of the palette by a stable hash of the name (ours), so a name
  keeps its colour between runs and processes.
- **One line style per data set** (:func:`linestyle`): the held-back test patches solid, a folder
  of the user's photos dashed.
- Integer ticks where the quantity is an integer (:func:`integer_ticks`: rounds, MUs, frames).
- SI units with prefixes on axes whose values span prefixes (:func:`si_axis`, e.g. CFO in kHz),
  and in text the same way (:func:`si`).
- The budget and settings in one caption line under the figure (:func:`caption`).
- Failed digital decodes marked (:func:`mark_delivery` on curves, :func:`mark_failed_tiles` on
  image mosaics, both in :data:`FAILED` style).
- Channel and scenario names as the standards write them (:func:`channel_name`: ``UMi``,
  ``TDL-C``).
- Every figure written as PNG **and** PDF (:func:`save`).
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterable, Sequence
from typing import Any

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from matplotlib import ticker

__all__ = ["FAILED", "FORMATS", "caption", "channel_name", "color", "count", "integer_ticks",
           "linestyle", "mark_delivery", "mark_failed_tiles", "render", "save", "si", "si_axis",
           "subplots"]

FORMATS = ("png", "pdf")
"""The files :func:`save` writes for every figure."""

_PALETTE = ("#8C564B", "#17BECF", "#BCBD22", "#7F7F7F", "#9467BD", "#2CA02C", "#F0E442")
"""Colours for names outside the table: none of them is a table colour, so an unknown name
never looks like a known scheme."""

_SCHEMES = {  # Okabe–Ito (colour-blind safe), then Tol's dark green, wine and purple
    # transmission schemes: semantic codecs (each preset its own) …
    "codec": "#0072B2", "semantic": "#0072B2", "csc": "#0072B2", "gsc": "#009E73",
    "gsc-s": "#56B4E9", "gsc-m": "#009E73", "gsc-l": "#117733",
    "pretrained": "#56B4E9", "mentor": "#CC79A7",
    # … the digital baseline (JPEG by default) and its other source coders, the bound
    "digital": "#D55E00", "jpeg": "#D55E00", "webp": "#E69F00", "jpeg2000": "#882255",
    "avif": "#AA4499", "capacity": "#000000",
    # federated strategies (the study's arms)
    "psfl": "#0072B2", "psfl-no-pld": "#56B4E9", "psfl-no-agp": "#009E73",
    "fedavg-csc": "#D55E00", "fedprox-csc": "#E69F00", "local-only": "#882255",
    # link directions and energy components
    "downlink": "#0072B2", "uplink": "#D55E00",
    "computation": "#CC79A7", "communication": "#0072B2",
    # quality curves of the federated report
    "global": "#0072B2", "own": "#009E73", "personalized": "#CC79A7",
    # what the radio sent and received
    "sent": "#000000", "received": "#0072B2", "pilots": "#D55E00",
}

_DATASETS = {"test": "-", "folder": "--"}
_EXTRA_STYLES = ("-.", ":")

FAILED = {"marker": "x", "color": "#D62728", "linestyle": "none", "markersize": 8,
          "markeredgewidth": 1.6}
"""Marker style for points (or tiles) where the digital baseline failed to decode."""

_CHANNELS = {"awgn": "AWGN", "rayleigh": "Rayleigh", "umi": "UMi", "uma": "UMa", "rma": "RMa",
             "perfect": "perfect", "ls": "LS"}


def color(scheme: str) -> str:
    """The colour of ``scheme`` in every psfl figure (hex string).

    Known names (``codec``, each codec preset, ``digital`` and each source coder, strategies,
    ``downlink``, …) come from one table; a longer name is matched by its first known word
    (``"csc (test)"`` → ``csc``, ``"MU 0 mentor (gsc-l)"`` → ``mentor``); any other name takes
    a palette colour chosen by a stable hash of the name.
    """
    key = scheme.lower().strip()
    if key in _SCHEMES:
        return _SCHEMES[key]
    for word in key.replace("(", " ").replace(")", " ").replace(",", " ").split():
        if word in _SCHEMES:
            return _SCHEMES[word]
    digest = int(hashlib.sha1(key.encode()).hexdigest(), 16)
    return _PALETTE[digest % len(_PALETTE)]


def linestyle(dataset: str) -> str:
    """The line style of a data set: ``test`` solid, ``folder`` dashed, others dash-dot/dotted."""
    if dataset in _DATASETS:
        return _DATASETS[dataset]
    return _EXTRA_STYLES[int(hashlib.sha1(dataset.encode()).hexdigest(), 16) % len(_EXTRA_STYLES)]


def channel_name(name: str) -> str:
    """A channel, scenario or CSI name as the standards write it: ``umi`` → ``UMi``,
    ``tdl-c`` → ``TDL-C``, ``cdl-a`` → ``CDL-A``, ``awgn`` → ``AWGN``."""
    key = name.lower()
    if key in _CHANNELS:
        return _CHANNELS[key]
    if key[:4] in ("tdl-", "cdl-"):
        return key.upper()
    return name


_RC = {"font.size": 9, "axes.titlesize": 10, "axes.labelsize": 9, "legend.fontsize": 8,
       "xtick.labelsize": 8, "ytick.labelsize": 8, "figure.titlesize": 10, "figure.dpi": 120,
       "pdf.fonttype": 42, "axes.formatter.useoffset": False}


def subplots(nrows: int = 1, ncols: int = 1, **kwargs: Any) -> tuple[Any, Any]:
    """``plt.subplots`` in psfl's style (grid on, constrained layout).

    The style's font sizes are set in matplotlib's ``rcParams`` for the process, not only while
    the figure is made: titles, labels and legends added afterwards read them when they are
    drawn (so, in a notebook, the user's own figures after this call share the style too)."""
    matplotlib.rcParams.update(_RC)
    fig, axes = plt.subplots(nrows, ncols, layout="constrained", **kwargs)
    for ax in getattr(axes, "flat", [axes]):
        ax.grid(True, alpha=0.3, which="major")
    return fig, axes


def integer_ticks(ax: Any, axis: str = "x") -> None:
    """Ticks on whole numbers only, on ``axis`` (``"x"``, ``"y"`` or ``"both"``)."""
    # min_n_ticks=1: with one round the view spans less than 1 and the default fell back to
    # fractional ticks
    for name, obj in (("x", ax.xaxis), ("y", ax.yaxis)):
        if axis in (name, "both"):
            obj.set_major_locator(ticker.MaxNLocator(integer=True, min_n_ticks=1))


def si_axis(ax: Any, axis: str, unit: str, places: int | None = None) -> None:
    """Tick labels with SI prefixes on ``axis``: ``75000`` Hz reads ``75 kHz``."""
    fmt = ticker.EngFormatter(unit=unit, places=places, sep="\u2009")
    (ax.xaxis if axis == "x" else ax.yaxis).set_major_formatter(fmt)


def si(value: float, unit: str, places: int | None = None) -> str:
    """``value`` with an SI prefix, as :func:`si_axis` labels ticks, for text (log lines,
    captions, error messages): ``si(3.8e9, "Hz")`` reads ``3.8 GHz``. ``places``: decimals of
    the mantissa; ``None``: up to six significant digits without trailing zeros. Prefixes go up
    from the unit only: ``si(0.3, "Hz")`` reads ``0.3 Hz``, not ``300 mHz``."""
    if abs(value) < 1:
        return f"{value:{'g' if places is None else f'.{places}f'}} {unit}"
    return ticker.EngFormatter(unit=unit, places=places, sep=" ").format_eng(value)


def count(n: int, noun: str) -> str:
    """``1 round``, ``4 rounds``: a number and its noun, for captions."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def caption(fig: Any, text: str | Iterable[str]) -> None:
    """One caption line (or a few joined by `` · ``) under the figure: the budget and settings
    a reader needs to repeat it."""
    if not isinstance(text, str):
        text = " · ".join(t for t in text if t)
    fig.text(0.5, -0.01, text, ha="center", va="top", fontsize=7, color="0.25", wrap=True)


def mark_delivery(ax: Any, x: Sequence[float], y: Sequence[float], delivered: Sequence[float],
                  *, every: bool = False, legend: bool = True) -> bool:
    """On the digital baseline's curve ``(x, y)``: points where some images were lost
    (``delivered`` < 1) crossed in :data:`FAILED` style, with their delivered share written
    under them (with ``every``, under every point). ``legend``: give the crosses a legend
    entry. Returns whether any point was crossed."""
    lost = [i for i, d in enumerate(delivered) if d < 1.0]
    if lost:
        ax.plot([x[i] for i in lost], [y[i] for i in lost],
                **{**FAILED, "label": "digital: some images not delivered" if legend else None})
    for i, d in enumerate(delivered):
        if every or d < 1.0:
            ax.annotate(f"{100 * d:.0f} %", (x[i], y[i]), textcoords="offset points",
                        xytext=(0, -12), ha="center", fontsize=7,
                        color=FAILED["color"] if d < 1.0 else "black")
    return bool(lost)


def mark_failed_tiles(ax: Any, failed: Sequence[bool], *, tile: int, pad: int = 2,
                      row: int = 0, cols: int | None = None) -> int:
    """Cross out the tiles whose digital decode failed (``failed[i]``) in an image drawn with
    ``imshow``: tiles ``tile`` px square, ``pad`` px apart (as :func:`psfl.results.mosaic` lays
    them, or ``pad=0`` for a stitched photo); tile ``i`` sits in mosaic row ``row`` and column
    ``i``, or with ``cols`` at row ``row + i // cols``, column ``i % cols``. Returns how many
    tiles it crossed out."""
    step, xs, ys = tile + pad, [], []
    for i in (int(j) for j in np.flatnonzero(np.asarray(failed, bool))):
        r, c = divmod(i, cols) if cols else (0, i)
        x0, y0, e = c * step - 0.5, (row + r) * step - 0.5, tile
        xs += [x0, x0 + e, np.nan, x0, x0 + e, np.nan]
        ys += [y0, y0 + e, np.nan, y0 + e, y0, np.nan]
    if xs:
        ax.plot(xs, ys, color=FAILED["color"], lw=1.2, scalex=False, scaley=False)
    return len(xs) // 6


def render(fig: Any, fmt: str, dpi: int = 150) -> bytes:
    """The figure as ``fmt`` (``png``/``pdf``/``svg``) bytes; the same figure gives the same
    bytes (no creation date in a PDF), so a repeated run's figures compare equal."""
    buf = io.BytesIO()
    metadata = {"pdf": {"CreationDate": None}, "svg": {"Date": None}}.get(fmt)
    fig.savefig(buf, format=fmt, dpi=dpi, bbox_inches="tight", metadata=metadata)
    return buf.getvalue()


def save(fig: Any, stem: str, write: Any, dpi: int = 150) -> list[str]:
    """Write ``fig`` once per :data:`FORMATS` through ``write(name, data)`` and close it;
    ``stem`` may end in ``.png`` (dropped). Returns the names written."""
    if stem.endswith(".png"):
        stem = stem[:-4]
    names = []
    try:
        for fmt in FORMATS:
            write(f"{stem}.{fmt}", render(fig, fmt, dpi))
            names.append(f"{stem}.{fmt}")
    finally:
        plt.close(fig)
    return names
