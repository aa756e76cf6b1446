"""Whole photographs over the link: each photo one message, beside the digital baseline.

:func:`whole_photo_sweep` sends every photo (a :class:`psfl.images.Photo`, cropped to whole
32×32 windows) as one message per scheme and SNR: each codec at the photo's size
(:func:`~psfl.semantic.windowed.at_size`, ``k = k/n · 3HW`` symbols over as many
OFDM slots as they need), the capacity reference and the digital baseline that
``baseline_for(k, pixels)`` gives for the same ``k`` channel uses: in ``psfl link``, one source
codestream per photo over one 5G transport block per slot
(:meth:`psfl.semantic.evaluate.Baseline.for_photo`), received by LDPC decoding up to
:data:`LDPC_MAX_PIXELS` and by the PHY abstraction above (:func:`photo_decoder`). It runs
:func:`psfl.semantic.evaluate.sweep` photo by photo, so the order of draws and the columns are
that module's.

With ``psfl link --tiles`` every 32×32 tile is an image of its own instead (the ``folder`` set of
the sweep); :class:`TiledPhotos` measures the photos stitched back from their tiles
(:func:`photo_rows`).

Tables: per photo, one row per SNR and scheme (:func:`scheme_rows`, the form of ``images.csv``),
and per SNR the mean over the photos of every column (:func:`mean_rows`, ``dataset = "photos"``,
the form of ``link.csv``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from psfl.images import Photo
    from psfl.phy.link import LinkFn
    from psfl.semantic.codec import SemanticCodec
    from psfl.semantic.evaluate import Baseline, Point

__all__ = ["LDPC_MAX_PIXELS", "TiledPhotos", "air_cost", "evaluate_photos", "mean_rows",
           "photo_decoder", "photo_rows", "scheme_rows", "whole_photo_sweep"]

DATASET = "photos"
#: ``semantic.photo_decoder = "auto"``: photos up to this many pixels (256×256) are decoded by
#: belief propagation, larger ones by the PHY abstraction (a 512×512 photo: 0.2–0.3 s against
#: 2–5 s per SNR on 2 loaded cores, benchmarks/RESULTS.md).
LDPC_MAX_PIXELS = 256 * 256


def photo_decoder(choice: str, pixels: int) -> str:
    """The baseline's receiver for a photo of ``pixels``: ``choice`` unless it is ``"auto"``
    (then ``"ldpc"`` up to :data:`LDPC_MAX_PIXELS`, else ``"abstraction"``)."""
    if choice != "auto":
        return choice
    return "ldpc" if pixels <= LDPC_MAX_PIXELS else "abstraction"


def whole_photo_sweep(codecs: Mapping[str, SemanticCodec], link: LinkFn,
                      photos: Sequence[Photo], snrs: Sequence[float], *,
                      baseline_for: Callable[[int, int], Any] | None = None,
                      offset_db: float = 0.0, capacity: bool = True,
                      on_point: Callable[[int, Point], None] | None = None,
                      by_size: dict[tuple[int, int], dict[str, SemanticCodec]] | None = None,
                      ) -> list[dict[str, Any]]:
    """Every photo at every SNR, whole; the rows of :func:`psfl.semantic.evaluate.sweep`, one
    per photo and SNR (``dataset`` = the photo's name), with ``windows`` (of the codec's
    trained size), ``k`` and, on an :class:`~psfl.phy.UplinkLink`, :func:`air_cost` (the
    digital baseline uses the same ``k`` channel uses, so the same slots and energy).

    Parameters
    ----------
    codecs : label → codec at its trained size.
    link : ``link(x, snr_db) -> (y, no_eff)``.
    photos : the photos, each cropped to a multiple of every codec's size.
    snrs, offset_db : as for :func:`~psfl.semantic.evaluate.sweep`.
    baseline_for : ``(k, pixels)`` → the digital baseline for a photo of ``pixels`` sent in
        ``k`` channel uses (or None: none).
    capacity : also the baseline's source coder at capacity (needs a baseline).
    on_point : called with the photo's index and the :class:`~psfl.semantic.evaluate.Point`
        (its ``received`` holds the photo as each scheme delivered it).
    by_size : photo size → ``codecs`` at that size, filled here; a caller that sends its photos
        in several calls with the same ``codecs`` passes one dict to all of them, so that each
        codec is wrapped and traced once per size, not once per call (a trace took about as long
        as sending a 768×512 photo).
    """
    from psfl.semantic.evaluate import sweep
    from psfl.semantic.windowed import at_size

    rows: list[dict[str, Any]] = []
    by_size = {} if by_size is None else by_size  # one trace per photo size
    for i, photo in enumerate(photos):
        size = photo.image.shape[:2]
        if size not in by_size:
            by_size[size] = {label: at_size(codec, size) for label, codec in codecs.items()}
        sized = by_size[size]
        k = next(iter(sized.values())).k
        baseline = None if baseline_for is None else baseline_for(k, size[0] * size[1])
        name = photo.name
        got = sweep(sized, link, {name: photo.image[None]}, snrs, baseline=baseline,
                    offset_db=offset_db, capacity_sets=(name,) if capacity and baseline else (),
                    capacity_coders=(baseline.codec,) if baseline else None,
                    # without XLA: its compile per photo size and its steps were slower here
                    images_for=(name,), progress=False,
                    on_point=None if on_point is None else (lambda p, i=i: on_point(i, p)))
        windows = next(iter(sized.values())).k // next(iter(codecs.values())).k
        extra = {"windows": windows, "k": k, **air_cost(link, k)}
        if baseline is not None:
            extra["digital_decoder"] = getattr(baseline, "decoder", "ldpc")
        rows.extend({**r, **extra} for r in got)
    return rows


def air_cost(link: Any, k: int) -> dict[str, float]:
    """``slots``, ``airtime_ms`` and transmit ``energy_mj`` of ``k`` symbols on ``link`` (an
    :class:`~psfl.phy.UplinkLink`: whole slots at its configured transmit power); empty for a
    link without a grid."""
    cfg = getattr(link, "cfg", None)
    if cfg is None or not hasattr(link, "airtime_s"):
        return {}
    from psfl.phy.energy import dbm_to_w, transmit_energy_j

    airtime = link.airtime_s(k)
    return {"slots": link.num_slots(k), "airtime_ms": 1e3 * airtime,
            "energy_mj": 1e3 * float(transmit_energy_j(dbm_to_w(cfg.tx_power_dbm), airtime))}


def scheme_rows(rows: Sequence[Mapping[str, Any]], schemes: Sequence[str]
                ) -> list[dict[str, Any]]:
    """The rows of :func:`whole_photo_sweep` in long form: one per photo, SNR and scheme
    (``photo, snr_db, scheme, windows, k[, slots, airtime_ms, energy_mj], psnr, ssim[,
    ms_ssim][, delivered, decoder]``)."""
    out = []
    for r in rows:
        for scheme in schemes:
            if f"{scheme}_psnr" not in r:
                continue
            row = {"photo": r["dataset"], "snr_db": r["snr_db"], "scheme": scheme,
                   **{key: r[key] for key in ("windows", "k", "slots", "airtime_ms",
                                              "energy_mj") if key in r}}
            row.update({m: r[f"{scheme}_{m}"] for m in ("psnr", "ssim", "ms_ssim")
                        if f"{scheme}_{m}" in r})
            if scheme == "digital":
                row.update(delivered=r["digital_success"], decoder=r["digital_decoder"])
                if "digital_slices" in r:
                    row["slices_delivered"] = r["digital_slices"]
            out.append(row)
    return out


def mean_rows(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Per SNR, the mean over the photos of every numeric column of :func:`whole_photo_sweep`
    (PSNR: the mean of the photos' PSNRs), as ``dataset = "photos"`` rows with ``images`` = the
    number of photos."""
    out = []
    for snr in dict.fromkeys(r["snr_db"] for r in rows):
        at = [r for r in rows if r["snr_db"] == snr]
        row: dict[str, Any] = {"dataset": DATASET, "snr_db": snr, "images": len(at)}
        for key in at[0]:
            if key in row or key == "dataset":
                continue
            values = [r[key] for r in at if key in r]
            if all(isinstance(v, int | float | np.floating) for v in values):
                row[key] = float(np.mean(values))
        out.append(row)
    return out


