"""The Pluto twin: a :class:`~psfl.hil.twin.PlutoTwin` started on 127.0.0.1 and the very same
:class:`~psfl.hil.radios.PlutoRadio` code path (pyadi-iio + libiio network backend) pointed at
it. The twin sets the channel: AWGN at ``snr_db``, the carrier offset as a TX-RX LO difference,
random timing and multipath through its ``channel`` hook."""

from __future__ import annotations

from typing import Any

import numpy as np

from psfl.hil.radios._common import config_taps
from psfl.hil.radios.pluto import PlutoRadio
from psfl.hil.radios.registry import RADIOS

__all__ = ["TwinRadio"]


@RADIOS.register("twin", order=20)
class TwinRadio(PlutoRadio):
    """A :class:`~psfl.hil.twin.PlutoTwin` started on 127.0.0.1 and driven through the
    real :class:`PlutoRadio` path (pyadi-iio + libiio network backend).

    Parameters
    ----------
    snr_db : float or None
        Twin AWGN relative to the mean TX power [dB].
    cfo_hz : float
        Carrier offset, applied as TX LO − RX LO.
    timing_offset : bool
        Random start offset of the cyclic buffer.
    taps : [L] complex or None
        Multipath taps applied by the twin's ``channel`` hook (an FIR that carries its
        state across RX blocks, so the stream is filtered seamlessly).
    seed : int or None
        Twin seed.
    twin_kwargs : dict
        Further :class:`~psfl.hil.twin.PlutoTwin` arguments (fault injection:
        ``drop_after_reads``, ``stall_after_reads`` …).
    **kwargs
        :class:`PlutoRadio` settings (``lo_hz``, ``sample_rate_hz``, …) except ``uri`` and
        ``tx_lo_offset_hz``.
    """

    kind = "twin"
    label = "Pluto twin"
    about = "Pluto twin on loopback, real libiio path"
    sets_own_snr = True
    applies_cfo_subcarriers = True
    uses_uri = False

    def __init__(self, *, snr_db: float | None = 25.0, cfo_hz: float = 0.0,
                 timing_offset: bool = True, taps: np.ndarray | None = None,
                 seed: int | None = None, twin_kwargs: dict[str, Any] | None = None,
                 **kwargs: Any):
        from psfl.hil.twin import PlutoTwin

        channel = None if taps is None else _StreamFilter(np.asarray(taps, np.complex128))
        self.twin = PlutoTwin("127.0.0.1", 0, snr_db=snr_db, channel=channel,
                              random_offset=timing_offset, seed=seed,
                              ad9364=bool(kwargs.get("ad9364", False)),
                              **(twin_kwargs or {}))
        self.twin.start()
        try:
            super().__init__(self.twin.uri, tx_lo_offset_hz=cfo_hz, **kwargs)
        except BaseException:
            self.twin.stop()
            raise

    @classmethod
    def from_config(cls, hil: Any, sample_rate_hz: float, scs_hz: float, *,
                    seed: int | None = None, snr_db: float | None = None,
                    twin_kwargs: dict[str, Any] | None = None) -> TwinRadio:
        """A twin with the channel of ``hil`` (noise at ``snr_db``, default ``hil.snr_db``)."""
        return cls(snr_db=hil.snr_db if snr_db is None else snr_db,
                   cfo_hz=cls.cfo_hz(hil, scs_hz), timing_offset=hil.timing_offset,
                   taps=config_taps(hil, sample_rate_hz, seed), seed=seed,
                   twin_kwargs=twin_kwargs, **cls.config_settings(hil, sample_rate_hz))

    def close(self) -> None:
        super().close()
        self.twin.stop()

    def describe(self) -> dict[str, Any]:
        d = super().describe()
        d.update(twin_snr_db=self.twin.snr_db, cfo_hz=self._settings["tx_lo_hz"]
                 - self._settings["lo_hz"])
        return d


class _StreamFilter:
    """FIR over the twin's consecutive RX blocks (keeps the tail between calls)."""

    def __init__(self, taps: np.ndarray):
        self.taps = taps
        self._tail = np.zeros(taps.size - 1, np.complex128)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        full = np.convolve(np.concatenate([self._tail, x]), self.taps)
        nt = self.taps.size - 1
        self._tail = np.concatenate([self._tail, x])[-nt:] if nt else self._tail
        return full[nt: nt + x.size]
