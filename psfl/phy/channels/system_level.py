r"""``umi``, ``uma``, ``rma``: 3GPP TR 38.901 system-level models with path loss and shadowing
(Sionna's :class:`~sionna.phy.channel.tr38901.UMi`, ``UMa``, ``RMa``).

Path loss, log-normal shadowing and LoS/NLoS are drawn from the MU–BS distance ``distance_m``
(random MU azimuth at that ground distance, MU height ``ut_height_m``, BS height
``bs_height_m`` or the 3GPP default; speed ``speed_mps`` in a random horizontal direction). The
response includes the large-scale gain *and* the link-budget reference :math:`P + G - N` (see
:func:`~psfl.phy.budget.snr_db_from_config`), so that with unit noise it yields the budget SNR:
the link's ``snr_db`` is an offset to the budget. One isotropic MU antenna, a BS uniform linear
array of ``num_rx_ant`` isotropic, vertically polarized elements at half a wavelength.

**Path loss (a workaround, ours).** Sionna 1.2.2's system-level scenarios compute the TR 38.901
path loss with ``distance_3d``, a property that returns the *2-D* distance (NVlabs/sionna issue
1100): the gain is too high by 1.27 dB for UMi at 15 m and by up to 4.2 dB at 10 m. Sionna's
path loss is therefore switched off (``enable_pathloss=False``; its shadow fading, LoS-state
draw, LSPs and rays are kept) and each realization is scaled by
:math:`10^{-\mathrm{PL}_s(d_{3D})/20}` with :math:`\mathrm{PL}_s` the TR 38.901 formula of
:func:`~psfl.phy.budget.path_loss_db` (one definition) for the LoS state ``s`` Sionna drew for
that realization. The MUs are outdoor, so no O2I loss applies. Total amplitude gain per
realization: :math:`10^{(P+G-N-\mathrm{PL}_s)/20}\sqrt{\mathrm{SF}}` times the unit-power
small-scale response.

Each slot is an independent realization (its own MU position, heading, LoS state and shadowing);
within a slot the channel evolves over the OFDM symbols with the Doppler of ``speed_mps``.
"""

from __future__ import annotations

from psfl.phy.budget import DEFAULT_BS_HEIGHT_M, path_loss_db, snr_db_from_config

from .registry import CHANNELS, ChannelModel


class SystemLevel(ChannelModel):
    r"""A TR 38.901 system-level ``scenario`` with our 3-D path loss (module docstring).

    Parameters
    ----------
    cfg : PhyConfig
        Reads the link budget, ``distance_m``, ``bs_height_m``, ``ut_height_m``,
        ``carrier_hz``, ``speed_mps``, ``num_rx_ant`` and the slot grid.
    scenario : "umi" | "uma" | "rma"
        TR 38.901 scenario.
    los : None (default) | bool
        None draws the LoS state per realization with the TR 38.901 LoS probability;
        True / False force LoS / NLoS.
    shadow_fading : bool
        Apply log-normal shadow fading (default True).

    Input
    -----
    num_slots : int or scalar tf.int32

    Output
    ------
    h : [num_slots, num_rx_ant, num_ofdm_symbols, num_subcarriers], tf.complex64
        Large-scale gain and link-budget reference included.
    """

    has_cir = True
    has_pathloss = True

    def __init__(self, cfg, *, scenario: str, **kwargs):
        super().__init__(cfg, **kwargs)
        import tensorflow as tf
        from sionna.phy.channel.tr38901 import RMa, UMa, UMi

        from ._common import antenna_arrays

        ut, bs = antenna_arrays(cfg)
        cls = {"umi": UMi, "uma": UMa, "rma": RMa}[scenario]
        args = (cfg.carrier_hz,) if scenario == "rma" else (cfg.carrier_hz, "low")
        # Sionna's path loss uses the 2-D distance (module docstring): ours instead.
        self._model = cls(*args, ut, bs, "uplink", enable_pathloss=False,
                          enable_shadow_fading=self.shadow_fading, precision="single")
        self._bs_height = cfg.bs_height_m or DEFAULT_BS_HEIGHT_M[scenario]
        ref_db = snr_db_from_config(cfg, path_loss=False)
        kw = dict(carrier_hz=cfg.carrier_hz, bs_height_m=self._bs_height,
                  ut_height_m=cfg.ut_height_m)
        # Amplitude gain of the budget reference and path loss, [NLoS, LoS].
        self._amp = tf.constant([10.0 ** ((ref_db - path_loss_db(
            scenario, cfg.distance_m, los=s, **kw)) / 20.0) for s in (False, True)],
            tf.float32)

    def _set_topology(self, n):
        import numpy as np
        import tensorflow as tf
        from sionna.phy import config

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
                                 tf.zeros([n, 1], tf.bool), los=self.los)

    def cir(self, num_slots, num_time_steps, sampling_frequency):
        import tensorflow as tf

        from ._common import shared_delays

        self._set_topology(num_slots)
        a, tau = self._model(num_time_steps, sampling_frequency)
        # The LoS state Sionna drew for each realization (Sionna's own show_topology reads it
        # the same way); [n, num_bs=1, num_ut=1].
        los = tf.reshape(self._model._scenario.los, [-1])  # noqa: SLF001
        amp = tf.gather(self._amp, tf.cast(los, tf.int32))
        a = a * tf.complex(amp, tf.zeros_like(amp))[:, None, None, None, None, None, None]
        return a, shared_delays(tau)


for _scenario in ("umi", "uma", "rma"):
    CHANNELS.register(_scenario, order=40, scenario=_scenario)(SystemLevel)
