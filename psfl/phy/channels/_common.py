"""TensorFlow and Sionna helpers shared by channel families (not a channel: the registry
skips private modules)."""

from __future__ import annotations

import numpy as np
import tensorflow as tf
from sionna.phy.channel.tr38901 import Antenna, PanelArray

from ..config import PhyConfig


def antenna_arrays(cfg: PhyConfig) -> tuple[Antenna, PanelArray]:
    """The MU's single isotropic, vertically polarized antenna and the BS's uniform linear
    array of ``num_rx_ant`` such elements at half a wavelength (cdl, umi/uma/rma)."""
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


def fixed_delay_response(a: tf.Tensor, tau: tf.Tensor, frequencies: tf.Tensor, cfg: PhyConfig
                         ) -> tf.Tensor:
    """:func:`~psfl.phy.channels.frequency_response` of a CIR whose delays are the same for
    every draw (tdl/cdl): the phase ramps are computed once and all slots go through one 2-D
    matrix product.

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
