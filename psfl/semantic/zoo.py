"""The shipped codec zoo: pretrained weights addressable as ``pretrained:NAME``.

Files (``psfl/semantic/zoo/``): ``<model>-<channel>.npz`` holds the weights in float16 (halves
the package; the PSNR change against float32 is recorded in the provenance), and
``<model>-<channel>.json`` its provenance: sources (with SHA-256), steps, images seen, SNR range,
seed, commit, wall time, machine, the command that reproduces it, and its PSNR/SSIM table over
the real link beside the digital baseline. Both are written by ``psfl pretrain --export``.

Names: ``pretrained:gsc-m`` picks the variant for the channel at hand (``awgn`` on AWGN, the
fading variant ``rayleigh`` on every other channel); ``pretrained:gsc-m-awgn`` names it. A file
for a bandwidth ratio other than the default k/n = 1/6 carries it in its name:
``csc-awgn-1of16`` is csc on AWGN at k/n = 1/16, which ``pretrained:csc`` picks when the
configuration asks for that ratio (``semantic.k_over_n``).
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import numpy as np

from psfl.semantic.presets.registry import CODECS, build_codec

__all__ = ["DEFAULT_K_OVER_N", "PREFIX", "ZOO_CHANNELS", "ZOO_DIR", "available", "export",
           "file_name", "is_pretrained", "load_pretrained", "provenance", "ratio_tag", "resolve"]

PREFIX = "pretrained:"
ZOO_DIR = Path(__file__).parent / "zoo"
#: Channels the zoo is trained on: AWGN and one fading channel (the federation's default).
ZOO_CHANNELS: tuple[str, ...] = ("awgn", "rayleigh")
#: The bandwidth ratio a name without a ratio tag is for.
DEFAULT_K_OVER_N = 1 / 6


def ratio_tag(k_over_n: float) -> str:
    """The name's suffix for a bandwidth ratio: ``""`` for 1/6, ``"-1of16"`` for 1/16, and
    ``"-r0.3"`` for a ratio that is no unit fraction."""
    if abs(k_over_n - DEFAULT_K_OVER_N) < 1e-9:
        return ""
    inverse = 1 / k_over_n
    if abs(inverse - round(inverse)) < 1e-6:
        return f"-1of{round(inverse)}"
    return f"-r{k_over_n:.4g}"


def file_name(model: str, channel: str, k_over_n: float) -> str:
    """A zoo file's name (without suffix): ``csc-awgn``, ``csc-awgn-1of16``."""
    return f"{model}-{channel}{ratio_tag(k_over_n)}"


def is_pretrained(spec: Any) -> bool:
    return isinstance(spec, str) and spec.startswith(PREFIX)


def available(directory: Path = ZOO_DIR) -> list[str]:
    """Names of the shipped files, e.g. ``["csc-awgn", "csc-rayleigh", …]``."""
    return sorted(p.name[:-len(".npz")] for p in directory.glob("*.npz")
                  if (directory / (p.name[:-len(".npz")] + ".json")).is_file())


def resolve(spec: str, channel: str | None = None, directory: Path = ZOO_DIR,
            k_over_n: float | None = None) -> str:
    """``pretrained:gsc-m`` (+ channel, + k/n) or ``pretrained:gsc-m-awgn`` → ``"gsc-m-awgn"``
    (``"csc-awgn-1of16"`` for ``pretrained:csc`` at k/n = 1/16)."""
    name = spec[len(PREFIX):] if is_pretrained(spec) else spec
    names = available(directory)
    if name in CODECS:
        variant = f"{name}-{'awgn' if channel in (None, 'awgn') else ZOO_CHANNELS[1]}"
        ratio = DEFAULT_K_OVER_N if k_over_n is None else k_over_n
        name = variant + ratio_tag(ratio)
        if name not in names:
            _raise_for_ratio(spec, variant, ratio, names)
    if name not in names:
        listing = ", ".join(PREFIX + n for n in names) or "none (the zoo folder is empty)"
        raise ValueError(f"unknown pretrained codec {spec!r}; available: {listing} (or a model "
                         f"name alone, {', '.join(PREFIX + m for m in CODECS)}, which picks "
                         "the variant for the channel)")
    return name