def evaluate_photos(codec: SemanticCodec, link: LinkFn, photos: Sequence[Photo],
                    snrs: Sequence[float], run_dir: Any, *,
                    baseline: Baseline | None, decoder: str = "auto",
                    labels: Mapping[str, str], offset_db: float = 0.0) -> list[dict[str, Any]]:
    """:func:`whole_photo_sweep` of one codec (label ``"codec"``) with what ``psfl link``
    writes of it: ``images.csv`` (:func:`scheme_rows`), ``photo-<n>.png`` and
    ``photos/<n>-<scheme>-<snr>dB.png`` at the first and last SNR
    (:func:`psfl.semantic.figures.photo_overview`). The digital baseline is ``baseline``'s
    :meth:`~psfl.semantic.evaluate.Baseline.for_photo`, with the receiver
    :func:`photo_decoder` picks from ``decoder``. Returns :func:`mean_rows`."""
    from psfl.results import progress
    from psfl.semantic import figures

    picks = list(dict.fromkeys([snrs[0], snrs[-1]]))
    shown: dict[tuple[str, float], tuple[np.ndarray, float, None]] = {}
    bar = progress(total=len(photos) * len(snrs), desc="photos", unit="point")

    def on_point(i: int, p: Point) -> None:
        bar.update(1)
        if p.snr in picks:
            for scheme, rec in p.received.items():  # the row holds this one photo's PSNR
                shown[(scheme, p.snr)] = (rec[0], float(p.row[f"{scheme}_psnr"]), None)
        if p.snr == picks[-1]:
            figures.photo_overview(run_dir, i + 1, photos[i], dict(shown), picks,
                                   labels=labels, offset_db=offset_db)
            shown.clear()

    def baseline_for(k: int, pixels: int) -> Any:
        return baseline.for_photo(k, photo_decoder(decoder, pixels))

    rows = whole_photo_sweep({"codec": codec}, link, photos, snrs,
                             baseline_for=baseline_for if baseline else None,
                             offset_db=offset_db, on_point=on_point)
    bar.close()
    run_dir.write_csv("images.csv", scheme_rows(rows, list(labels)))
    return mean_rows(rows)


