r"""A drop of MUs in a hexagonal multi-cell layout (TR 38.901 UMi/UMa/RMa), from Sionna.

**Layout and drop.** :func:`sionna.sys.gen_hexgrid_topology` places the sites on a spiral
hexagonal grid of ``num_rings`` rings (inter-site distance ``isd``; cell radius
:math:`\mathrm{isd}/\sqrt3`) and drops MUs uniformly in each cell's three sectors, outdoor, at
height ``phy.ut_height_m``, with speed ``phy.speed_mps`` in a uniform random direction. psfl's
BSs have one omnidirectional array per site (``phy.num_rx_ant`` isotropic elements, as in the
single link), so the three sectors of a site form one cell: psfl keeps sector 0's BS of every
site. Sionna's minimum distance is a 3-D one; psfl passes
:math:`\sqrt{d_\mathrm{min}^2 + (h_\mathrm{BS} - h_\mathrm{UT})^2}` so that the ground
distance of TR 38.901 Table 7.2-1 holds. Sionna's grid
needs one ring at least: a single cell (``num_rings = 0``) is the central cell of a one-ring
drop, alone.

**Wrap-around.** With ``wraparound`` every MU–site distance is the one to the nearest of the
site's seven copies (the layout and its six mirrors; Sionna's ``bs_virtual_loc``), so that
every cell sees a full ring of interferers.

**Large-scale state per MU–site link.** Sionna's system-level model (``UMi``/``UMa``/``RMa``)
with this topology draws the LoS state (TR 38.901 Table 7.4.2-1 probability) and the
log-normal shadow fading (Table 7.4.1-1, spatially correlated over the MUs as Sionna draws its
large-scale parameters); the path loss is psfl's TR 38.901 formula
(:func:`~psfl.phy.budget.path_loss_db`) of the 3-D distance and that LoS state, as in
:mod:`psfl.phy.channels.system_level` (Sionna 1.2.2 evaluates it at the 2-D distance). The
large-scale gain of a link is :math:`G = -\mathrm{PL} + \mathrm{SF}` [dB].

**Serving cell**: the site of the strongest large-scale gain (as 3GPP system-level studies
associate by RSRP), wrap-around included. Associating by the cell an MU was dropped in instead
would leave MUs served by a NLoS site while another sees them in LoS; power control then
raises their power by up to 20 dB towards the LoS site (measured on a UMi drop of 30 MUs per
cell, alpha 0.8, P0 -80 dBm: median geometry SINR of the central cell -12 dB by dropped cell,
+4.7 dB by gain).
Sionna drops half as many MUs again per cell as needed; psfl keeps, per cell, the required
number of those the cell serves, chosen at random (ours), and draws again in the rare case a
cell serves too few. psfl's MUs are those of the central cell 0, listed first.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from psfl.phy.budget import DEFAULT_BS_HEIGHT_M, path_loss_db

from .config import CellConfig

__all__ = ["Drop", "drop_mus"]

#: Drops tried before giving up on every cell getting its MUs (one almost always suffices).
_MAX_DRAWS = 20


@dataclasses.dataclass(frozen=True)
class Drop:
    r"""One drop: sites, MUs and the large-scale state of every MU–site link.

    ``U`` MUs in all, ``C`` sites; psfl's MUs are the first ``num_mus`` (cell 0).

    Attributes
    ----------
    scenario : str
    isd_m, bs_height_m : float
        Inter-site distance and BS height [m].
    wraparound : bool
    site_xy : [C, 2], np.float64
        Site positions [m]; site 0 is psfl's BS at the origin.
    ut_xyz : [U, 3], np.float64
        MU positions [m].
    velocity : [U, 3], np.float64
        MU velocities [m/s].
    cell : [U], np.int32
        Serving site of each MU.
    distance_2d_m, distance_3d_m : [U, C], np.float64
        Ground and 3-D distance of every MU–site link (to the nearest copy with wrap-around).
    los : [U, C], bool
        LoS state of every link.
    path_loss_db : [U, C], np.float64
        TR 38.901 path loss of every link.
    shadowing_db : [U, C], np.float64
        Shadow fading of every link as a gain [dB] (positive: the link is stronger).
    """

    scenario: str
    isd_m: float
    bs_height_m: float
    wraparound: bool
    site_xy: np.ndarray
    ut_xyz: np.ndarray
    velocity: np.ndarray
    cell: np.ndarray
    distance_2d_m: np.ndarray
    distance_3d_m: np.ndarray
    los: np.ndarray
    path_loss_db: np.ndarray
    shadowing_db: np.ndarray

    @property
    def num_mus(self) -> int:
        """MUs of the serving cell 0 (psfl's MUs)."""
        return int(np.sum(self.cell == 0))

    @property
    def num_cells(self) -> int:
        return int(self.site_xy.shape[0])

    @property
    def speed_mps(self) -> np.ndarray:
        """[U] MU speeds [m/s]."""
        return np.linalg.norm(self.velocity, axis=-1)

    @property
    def gain_db(self) -> np.ndarray:
        """[U, C] large-scale gain of every link, :math:`-\\mathrm{PL} + \\mathrm{SF}` [dB]."""
        return -self.path_loss_db + self.shadowing_db

    def serving(self, values: np.ndarray) -> np.ndarray:
        """[U] the entries of a [U, C] array at each MU's serving site."""
        return np.take_along_axis(values, self.cell[:, None].astype(np.int64), axis=1)[:, 0]

    @property
    def serving_gain_db(self) -> np.ndarray:
        """[U] large-scale gain to the serving site [dB]."""
        return self.serving(self.gain_db)

    @property
    def serving_distance_m(self) -> np.ndarray:
        """[U] ground distance to the serving site [m]."""
        return self.serving(self.distance_2d_m)

    def cell_mus(self, cell: int) -> np.ndarray:
        """Indices of the MUs served by ``cell``, in order."""
        return np.flatnonzero(self.cell == cell)


def _sionna_model(scenario: str, phy_cfg):
    from sionna.phy.channel.tr38901 import RMa, UMa, UMi

    from psfl.phy.channels._common import antenna_arrays

    ut, bs = antenna_arrays(phy_cfg)
    cls = {"umi": UMi, "uma": UMa, "rma": RMa}[scenario]
    args = (phy_cfg.carrier_hz,) if scenario == "rma" else (phy_cfg.carrier_hz, "low")
    # Path loss is ours (module docstring); the model draws LoS states and shadow fading.
    return cls(*args, ut, bs, "uplink", enable_pathloss=False, enable_shadow_fading=True,
               precision="single")


def drop_mus(cell_cfg: CellConfig, phy_cfg, *, num_mus: int | None = None) -> Drop:
    r"""Drop MUs in the hexagonal layout of ``cell_cfg`` (module docstring).

    Random numbers come from Sionna's generators (``sionna.phy.config``), which
    :func:`psfl.seeding.set_seed` seeds: the same seed gives the same drop.

    Parameters
    ----------
    cell_cfg : CellConfig
        Scenario, rings, inter-site and minimum distance, wrap-around, MUs per cell.
    phy_cfg : PhyConfig
        Carrier, BS and MU heights, speed, receive antennas.
    num_mus : int or None
        MUs of the serving cell; None takes ``cell_cfg.num_mus``.

    Output
    ------
    drop : Drop
        ``num_mus`` MUs in cell 0, then ``cell_cfg.interferers_per_cell`` in each other cell
        (none with ``num_rings = 0``).
    """
    import tensorflow as tf
    from sionna.phy import config as sn_config
    from sionna.sys import gen_hexgrid_topology

    scenario = cell_cfg.scenario
    n0 = int(num_mus or cell_cfg.num_mus)
    rings = cell_cfg.num_rings
    counts = np.array([n0] + [cell_cfg.interferers_per_cell] * (3 * rings * (rings + 1)))
    num_cells = counts.size
    h_bs = phy_cfg.bs_height_m or DEFAULT_BS_HEIGHT_M[scenario]
    h_ut = phy_cfg.ut_height_m
    kw = dict(carrier_hz=phy_cfg.carrier_hz, bs_height_m=h_bs, ut_height_m=h_ut)
    # Some MUs dropped in a cell are served by another (association by gain), so each cell
    # gets spares (ours: half as many again); a drop short of MUs somewhere is drawn again.
    per_sector = math.ceil((1.5 * counts.max() + 3) / 3) if num_cells > 1 else \
        math.ceil(counts.max() / 3)
    for _ in range(_MAX_DRAWS):
        topo = gen_hexgrid_topology(
            1, max(rings, 1), per_sector, scenario,
            min_bs_ut_dist=math.hypot(cell_cfg.min_distance, h_bs - h_ut), isd=cell_cfg.isd,
            bs_height=h_bs, min_ut_height=h_ut, max_ut_height=h_ut, indoor_probability=0.0,
            min_ut_velocity=phy_cfg.speed_mps, max_ut_velocity=phy_cfg.speed_mps,
            precision="single")
        ut_loc, bs_loc, ut_or, bs_or, ut_vel, in_state, _, bs_virtual = topo
        # Sionna orders MUs by (cell, sector, MU); a single cell keeps the central one's.
        mine = slice(None, num_cells * 3 * per_sector)
        ut_loc, ut_or, ut_vel = ut_loc[:, mine], ut_or[:, mine], ut_vel[:, mine]
        in_state = in_state[:, mine]
        sites = slice(None, 3 * num_cells, 3)  # sector 0's BS of each site
        bs_loc = bs_loc[:, sites]
        virtual = bs_virtual[:, sites, mine] if cell_cfg.wraparound else None
        model = _sionna_model(scenario, phy_cfg)
        model.set_topology(ut_loc, bs_loc, ut_or, bs_or[:, sites], ut_vel, in_state, None,
                           virtual)
        los = np.transpose(model._scenario.los.numpy()[0])  # noqa: SLF001  [U, C]
        sf_db = 10.0 * np.log10(np.transpose(model._lsp.sf.numpy()[0]).astype(np.float64))  # noqa: SLF001
        ut = ut_loc.numpy()[0].astype(np.float64)
        bs = (virtual.numpy()[0] if virtual is not None
              else np.broadcast_to(bs_loc.numpy()[0][:, None], (num_cells, ut.shape[0], 3)))
        d2 = np.transpose(np.linalg.norm(ut[None, :, :2] - bs[..., :2].astype(np.float64),
                                         axis=-1))
        pl = np.where(los, path_loss_db(scenario, d2, los=True, **kw),
                      path_loss_db(scenario, d2, los=False, **kw))
        cell = np.argmax(-pl + sf_db, axis=1)  # strongest large-scale gain serves
        pools = [np.flatnonzero(cell == c) for c in range(num_cells)]
        if all(pool.size >= n for pool, n in zip(pools, counts, strict=True)):
            break
    else:
        raise RuntimeError(f"no drop of {_MAX_DRAWS} gave every cell its MUs; report this")
    keep = np.concatenate([np.sort(sn_config.np_rng.permutation(pool)[:n])
                           for pool, n in zip(pools, counts, strict=True)])
    d2 = d2[keep]
    return Drop(
        scenario=scenario, isd_m=float(cell_cfg.isd), bs_height_m=float(h_bs),
        wraparound=bool(cell_cfg.wraparound),
        site_xy=bs_loc.numpy()[0, :, :2].astype(np.float64), ut_xyz=ut[keep],
        velocity=tf.gather(ut_vel, keep, axis=1).numpy()[0].astype(np.float64),
        cell=cell[keep].astype(np.int32), distance_2d_m=d2,
        distance_3d_m=np.hypot(d2, h_bs - h_ut), los=los[keep].astype(bool),
        path_loss_db=pl[keep], shadowing_db=sf_db[keep])
