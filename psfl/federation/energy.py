"""Energy sweeps: model-transfer energy against MU–BS distance with and without AGP, and
computation against communication per round (analytic, no training).

For each distance ``d`` the median link budget of the configured scenario (LoS-probability
averaged path gain, no shadowing; :func:`psfl.phy.snr_db_from_budget`) gives the uplink SNR
(MU power) and downlink SNR (BS power). AGP's rule (:func:`.agp.choose_ratio`) picks the pruning
ratio for the downlink SNR; the bits and energies follow :mod:`.core`'s accounting: downlink
``P_BS·b_down/R_down``, uplink ``P_MU·b_up/R_up`` with ``b_up`` the kept values only.
Computation per round is ``κ·(FLOPs/φ)·f²`` for the student's local steps and, under PLD, the
mentor's training and teaching, for each mentor size.

:func:`uplink_by_mu` costs one round's dense uploads of a population per MU, on a dedicated
carrier each and on the shared carrier of psfl's cell (:mod:`.uplink`): the per-MU energy
against distance and its distribution over the MUs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from psfl.config import Config
from psfl.federation.agp import choose_ratio, magnitude_masks, model_bits
from psfl.phy import compute_energy_j, dbm_to_w, model_transfer_energy_j, snr_db_from_budget
from psfl.phy.budget import budget_terms

__all__ = ["compute_vs_comm", "distance_sweep", "uplink_by_mu"]


def _student_weights(config: Config) -> list[np.ndarray]:
    from psfl.federation.models import build_student

    return build_student(config).get_weights()


def distance_sweep(config: Config, distances_m: Sequence[float],
                   weights: list[np.ndarray] | None = None) -> list[dict[str, Any]]:
    """One row per distance: SNRs, AGP ratio, bits and energies with and without AGP.

    Output
    ------
    list of dict with ``distance_m, uplink_snr_db, downlink_snr_db, prune_ratio, bits_dense,
    bits_agp, energy_down_dense_j, energy_down_agp_j, energy_up_dense_j, energy_up_agp_j``.
    """
    fed, phy = config.federation, config.phy
    if weights is None:
        weights = _student_weights(config)
    bw = phy.noise_bandwidth_hz
    p_bs, p_mu = float(dbm_to_w(fed.bs_tx_power_dbm)), float(dbm_to_w(phy.tx_power_dbm))
    dense_bits = model_bits(weights, None, fed.weight_bits)
    n_values = sum(int(np.size(w)) for w in weights)
    rows = []
    for d in distances_m:
        if not d > 0:
            raise ValueError(f"distance must be > 0 m, got {d}")
        common = dict(scenario=fed.scenario, **budget_terms(phy))
        up = float(snr_db_from_budget(phy.tx_power_dbm, d, bw, **common))
        down = float(snr_db_from_budget(fed.bs_tx_power_dbm, d, bw, **common))
        choice = choose_ratio(weights, lambda b, s=down: float(
            model_transfer_energy_j(b, p_bs, bw, s)), fed.agp_energy_budget_j,
            fed.agp_max_ratio, fed.agp_ratio_step, fed.weight_bits)
        masks = magnitude_masks(weights, choice["ratio"])
        kept = sum(int(np.count_nonzero(m)) for m in masks)
        rows.append({
            "distance_m": float(d), "uplink_snr_db": up, "downlink_snr_db": down,
            "prune_ratio": choice["ratio"], "bits_dense": float(dense_bits),
            "bits_agp": choice["bits"],
            "energy_down_dense_j": float(model_transfer_energy_j(dense_bits, p_bs, bw, down)),
            "energy_down_agp_j": choice["energy_j"],
            "energy_up_dense_j": float(model_transfer_energy_j(n_values * fed.weight_bits, p_mu,
                                                               bw, up)),
            "energy_up_agp_j": float(model_transfer_energy_j(kept * fed.weight_bits, p_mu, bw,
                                                             up)),
        })
    return rows


def compute_vs_comm(config: Config, reference_distance_m: float | None = None
                    ) -> list[dict[str, Any]]:
    """Computation against communication energy of one MU's round, per mentor choice.

    Output
    ------
    list of dict with ``mentor`` (``none`` = no PLD), ``compute_energy_j``,
    ``comm_energy_dense_j`` and ``comm_energy_agp_j`` (MU uplink + BS downlink at the reference
    distance, the middle of the MU drop range by default).
    """
    from psfl.semantic import cost_table

    fed, sem = config.federation, config.semantic
    d = reference_distance_m or 0.5 * (fed.min_distance_m + fed.max_distance_m)
    (row,) = distance_sweep(config, [d])
    costs = {r["name"]: r for r in cost_table(config.data.patch_size, k_over_n=sem.k_over_n,
                                               k=sem.k or None)}
    student_images = fed.local_steps * sem.batch_size
    mentor_images = fed.mentor_steps * sem.batch_size
    out = []
    for name in ("none", "gsc-s", "gsc-m", "gsc-l"):
        flops = 3.0 * costs["csc"]["flops"] * student_images
        if name != "none":
            flops += 3.0 * costs[name]["flops"] * mentor_images
            flops += costs[name]["flops"] * student_images
        energy = float(compute_energy_j(flops / fed.flops_per_cycle, fed.cpu_hz, fed.kappa))
        out.append({"mentor": name, "distance_m": d, "train_flops": flops,
                    "compute_energy_j": energy,
                    "comm_energy_dense_j": row["energy_down_dense_j"] + row["energy_up_dense_j"],
                    "comm_energy_agp_j": row["energy_down_agp_j"] + row["energy_up_agp_j"]})
    return out


def uplink_by_mu(config: Config, num_mus: int | None = None, rnd: int = 1,
                 weights: list[np.ndarray] | None = None) -> list[dict[str, Any]]:
    """One round's dense model uploads, per MU, dedicated against shared (module docstring).

    The MUs are those of a run with ``num_mus`` MUs (``data.num_mus`` by default): the same
    distances (:func:`~psfl.federation.population.make_population`) and round-``rnd`` channel
    draws as the BS makes (:func:`~psfl.federation.channels.draw_round_channels`), every MU
    sending the dense student (``federation.weight_bits`` per value). The shared carrier is
    ``[cell]``'s (:func:`~psfl.federation.uplink.shared_carrier`, refused as
    ``federation.uplink = "shared"`` would be).

    Output
    ------
    list of dict with ``mu, distance_m, snr_db, bits, airtime_dedicated_s,
    energy_dedicated_j, airtime_shared_s, energy_shared_j, prb_share, sinr_shared_db,
    power_shared_dbm``.
    """
    from psfl.federation.channels import draw_round_channels, transfer_energy
    from psfl.federation.population import make_population
    from psfl.federation.uplink import schedule_uploads, shared_carrier
    from psfl.phy.energy import shannon_rate

    n = int(num_mus or config.data.num_mus)
    shared = config.replace("data", num_mus=n).replace("federation", uplink="shared")
    fed, phy = shared.federation, shared.phy
    carrier = shared_carrier(shared)
    if weights is None:
        weights = _student_weights(config)
    bits = float(sum(int(np.size(w)) for w in weights) * fed.weight_bits)
    pop = make_population([1] * n, min_distance_m=fed.min_distance_m,
                          max_distance_m=fed.max_distance_m, memory_mb=fed.memory_mb,
                          compute_gflop=fed.compute_gflop_per_round, seed=shared.run.seed)
    channels = draw_round_channels(pop, phy, fed.scenario, fed.bs_tx_power_dbm,
                                   np.random.default_rng([shared.run.seed, rnd]))
    snr = np.array([ch.snr_db for ch in channels])
    out = schedule_uploads(np.full(n, bits), snr, carrier, shared.cell, phy)
    rows = []
    for i, (mu, ch) in enumerate(zip(pop, channels, strict=True)):
        rows.append({
            "mu": mu.mu, "distance_m": mu.distance_m, "snr_db": ch.snr_db, "bits": bits,
            "airtime_dedicated_s": bits / float(shannon_rate(phy.noise_bandwidth_hz,
                                                             ch.snr_db)),
            "energy_dedicated_j": transfer_energy(phy, phy.tx_power_dbm, ch.snr_db)(bits),
            "airtime_shared_s": float(out["airtime_s"][i]),
            "energy_shared_j": float(out["energy_j"][i]),
            "prb_share": float(out["prb_share"][i]),
            "sinr_shared_db": float(out["mean_sinr_db"][i]),
            "power_shared_dbm": float(out["mean_power_dbm"][i])})
    return rows
