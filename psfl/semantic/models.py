"""Codecs by preset name: construction (:func:`build_codec`, from :mod:`psfl.semantic.presets`),
their cost table and checked loading of checkpoints and shipped weights."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keras

from psfl.semantic import zoo
from psfl.semantic.codec import SemanticCodec
from psfl.semantic.costs import cost_row
from psfl.semantic.presets.registry import CODECS, build_codec

__all__ = ["MODELS", "build_codec", "cost_table", "load_codec"]

#: The codec presets (:data:`psfl.semantic.presets.CODECS`): names in order csc, gsc-s, gsc-m,
#: gsc-l, each a module of :mod:`psfl.semantic.presets`. GSC sizes grow s → m → l; CSC is the
#: shared student.
MODELS = CODECS


def load_codec(path: str | Path, *, model: str | None = None,
               image_size: int | tuple[int, int] | None = None, k: int | None = None,
               compile: bool = True, channel: str | None = None) -> SemanticCodec:
    """Load a codec saved with ``model.save("….keras")``, or a shipped one, and check it is the
    one expected.

    Parameters
    ----------
    path : str or Path
        ``.keras`` file, or a shipped codec ``pretrained:NAME`` (:mod:`psfl.semantic.zoo`;
        ``pretrained:gsc-m`` picks the variant for ``channel``).
    model, image_size, k
        When given, the checkpoint must hold this preset / image size / symbol count; otherwise
        a :class:`ValueError` says what the checkpoint holds and how to proceed.
    compile : bool
        Restore the optimizer state (needed to resume training).
    channel : str or None
        The channel the codec will be used on (chooses a shipped codec's variant).
    """
    if zoo.is_pretrained(path):
        size = image_size if image_size is None or isinstance(image_size, int) else image_size[0]
        return zoo.load_pretrained(str(path), channel, image_size=size, k=k, model=model)
    p = Path(path)
    obj = _read_checkpoint(p, compile)
    _check_expected(obj, p, model, image_size, k)
    return obj


def _read_checkpoint(p: Path, compile: bool) -> SemanticCodec:
    """The codec in the ``.keras`` file ``p``; every way it is not one is a :class:`ValueError`
    that says what to pass instead."""
    if not p.is_file():
        raise ValueError(f"checkpoint {str(p)!r} not found; pass a .keras file written by "
                         "psfl (e.g. <run>/checkpoints/codec.keras) or train one with --steps N")
    if p.suffix != ".keras":
        raise ValueError(f"checkpoint {str(p)!r} is not a .keras file; codecs are saved with "
                         "model.save('….keras')")
    for name in CODECS:  # registers every preset's Keras class for deserialization
        CODECS.cls(name).codec_class()
    try:
        obj = keras.saving.load_model(p, compile=compile)
    except Exception as exc:  # noqa: BLE001 - any failure means "not a loadable codec"
        raise ValueError(f"cannot load checkpoint {str(p)!r}: {exc}. It is not a psfl codec "
                         "or was written by another version; retrain it") from exc
    if not isinstance(obj, SemanticCodec):
        raise ValueError(f"checkpoint {str(p)!r} holds a {type(obj).__name__}, not a psfl "
                         "semantic codec; pass a checkpoint written by psfl link or train_codec")
    return obj


def _check_expected(obj: SemanticCodec, p: Path, model: str | None,
                    image_size: int | tuple[int, int] | None, k: int | None) -> None:
    """Refuse ``obj`` (loaded from ``p``) unless it is the preset, image size and ``k`` asked
    for (each when given), naming every difference and the settings that would match it."""
    wanted_size = None
    if image_size is not None:
        wanted_size = (image_size, image_size) if isinstance(image_size, int) else tuple(image_size)
    mismatch = []
    if model is not None and obj.arch != model:
        mismatch.append(f"architecture {obj.arch!r} (expected {model!r})")
    if wanted_size is not None and obj.image_size != wanted_size:
        mismatch.append(f"image size {obj.image_size[0]}x{obj.image_size[1]} "
                        f"(expected {wanted_size[0]}x{wanted_size[1]})")
    if k is not None and obj.k != k:
        mismatch.append(f"k={obj.k} (expected k={k})")
    if mismatch:
        raise ValueError(
            f"checkpoint {str(p)!r} holds codec {obj.describe()}, which differs in "
            + ", ".join(mismatch)
            + f"; set semantic.model={obj.arch!r} and the matching data.patch_size/"
              "semantic.k_over_n, or use a checkpoint of the requested codec, or start a fresh run")


def cost_table(image_size: int = 32, k: int | None = None, k_over_n: float = 1 / 6,
               models: list[str] | None = None, codecs: list[Any] | None = None
               ) -> list[dict[str, Any]]:
    """Cost of every codec preset at one image size and bandwidth.

    Parameters
    ----------
    image_size : int
        Square image side.
    k : int or None
        Complex symbols per image; ``None`` derives it from ``k_over_n``.
    k_over_n : float
        Bandwidth ratio used when ``k`` is None.
    models : list[str] or None
        Preset names; ``None`` means all (:data:`MODELS`), in the registry's order.
    codecs : list of SemanticCodec or None
        Already built codecs to report instead of building ``models`` (saves the build time).

    Output
    ------
    list of dict — ``name, family, params, flops, activation_memory_bytes, k, k_over_n`` per
    model, sorted by FLOPs.
    """
    if codecs is None:
        codecs = [build_codec(name, image_size=image_size, k=k, k_over_n=k_over_n)
                  for name in models or CODECS.names()]
    return sorted((cost_row(c) for c in codecs), key=lambda r: r["flops"])
