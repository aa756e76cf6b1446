"""The ``[federation]`` configuration section: MU population, PSFL (PLD + AGP) and baselines.

``federation.strategy``'s choices are the registry :data:`STRATEGIES` itself (read at every
check, so a strategy module added, or registered by a test, is accepted without another edit);
listing it imports the strategy modules, which load no TensorFlow.
"""

from __future__ import annotations

import dataclasses

from psfl.config import Section, option, register_section
from psfl.federation.aggregate import ROBUST_RULES
from psfl.federation.selection import SELECTIONS
from psfl.federation.strategies import STRATEGIES
from psfl.phy.cell.config import CellConfig
from psfl.phy.channels.registry import CHANNELS as CHANNEL_REGISTRY
from psfl.phy.config import PATHLOSS_CHANNELS

__all__ = ["AGGREGATORS", "SELECTIONS", "SMALL_SCALE_CHANNELS", "STRATEGIES", "UPLINKS",
           "FederationConfig"]

#: How the BS combines the students: :func:`psfl.federation.aggregate.aggregate`'s masked
#: FedAvg and its robust rules.
AGGREGATORS: tuple[str, ...] = ("weighted", *ROBUST_RULES)
#: Small-scale channels of the MUs' links: the channels declaring ``small_scale`` (psfl.phy's
#: flat and TDL channels; no path loss: the large-scale gain comes from ``federation.scenario``).
SMALL_SCALE_CHANNELS: tuple[str, ...] = CHANNEL_REGISTRY.names(small_scale=True)
#: How the round's model uploads are costed (:mod:`psfl.federation.uplink`): every MU on a
#: carrier of its own (today's accounting), or the selected MUs sharing their cell's carrier.
UPLINKS: tuple[str, ...] = ("dedicated", "shared")


