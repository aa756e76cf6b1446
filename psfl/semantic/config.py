"""The ``[semantic]`` configuration section: codec, bandwidth ratio, training and evaluation.

The training SNR range and the channel come from ``[phy]`` (``snr_db_min``, ``snr_db_max``,
``channel``, ``csi``); this section holds what is specific to the codecs.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from psfl.config import ConfigError, Section, option, register_section
from psfl.phy.digital.slices import LOSS_RULES
from psfl.phy.digital.source.registry import SOURCE_CODERS
from psfl.semantic.presets.registry import CODECS

__all__ = ["BASELINE_CODECS", "MODEL_NAMES", "SemanticConfig"]  # noqa: F822 (__getattr__)

# Both registries load no TensorFlow (the presets name their Keras class; the source coders
# load Pillow). They are asked at every check, so that an entry registered later (a plug-in, a
# test) is accepted too; MODEL_NAMES and BASELINE_CODECS are their names, read on each access.


def __getattr__(name: str) -> Any:
    if name == "MODEL_NAMES":  # codec presets (psfl.semantic.presets)
        return CODECS.names()
    if name == "BASELINE_CODECS":  # source coders of the digital baseline
        return SOURCE_CODERS.names()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _model_help() -> str:
    """``semantic.model``'s help: every registered preset and what it is."""
    return "Codec preset: " + ", ".join(f"{e.name} ({e.cls.about})" for e in CODECS.entries()) + "."


def _check_snr_list(values: tuple[float, ...]) -> str | None:
    if not values:
        return "give at least one SNR in dB, e.g. [0, 5, 10, 15, 20]"
    if any(not -30.0 <= v <= 60.0 for v in values):
        return f"{list(values)} has values outside [-30, 60] dB"
    return None


@dataclasses.dataclass(frozen=True)
class SemanticConfig(Section):
    model: str = option("gsc-s", help=_model_help(), choices=CODECS)
    k_over_n: float = option(
        1 / 6, help="Bandwidth ratio k/n: k complex channel uses per n = H*W*3 real values.",
        lo=0.0, lo_open=True, hi=1.0)
    k: int = option(0, help="Complex channel symbols per image; 0 derives k from k_over_n.",
                    lo=0)
    steps: int = option(2000, help="Training steps (batches).", lo=0)
    batch_size: int = option(32, help="Training batch size.", lo=1, hi=4096)
    learning_rate: float = option(1e-3, help="Adam learning rate.", lo=0.0, lo_open=True, hi=1.0)
    lr_schedule: str = option("constant", help="constant, or cosine decay to 5 % over the steps.",
                              choices=("constant", "cosine"))
    checkpoint_every: int = option(500, help="Save a checkpoint every N steps (0: only at end).",
                                   lo=0)
    eval_every: int = option(0, help="Test PSNR every N training steps (0: never during "
                             "training).", lo=0)
    eval_snr_db: tuple[float, ...] = option(
        (0.0, 5.0, 10.0, 15.0, 20.0), help="SNRs [dB] of the evaluation sweep.",
        check=_check_snr_list)
    eval_images: int = option(256, help="Test images per SNR in evaluation (0: all).", lo=0)
    xla: bool = option(True, help="Compile training and evaluation steps with XLA.")
    baseline: bool = option(True, help="Also evaluate the digital baseline (a source coder + "
                            "CRC + 5G LDPC + QAM) at the same channel uses.")
    baseline_codec: str = option(
        "jpeg", help=f"Source coder of the digital baseline: {', '.join(SOURCE_CODERS.names())} "
        "(avif: AV1 intra, BPG class), each without the headers the receiver rebuilds. No coder "
        "is strongest everywhere (benchmarks/RESULTS.md, k=512): avif leads on 32x32 test patches from 5 dB "
        "up (+0.3 to +1.5 dB on AWGN), jpeg at 0 dB and at every SNR on tiles of larger photos "
        "(+0.3 to +2.8 dB over avif on AWGN). jpeg is the default because avif costs about 14x "
        "its encoding time (0.11 s against 0.008 s per 32x32 tile, 2 loaded cores), too slow for "
        "psfl link on whole photos.",
        choices=SOURCE_CODERS)
    baseline_margin_db: float = option(
        0.0, help="dB added to the baseline's MCS thresholds, AWGN table or calibrated "
        "(link-adaptation back-off; ~10 dB for Rayleigh block fading with the AWGN table).",
        lo=0.0, hi=40.0)
    photo_decoder: str = option(
        "auto", help="Receiver of the digital baseline on whole photos (psfl link --images; one "
        "codestream per photo, one 5G transport block per slot): ldpc (belief propagation), "
        "abstraction (Sionna's EESM and 5G BLER tables decide each code block, 10-100x faster; "
        "within 2x of ldpc's BLER on Rayleigh and TDL-C, not on AWGN with LS: "
        "benchmarks/RESULTS.md) or auto: ldpc up to 256x256 pixels, the abstraction above.",
        choices=("auto", "ldpc", "abstraction"))
    photo_loss: str = option(
        "photo", help="What a failed transport block costs the digital baseline on whole photos: "
        "photo (the photo is lost, shown in the fallback grey) or slice (jpeg only: a restart "
        "marker after every MCU row, 16 pixel rows, and a failed block loses only the rows of "
        "the restart intervals with a byte in it, interpolated between the received rows above "
        "and below; an ideal receiver, psfl.phy.digital.slices).",
        choices=tuple(LOSS_RULES))
    baseline_calibrate: bool = option(
        False, help="Measure the baseline's 10 %-BLER MCS thresholds over the configured channel "
        "configuration when no table holds for it (minutes, with a progress bar; cached in "
        "$PSFL_CACHE or ~/.cache/psfl). Tables shipped in psfl/phy/mcs (awgn, rayleigh, tdl-c "
        "with LS at k=512, default numerology) or cached are always used.")

    def validate(self) -> None:
        """Rules between fields; raises :class:`~psfl.config.ConfigError`."""
        _check_photo_loss(self)


def _check_photo_loss(cfg: SemanticConfig) -> None:
    if LOSS_RULES[cfg.photo_loss].needs_slices and not SOURCE_CODERS.capability(
            cfg.baseline_codec, "slices"):
        sliced = ", ".join(SOURCE_CODERS.names(slices=True))
        raise ConfigError(
            f"semantic.photo_loss = {cfg.photo_loss!r} needs a source coder with restart "
            f"intervals ({sliced}), not {cfg.baseline_codec!r}; set semantic.baseline_codec="
            f"{sliced.split(', ')[0]} or semantic.photo_loss=photo")


register_section("semantic", SemanticConfig)
