r"""Channel models by name, returning per-slot frequency responses.

Every model is normalized *on average* (its power-delay profile sums to one and the antennas
are isotropic), never per realization: :math:`E|h|^2 = 1` over realizations, so fading is
kept. Sionna's ``normalize_channel=True`` would instead rescale each draw to unit energy and
remove the fading a Rayleigh test must see.

* ``awgn``: :math:`h = 1`.
* ``rayleigh``: one :math:`\mathcal{CN}(0,1)` coefficient per slot and receive antenna,
  constant over the slot (block fading; slots fade independently).
* ``tdl-a`` … ``tdl-e``: 3GPP TR 38.901 tapped delay line, delay spread
  ``delay_spread_s``, Doppler from ``speed_mps`` at ``carrier_hz``; antennas uncorrelated.
* ``cdl-a`` … ``cdl-e``: 3GPP clustered delay line, uplink, one isotropic MU antenna, a BS
  uniform linear array of ``num_rx_ant`` isotropic, vertically polarized elements at half a
  wavelength.
* ``umi``, ``uma``, ``rma``: 3GPP system-level models with path loss, log-normal shadowing and
  LoS/NLoS drawn from the MU–BS distance (random MU azimuth, speed ``speed_mps`` in a random
  horizontal direction). The response includes the large-scale gain *and* the link-budget
  reference :math:`P + G - N` (see :func:`~psfl.phy.budget.snr_db_from_config`), so that with
  unit noise it yields the budget SNR.

**Path loss of umi/uma/rma (a workaround, ours).** Sionna 1.2.2's system-level scenarios
compute the TR 38.901 path loss with ``distance_3d``, a property that returns the *2-D*
distance (NVlabs/sionna issue 1100): the gain is too high by 1.27 dB for UMi at 15 m and by up
to 4.2 dB at 10 m. Sionna's path loss is therefore switched off (``enable_pathloss=False``;
its shadow fading, LoS-state draw, LSPs and rays are kept) and each realization is scaled by
:math:`10^{-\mathrm{PL}_s(d_{3D})/20}` with :math:`\mathrm{PL}_s` the TR 38.901 formula of
:func:`~psfl.phy.budget.path_loss_db` (one definition) for the LoS state ``s`` Sionna drew for
that realization. The MUs are outdoor, so no O2I loss applies. Total amplitude gain per
realization: :math:`10^{(P+G-N-\mathrm{PL}_s)/20}\sqrt{\mathrm{SF}}` times the unit-power
small-scale response.

Each slot is an independent realization (the MU's slots are taken as far apart in time);
within a slot the channel evolves over the OFDM symbols with the Doppler of ``speed_mps``.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf
from sionna.phy import Block, config
from sionna.phy.channel import RayleighBlockFading, subcarrier_frequencies
from sionna.phy.channel.tr38901 import CDL, TDL, Antenna, PanelArray, RMa, UMa, UMi

from .budget import DEFAULT_BS_HEIGHT_M, path_loss_db, snr_db_from_config
from .config import CHANNELS, CIR_CHANNELS, PATHLOSS_CHANNELS, PhyConfig

__all__ = ["ChannelSampler", "frequency_response"]


def frequency_response(a: tf.Tensor, tau: tf.Tensor, frequencies: tf.Tensor) -> tf.Tensor:
    r"""Frequency response :math:`h(t, f) = \sum_m a_m(t) e^{-j 2\pi f \tau_m}` of a
    single-transmitter, single-transmit-antenna CIR, as one batched matrix product (the
    same result as :func:`sionna.phy.channel.cir_to_ofdm_channel`, without materializing the
    paths × symbols × subcarriers product).

    Input
    -----
    a : [batch, 1, num_rx_ant, 1, 1, num_paths, num_time_steps], tf.complex64
        Path coefficients (Sionna layout).
    tau : [batch, 1, 1, num_paths], tf.float32
        Path delays [s].
    frequencies : [num_subcarriers], tf.float32
        Baseband subcarrier frequencies [Hz].

    Output
    ------
    h : [batch, num_rx_ant, num_time_steps, num_subcarriers], tf.complex64
    """
    a = tf.transpose(a[:, 0, :, 0, 0], [0, 1, 3, 2])  # [b, rx_ant, t, paths]
    phase = -2.0 * np.pi * tau[:, 0, 0, :, None] * frequencies  # [b, paths, f]
    e = tf.exp(tf.complex(tf.zeros_like(phase), phase))[:, None]  # [b, 1, paths, f]
    return tf.linalg.matmul(a, e)


class ChannelSampler(Block):
    r"""Draws the channel named by ``cfg.channel`` for a batch of slots: its frequency response
    (``__call__``) or, for channels with an impulse response, its CIR (:meth:`cir`).

    Parameters
    ----------
    cfg : PhyConfig
        Channel name, numerology, antennas, mobility and link budget.
    ofdm_symbol_duration_s : float
        Duration of one OFDM symbol with its CP [s] (time step of the channel within a slot).
    los : None (default) | bool
        umi/uma/rma only: None draws the LoS state per realization with the TR 38.901 LoS
        probability; True / False force LoS / NLoS (analysis and tests).
    shadow_fading : bool
        umi/uma/rma only: apply log-normal shadow fading (default True; False for analysis).

    Input
    -----
    num_slots : int or scalar tf.int32
        Number of slot realizations to draw.

    Output
    ------
    h : [num_slots, num_rx_ant, T, F], tf.complex64
        Frequency response, where ``T`` is ``num_ofdm_symbols`` or 1 (constant in time) and
        ``F`` is ``num_subcarriers`` or 1 (flat); broadcastable to the full grid.
    """

    def __init__(self, cfg: PhyConfig, ofdm_symbol_duration_s: float, *,
                 los: bool | None = None, shadow_fading: bool = True):
        super().__init__(precision="single")
        if cfg.channel not in CHANNELS:
            raise ValueError(f"unknown channel {cfg.channel!r}; valid channels are: "
                             f"{', '.join(CHANNELS)}")
        self.cfg = cfg
        self._fs = 1.0 / ofdm_symbol_duration_s
        self._freqs = subcarrier_frequencies(cfg.num_subcarriers, cfg.scs_hz, precision="single")
        self._los = los
        name, nr = cfg.channel, cfg.num_rx_ant
        self._model = None
        if name == "rayleigh":
            self._model = RayleighBlockFading(1, nr, 1, 1, precision="single")
        elif name.startswith("tdl-"):
            self._model = TDL(name[-1].upper(), cfg.delay_spread_s, cfg.carrier_hz,
                              min_speed=cfg.speed_mps, max_speed=cfg.speed_mps,
                              num_rx_ant=nr, num_tx_ant=1, precision="single")
        else:
            ut = Antenna("single", "V", "omni", cfg.carrier_hz, precision="single")
            bs = PanelArray(1, nr, "single", "V", "omni", cfg.carrier_hz, precision="single")
            if name.startswith("cdl-"):
                self._model = CDL(name[-1].upper(), cfg.delay_spread_s, cfg.carrier_hz, ut,
                                  bs, "uplink", min_speed=cfg.speed_mps,
                                  max_speed=cfg.speed_mps, precision="single")
            elif name in PATHLOSS_CHANNELS:
                cls = {"umi": UMi, "uma": UMa, "rma": RMa}[name]
                args = (cfg.carrier_hz,) if name == "rma" else (cfg.carrier_hz, "low")
                # Sionna's path loss uses the 2-D distance (module docstring): ours instead.
                self._model = cls(*args, ut, bs, "uplink", enable_pathloss=False,
                                  enable_shadow_fading=shadow_fading, precision="single")
                self._bs_height = cfg.bs_height_m or DEFAULT_BS_HEIGHT_M[name]
                ref_db = snr_db_from_config(cfg, path_loss=False)
                kw = dict(carrier_hz=cfg.carrier_hz, bs_height_m=self._bs_height,
                          ut_height_m=cfg.ut_height_m)
                # Amplitude gain of the budget reference and path loss, [NLoS, LoS].
                self._amp = tf.constant([10.0 ** ((ref_db - path_loss_db(
                    name, cfg.distance_m, los=s, **kw)) / 20.0) for s in (False, True)],
                    tf.float32)

    @property
    def has_cir(self) -> bool:
        """True where the channel has an impulse response (:meth:`cir` is available)."""
        return self.cfg.channel in CIR_CHANNELS

    @property
    def path_delays_s(self) -> np.ndarray | None:
        """Fixed path delays [s] of tdl/cdl (the same for every draw); None for others."""
        name = self.cfg.channel
        if name.startswith(("tdl-", "cdl-")):
            return np.asarray(self._model.delays, np.float64).reshape(-1)
        return None

    @property
    def path_powers(self) -> np.ndarray | None:
        """Mean path powers (linear, sum 1) of tdl/cdl, matching :attr:`path_delays_s`;
        None for others."""
        name = self.cfg.channel
        if name.startswith("tdl-"):
            return np.asarray(self._model.mean_powers, np.float64).reshape(-1)
        if name.startswith("cdl-"):
            p = np.asarray(self._model.powers, np.float64).reshape(-1)
            return p / p.sum()
        return None

    def _set_topology(self, n: tf.Tensor) -> None:
        cfg = self.cfg
        az = config.tf_rng.uniform([n, 1], 0.0, 2.0 * np.pi)
        d = tf.cast(cfg.distance_m, tf.float32)
        ut_loc = tf.stack([d * tf.cos(az), d * tf.sin(az),
                           tf.fill([n, 1], tf.cast(cfg.ut_height_m, tf.float32))], axis=-1)
        bs_loc = tf.tile(tf.constant([[[0.0, 0.0, self._bs_height]]]), [n, 1, 1])
        heading = config.tf_rng.uniform([n, 1], 0.0, 2.0 * np.pi)
        v = tf.cast(cfg.speed_mps, tf.float32)
        vel = tf.stack([v * tf.cos(heading), v * tf.sin(heading), tf.zeros([n, 1])], axis=-1)
        zeros = tf.zeros([n, 1, 3])
        self._model.set_topology(ut_loc, bs_loc, zeros, zeros, vel,
                                 tf.zeros([n, 1], tf.bool), los=self._los)

    def cir(self, num_slots, num_time_steps: int, sampling_frequency: float
            ) -> tuple[tf.Tensor, tf.Tensor]:
        r"""Channel impulse response of ``num_slots`` independent realizations, sampled
        ``num_time_steps`` times at ``sampling_frequency``, with the large-scale gain of
        umi/uma/rma applied (tdl-*, cdl-*, umi, uma, rma only).

        Input
        -----
        num_slots : int or scalar tf.int32
        num_time_steps : int
        sampling_frequency : float
            [Hz]

        Output
        ------
        a : [num_slots, 1, num_rx_ant, 1, 1, num_paths, num_time_steps], tf.complex64
            Path coefficients (Sionna layout).
        tau : [num_slots, 1, 1, num_paths], tf.float32
            Path delays [s].
        """
        name = self.cfg.channel
        if not self.has_cir:
            raise ValueError(f"channel {name!r} has no impulse response; use one of "
                             f"{', '.join(CIR_CHANNELS)}")
        if name in PATHLOSS_CHANNELS:
            self._set_topology(num_slots)
            a, tau = self._model(num_time_steps, sampling_frequency)
            # The LoS state Sionna drew for each realization (Sionna's own show_topology
            # reads it the same way); [n, num_bs=1, num_ut=1].
            los = tf.reshape(self._model._scenario.los, [-1])  # noqa: SLF001
            amp = tf.gather(self._amp, tf.cast(los, tf.int32))
            a = a * tf.complex(amp, tf.zeros_like(amp))[:, None, None, None, None, None, None]
        else:
            a, tau = self._model(num_slots, num_time_steps, sampling_frequency)
        # CDL/system-level taus may be per antenna pair; the delays are shared by the
        # antennas of a single-panel array, so the first pair stands for all.
        if len(tau.shape) == 6:
            tau = tau[:, :, 0, :, 0]
        return a, tau

    def call(self, num_slots):
        cfg = self.cfg
        name, nr = cfg.channel, cfg.num_rx_ant
        if name == "awgn":
            return tf.ones([1, nr, 1, 1], tf.complex64)
        if name == "rayleigh":
            a, _ = self._model(num_slots, 1)
            return tf.reshape(a, [-1, nr, 1, 1])
        nsym = cfg.num_ofdm_symbols
        a, tau = self.cir(num_slots, nsym, self._fs)
        if name in PATHLOSS_CHANNELS:
            return frequency_response(a, tau, self._freqs)
        # TDL/CDL delays are fixed by the model (the same for every draw), so the phase ramps
        # are computed once and all slots go through one 2-D matrix product.
        phase = -2.0 * np.pi * tau[0, 0, 0, :, None] * self._freqs  # [paths, f]
        e = tf.exp(tf.complex(tf.zeros_like(phase), phase))
        a = tf.transpose(a[:, 0, :, 0, 0], [0, 1, 3, 2])  # [n, rx_ant, t, paths]
        num_paths = a.shape[-1]
        h = tf.linalg.matmul(tf.reshape(a, [-1, num_paths]), e)
        return tf.reshape(h, [-1, nr, nsym, cfg.num_subcarriers])