@dataclasses.dataclass(frozen=True)
class FederationConfig(Section):
    strategy: str = option(
        "psfl", help="Training strategy (one module each in psfl/federation/strategies/).",
        choices=STRATEGIES)
    init: str = option(
        "pretrained", help="Where the BS's student and the MUs' mentors start: the shipped "
        "zoo weights for federation.small_scale (pretrained:<preset>) or a fresh "
        "initialization (scratch).", choices=("pretrained", "scratch"))
    rounds: int = option(5, help="Federated rounds.", lo=1, hi=100000)
    local_steps: int = option(20, help="Student (CSC) training steps per MU and round.", lo=0)
    mentor_steps: int = option(20, help="Mentor (GSC) training steps per MU and round (PLD).",
                               lo=0)
    learning_rate: float = option(
        2e-5, help="Adam learning rate of the MUs' local training (mentor and student). The "
        "pretrained models are fine-tuned, so it is about the rate their pretraining ended at "
        "(ours: in the study, 5 seeds, every strategy ended 0.2-0.9 dB higher in global PSNR at "
        "2e-5 than at 2e-4); raise it (e.g. 2e-3) with federation.init = scratch.", lo=0.0,
        lo_open=True, hi=1.0)
    distill: str = option(
        "round-gate", help="PLD variant: pld (always distil, as specified), round-gate (only "
        "when the mentor beats the student on the MU's training sample; the default: +0.38 +- "
        "0.03 dB of personalized PSNR over pld in the study, 3 seeds), per-image (teacher term "
        "only where the mentor is closer to the image), feature (pld plus attention transfer "
        "of the decoders' features, weight federation.distill_feature_weight); see "
        "psfl.federation.distill.", choices=("pld", "round-gate", "per-image", "feature"))
    distill_lambda: float = option(
        0.5, help="PLD loss weight: lambda*MSE(x, x_student) + (1-lambda)*MSE(x_mentor, "
        "x_student).", lo=0.0, hi=1.0)
    distill_feature_weight: float = option(
        0.01, help="beta of federation.distill = feature: the weight of the attention-transfer "
        "term mean_i |A(h_student) - A(h_mentor)|^2 (in [0, 2]) beside the PLD loss (ours: at "
        "0.01 the term starts at about the PLD loss's size; in the study's setting, 5 seeds, "
        "0.001 changed nothing, 0.01 cost 0.5 dB and 0.1 cost 2.1 dB more than PLD alone; "
        "benchmarks/pld_sweep.py).", lo=0.0)
    proximal_mu: float = option(0.01, help="FedProx proximal weight (fedprox-csc).", lo=0.0)
    # --- server optimizer (fedadam-csc; Reddi et al., ICLR 2021)
    server_learning_rate: float = option(
        1e-2, help="FedAdam server learning rate eta in x <- x + eta*m/(sqrt(v)+tau) "
        "(fedadam-csc; ours: in the demo's setting, 3 seeds, 1e-3, 3e-3 and 1e-2 tie on global "
        "PSNR and 1e-2 keeps FedAvg's personalized PSNR; 3e-2 lost 1.5 dB, 1e-1 diverged).",
        lo=0.0, lo_open=True, hi=10.0)
    server_beta1: float = option(0.9, help="FedAdam first-moment decay beta1 (fedadam-csc; the "
                                 "paper's default).", lo=0.0, hi=0.9999)
    server_beta2: float = option(0.99, help="FedAdam second-moment decay beta2 (fedadam-csc; "
                                 "the paper's default).", lo=0.0, hi=0.9999)
    server_tau: float = option(1e-3, help="FedAdam adaptivity tau added to sqrt(v) "
                               "(fedadam-csc; the paper's default).", lo=0.0, lo_open=True,
                               hi=1.0)
    aggregator: str = option("weighted", help="How the BS combines the students.",
                             choices=AGGREGATORS)
    trim_fraction: float = option(0.2, help="Fraction trimmed at each end (trimmed-mean).",
                                  lo=0.0, hi=0.49)
    krum_byzantine: int = option(1, help="Assumed Byzantine MUs for Krum.", lo=0)
    # --- MU population (heterogeneous resources and positions)
    min_distance_m: float = option(20.0, help="Nearest MU-BS distance [m].", lo=1.0)
    max_distance_m: float = option(300.0, help="Farthest MU-BS distance [m].", lo=1.0)
    memory_mb: tuple[float, ...] = option(
        (64.0, 256.0, 1024.0), help="Training memory budgets an MU may have [MB] (drawn per MU).",
        check=lambda v: None if v and min(v) > 0 else "give positive memory budgets in MB")
    compute_gflop_per_round: tuple[float, ...] = option(
        (50.0, 200.0, 800.0), help="Compute budgets an MU may have per round [GFLOP].",
        check=lambda v: None if v and min(v) > 0 else "give positive compute budgets in GFLOP")
    cpu_hz: float = option(1.5e9, help="MU processor clock f [Hz] for compute energy.", lo=1e6)
    flops_per_cycle: float = option(8.0, help="FLOPs the MU processor retires per cycle.",
                                    lo=0.1)
    kappa: float = option(1e-28, help="Effective switched capacitance kappa in E = kappa*c*f^2.",
                          lo=0.0, lo_open=True)
    scenario: str = option("umi", help="Large-scale model of every MU's channel, re-drawn each "
                           "round (path loss, LoS, shadowing).", choices=PATHLOSS_CHANNELS)
    small_scale: str = option(
        "rayleigh", help="Small-scale channel of the MU's link in training and evaluation "
        "(a psfl.phy channel name without path loss).",
        choices=SMALL_SCALE_CHANNELS)
    parallel_mus: int = option(
        1, help="MUs Flower's simulation trains at once (Ray actors, each with cpu_count/N "
        "CPUs); 1 traces the models in one process only, the fastest on a small CPU.", lo=1)
    round_timeout_s: float = option(1800.0, help="How long the BS waits for the MUs' replies "
                                    "in a round [s].", lo=1.0)
    # --- the round's uplink and client selection (psfl.federation.uplink, .selection)
    uplink: str = option(
        "dedicated", help="How the model uploads of a round are costed: dedicated (every MU "
        "has the whole carrier to itself at full power, Shannon rate of its SNR) or shared "
        "(the round's MUs share the carrier of psfl's cell: the cell section's scheduler, power "
        "control and mean interference from the neighbouring cells; the round's upload latency "
        "is the slowest MU's).", choices=UPLINKS)
    clients_per_round: int = option(
        0, help="MUs selected to train in each round (0: all MUs, with federation.selection "
        "= all).", lo=0)
    selection: str = option(
        "all", help="Which MUs train in a round: all; random (federation.clients_per_round "
        "drawn uniformly, seeded by run.seed and the round); best (the clients_per_round "
        "highest uplink SNRs of the round's channel draw).", choices=SELECTIONS)
    # --- AGP (adaptive global pruning)
    agp_energy_budget_j: float = option(
        5.0, help="Downlink model-transfer energy budget per MU and round [J]; AGP prunes until "
        "it fits (2.5 J halves the energy but cost 4-7 dB of global PSNR from the shipped "
        "weights; 5 J saved 16 % at no PSNR cost, RESULTS.md).", lo=0.0, lo_open=True)
    agp_weighting: str = option(
        "kept", help="Aggregation weight of an MU's update under AGP: size (data size, FedAvg) "
        "or kept (data size x kept fraction 1 - ratio: an update trained on a heavily pruned "
        "model counts less; ours).", choices=("size", "kept"))
    agp_max_ratio: float = option(0.9, help="Largest pruning ratio AGP may use.", lo=0.0, hi=0.99)
    agp_ratio_step: float = option(0.05, help="Grid step of candidate pruning ratios.", lo=0.01,
                                   hi=0.5)
    bs_tx_power_dbm: float = option(43.0, help="BS transmit power for the downlink [dBm].",
                                    lo=0.0, hi=60.0)
    weight_bits: int = option(32, help="Bits per transmitted weight value.", choices=(8, 16, 32))
    # --- bookkeeping
    eval_images: int = option(128, help="Test images per MU for per-round PSNR (0: all).", lo=0)
    backend: str = option("flower", help="flower: Flower simulation; loop: bare loop over the "
                          "same client code (for comparison).", choices=("flower", "loop"))

    def validate(self) -> None:
        if self.min_distance_m > self.max_distance_m:
            raise ValueError(f"min_distance_m {self.min_distance_m} exceeds max_distance_m "
                             f"{self.max_distance_m}; swap them")
        if (self.selection == "all") != (self.clients_per_round == 0):
            fix = ("set federation.selection = random or best" if self.selection == "all"
                   else "set federation.clients_per_round to the MUs per round (1 or more)")
            raise ValueError(f"federation.clients_per_round = {self.clients_per_round} with "
                             f"federation.selection = {self.selection!r}; {fix}")


register_section("federation", FederationConfig)
# The multi-cell uplink's section (psfl.phy.cell.config): read by federation.uplink = shared.
# Runs recorded before it existed resume: a key absent from a recorded configuration counts
# as its default (psfl.federation.checkpoint.ADDED_KEYS).
register_section("cell", CellConfig)
