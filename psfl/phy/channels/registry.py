r"""The channel registry and :class:`ChannelModel`, the base every channel family derives from.

A channel is one class registered under its configuration name (``phy.channel``) by a module of
this package; its capabilities are class attributes, which the configuration's choice lists
(:data:`psfl.phy.config.CHANNELS`, ``CIR_CHANNELS``, ``PATHLOSS_CHANNELS``), the federation's
small-scale channels and the key of the digital baseline's MCS tables read::

    CHANNELS.names(has_cir=True)      # the channels the time-domain link can simulate

**Normalization.** Every model is normalized *on average* (its power-delay profile sums to one
and the antennas are isotropic), never per realization: :math:`E|h|^2 = 1` over realizations,
so fading is kept. Sionna's ``normalize_channel=True`` would instead rescale each draw to unit
energy and remove the fading a Rayleigh test must see. Channels with path loss instead include
the large-scale gain (see :mod:`psfl.phy.channels.system_level`).

**Slots.** Each slot is an independent realization (the MU's slots are taken as far apart in
time); within a slot the channel evolves over the OFDM symbols with the Doppler of
``speed_mps``. With ``phy.slot_timing = "consecutive"`` the slots of one message are instead
consecutive samples of one realization (channels with an impulse response:
:meth:`~psfl.phy.channels.ChannelSampler.consecutive`).

This module imports neither TensorFlow nor Sionna: models import them inside their methods, so
that listing the channels stays as light as reading a configuration.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from psfl.registry import Registry

if TYPE_CHECKING:
    import numpy as np
    import tensorflow as tf

__all__ = ["CHANNELS", "ChannelModel"]


class ChannelModel:
    r"""A channel family: draws per-slot frequency responses (and, with :attr:`has_cir`, impulse
    responses) of the channel configured by ``cfg``.

    Capabilities (class attributes, read without building the model):

    * :attr:`has_cir` — has a channel impulse response (:meth:`cir`), so the time-domain link
      can simulate it (``phy.domain = "time"``).
    * :attr:`has_pathloss` — the gain includes path loss and shadowing from the MU–BS distance
      and the link-budget reference; the link's ``snr_db`` is an offset to the budget SNR.
    * :attr:`small_scale` — may be the per-MU small-scale channel of the federation
      (``federation.small_scale``), whose large-scale gain comes from ``federation.scenario``.
    * :attr:`fading` — the response varies from slot to slot, so the number of slots an image
      spans (the grid) matters; False only for :math:`h = 1`.

    Parameters
    ----------
    cfg : PhyConfig
        Channel name, numerology, antennas, mobility and link budget.
    los : None (default) | bool
        Channels with path loss only: None draws the LoS state per realization with the
        TR 38.901 LoS probability; True / False force LoS / NLoS (analysis and tests).
    shadow_fading : bool
        Channels with path loss only: apply log-normal shadow fading (default True).
    """

    has_cir: bool = False
    has_pathloss: bool = False
    small_scale: bool = False
    fading: bool = True

    def __init__(self, cfg, *, los: bool | None = None, shadow_fading: bool = True):
        self.cfg, self.los, self.shadow_fading = cfg, los, shadow_fading

    @property
    def path_delays_s(self) -> np.ndarray | None:
        """Fixed path delays [s], the same for every draw; None where they are random or the
        channel is flat."""
        return None

    @property
    def path_powers(self) -> np.ndarray | None:
        """Mean path powers (linear, sum 1) matching :attr:`path_delays_s`; None likewise."""
        return None

    def cir(self, num_slots: int | tf.Tensor, num_time_steps: int, sampling_frequency: float
            ) -> tuple[tf.Tensor, tf.Tensor]:
        r"""Channel impulse response of ``num_slots`` independent realizations (channels with
        :attr:`has_cir` only).

        Input
        -----
        num_slots : int or scalar tf.int32
        num_time_steps : int
        sampling_frequency : float
            [Hz]

        Output
        ------
        a : [num_slots, 1, num_rx_ant, 1, 1, num_paths, num_time_steps], tf.complex64
            Path coefficients (Sionna layout), large-scale gain included.
        tau : [num_slots, 1, 1, num_paths], tf.float32
            Path delays [s].
        """
        raise NotImplementedError(f"{type(self).__name__} has no impulse response")

    def response(self, num_slots: int | tf.Tensor, frequencies: tf.Tensor,
                 sampling_frequency: float) -> tf.Tensor:
        r"""Frequency response of ``num_slots`` slots. The default is that of the CIR sampled
        once per OFDM symbol (:func:`~psfl.phy.channels.frequency_response`); flat channels
        override it.

        Input
        -----
        num_slots : int or scalar tf.int32
        frequencies : [num_subcarriers], tf.float32
            Baseband subcarrier frequencies [Hz].
        sampling_frequency : float
            OFDM symbol rate [Hz] (one time step per OFDM symbol).

        Output
        ------
        h : [num_slots, num_rx_ant, T, F], tf.complex64
            ``T`` is ``num_ofdm_symbols`` or 1 (constant in time), ``F`` is ``num_subcarriers``
            or 1 (flat); the first dimension may be 1 for a channel that never changes.
        """
        from ._common import frequency_response

        a, tau = self.cir(num_slots, self.cfg.num_ofdm_symbols, sampling_frequency)
        return frequency_response(a, tau, frequencies)


CHANNELS = Registry("channel", "psfl.phy.channels", setting="phy.channel", base=ChannelModel)
"""Channel names → their :class:`ChannelModel` classes (one module per family)."""
