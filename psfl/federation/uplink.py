r"""The round's model uploads on a shared carrier (``federation.uplink = "shared"``).

``dedicated`` (the default) costs every MU's upload as if it had the carrier to itself at full
power: airtime :math:`t_u = b_u / (B\log_2(1+\gamma_u))`, energy :math:`P_\max t_u`
(:meth:`~psfl.federation.roles.BaseStation._account`), and the round's upload latency is
:math:`\max_u t_u`. ``shared`` schedules the uploads of the round's MUs on the one carrier of
psfl's cell, slot by slot, with the parts of :mod:`psfl.phy.cell`:

**Carrier.** :math:`P` = ``phy.num_subcarriers / 12`` PRBs of :math:`12\Delta f` Hz, slots of
:math:`T_s` = ``phy.num_ofdm_symbols`` OFDM symbols with their CP (:mod:`psfl.phy.numerology`).

**Schedule.** In each slot :math:`s` the cell's scheduler (``cell.scheduler``,
:data:`~psfl.phy.cell.schedulers.SCHEDULERS`) gives every PRB to one MU that still has bits to
send; MU :math:`u` then holds :math:`M_{u,s}` PRBs. A channel-aware scheduler sees the rate
:math:`\log_2(1+\gamma^{(1)}_u)` on every PRB, :math:`\gamma^{(1)}_u` the SINR at the power of one
PRB (ours: uploads are costed from the large-scale channel, so every PRB of an MU looks alike).

**Power and SINR.** An MU holding :math:`M` PRBs transmits with TS 38.213 open-loop fractional
power control :math:`P_u(M) = \min\{P_\max, P_0 + \alpha\,\mathrm{PL}_u + 10\log_{10}M\}`
(:func:`~psfl.phy.cell.uplink_power_dbm`, ``cell.p0_dbm``, ``cell.alpha``,
``phy.tx_power_dbm``), its SNR per RE is :math:`\gamma_u(M)` of
:func:`~psfl.phy.cell.snr_per_re_db`, and co-channel MUs of the neighbouring cells add the mean
interference-to-noise ratio :math:`\overline{\mathrm{INR}}` at psfl's BS
(:func:`~psfl.phy.cell.mean_inr`, round robin with full buffers in every other cell, for one drop
of ``[cell]`` seeded by ``run.seed``; 0 with ``cell.interference = false`` or
``cell.num_rings = 0``):

.. math::
    \mathrm{SINR}_{u,s} = \frac{\gamma_u(M_{u,s})}{1 + \overline{\mathrm{INR}}}.

The path loss :math:`\mathrm{PL}_u = -G_u` is the MU's large-scale loss of the round's channel
draw (:mod:`psfl.federation.channels`, shadowing included): :math:`G_u = \gamma^{\mathrm{ded}}_u
- (P_\max + G_\mathrm{tx} + G_\mathrm{rx} - N(B))` with :math:`\gamma^{\mathrm{ded}}_u` the
dedicated SNR (ours: psfl's MUs keep their own positions and draws; the drop only places the
interferers).

**Bits, airtime, energy** (Shannon, as the dedicated accounting; ours): in slot :math:`s` MU
:math:`u` delivers :math:`12 M_{u,s}\,\Delta f\,T_s \log_2(1+\mathrm{SINR}_{u,s})` bits; its
airtime is :math:`t_u = s_u T_s` with :math:`s_u` the slot of its last bit (1-based; it waited
for the slots it did not hold); its transmit energy is :math:`E_u = T_s\sum_s P_u(M_{u,s})`
over the slots it transmits (whole slots); its PRB share is
:math:`\rho_u = \sum_s M_{u,s} / (P\,S)` with :math:`S = \max_u s_u`, so
:math:`\sum_u \rho_u = 1` (every PRB is used while anyone has bits left). The round's upload
latency is :math:`\max_u t_u = S\,T_s`.

**Grants** (ours, for speed): a model is megabits, thousands of slots per MU, and a
channel-aware scheduler costs a Sionna call per decision; so the scheduler decides once per
grant of :math:`h` slots, :math:`h = \max(1, \lceil S_{\min} / 2000\rceil)` with
:math:`S_{\min}` the slots the uploads would take at the best rate any MU reaches
(:data:`MAX_GRANTS`). An MU whose bits run out inside a grant stops there (its airtime and
energy count the slots it used) and its PRBs stay empty to the grant's end, so then
:math:`\sum_u \rho_u \le 1`; uploads that fit in 2000 slots are scheduled slot by slot
(:math:`h = 1`) and every statement above holds exactly.

One MU holding the whole carrier at :math:`P_\max` (power control capped) without
interference has the dedicated rate (:math:`12P\Delta f = B` when ``phy.bandwidth_hz = 0``).
Sharing can only lengthen an MU's airtime: it holds at most the :math:`P` PRBs, at most
:math:`P_\max`, with interference on top, and its airtime is rounded up to whole slots
(tested).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from psfl.config import Config, ConfigError
from psfl.phy.cell.config import CellConfig
from psfl.phy.cell.power_control import SUBCARRIERS_PER_PRB
from psfl.phy.cell.schedulers.registry import SCHEDULERS, check_prbs

__all__ = ["MAX_GRANTS", "MAX_SLOTS", "SharedCarrier", "check_uplink", "schedule_uploads", "shared_carrier"]

#: Most slots one round's uploads may take (a guard against a link that delivers nothing).
MAX_SLOTS = 10_000_000
#: Scheduler decisions a round's uploads are spread over at most (the grant length ``h``).
MAX_GRANTS = 2000


@dataclasses.dataclass(frozen=True)
class SharedCarrier:
    r"""What the shared uplink of a run keeps: the carrier and the interference level.

    Attributes
    ----------
    num_prbs : int — :math:`P`
    slot_s : float — :math:`T_s` [s]
    prb_hz : float — :math:`12\Delta f` [Hz]
    inr : float — :math:`\overline{\mathrm{INR}}` at psfl's BS (linear)
    budget_db : float — :math:`P_\max + G_\mathrm{tx} + G_\mathrm{rx} - N(B)` [dB]
    """

    num_prbs: int
    slot_s: float
    prb_hz: float
    inr: float
    budget_db: float


def check_uplink(config: Config) -> None:
    """Refuses (:class:`~psfl.config.ConfigError`, one line naming the fix) what the round's
    uplink and selection cannot honour, before any training."""
    from psfl.federation.selection import check_selection

    fed, phy, cell = config.federation, config.phy, config.cell
    check_selection(fed.clients_per_round, config.data.num_mus)
    if fed.uplink != "shared":
        return
    if phy.num_subcarriers % SUBCARRIERS_PER_PRB:
        raise ConfigError(f"phy.num_subcarriers ({phy.num_subcarriers}) must be a multiple of "
                          f"{SUBCARRIERS_PER_PRB} (whole PRBs) for federation.uplink = shared")
    if cell.scenario != fed.scenario:
        raise ConfigError(f"cell.scenario = {cell.scenario!r} but federation.scenario = "
                          f"{fed.scenario!r}; set both to the same scenario for "
                          "federation.uplink = shared")
    radius = cell.isd / np.sqrt(3.0)
    if cell.num_rings > 0 and fed.max_distance_m > radius:
        raise ConfigError(f"federation.max_distance_m = {fed.max_distance_m:g} m reaches beyond "
                          f"psfl's cell (radius {radius:.0f} m = cell.isd_m/sqrt(3)), where a "
                          f"neighbouring cell would serve the MU; set federation.max_distance_m "
                          f"<= {np.floor(radius):.0f}, raise cell.isd_m, or cell.num_rings = 0")
    n = fed.clients_per_round or config.data.num_mus
    check_prbs(cell.scheduler, n, phy.num_subcarriers // SUBCARRIERS_PER_PRB)


def shared_carrier(config: Config) -> SharedCarrier:
    """The carrier of psfl's cell and the mean interference at its BS (module docstring): one
    drop of ``[cell]`` (psfl's cell with ``data.num_mus`` MUs, each other cell with
    ``cell.mus_per_cell`` or as many; ``cell.num_mus`` is the stand-alone cell's count and
    is not read here), seeded by ``run.seed``. Loads Sionna."""
    from sionna.phy import config as sionna_config

    from psfl.phy.budget import snr_db_from_config
    from psfl.phy.cell import (
        drop_mus,
        mean_inr,
        round_robin_load,
        snr_per_re_db,
        uplink_power_dbm,
    )
    from psfl.phy.numerology import slot_duration_s
    from psfl.seeding import derive_seed

    check_uplink(config)
    phy, cell = config.phy, config.cell
    num_prbs = phy.num_subcarriers // SUBCARRIERS_PER_PRB
    inr = 0.0
    if cell.interference and cell.num_rings > 0:
        cell_cfg: CellConfig = dataclasses.replace(cell, num_mus=config.data.num_mus)
        sionna_config.seed = derive_seed(config.run.seed, "cell-drop")
        drop = drop_mus(cell_cfg, phy)
        share, m = round_robin_load(drop, num_prbs)
        power = uplink_power_dbm(-drop.serving_gain_db, m, p0_dbm=cell.p0_dbm,
                                 alpha=cell.alpha, p_max_dbm=phy.tx_power_dbm)
        inr = mean_inr(drop, 0, share, snr_per_re_db(power, m, drop.gain_db[:, 0], phy))
    return SharedCarrier(num_prbs=num_prbs, slot_s=float(slot_duration_s(phy)),
                         prb_hz=SUBCARRIERS_PER_PRB * phy.scs_hz, inr=float(inr),
                         budget_db=snr_db_from_config(phy, path_loss=False))


def schedule_uploads(bits: np.ndarray, snr_db: np.ndarray, carrier: SharedCarrier,
                     cell_cfg: CellConfig, phy_cfg: Any) -> dict[str, Any]:
    r"""Schedule the uploads of ``bits`` on the shared carrier (module docstring).

    Input
    -----
    bits : [N], float
        Bits each MU uploads (0: it sends nothing and holds no PRB).
    snr_db : [N], float
        Each MU's dedicated uplink SNR :math:`\gamma^{\mathrm{ded}}_u` [dB] (full power over
        the carrier; it fixes :math:`G_u`).
    carrier : SharedCarrier
    cell_cfg : CellConfig
        Scheduler, :math:`P_0`, :math:`\alpha`, ``pf_beta``.
    phy_cfg : PhyConfig
        :math:`P_\max`, antenna gains, noise figure, subcarrier spacing.

    Output
    ------
    dict: ``grant_slots`` int (:math:`h`); NumPy arrays ``owner`` [D, P] (MU on each PRB of
    each grant, -1 empty), ``num_prbs`` [D, N], ``tx_power_dbm`` [D, N] (-inf where none),
    ``sinr_db`` [D, N] (NaN where none), ``tx_slots`` [N] (slots it transmitted),
    ``num_slots`` [N] (:math:`s_u`, 0 without bits), ``airtime_s`` [N], ``energy_j`` [N],
    ``prb_share`` [N] (:math:`\rho_u`), ``mean_power_dbm`` [N] and ``mean_sinr_db`` [N]
    (:math:`10\log_{10}` of the means over the slots it transmitted; NaN without bits).
    """
    from psfl.phy.cell import snr_per_re_db, uplink_power_dbm

    bits = np.asarray(bits, np.float64)
    n, p = bits.size, carrier.num_prbs
    if bits.ndim != 1 or np.any(bits < 0) or not np.all(np.isfinite(bits)):
        raise ValueError(f"bits must be [N] finite values >= 0, got {bits!r}")
    gain = np.asarray(snr_db, np.float64) - carrier.budget_db  # G_u [dB]
    held_m = np.arange(1, p + 1)
    # P_u(M) and SINR_u(M) for every MU and every M in 1..P: one call each
    power = uplink_power_dbm(np.broadcast_to(-gain[:, None], (n, p)),
                             np.broadcast_to(held_m, (n, p)), p0_dbm=cell_cfg.p0_dbm,
                             alpha=cell_cfg.alpha, p_max_dbm=phy_cfg.tx_power_dbm)
    sinr = (snr_per_re_db(power, held_m, gain[:, None], phy_cfg)
            - 10.0 * np.log10(1.0 + carrier.inr))  # [N, P]
    per_slot = held_m * carrier.prb_hz * carrier.slot_s * np.log2(1.0 + 10.0 ** (sinr / 10.0))
    watts = 10.0 ** ((power - 30.0) / 10.0)
    # h: the fewest PRB-slots the uploads can take, spread over at most MAX_GRANTS grants
    best = float(np.max(per_slot / held_m)) if n else 1.0
    h = max(1, math.ceil(math.ceil(bits.sum() / (best * p)) / MAX_GRANTS)) if best > 0 else 1
    left = bits.copy()
    tx_slots = np.zeros(n, np.int64)
    prb_slots = np.zeros(n)
    last = np.zeros(n, np.int64)
    energy = np.zeros(n)
    sinr_sum = np.zeros(n)
    owners: list[np.ndarray] = []
    if n and left.max() > 0:
        entry = SCHEDULERS.get(cell_cfg.scheduler)
        sched = entry.build(n, p, **{k: getattr(cell_cfg, k) for k in entry.cls.options})
        rates = np.broadcast_to(np.log2(1.0 + 10.0 ** (sinr[:, 0] / 10.0)), (p, n))
        rate_last = np.zeros(n)
        while (left > 0).any():
            if len(owners) * h >= MAX_SLOTS:
                raise ConfigError(f"the shared uplink needed more than {MAX_SLOTS} slots for "
                                  "the round's uploads; raise the MUs' SNR or send fewer bits")
            owner = np.asarray(sched(rate_last, rates, left > 0), np.int64)
            m = np.bincount(owner[owner >= 0], minlength=n)
            on = np.flatnonzero(m)
            d = per_slot[on, m[on] - 1]  # bits per slot of each MU served
            need = np.ceil(left[on] / d).astype(np.int64)
            used = np.minimum(need, h)
            done = need <= h
            last[on[done]] = len(owners) * h + need[done]
            left[on] -= used * d
            left[on[done]] = 0.0
            tx_slots[on] += used
            prb_slots[on] += m[on] * used
            energy[on] += used * carrier.slot_s * watts[on, m[on] - 1]
            sinr_sum[on] += used * 10.0 ** (sinr[on, m[on] - 1] / 10.0)
            rate_last = np.zeros(n)
            rate_last[on] = m[on] * rates[0, on]
            owners.append(owner)
    owner = np.stack(owners) if owners else np.zeros((0, p), np.int64)
    m = (np.stack([np.bincount(o[o >= 0], minlength=n) for o in owner]) if owners
         else np.zeros((0, n), np.int64))
    held = m > 0
    idx = np.maximum(m - 1, 0)
    rows = np.arange(n)[None, :]
    s_total = int(last.max()) if n else 0
    with np.errstate(invalid="ignore", divide="ignore"):
        tx = np.maximum(tx_slots, 1)
        return {
            "grant_slots": h, "owner": owner, "num_prbs": m,
            "tx_power_dbm": np.where(held, power[rows, idx], -np.inf),
            "sinr_db": np.where(held, sinr[rows, idx], np.nan), "tx_slots": tx_slots,
            "num_slots": last, "airtime_s": last * carrier.slot_s, "energy_j": energy,
            "prb_share": prb_slots / (p * s_total) if s_total else np.zeros(n),
            "mean_power_dbm": np.where(tx_slots > 0, 10.0 * np.log10(energy / (
                tx * carrier.slot_s)) + 30.0, np.nan),
            "mean_sinr_db": np.where(tx_slots > 0, 10.0 * np.log10(sinr_sum / tx), np.nan),
        }