class TiledPhotos:
    """The photos of ``psfl link --tiles``: from the sweep's points of the ``folder`` set (every
    tile of every photo, in order), ``images.csv`` (:func:`photo_rows`) and the stitched photos
    at the SNRs ``picks`` (:func:`psfl.semantic.figures.photo_overview`)."""

    def __init__(self, photos: Sequence[Photo], picks: Sequence[float]) -> None:
        self.photos, self.picks = list(photos), list(picks)
        self.rows: list[dict[str, Any]] = []
        self.stitched: dict[tuple[str, float], list[Any]] = {}

    def on_point(self, p: Point) -> None:
        rows, by_scheme = photo_rows(self.photos, p.received, p.row["snr_db"], p.delivered)
        self.rows.extend(rows)
        if p.snr in self.picks:
            self.stitched.update({(s, p.snr): v for s, v in by_scheme.items()})

    def write(self, run_dir: Any, labels: Mapping[str, str], offset_db: float = 0.0) -> None:
        from psfl.semantic import figures

        run_dir.write_csv("images.csv", self.rows)
        for i, photo in enumerate(self.photos):
            figures.photo_overview(run_dir, i + 1, photo,
                                   {key: v[i] for key, v in self.stitched.items()}, self.picks,
                                   labels=labels, offset_db=offset_db)


def photo_rows(photos: Sequence[Any], received: Mapping[str, np.ndarray], snr_db: float,
               delivered: np.ndarray | None
               ) -> tuple[list[dict[str, Any]],
                          dict[str, list[tuple[np.ndarray, float, np.ndarray | None]]]]:
    """Per-photo quality of each scheme at one point, measured on the photo stitched back from
    its tiles (``received``: scheme → the tiles of every photo in order): PSNR from the whole
    photo's MSE, SSIM and, from 176 px, MS-SSIM on the whole photo, and the baseline's delivered
    share. Also, per scheme, a list over the photos of (stitched image, PSNR, failed tiles or
    None)."""
    from psfl.data import stitch
    from psfl.semantic.metrics import image_metrics

    rows: list[dict[str, Any]] = []
    stitched: dict[str, list[tuple[np.ndarray, float, np.ndarray | None]]] = {}
    start = 0
    for photo in photos:
        end = start + photo.num_tiles
        for scheme, rec in received.items():
            img = np.clip(stitch(rec[start:end], photo.grid), 0.0, 1.0)
            m = image_metrics(photo.image[None], img[None])
            row = {"photo": photo.name, "tiles": photo.num_tiles, "snr_db": snr_db,
                   "scheme": scheme, **{k: float(v[0]) for k, v in m.items()}}
            failed = None
            if scheme == "digital" and delivered is not None:
                row["delivered"] = float(np.mean(delivered[start:end]))
                failed = ~delivered[start:end]
            rows.append(row)
            stitched.setdefault(scheme, []).append((img, row["psnr"], failed))
        start = end
    return rows, stitched