def _raise_for_ratio(spec: str, variant: str, ratio: float, names: list[str]) -> None:
    """Where the zoo has ``variant`` but not at ``ratio``: an error naming the ratios it has and
    the files shipped at ``ratio`` (nothing where it lacks the variant altogether)."""
    denominators = [6 if n == variant else int(n[len(variant) + 4:]) for n in names
                    if n == variant or n.startswith(variant + "-1of")]
    if not denominators:
        return
    have = ", ".join(f"1/{d} (semantic.k_over_n={1 / d:.6g})" for d in denominators)
    tag = ratio_tag(ratio)
    others = [PREFIX + n for n in names if tag and n.endswith(tag)]
    raise ValueError(f"no shipped {spec} at k/n={ratio:.4g}; the zoo has {variant} at k/n = "
                     f"{have}: set one of them (and semantic.k=0)"
                     + (f", or use {', '.join(others)}" if others else ""))


def provenance(name: str, directory: Path = ZOO_DIR) -> dict[str, Any]:
    return json.loads((directory / f"{name}.json").read_text())


def load_pretrained(spec: str, channel: str | None = None, *, image_size: int | None = None,
                    k: int | None = None, model: str | None = None,
                    directory: Path = ZOO_DIR) -> Any:
    """Build the preset of a shipped file and load its weights (float32).

    A file that does not match the configuration (``image_size``, ``k``, ``model``) raises a
    :class:`ValueError` naming the setting to change.
    """
    from psfl.semantic.power import ratio_from_k

    ratio = None if k is None or image_size is None else ratio_from_k(image_size, k)
    name = resolve(spec, channel, directory, k_over_n=ratio)
    prov = provenance(name, directory)
    wrong = []
    if model is not None and prov["model"] != model:
        wrong.append(f"it is a {prov['model']} (set semantic.model={prov['model']!r} or --model "
                     f"{prov['model']})")
    if image_size is not None and prov["image_size"] != image_size:
        wrong.append(f"it takes {prov['image_size']}x{prov['image_size']} images (set "
                     f"data.patch_size={prov['image_size']})")
    if k is not None and prov["k"] != k:
        wrong.append(f"it sends k={prov['k']} symbols per image, k/n={prov['k_over_n']:.4g} "
                     f"(set semantic.k_over_n={prov['k_over_n']:.6g} and semantic.k=0)")
    if wrong:
        raise ValueError(f"pretrained codec {PREFIX}{name} does not match the configuration: "
                         + "; ".join(wrong))
    codec = build_codec(prov["model"], prov["image_size"], k=prov["k"])
    with np.load(directory / f"{name}.npz") as data:
        arrays = [data[f"w{i}"].astype(np.float32) for i in range(len(data.files))]
    codec.set_weights(arrays)
    return codec


def export(codec: Any, channel: str, record: dict[str, Any], directory: Path = ZOO_DIR) -> Path:
    """Write ``<model>-<channel>[-1ofN].npz`` (float16 weights) and its provenance ``.json``."""
    from psfl.results import atomic_write_bytes

    directory.mkdir(parents=True, exist_ok=True)
    name = file_name(codec.arch, channel, codec.k_over_n)
    buf = io.BytesIO()
    np.savez_compressed(buf, **{f"w{i}": w.astype(np.float16)
                                for i, w in enumerate(codec.get_weights())})
    atomic_write_bytes(directory / f"{name}.npz", buf.getvalue())
    atomic_write_bytes(directory / f"{name}.json",
                       (json.dumps(record, indent=1, sort_keys=False) + "\n").encode())
    return directory / f"{name}.npz"
