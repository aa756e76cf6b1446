"""Codecs beside the digital baseline over a link, an SNR sweep and image sets: one table.

Every command that compares schemes (``psfl link``, ``psfl pretrain``, ``psfl demo``, the
study's link figures) calls :func:`sweep`; the digital baseline as configured — its source
coder, the MCS table shipped, cached or measured for the channel configuration, the warning
when only the AWGN table is at hand — comes from :func:`digital_baseline`.

Order of evaluation (it fixes which channel draws each scheme sees for a seed): data set by
data set, SNR by SNR; at each point every codec in the order given, then the capacity
reference (sets named in ``capacity_sets``), then the baseline.

Columns of a row: ``dataset``, ``snr_db`` (sweep value + ``offset_db``), ``snr_offset_db``
(only with an offset), ``images``, then per codec label ``<label>_psnr``, ``<label>_ssim``
(``<label>_ms_ssim`` from 176 px), then ``capacity_psnr``, ``digital_psnr``, ``digital_ssim``
(``digital_ms_ssim``) and ``digital_success`` (share of images delivered; whole photos also
``digital_slices``, the share of their restart intervals delivered).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from psfl.phy.config import PhyConfig
    from psfl.phy.digital import DigitalBaseline
    from psfl.phy.link import LinkFn
    from psfl.semantic.codec import SemanticCodec
    from psfl.semantic.config import SemanticConfig

__all__ = ["Baseline", "PhotoScheme", "Point", "digital_baseline", "held_back_patches", "sweep",
           "sweep_axis"]


@dataclasses.dataclass(frozen=True)
class Baseline:
    """The digital baseline as configured.

    Attributes
    ----------
    scheme : DigitalBaseline — what transmits.
    thresholds_db : its MCS table (``None``: the AWGN table).
    label : e.g. ``"JPEG+LDPC+QAM"``; description : the label with where the MCS table comes from.
    photo_loss : what a failed TB loses of a whole photo (``semantic.photo_loss``).
    """

    scheme: DigitalBaseline
    thresholds_db: dict[int, float] | None
    label: str
    description: str

    num_data_per_slot: int = 0
    photo_loss: str = "photo"
    #: One PhotoBaseline per receiver and loss rule, made on first use (its TB coders are cached).
    _photo: dict[tuple[str, str], Any] = dataclasses.field(default_factory=dict, init=False,
                                                           repr=False, compare=False)

    def for_photo(self, k: int, decoder: str, loss: str | None = None) -> PhotoScheme:
        """The baseline for a whole photo of ``k`` channel uses: the same source coder, MCS
        table (the one measured for :attr:`scheme`'s ``k``) and margin, one codestream per
        photo over one 5G transport block per slot (:class:`psfl.phy.digital.PhotoBaseline`),
        received by ``decoder`` ("ldpc" or "abstraction") under the loss rule ``loss``
        ("photo" or "slice"; default :attr:`photo_loss`)."""
        from sionna.phy import config

        from psfl.phy.digital import PhotoBaseline

        key = (decoder, loss or self.photo_loss)
        if key not in self._photo:
            self._photo[key] = PhotoBaseline(
                self.num_data_per_slot, codec=self.scheme.codec, decoder=decoder, loss=key[1],
                thresholds_db=self.thresholds_db, margin_db=self.scheme.margin_db,
                seed=int(config.np_rng.integers(2**31)))  # the run's seed fixes the draws
        return PhotoScheme(self._photo[key], k)


@dataclasses.dataclass(frozen=True)
class PhotoScheme:
    """A :class:`~psfl.phy.digital.PhotoBaseline` bound to one photo's ``k``: what
    :func:`sweep` calls a baseline (``k``, ``transmit(images, link, snr_db, mcs_snr_db)``)."""

    baseline: Any
    k: int

    @property
    def decoder(self) -> str:
        return self.baseline.decoder

    @property
    def codec(self) -> str:
        return self.baseline.codec

    def transmit(self, images: Any, link: LinkFn, snr_db: Any, mcs_snr_db: Any = None
                 ) -> tuple[np.ndarray, dict[str, Any]]:
        return self.baseline.transmit(images, link, snr_db, self.k, mcs_snr_db=mcs_snr_db)


def digital_baseline(phy: PhyConfig, sem: SemanticConfig, k: int, *,
                     calibrate: bool | None = None,
                     log: Callable[[str], Any] | None = None) -> Baseline:
    """The digital baseline for ``k`` channel uses over ``phy``'s channel configuration.

    Its MCS thresholds are the table shipped or cached for the configuration or, with
    ``calibrate`` (default ``sem.baseline_calibrate``), measured once and cached; without a
    table the AWGN thresholds are used and, on a fading channel, a warning goes to ``log``.
    A shipped table measured for another grid raises :class:`ValueError` naming the fix
    (:func:`psfl.phy.digital.calibration.thresholds_for`).
    """
    from psfl.phy.digital import DigitalBaseline
    from psfl.phy.digital.calibration import thresholds_for
    from psfl.phy.grid import SlotGrid
    from psfl.plotting import channel_name

    calibrate = sem.baseline_calibrate if calibrate is None else calibrate
    thresholds = thresholds_for(phy, k, calibrate=calibrate, log=log)
    if thresholds is None and phy.channel != "awgn" and log is not None:
        log(f"warning: no MCS table for this {phy.channel} configuration; the digital baseline "
            "uses the AWGN thresholds, optimistic on a fading channel (measure them once with "
            "--set semantic.baseline_calibrate=true)")
    scheme = DigitalBaseline(k, thresholds_db=thresholds, codec=sem.baseline_codec,
                             margin_db=sem.baseline_margin_db)
    label = f"{sem.baseline_codec.upper()}+LDPC+QAM"
    table = ("AWGN MCS table" if thresholds is None
             else f"MCS thresholds measured over {channel_name(phy.channel)}")
    return Baseline(scheme, thresholds, label, f"{label} ({table})",
                    SlotGrid(phy).num_data_per_slot, sem.photo_loss)


@dataclasses.dataclass
class Point:
    """One point of a sweep, handed to ``on_point``.

    Attributes
    ----------
    dataset : str; snr : float — the sweep value (before ``offset_db``).
    row : dict — the row of the table (columns: module docstring).
    received : dict — scheme (a codec label or ``"digital"``) → reconstructions, float32
        [N, H, W, 3]; empty unless the data set is in ``images_for``.
    delivered : bool [N] or None — which images the baseline delivered (with ``received``).
    """

    dataset: str
    snr: float
    row: dict[str, Any]
    received: dict[str, np.ndarray]
    delivered: np.ndarray | None


def sweep(codecs: Mapping[str, SemanticCodec], link: LinkFn, sets: Mapping[str, np.ndarray],
          snrs: Sequence[float], *, baseline: DigitalBaseline | PhotoScheme | None = None,
          offset_db: float = 0.0, capacity_sets: Sequence[str] = (),
          capacity_coders: Sequence[str] | None = None,
          images_for: Sequence[str] = (), jit_compile: bool = False, progress: bool = True,
          on_point: Callable[[Point], None] | None = None,
          on_set: Callable[[list[dict[str, Any]]], None] | None = None,
          ) -> list[dict[str, Any]]:
    """Every data set at every SNR through each codec, the capacity reference and the
    baseline; the table's rows (columns: module docstring).

    Parameters
    ----------
    codecs : label → codec (labels become column prefixes).
    link : ``link(x, snr_db) -> (y, no_eff)``, e.g. :class:`psfl.phy.UplinkLink`.
    sets : name → images, float32 [N, H, W, 3] in [0, 1].
    snrs : the sweep values [dB]; the SNR of a point is the value + ``offset_db`` (umi/uma/rma:
        the sweep is an offset to the link budget, whose median SNR is ``offset_db``).
    baseline : the digital baseline (:attr:`Baseline.scheme`), or None.
    capacity_sets : data sets that also get the source coders at capacity (needs ``baseline``).
    capacity_coders : the source coders of that reference (default: all of
        :data:`psfl.phy.digital.source.CODECS`; on whole photos the baseline's alone is ~50x
        cheaper than AVIF's and JPEG 2000's searches).
    images_for : data sets whose reconstructions reach ``on_point``.
    on_point : called after each point (logging, figures); on_set : with the rows so far,
        after each data set (a CSV written as it grows).
    """
    from psfl.results import progress as bar
    from psfl.semantic.train import evaluate_codec

    rows: list[dict[str, Any]] = []
    for name, images in sets.items():
        keep = name in images_for
        for snr in bar(list(snrs), desc=f"sweep {name}", unit="SNR",
                       disable=None if progress else True):
            row: dict[str, Any] = {"dataset": name, "snr_db": snr + offset_db,
                                   "images": len(images)}
            if offset_db:
                row["snr_offset_db"] = snr
            received: dict[str, np.ndarray] = {}
            delivered = None
            for label, codec in codecs.items():
                res = evaluate_codec(codec, link, images, [snr], jit_compile=jit_compile,
                                     return_images=keep)[0]
                row.update({f"{label}_{m}": res[m] for m in ("psnr", "ssim", "ms_ssim")
                            if m in res})
                if keep:
                    received[label] = res["images"]
            if baseline is not None:
                cols, rx, success = _baseline_point(baseline, link, images, snr, offset_db,
                                                    capacity=name in capacity_sets,
                                                    coders=capacity_coders)
                row.update(cols)
                if keep:
                    received["digital"], delivered = rx, success
            rows.append(row)
            if on_point is not None:
                on_point(Point(name, snr, row, received, delivered))
        if on_set is not None:
            on_set(rows)
    return rows


def _baseline_point(baseline: DigitalBaseline | PhotoScheme, link: LinkFn, images: np.ndarray,
                    snr: float, offset_db: float, *, capacity: bool,
                    coders: Sequence[str] | None = None
                    ) -> tuple[dict[str, float], np.ndarray, np.ndarray]:
    """The baseline's columns at one point (and the capacity reference's), its receptions and
    which images it delivered."""
    from psfl.semantic.metrics import image_metrics, mean_metrics

    cols: dict[str, float] = {}
    if capacity:
        from psfl.phy.digital.capacity import capacity_reference
        from psfl.phy.digital.source import CODECS

        _, cap = capacity_reference(images, baseline.k, snr, link, codecs=coders or CODECS)
        cols["capacity_psnr"] = float(np.mean(cap["psnr"]))
    rx, info = baseline.transmit(images, link, snr, mcs_snr_db=snr + offset_db)
    cols.update({f"digital_{k}": v for k, v in mean_metrics(image_metrics(images, rx)).items()})
    cols["digital_success"] = float(np.mean(info["success"]))
    if "slices_delivered" in info:  # whole photos
        cols["digital_slices"] = float(np.mean(info["slices_delivered"]))
    return cols, rx, np.asarray(info["success"], bool)


def sweep_axis(phy: PhyConfig) -> tuple[str, float]:
    """(x-axis label, dB added to a sweep value to get the SNR) for ``phy``'s channel.

    On umi/uma/rma the sweep values are offsets to the link budget (see
    :class:`psfl.phy.UplinkLink`); the SNR they give at the median of path loss and shadowing is
    the budget SNR plus the offset, which is also what the baseline's MCS is chosen for.
    """
    from psfl.phy.config import PATHLOSS_CHANNELS

    if phy.channel not in PATHLOSS_CHANNELS:
        return "SNR [dB]", 0.0
    from psfl.phy.budget import snr_db_from_config

    budget = snr_db_from_config(phy)
    return (f"offset to the link budget [dB] (median budget SNR {budget:.1f} dB at "
            f"{phy.distance_m:g} m)", budget)


def held_back_patches(image_size: int, n: int = 256) -> np.ndarray:
    """``n`` evenly spaced held-back test patches of the embedded data (never trained on by any
    shipped codec or MU; 0: all of them); the default 256 are what every zoo table is measured
    on."""
    from psfl.data import load_skimage

    _, test = load_skimage(image_size)
    idx = np.linspace(0, len(test) - 1, min(n, len(test)) if n > 0 else len(test)).astype(int)
    return test.images[idx]
