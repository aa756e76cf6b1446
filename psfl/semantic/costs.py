"""Parameters, FLOPs and activation memory per image of every codec (read by mentor selection).

A leaf module (it imports no codec): :meth:`SemanticCodec.cost
<psfl.semantic.codec.SemanticCodec.cost>` calls :func:`codec_cost`, which picks the formula of
the codec's architecture family (:data:`FAMILY_COSTS`, the ``family`` a codec and its preset
declare); the table over all presets, :func:`psfl.semantic.models.cost_table`, lives with the
presets it builds.

Counting rules (analytic, from the architecture):

* ``params`` — trainable and non-trainable weights, from Keras (``model.count_params()``).
* ``flops`` — floating-point operations of one forward pass (encoder + decoder) of one image,
  counting a multiply-accumulate as 2 FLOPs, for dense layers, convolutions (transposed ones as
  ``H_in·W_in·k²·C_in·C_out`` MACs) and the two attention matrix products (``QKᵀ`` and ``AV``).
  Element-wise work (activations, norms, softmax, FiLM modulation, power normalization) is left
  out; it is a few percent of the total. A training step costs about 3× the forward pass.
* ``activation_memory_bytes`` — float32 bytes of the forward activations one image leaves for
  back-propagation (layer outputs, attention matrices), an estimate of training memory per image
  on top of the weights and the optimizer state (Adam: 3× params × 4 bytes).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["FAMILY_COSTS", "codec_cost", "cost_row", "csc_cost", "gsc_cost"]

_F32 = 4


def _film_macs(hidden: int, channels: int) -> int:
    return hidden + hidden * 2 * channels


def _block(t: int, d: int, heads: int, mlp: int) -> tuple[int, int]:
    """MACs and activation floats of one transformer block on ``t`` tokens of width ``d``."""
    macs = t * 4 * d * d + 2 * t * t * d + 2 * t * d * mlp * d + _film_macs(32, d)
    acts = (11 + 2 * mlp) * t * d + 2 * heads * t * t
    return macs, acts


def gsc_cost(m: Any) -> dict[str, int]:
    """FLOPs and activation bytes per image of a :class:`~psfl.semantic.gsc.GSC`."""
    t, d, p, s = m.tokens, m.dim, m.patch, m.sym_per_token
    h, w = m.image_size
    macs = t * p * p * 3 * d + t * d * 2 * s                   # patch embed, channel encoder
    macs += t * (3 * s * d + d * d) + t * d * p * p * 3        # channel decoder, pixel head
    acts = 2 * t * d + t * d + 2 * m.k + 3 * m.k + 2 * t * d + 2 * 3 * h * w
    for _ in range(m.depth + m.decoder_depth):
        bm, ba = _block(t, d, m.heads, m.mlp_ratio)
        macs += bm
        acts += ba
    return {"flops": 2 * macs, "activation_memory_bytes": _F32 * acts}


def csc_cost(m: Any) -> dict[str, int]:
    """FLOPs and activation bytes per image of a :class:`~psfl.semantic.csc.CSC`."""
    h, w = m.image_size
    h2, w2 = h // 2, w // 2
    hw = m.grid[0] * m.grid[1]
    f1, f2 = m.filters
    c = m.out_maps
    kk = 25
    enc = h2 * w2 * kk * 3 * f1 + hw * kk * f1 * f2 + 2 * hw * kk * f2 * f2 + hw * kk * f2 * c
    dec = (hw * kk * (3 * c // 2) * f2 + 2 * hw * kk * f2 * f2 + hw * kk * f2 * f1
           + h2 * w2 * kk * f1 * 3)
    film = 4 * _film_macs(32, f2) + 2 * _film_macs(32, f1)
    acts = (3 * (h2 * w2 * f1 + 3 * hw * f2) + hw * c       # encoder: conv, PReLU, FiLM outputs
            + hw * 3 * c // 2 + 3 * (3 * hw * f2 + h2 * w2 * f1) + 2 * 3 * h * w)
    return {"flops": 2 * (enc + dec + film), "activation_memory_bytes": _F32 * acts}


#: Cost formula of each architecture family (a codec's ``family``).
FAMILY_COSTS: dict[str, Callable[[Any], dict[str, int]]] = {"gsc": gsc_cost, "csc": csc_cost}


def codec_cost(codec: Any) -> dict[str, int]:
    """FLOPs and activation bytes per image of a built codec, by its family's formula."""
    if codec.family not in FAMILY_COSTS:
        raise ValueError(f"no cost formula for codec family {codec.family!r} (of "
                         f"{type(codec).__name__}); add one to psfl.semantic.costs.FAMILY_COSTS "
                         "or override the codec's cost()")
    return FAMILY_COSTS[codec.family](codec)


def cost_row(codec: Any) -> dict[str, Any]:
    """Cost of one built codec: ``name, family, params, flops, activation_memory_bytes, k,
    k_over_n, image_size``."""
    return {"name": codec.arch, "family": codec.family, "params": int(codec.count_params()),
            **codec.cost(), "k": codec.k, "k_over_n": codec.k_over_n,
            "image_size": list(codec.image_size)}
