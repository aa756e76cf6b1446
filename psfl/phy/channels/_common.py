"""TensorFlow and Sionna helpers shared by the channel families and the sampler (not a channel:
the registry skips private modules). Imports nothing of psfl, so that no import cycle runs
through the configuration."""

from __future__ import annotations

import numpy as np
import tensorflow as tf
from sionna.phy.channel.tr38901 import Antenna, PanelArray


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


def antenna_arrays(cfg) -> tuple[Antenna, PanelArray]:
    """The MU's single isotropic, vertically polarized antenna and the BS's uniform linear array
    of ``cfg.num_rx_ant`` such elements at half a wavelength, at ``cfg.carrier_hz`` (cdl,
    umi/uma/rma; ``cfg`` a :class:`~psfl.phy.config.PhyConfig`)."""
    ut = Antenna("single", "V", "omni", cfg.carrier_hz, precision="single")
    bs = PanelArray(1, cfg.num_rx_ant, "single", "V", "omni", cfg.carrier_hz,
                    precision="single")
    return ut, bs


def shared_delays(tau: tf.Tensor) -> tf.Tensor:
    """Path delays ``[n, 1, 1, paths]`` from CDL/system-level delays that may be per antenna
    pair ``[n, 1, 1, 1, 1, paths]``: the delays are shared by the antennas of a single-panel
    array, so the first pair stands for all."""
    if len(tau.shape) == 6:
        tau = tau[:, :, 0, :, 0]
    return tau


def fixed_delay_response(a: tf.Tensor, tau: tf.Tensor, frequencies: tf.Tensor, cfg) -> tf.Tensor:
    """:func:`frequency_response` of a CIR whose delays are the same for every draw (tdl/cdl):
    the phase ramps are computed once and all slots go through one 2-D matrix product.

    Input
    -----
    a : [n, 1, num_rx_ant, 1, 1, num_paths, T], tf.complex64
        Path coefficients (Sionna layout).
    tau : [n, 1, 1, num_paths], tf.float32
        Only the first draw's delays are read.
    frequencies : [F], tf.float32
    cfg : PhyConfig
        Gives ``num_rx_ant``, ``T = num_ofdm_symbols`` and ``F = num_subcarriers``.

    Output
    ------
    h : [n, num_rx_ant, T, F], tf.complex64
    """
    phase = -2.0 * np.pi * tau[0, 0, 0, :, None] * frequencies  # [paths, f]
    e = tf.exp(tf.complex(tf.zeros_like(phase), phase))
    a = tf.transpose(a[:, 0, :, 0, 0], [0, 1, 3, 2])  # [n, rx_ant, t, paths]
    num_paths = a.shape[-1]
    h = tf.linalg.matmul(tf.reshape(a, [-1, num_paths]), e)
    return tf.reshape(h, [-1, cfg.num_rx_ant, cfg.num_ofdm_symbols, cfg.num_subcarriers])
