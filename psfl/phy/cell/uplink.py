r"""The shared uplink: the serving cell's MUs on one OFDMA carrier, in one link call, with
scheduling, power control and co-channel interference from the neighbouring cells.

**Slot by slot (planned in NumPy).** The carrier's :math:`P` = ``num_subcarriers / 12`` PRBs
are assigned each slot by the cell's scheduler (:data:`~psfl.phy.cell.schedulers.SCHEDULERS`)
among the MUs that still have symbols to send; an MU holding :math:`M` PRBs transmits with the
fractional power control of :mod:`~psfl.phy.cell.power_control`, which fixes its mean SNR per
RE :math:`\gamma_{u,t}` in that slot. Channel-aware schedulers see, per PRB, the rate
:math:`\log_2(1 + \gamma^{(1)}_u \sum_r \overline{|h_{u,r}|^2})` with the slot's small-scale
channel averaged over the PRB and :math:`\gamma^{(1)}` the SNR at the power of one PRB (ours:
the scheduler knows the channel of the slot, as from sounding, not the interference).
Each neighbouring cell schedules its own MUs the same way with full buffers, from their
large-scale SNR only (ours), and they transmit with the same power control.

**Signal (TensorFlow).** Every (slot, MU) pair with PRBs is one row of
:class:`~psfl.phy.link.UplinkLink`'s machinery, in the MU's own normalization: the MU's
small-scale channel :math:`h` (``phy.channel``, a small-scale family: its large-scale gain is
the drop's), noise :math:`N_0 = 1/\gamma_{u,t}`, its symbols on the data REs of its PRBs
(OFDM symbol by OFDM symbol, subcarrier by subcarrier: Sionna's order, as
:class:`~psfl.phy.grid.SlotGrid`), zeros on the other data REs, and pilots on every subcarrier
of the pilot symbols (ours: the MU's reference signal spans the band, so LS estimation and its
frequency window behave as in the single link). Interference on RE :math:`(t, f)` of slot
:math:`s` comes from the MU :math:`v_c` each other cell :math:`c` schedules on that PRB:

.. math::
    i = \sum_{c} \sqrt{q_{c}/\gamma_{u,s}}\; h_{v_c}\, z_c,\qquad
    q_c = 10^{\gamma_{v_c \to 0}/10},

with :math:`h_{v_c}` its own unit-power small-scale channel to psfl's BS, :math:`z_c` a
:math:`\mathcal{CN}(0,1)` symbol (Gaussian interference) and :math:`\gamma_{v_c\to 0}` its SNR
per RE at psfl's BS (its power per RE and its gain to site 0). The receiver knows the
interference power of every RE and antenna, :math:`\sigma^2_{i} = \sum_c q_c |h_{v_c}|^2 /
\gamma_{u,s}` (ours: a genie for the covariance a real receiver estimates from its DMRS), and
treats it as noise: it enters the combiner's impairment :math:`s_r = N_0 + \sigma^2_e +
\sigma^2_i` (:mod:`psfl.phy.estimation`), so the post-equalization ``no_eff`` and the SINR
:math:`1/\mathrm{no\_eff}` include it; LS estimation sees :math:`N_0` plus the row's mean
:math:`\sigma^2_i` at the pilots. The combiner weighs each antenna by its own impairment, so
interference is taken as uncorrelated across antennas (no interference-rejection combining;
ours, as the single link's per-antenna model). Slots are independent realizations, as in the
single link; noise is :math:`k_B T_0\,\Delta f\,\mathrm{NF}` per subcarrier
(``phy.bandwidth_hz`` is not read).

**One MU alone.** With one MU, one cell and no interference, the MU holds the whole carrier in
every slot, the channel is drawn for all slots in one call and the noise after it, as in
:class:`~psfl.phy.link.UplinkLink`: the outputs equal that link's at
``snr_db = snr_db[0]`` bit for bit (tested). Runs eagerly only (the plan is NumPy).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import tensorflow as tf
from sionna.phy import Block

from psfl.config import ConfigError
from psfl.errors import PsflError
from psfl.phy.channels.registry import CHANNELS
from psfl.phy.estimation import combine
from psfl.phy.link import UplinkLink, complex_normal

from .config import CellConfig
from .power_control import SUBCARRIERS_PER_PRB, snr_per_re_db, uplink_power_dbm
from .schedulers.registry import SCHEDULERS, Scheduler, check_prbs
from .topology import Drop

__all__ = ["SharedUplink"]

#: Most slots one call may take (a guard against a scheduler that starves an MU).
MAX_SLOTS = 100_000


class SharedUplink(Block):
    r"""The MUs of psfl's cell on one carrier (module docstring).

    Parameters
    ----------
    phy_cfg : PhyConfig
        Numerology (``num_subcarriers`` a multiple of 12), small-scale channel, CSI, combining,
        power limit (``tx_power_dbm``), noise figure and antenna gains.
    cell_cfg : CellConfig
        Scheduler, :math:`P_0`, :math:`\alpha`, interference on or off.
    drop : Drop
        The MUs and their large-scale state (:func:`~psfl.phy.cell.topology.drop_mus`).

    Input
    -----
    x : [num_mus, k], tf.complex64
        One message of ``k`` unit-power symbols per MU of cell 0, in the drop's order.
    snr_db : float or [num_mus] (default 0)
        Offset [dB] to each MU's SNR from the budget, as for umi/uma/rma in
        :class:`~psfl.phy.link.UplinkLink` (so the block is a :class:`~psfl.phy.link.LinkFn`
        whose rows are the MUs); :meth:`with_allocation` keeps one schedule for several calls.

    Output
    ------
    y : [num_mus, k], tf.complex64
        Equalized symbols (unbiased estimates of ``x``).
    no_eff : [num_mus, k], tf.float32
        Post-equalization noise-plus-interference variance per symbol (SINR = 1/no_eff).
    """

    def __init__(self, phy_cfg, cell_cfg: CellConfig, drop: Drop, **kwargs: Any):
        super().__init__(precision="single", **kwargs)
        if CHANNELS.capability(phy_cfg.channel, "has_pathloss"):
            small = ", ".join(CHANNELS.names(small_scale=True))
            raise ConfigError(f"phy.channel: the shared uplink takes path loss and shadowing "
                              f"from the drop; set phy.channel to a small-scale channel "
                              f"({small}) and cell.scenario = {phy_cfg.channel!r}")
        if phy_cfg.domain != "frequency":
            raise ConfigError("phy.domain: the shared uplink simulates the frequency domain "
                              "only; set phy.domain = 'frequency'")
        if phy_cfg.num_subcarriers % SUBCARRIERS_PER_PRB:
            raise ConfigError(f"phy.num_subcarriers ({phy_cfg.num_subcarriers}) must be a "
                              f"multiple of {SUBCARRIERS_PER_PRB} (whole PRBs) for the shared "
                              "uplink")
        self.phy_cfg, self.cell_cfg, self.drop = phy_cfg, cell_cfg, drop
        self.link = UplinkLink(phy_cfg)  # its grid, channel sampler and estimator are ours
        self.num_prbs = phy_cfg.num_subcarriers // SUBCARRIERS_PER_PRB
        for c in range(drop.num_cells):
            check_prbs(cell_cfg.scheduler, int(np.sum(drop.cell == c)), self.num_prbs)
        self.interference = bool(cell_cfg.interference and drop.num_cells > 1)
        rows = np.asarray(self.link.grid._data_rows)  # noqa: SLF001  data OFDM symbols
        self._data_rows = rows
        self._res_per_prb = SUBCARRIERS_PER_PRB * rows.size  # data REs of a PRB in a slot

    @property
    def num_mus(self) -> int:
        """MUs of psfl's cell (rows of ``x``)."""
        return self.drop.num_mus

    def _scheduler(self, num_mus: int) -> Scheduler:
        entry = SCHEDULERS.get(self.cell_cfg.scheduler)
        options = {k: getattr(self.cell_cfg, k) for k in entry.cls.options}
        return entry.build(num_mus, self.num_prbs, **options)

    def _power(self, mus: np.ndarray, num_prbs: np.ndarray) -> np.ndarray:
        """Transmit power [dBm] of ``mus`` holding ``num_prbs`` PRBs (any shape, broadcast)."""
        cfg = self.cell_cfg
        pl = np.broadcast_to(-self.drop.serving_gain_db[mus], np.shape(num_prbs))
        return uplink_power_dbm(pl, num_prbs, p0_dbm=cfg.p0_dbm, alpha=cfg.alpha,
                                p_max_dbm=self.phy_cfg.tx_power_dbm)

    # -- the plan: schedule, power and SNR per slot ---------------------------------------
    def _prb_gains(self, h: tf.Tensor, n: int) -> np.ndarray:
        """[n, P] small-scale gain :math:`\\sum_r \\overline{|h_r|^2}` of each row per PRB."""
        g = tf.reduce_mean(tf.reduce_sum(tf.abs(h) ** 2, axis=1), axis=1)  # [n|1, F|1]
        g = tf.broadcast_to(g, [n, self.phy_cfg.num_subcarriers] if g.shape[-1] != 1
                            else [n, 1]).numpy()
        if g.shape[-1] == 1:
            return np.repeat(g, self.num_prbs, axis=1)
        return g.reshape(n, self.num_prbs, SUBCARRIERS_PER_PRB).mean(-1)

    def _plan(self, k: int, owner: np.ndarray | None) -> dict[str, Any]:
        n, p = self.num_mus, self.num_prbs
        if owner is not None:  # a given allocation: its slots' channels in one draw
            owner = _checked_owner(owner, n, p)
            held = np.stack([np.bincount(o[o >= 0], minlength=n) for o in owner]).sum(axis=0)
            if np.any(held * self._res_per_prb < k):
                raise ValueError(f"the allocation carries {(held * self._res_per_prb).min()} "
                                 f"symbols for some MU, fewer than k = {k}; pass the owner of "
                                 f"a call with at least as many symbols per MU")
            return {"owner": owner, "h": self.link.channel(n * owner.shape[0])}
        mus = np.arange(n)
        snr1 = snr_per_re_db(self._power(mus, np.ones(n)), 1, self.drop.serving_gain_db[:n],
                             self.phy_cfg)
        sched = self._scheduler(n)
        left = np.full(n, k, np.int64)
        rate_last = np.zeros(n)
        owners, blocks, gains = [], [], []
        drawn = 0
        while (left > 0).any():
            s = len(owners)
            if s == MAX_SLOTS:
                raise PsflError(f"the shared uplink needed more than {MAX_SLOTS} slots for "
                                f"{k} symbols per MU; send fewer symbols or fewer MUs")
            if s == drawn:  # draw the channels of the slots a perfectly shared carrier needs
                b = max(1, math.ceil(n * left.max() / (p * self._res_per_prb)))
                blocks.append(self.link.channel(n * b))
                gains.append(self._prb_gains(blocks[-1], n * b).reshape(b, n, p))
                drawn += b
            g = np.concatenate(gains)[s] if len(gains) > 1 else gains[0][s]
            rates = np.log2(1.0 + 10.0 ** (snr1[:, None] / 10.0) * g).T  # [P, N]
            owner = sched(rate_last, rates, left > 0)
            held = owner >= 0
            rate_last = np.bincount(owner[held], weights=rates[np.flatnonzero(held),
                                                               owner[held]], minlength=n)
            left -= np.bincount(owner[held], minlength=n) * self._res_per_prb
            owners.append(owner)
        owner = np.stack(owners)  # [S, P]
        # A channel that never changes (awgn) comes as one row per draw: keep one.
        h = blocks[0] if len(blocks) == 1 or blocks[0].shape[0] == 1 else tf.concat(blocks, 0)
        return {"owner": owner, "h": h}

    def _interferers(self, num_slots: int) -> dict[str, np.ndarray]:
        """Each other cell's schedule: the MU on every PRB [C-1, S, P] and its INR per RE at
        psfl's BS [C-1, S, P] (linear)."""
        drop, p = self.drop, self.num_prbs
        owners, inr = [], []
        for c in range(1, drop.num_cells):
            mus = drop.cell_mus(c)
            snr1 = snr_per_re_db(self._power(mus, np.ones(mus.size)), 1,
                                 drop.serving_gain_db[mus], self.phy_cfg)
            rates = np.broadcast_to(np.log2(1.0 + 10.0 ** (snr1 / 10.0)), (p, mus.size))
            sched, rate_last = self._scheduler(mus.size), np.zeros(mus.size)
            local = np.empty((num_slots, p), np.int64)  # the cell's own MU indices
            for s in range(num_slots):
                o = sched(rate_last, rates, np.ones(mus.size, bool))
                rate_last = np.bincount(o, weights=rates[np.arange(p), o], minlength=mus.size)
                local[s] = o
            m = np.stack([np.bincount(o, minlength=mus.size)[o] for o in local])  # PRBs held
            own = mus[local]
            snr = snr_per_re_db(self._power(own, m), m, drop.gain_db[own, 0], self.phy_cfg)
            owners.append(own)
            inr.append(10.0 ** (snr / 10.0))
        return {"owner": np.stack(owners), "inr": np.stack(inr)}

    def _positions(self, owner: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Rows (slot, MU) with PRBs, slot-major, and where each MU's ``k`` symbols go.

        Output
        ------
        rows : [n_rows, 2], np.int64
            (slot, MU) of each row.
        idx : [num_mus, k, 3], np.int64
            (row, OFDM symbol, subcarrier) of every symbol.
        """
        rows, where = [], [[] for _ in range(self.num_mus)]
        for s, o in enumerate(owner):
            for u in np.unique(o[o >= 0]):
                sub = (np.flatnonzero(o == u)[:, None] * SUBCARRIERS_PER_PRB
                       + np.arange(SUBCARRIERS_PER_PRB)).ravel()
                t, f = np.meshgrid(self._data_rows, sub, indexing="ij")  # symbol-major
                r = np.full(t.size, len(rows))
                where[u].append(np.stack([r, t.ravel(), f.ravel()], axis=1))
                rows.append((s, u))
        idx = np.stack([np.concatenate(w)[:k] for w in where])
        return np.asarray(rows, np.int64).reshape(-1, 2), idx

    def _interference(self, plan: dict, num_slots: int) -> tuple[tf.Tensor, tf.Tensor]:
        """Interference grid and its power per RE and antenna at psfl's BS, in units of the
        noise per RE: [S, R, T, F] complex64 and [S, R, T|1, F] float32."""
        cfg, p = self.phy_cfg, self.num_prbs
        own, inr = plan["int_owner"], plan["int_inr"]  # [C-1, S, P]
        pairs = own.reshape(own.shape[0], num_slots * p)
        cs = np.repeat(np.arange(own.shape[0] * num_slots), p)
        # One small-scale draw per (cell, slot, MU): an MU on several PRBs of a slot has one
        # channel across them.
        key = np.stack([cs, pairs.ravel()], axis=1)
        uniq, row = np.unique(key, axis=0, return_inverse=True)
        h = self.link.channel(len(uniq))  # [n|1, R, T|1, F|1]
        row = row.reshape(own.shape[0], num_slots, p)
        f = np.arange(cfg.num_subcarriers)
        prb = f // SUBCARRIERS_PER_PRB
        r_f = row[:, :, prb] if h.shape[0] != 1 else np.zeros_like(row[:, :, prb])
        f_h = f if h.shape[-1] != 1 else np.zeros_like(f)
        idx = np.stack([r_f, np.broadcast_to(f_h, r_f.shape)], axis=-1)  # [C-1, S, F, 2]
        hg = tf.gather_nd(tf.transpose(h, [0, 3, 1, 2]), idx)  # [C-1, S, F, R, T|1]
        hg = tf.transpose(hg, [0, 1, 3, 4, 2])  # [C-1, S, R, T|1, F]
        q = tf.constant(inr[:, :, prb][:, :, None, None, :], tf.float32)  # [C-1, S, 1, 1, F]
        z = complex_normal([own.shape[0], num_slots, 1, cfg.num_ofdm_symbols,
                            cfg.num_subcarriers])
        amp = tf.complex(tf.sqrt(q), tf.zeros_like(q))
        sig = tf.reduce_sum(amp * hg * z, axis=0)  # [S, R, T, F]
        power = tf.reduce_sum(q * (tf.math.real(hg) ** 2 + tf.math.imag(hg) ** 2), axis=0)
        return sig, power

    def call(self, x, snr_db=0.0):
        out = self.simulate(x, snr_db)
        return out["y"], out["no_eff"]

    def with_allocation(self, owner: np.ndarray) -> Any:
        """A :class:`~psfl.phy.link.LinkFn`, ``(y, no_eff) = f(x, snr_db=0)``, that sends
        ``x`` [num_mus, k] on the PRBs and slots of ``owner`` (the ``"owner"`` of an earlier
        :meth:`simulate`) instead of scheduling anew: the semantic symbols and the digital
        baseline's ride the same allocation (same PRBs, slots and power; new channel and
        noise draws)."""
        owner = _checked_owner(owner, self.num_mus, self.num_prbs)

        def link(x: Any, snr_db: Any = 0.0) -> tuple[tf.Tensor, tf.Tensor]:
            out = self.simulate(x, snr_db, owner=owner)
            return out["y"], out["no_eff"]

        return link

    def simulate(self, x: Any, snr_db: Any = 0.0, *, owner: np.ndarray | None = None
                 ) -> dict[str, Any]:
        r"""Run the shared uplink and return the schedule with the symbols.

        Input
        -----
        x : [num_mus, k], tf.complex64
        snr_db : float or [num_mus]
            Offset [dB] added to every MU's SNR from the budget (0: the budget alone; e.g. -3
            models a 3 dB back-off), as ``snr_db`` of :class:`~psfl.phy.link.UplinkLink` for
            umi/uma/rma; the interferers keep theirs.
        owner : [S, P] int or None
            A fixed allocation (see :meth:`with_allocation`); None schedules.

        Output
        ------
        out : dict
            ``"y"`` [num_mus, k] tf.complex64 and ``"no_eff"`` [num_mus, k] tf.float32 as from
            ``__call__``; NumPy arrays: ``"owner"`` [S, P] int (MU on each PRB of each slot,
            -1 empty), ``"num_prbs"`` [S, num_mus], ``"tx_power_dbm"`` [S, num_mus] (-inf
            where none), ``"snr_db"`` [S, num_mus] (mean SNR per RE, NaN where no PRB),
            ``"inr"`` [S, P] (mean interference-to-noise ratio per RE and antenna on each PRB
            at psfl's BS, linear; zeros without interference), ``"num_slots"`` [num_mus]
            (slots until the MU's last symbol), ``"airtime_s"`` [num_mus] and ``"sinr_db"``
            [num_mus] (:math:`10\log_{10}` of the mean of :math:`1/\mathrm{no\_eff}`).
        """
        x = _checked(x, self.num_mus)
        cfg, n, k = self.phy_cfg, self.num_mus, int(x.shape[-1])
        offset = np.broadcast_to(np.asarray(snr_db, np.float64), (n,))
        if not np.all(np.isfinite(offset)):
            raise ValueError(f"snr_db must be finite dB offsets, got {snr_db!r}")
        plan = self._plan(k, owner)
        owner = plan["owner"]
        num_slots = owner.shape[0]
        m = np.stack([np.bincount(o[o >= 0], minlength=n) for o in owner])  # [S, N]
        power = self._power(np.arange(n), m)
        snr = np.where(m > 0, snr_per_re_db(power, m, self.drop.serving_gain_db[:n], cfg)
                       + offset, np.nan)
        rows, idx = self._positions(owner, k)
        n_rows = rows.shape[0]
        full = [n_rows, cfg.num_ofdm_symbols, cfg.num_subcarriers]
        xg = tf.scatter_nd(idx.reshape(-1, 3), tf.reshape(x, [-1]), full)
        if self.link.grid.num_pilots_per_slot:
            pil = np.zeros(full[1:], np.complex64)
            pil[sorted(self.link.grid.pilot_symbol_indices)] = self.link.grid.pilots.numpy()
            xg = xg + tf.constant(pil)[None]
        h = plan["h"]
        if h.shape[0] != 1:
            h = tf.gather(h, rows[:, 0] * n + rows[:, 1])
        snr_rows = tf.constant(snr[rows[:, 0], rows[:, 1]], tf.float32)
        no = tf.pow(10.0, -snr_rows / 10.0)  # as UplinkLink computes it
        shape = [n_rows, cfg.num_rx_ant, cfg.num_ofdm_symbols, cfg.num_subcarriers]
        y = h * xg[:, None]
        std = tf.sqrt(no)[:, None, None, None]
        y = y + complex_normal(shape) * tf.complex(std, tf.zeros_like(std))
        inr_prb = np.zeros((num_slots, self.num_prbs))
        i_var: Any = 0.0
        no_est = no
        if self.interference:
            plan.update(zip(("int_owner", "int_inr"), self._interferers(num_slots).values(),
                            strict=True))
            sig, ipow = self._interference(plan, num_slots)
            g = tf.pow(10.0, snr_rows / 10.0)[:, None, None, None]
            y = y + tf.gather(sig, rows[:, 0]) / tf.complex(tf.sqrt(g), tf.zeros_like(g))
            i_var = tf.gather(ipow, rows[:, 0]) / g
            no_est = no + tf.reduce_mean(i_var, axis=[1, 2, 3])
            per_f = tf.reduce_mean(ipow, axis=[1, 2]).numpy()  # [S, F]
            inr_prb = per_f.reshape(num_slots, self.num_prbs, SUBCARRIERS_PER_PRB).mean(-1)
        if self.link.estimator is None:
            h_hat, err_var = h, i_var
        else:
            h_hat, err_var = self.link.estimator(y, no_est)
            err_var = err_var + i_var
        x_hat, no_eff = combine(y, h_hat, no, err_var, cfg.equalizer)
        y_out = tf.gather_nd(tf.broadcast_to(x_hat, full), idx)
        no_eff = tf.gather_nd(tf.broadcast_to(no_eff, full), idx)
        last = np.array([rows[idx[u, -1, 0], 0] + 1 for u in range(n)])
        return {
            "y": y_out, "no_eff": no_eff, "owner": owner, "num_prbs": m, "tx_power_dbm": power,
            "snr_db": snr, "inr": inr_prb, "num_slots": last,
            "airtime_s": last * self.link.grid.slot_duration_s,
            "sinr_db": 10.0 * np.log10(np.mean(1.0 / no_eff.numpy(), axis=1)),
        }


def _checked_owner(owner: Any, num_mus: int, num_prbs: int) -> np.ndarray:
    """``owner`` as [S >= 1, num_prbs] int64 of MUs in [-1, num_mus); ValueError otherwise."""
    owner = np.asarray(owner)
    if (owner.ndim != 2 or owner.shape[0] < 1 or owner.shape[1] != num_prbs
            or not np.issubdtype(owner.dtype, np.integer)
            or owner.min() < -1 or owner.max() >= num_mus):
        raise ValueError(f"owner must be [slots, {num_prbs}] integers in [-1, {num_mus}) (the "
                         f"'owner' of an earlier simulate), got shape {owner.shape}")
    return owner.astype(np.int64)


def _checked(x: Any, num_mus: int) -> tf.Tensor:
    """``x`` as [num_mus, k >= 1] tf.complex64; one clear error otherwise."""
    x = tf.convert_to_tensor(x)
    if x.dtype != tf.complex64:
        raise TypeError(f"x must be tf.complex64, got {x.dtype!r}; use tf.cast(x, tf.complex64)")
    if x.shape.rank != 2 or x.shape[0] != num_mus or not x.shape[1]:
        raise ValueError(f"x must have shape [num_mus={num_mus}, k >= 1] (one message per MU "
                         f"of the serving cell), got {x.shape}")
    return x
