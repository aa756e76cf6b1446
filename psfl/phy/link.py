r"""The MU→BS uplink: map symbols on an OFDM grid, channel, noise, CSI, combining, unmap.

:class:`UplinkLink` is psfl's link; :class:`LinkFn` is what every user of a link (the semantic
codecs' training, the federation's local steps, the digital baseline) accepts in its place.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np
import tensorflow as tf
from sionna.phy import Block, config

from .channels import ChannelSampler
from .config import PATHLOSS_CHANNELS, PhyConfig
from .energy import airtime_s
from .estimation import LSEstimator, combine
from .grid import SlotGrid
from .timedomain import TimeDomainChannel
from .validity import check_frequency_domain, frequency_correlation, max_doppler_hz

__all__ = ["LinkFn", "UplinkLink", "complex_normal"]


class LinkFn(Protocol):
    r"""A link as its users call it: ``y, no_eff = link(x, snr_db)``.

    :class:`UplinkLink` is one; so is any function of this form (an AWGN stand-in in a test, a
    ``tf.function`` around a link, the hardware-in-the-loop radio link).

    Input
    -----
    x : [batch, k], tf.complex64
        Channel symbols of unit average power.
    snr_db : scalar or [batch], tf.float32
        SNR per symbol [dB] (for :class:`UplinkLink`, see its meaning per channel family).

    Output
    ------
    y : [batch, k], tf.complex64
        Equalized received symbols, in the order of ``x``.
    no_eff : [batch, k] (or broadcastable to it), tf.float32
        Noise variance of each equalized symbol.
    """

    def __call__(self, x: tf.Tensor, snr_db: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]: ...


def complex_normal(shape) -> tf.Tensor:
    r"""Unit-variance circular complex Gaussian samples :math:`\mathcal{CN}(0, 1)`.

    Drawn with the stateless Philox generator from a seed taken off Sionna's
    ``config.tf_rng`` (so ``sionna.phy.config.seed`` still makes runs repeatable): the stateful
    generator's normals run 2.4x slower under XLA on CPU, where they were the link's largest
    cost (``benchmarks/RESULTS.md``). Eager and graph mode give the same stream for a seed;
    XLA lays out Philox's counters its own way (same statistics, other samples).

    Input
    -----
    shape : list of int or 1-D tf.int32

    Output
    ------
    z : shape, tf.complex64
        Real and imaginary parts independent :math:`\mathcal{N}(0, 1/2)`.
    """
    seed = config.tf_rng.make_seeds(1)[:, 0]
    z = tf.random.stateless_normal(tf.concat([[2], shape], 0), seed, stddev=np.sqrt(0.5),
                                   alg="philox")
    return tf.complex(z[0], z[1])


class UplinkLink(Block):
    r"""Uplink of one single-antenna MU per batch row to a BS with ``num_rx_ant`` antennas.

    The ``k`` symbols of each row are placed on the data REs of
    ``num_slots(k)`` OFDM slots (row-major within a slot, the last slot zero-padded; see
    :class:`~psfl.phy.grid.SlotGrid`), sent through the channel
    ``cfg.channel`` (one independent realization per slot, see :mod:`psfl.phy.channels`; with
    ``cfg.slot_timing = "consecutive"`` one realization per row over all its slots), received with complex Gaussian noise of variance
    :math:`N_0 = 10^{-\mathrm{snr\_db}/10}` per RE and antenna, estimated (perfect CSI or LS,
    :mod:`psfl.phy.estimation`), combined (LMMSE or MRC) and returned in the original order.

    **Meaning of ``snr_db``.** For every channel except ``umi``/``uma``/``rma`` it is the
    average SNR per RE per receive antenna, :math:`E|h|^2 E_s/N_0` with :math:`E|h|^2 = 1`
    and :math:`E_s = 1`. For ``umi``/``uma``/``rma`` the SNR comes from the link budget of
    ``cfg`` (transmit power, antenna gains, noise figure, bandwidth) and the 3GPP path loss,
    shadowing and LoS state drawn at ``cfg.distance_m``; ``snr_db`` is then an **offset** in dB
    added to that budget (pass 0 for the budget alone; e.g. -3 models a 3 dB power back-off).
    :func:`~psfl.phy.budget.snr_db_from_config` gives the median budget SNR.

    **Domain.** With ``cfg.domain = "frequency"`` (default) each RE is multiplied by the
    channel's frequency response at its OFDM symbol: exact while the delay spread fits in the
    CP and the Doppler is small against the subcarrier spacing; outside that the link warns
    once at construction (:class:`~psfl.phy.validity.FrequencyDomainValidityWarning`, rule in
    :mod:`psfl.phy.validity`). With ``"time"`` the OFDM waveform goes through the multipath
    channel (:class:`~psfl.phy.timedomain.TimeDomainChannel`), which adds the ISI and ICI;
    ``snr_db`` keeps its meaning per RE. Its receiver treats ISI and ICI as noise added to the
    error variance of every RE, so ``no_eff`` stays honest (ours): with perfect CSI the
    realization's own power per subcarrier; with LS the slot's received power per antenna
    (:math:`\overline{|y|^2} - N_0`) times the expected
    :attr:`~psfl.phy.timedomain.TimeDomainChannel.interference_power` (also added to
    :math:`N_0` at the pilots).

    The link does not normalize ``x``: a mean :math:`|x|^2` other than 1 changes the SNR.
    It is differentiable with respect to ``x`` and traces once per ``k`` (the batch size may
    vary); it runs eagerly, in graph mode and under XLA (``tf.function(jit_compile=True)``).
    Value checks on ``snr_db`` (finite) are only possible eagerly.

    Parameters
    ----------
    cfg : PhyConfig
        Numerology, channel, CSI, combining and link budget.

    Input
    -----
    x : [batch, k], tf.complex64
        Channel symbols, any ``k >= 1`` (static), mean power 1 assumed.
    snr_db : scalar or [batch], tf.float32
        SNR per RE per receive antenna [dB] (an offset for umi/uma/rma, see above).

    Output
    ------
    y : [batch, k], tf.complex64
        Equalized, antenna-combined symbols in the original order (unbiased estimates of x).
    no_eff : [batch, k], tf.float32
        Post-equalization noise variance per symbol.
    """

    def __init__(self, cfg: PhyConfig | None = None, **kwargs: Any):
        super().__init__(precision="single", **kwargs)
        if cfg is None:
            cfg = PhyConfig()
        if not isinstance(cfg, PhyConfig):
            raise TypeError(f"cfg must be a psfl.phy.PhyConfig, got {type(cfg).__name__}")
        self.cfg = cfg
        self.grid = SlotGrid(cfg)
        self.channel = ChannelSampler(cfg, self.grid.ofdm_symbol_duration_s)
        self.time_channel = (TimeDomainChannel(cfg, self.channel) if cfg.domain == "time"
                             else None)
        check_frequency_domain(cfg, self.channel.path_delays_s, self.channel.path_powers)
        self.estimator = (
            LSEstimator(self.grid.pilots, self.grid.pilot_symbol_indices,
                        cfg.num_ofdm_symbols, cfg.ls_freq_window,
                        max_doppler_hz=max_doppler_hz(cfg),
                        symbol_duration_s=self.grid.ofdm_symbol_duration_s,
                        freq_correlation=frequency_correlation(
                            cfg, self.channel.path_delays_s, self.channel.path_powers))
            if cfg.csi == "ls" else None
        )

    # -- bookkeeping ------------------------------------------------------------------------
    @property
    def resource_grid(self):
        """The equivalent :class:`sionna.phy.ofdm.ResourceGrid` (e.g. for ``.show()``)."""
        return self.grid.resource_grid

    @property
    def num_data_per_slot(self) -> int:
        """Data REs per slot."""
        return self.grid.num_data_per_slot

    def num_slots(self, k: int) -> int:
        """OFDM slots used for ``k`` symbols: :math:`\\lceil k / n_\\mathrm{data} \\rceil`."""
        return self.grid.num_slots(k)

    def channel_uses(self, k: int) -> int:
        """Data REs occupied by ``k`` symbols including the padding of the last slot."""
        return self.num_slots(k) * self.grid.num_data_per_slot

    def airtime_s(self, k: int) -> float:
        """Air time of ``k`` symbols [s]: :func:`psfl.phy.energy.airtime_s` of the
        :meth:`channel_uses` (``num_slots(k)`` whole slots)."""
        return airtime_s(self.channel_uses(k), self.cfg)

    # -- input checks -----------------------------------------------------------------------
    def __call__(self, x, snr_db, *args, **kwargs):
        # Checked here, before Sionna's Block casts inputs to the block precision (which would
        # silently turn float or complex128 input into complex64).
        x = _checked_symbols(x)
        _check_snr_db(snr_db)
        return super().__call__(x, tf.cast(snr_db, tf.float32), *args, **kwargs)

    # -- the link -----------------------------------------------------------------------------
    def call(self, x, snr_db):
        y, no_eff, _ = self._run(x, snr_db, with_gain=False)
        return y, no_eff

    def simulate(self, x: tf.Tensor, snr_db: Any) -> dict[str, tf.Tensor]:
        r"""Run the link and also return the true channel gain seen by every symbol, for
        analysis (e.g. post-equalization SNR normalized by the channel, fading statistics).

        Input
        -----
        x : [batch, k], tf.complex64
        snr_db : scalar or [batch], tf.float32

        Output
        ------
        out : dict
            ``"y"`` and ``"no_eff"`` as from ``__call__``; ``"gain"`` [batch, k] tf.float32:
            :math:`\sum_r |h_r|^2` at each symbol's RE (true channel, including the budget
            scaling of umi/uma/rma); ``"no"`` [batch] tf.float32, the noise variance per RE.
        """
        x = _checked_symbols(x)  # the checks of __call__ (running it would double the work)
        _check_snr_db(snr_db)
        y, no_eff, gain = self._run(tf.cast(x, tf.complex64), tf.cast(snr_db, tf.float32),
                                    with_gain=True)
        no = tf.pow(10.0, -tf.broadcast_to(tf.cast(snr_db, tf.float32), [tf.shape(x)[0]]) / 10)
        return {"y": y, "no_eff": no_eff, "gain": gain, "no": no}

    def _run(self, x, snr_db, with_gain):
        cfg = self.cfg
        k = int(x.shape[-1])
        ns = self.num_slots(k)
        batch = tf.shape(x)[0]
        n = batch * ns
        full = [n, cfg.num_ofdm_symbols, cfg.num_subcarriers]

        snr = tf.broadcast_to(snr_db, [batch])
        no = tf.repeat(tf.pow(10.0, -snr / 10.0), ns)  # [n], slot-major per row

        xg = self.grid.map(x, ns)  # [n, T, F]
        if self.time_channel is None:
            h = (self.channel.consecutive(batch, ns) if cfg.slot_timing == "consecutive"
                 else self.channel(n))  # [n or 1, R, T or 1, F or 1]
            y = h * xg[:, None]
        else:
            y, h, i_real = self.time_channel(xg)  # [n, R, T, F] twice, [n, R, 1, F]
        shape = [n, cfg.num_rx_ant, cfg.num_ofdm_symbols, cfg.num_subcarriers]
        std = tf.sqrt(no)[:, None, None, None]
        y = y + complex_normal(shape) * tf.complex(std, tf.zeros_like(std))

        no_est, i_var = no, 0.0
        if self.time_channel is not None and self.estimator is None:
            i_var = i_real  # perfect CSI: the realization's own ISI/ICI power
        elif self.time_channel is not None:
            # LS: ISI/ICI of the expected power per subcarrier (see class docstring).
            p_rx = tf.reduce_mean(tf.math.real(y) ** 2 + tf.math.imag(y) ** 2, axis=[2, 3],
                                  keepdims=True)
            p_rx = tf.maximum(p_rx - no[:, None, None, None], 0.0)  # [n, R, 1, 1]
            i_var = p_rx * self.time_channel.interference_power  # [n, R, 1, F]
            no_est = no + tf.reduce_mean(i_var, axis=[1, 2, 3])
        if self.estimator is None:
            h_hat, err_var = h, i_var
        else:
            h_hat, err_var = self.estimator(y, no_est)
            err_var = err_var + i_var
        x_hat, no_eff = combine(y, h_hat, no, err_var, cfg.equalizer)
        no_eff = tf.broadcast_to(no_eff, full)
        x_hat = tf.broadcast_to(x_hat, full)
        gain = None
        if with_gain:
            g = tf.reduce_sum(tf.math.real(h) ** 2 + tf.math.imag(h) ** 2, axis=1)
            gain = self.grid.unmap(tf.broadcast_to(g, full), k)
        return self.grid.unmap(x_hat, k), self.grid.unmap(no_eff, k), gain

    @property
    def uses_link_budget(self) -> bool:
        """True for umi/uma/rma, where ``snr_db`` is an offset to the link-budget SNR."""
        return self.cfg.channel in PATHLOSS_CHANNELS


def _checked_symbols(x: Any) -> Any:
    """``x`` as a tensor or array of shape [batch, k >= 1], tf.complex64; raises otherwise."""
    if not isinstance(x, tf.Tensor | tf.Variable | np.ndarray):
        x = tf.convert_to_tensor(x)
    if x.dtype != tf.complex64:
        raise TypeError(
            f"x must be tf.complex64, got {x.dtype!r}; build it with "
            "tf.complex(real, imag) or tf.cast(x, tf.complex64)")
    if x.shape.rank != 2 if isinstance(x, tf.Tensor | tf.Variable) else np.ndim(x) != 2:
        raise ValueError(f"x must have shape [batch, k] (rank 2), got shape {x.shape}; "
                         "reshape it, e.g. tf.reshape(x, [batch, -1])")
    if x.shape[-1] is None or x.shape[-1] < 1:
        raise ValueError(f"x must have a static number of symbols k >= 1, got shape "
                         f"{x.shape}")
    return x


def _check_snr_db(snr_db: Any) -> None:
    """Raises unless ``snr_db`` is a finite float scalar or [batch] (values only eagerly)."""
    if isinstance(snr_db, tf.Tensor | tf.Variable) and (
            snr_db.dtype.is_complex or snr_db.dtype.is_integer or snr_db.dtype == tf.bool):
        raise TypeError(f"snr_db must be a float tensor, got {snr_db.dtype!r}; "
                        "use tf.constant(value, tf.float32)")
    if not tf.executing_eagerly() and isinstance(snr_db, tf.Tensor):
        if snr_db.shape.rank is not None and snr_db.shape.rank > 1:
            raise ValueError(f"snr_db must be a scalar or shape [batch], got shape "
                             f"{snr_db.shape}")
        return
    try:
        arr = np.asarray(snr_db, dtype=np.float32)
    except (TypeError, ValueError):
        raise TypeError(f"snr_db must be a float or [batch] floats, got "
                        f"{snr_db!r}") from None
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"snr_db must be finite, got {arr}; pass SNR values in dB "
                         "such as 10.0")
    if arr.ndim > 1:
        raise ValueError(f"snr_db must be a scalar or shape [batch], got shape "
                         f"{arr.shape}")
