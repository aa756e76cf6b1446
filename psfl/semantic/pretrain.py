"""Pretraining a codec preset on the base station's public images (what the shipped zoo is made of).

Data: the BS's *public* images
    Any folder of PNG/JPEG photographs (``psfl pretrain --images DIR``). The shipped weights were
    pretrained on the 12 photographs in ``usr/share/backgrounds/mate/nature/`` of the Debian
    package ``mate-backgrounds`` 1.26.0-1 (GPL-2+; README, "Shipped weights"). They belong to the
    BS only: no MU holds them and no test evaluates on them. The MUs' data and every test split
    come from scikit-image's photos (:data:`psfl.data.SKIMAGE_SOURCES`); :func:`public_patches`
    refuses a folder that contains one of those files (compared by SHA-256 of the file and by
    name), and the provenance of each shipped file lists the SHA-256 of every source so a test
    can check the disjointness at source level.

    Each photo is downscaled (anti-aliased) to a long side of ``1024`` and of ``512`` px (two
    scales: more texture per patch at the smaller one) and cut into ``patch × patch`` patches at
    a stride of ``patch / 2``; flat patches (std < :data:`psfl.data.FLAT_STD`) are dropped.

Stages
    1. GSC presets only: ``mae_steps`` steps of a masked-patch objective (MAE-style, ours in
       detail): 75 % of the 4×4 input patches zeroed, the codec reconstructs the whole image over
       an ideal channel (``y = z``, effective noise variance 1e-3 given as side information, SNR
       30 dB to the encoder). This teaches the transformer image statistics before any noise.
    2. Channel training through :class:`psfl.phy.UplinkLink` (``channel``, perfect CSI): SNR
       uniform in ``snr_db_range`` per image, MSE, until the step counter reaches ``steps``.

    Both stages run in :func:`psfl.semantic.train.train_codec` with one Adam optimizer whose rate
    decays as a cosine from 1e-3 to 5 % over all ``steps`` (stage 1 included), so a budget of
    ``steps`` costs the same with or without stage 1 (the ablation in RESULTS.md compares equal
    budgets). Each stage checkpoints and resumes.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from psfl.errors import DataError

__all__ = ["CONVERGED_GAIN_DB", "PUBLIC_SCALES", "PretrainPlan", "convergence", "mu_source_hashes",
           "float16_change_db", "pretrain", "public_patches", "public_photos", "reached",
           "start_point", "textured_patches", "train_wall_s", "zoo_evaluation", "zoo_record"]

PUBLIC_SCALES: tuple[int, ...] = (1024, 512)
#: A shipped file has converged when its held-back PSNR gained less than this over the last
#: 20 % of its channel-training steps (ours).
CONVERGED_GAIN_DB = 0.1
MAE_RATIO = 0.75
MAE_PATCH = 4
#: scikit-image files behind :data:`psfl.data.SKIMAGE_SOURCES` (the MUs' and the tests' data).
SKIMAGE_FILES: dict[str, str] = {
    "astronaut": "astronaut.png", "coffee": "coffee.png", "chelsea": "chelsea.png",
    "rocket": "rocket.jpg", "hubble_deep_field": "hubble_deep_field.jpg",
    "immunohistochemistry": "ihc.png", "retina": "retina.jpg",
    "stereo_motorcycle": "motorcycle_left.png",
}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def mu_source_hashes() -> dict[str, str]:
    """SHA-256 of every scikit-image file the MUs and the test splits are cut from."""
    import skimage.data

    root = Path(skimage.data.__file__).parent
    return {name: _sha256(root / f) for name, f in SKIMAGE_FILES.items()}


def public_photos(folder: str | Path, patch_size: int = 32,
                  scales: tuple[int, ...] = PUBLIC_SCALES
                  ) -> list[tuple[dict[str, Any], list[np.ndarray]]]:
    """The BS's public photographs, checked against the MUs' files and downscaled.

    Output
    ------
    list of (source, scaled) — ``source``: ``file, sha256, width, height``; ``scaled``: the
    photo at each of ``scales`` (long side, never upscaled; float32 [H, W, 3] in [0, 1]; a
    scale whose short side falls below ``patch_size`` is left out).
    """
    from PIL import Image

    from psfl.data import _read_image, image_files

    root = Path(folder)
    files = image_files(root, "public image folder",
                        "pass --images DIR with the BS's photographs (README: 'Shipped weights')")
    forbidden = {h: n for n, h in mu_source_hashes().items()}
    mu_names = {Path(f).stem.lower() for f in SKIMAGE_FILES.values()} | set(SKIMAGE_FILES)
    out = []
    for f in files:
        digest = _sha256(f)
        if digest in forbidden or f.stem.lower() in mu_names:
            raise DataError(f"{str(f)!r} is the MUs' scikit-image photo "
                            f"{forbidden.get(digest, f.stem)!r}; the BS's public images must not "
                            "overlap the MUs' or the test data, so remove it from the folder")
        img = _read_image(f)
        scaled = []
        for side in scales:
            scale = min(1.0, side / max(img.shape[:2]))
            h, w = (max(patch_size, int(round(d * scale))) for d in img.shape[:2])
            small = img if scale == 1.0 else np.asarray(
                Image.fromarray((img * 255).round().astype(np.uint8)).resize(
                    (w, h), Image.Resampling.LANCZOS), np.float32) / 255.0
            if min(small.shape[:2]) >= patch_size:
                scaled.append(small)
        out.append(({"file": str(f.relative_to(root)), "sha256": digest,
                     "width": int(img.shape[1]), "height": int(img.shape[0])}, scaled))
    return out


def textured_patches(scaled: list[np.ndarray], patch_size: int = 32) -> np.ndarray:
    """The patches of one photo's ``scaled`` versions at a stride of ``patch_size / 2``, flat ones
    (std < :data:`psfl.data.FLAT_STD`) dropped: float32 [N, patch_size, patch_size, 3]."""
    from psfl.data import FLAT_STD, _patches

    cut = []
    for small in scaled:
        cut += _patches(small, (0, small.shape[0], 0, small.shape[1]), patch_size,
                        max(1, patch_size // 2))
    patches = np.stack(cut).astype(np.float32) if cut else np.zeros((0, patch_size, patch_size,
                                                                   3), np.float32)
    return patches[patches.reshape(len(patches), -1).std(axis=1) >= FLAT_STD]


def zoo_evaluation(images: int, channel: str, baseline: str) -> dict[str, str]:
    """The ``evaluation`` entry of a zoo provenance: ``images`` held-back patches over the real
    link on ``channel`` with perfect CSI, beside the digital ``baseline`` (its description)."""
    return {"images": f"{images} evenly spaced held-back test patches of the embedded data "
                      "(psfl.data.load_skimage test split)",
            "link": f"psfl.phy.UplinkLink {channel}, perfect CSI",
            "baseline": f"{baseline} + CRC24A, same k"}


def public_patches(folder: str | Path, patch_size: int = 32,
                   scales: tuple[int, ...] = PUBLIC_SCALES) -> tuple[np.ndarray, list[dict]]:
    """Training patches of the BS's public photographs (:func:`public_photos`, cut at a stride
    of ``patch_size / 2``; flat patches dropped).

    Output
    ------
    images : np.ndarray, float32, [N, patch_size, patch_size, 3] in [0, 1]
    sources : list of dict — per file: ``file, sha256, width, height, patches``.
    """
    out, sources = [], []
    for source, scaled in public_photos(folder, patch_size, scales):
        patches = textured_patches(scaled, patch_size)
        out.append(patches)
        sources.append({**source, "patches": len(patches)})
    images = np.concatenate(out)
    if not len(images):
        raise DataError(f"the images in {str(folder)!r} give no textured {patch_size}x{patch_size} "
                        "patches; use larger photographs")
    return images, sources


@dataclasses.dataclass(frozen=True)
class PretrainPlan:
    """What :func:`pretrain` does.

    Attributes
    ----------
    model : codec preset; channel : ``psfl.phy`` channel name of stage 2.
    steps : total optimizer steps (both stages); mae_steps : steps of stage 1 (GSC only).
    batch_size, learning_rate, snr_db_range, seed : the recipe.
    init : where the weights start: ``None`` (a fresh initialization), a shipped codec
        (``pretrained:NAME``) or a ``.keras`` checkpoint of the same preset. A warm start skips
        the masked-patch stage (its weights have been through it already).
    flip : mirror each training patch left–right with probability 1/2.
    warmup_steps : the learning rate rises linearly from 1 % to ``learning_rate`` over these
        first steps, then decays as a cosine (default: 5 % of the steps, at most 1 000, after a
        warm start, whose fresh Adam moments otherwise move every weight by about the full rate
        in its first steps and undo part of what the start had learned — measured: a warm start
        at 5e-4 without it lost 0.3 dB at 10 dB over its first 4 000 steps; ours).
    """

    model: str
    channel: str
    steps: int
    mae_steps: int = 0
    batch_size: int = 32
    learning_rate: float = 1e-3
    snr_db_range: tuple[float, float] = (0.0, 20.0)
    seed: int = 0
    init: str | None = None
    flip: bool = True
    warmup_steps: int | None = None

    @property
    def warmup(self) -> int:
        if self.warmup_steps is not None:
            return self.warmup_steps
        return min(1000, self.steps // 20) if self.init else 0

    def __post_init__(self) -> None:
        if self.mae_steps and self.init:
            raise ValueError(f"--init {self.init} starts from trained weights, which have been "
                             "through the masked-patch stage; use --mae-steps 0 with --init")
        from psfl.semantic.presets.registry import CODECS

        if self.mae_steps and CODECS.capability(self.model, "family") != "gsc":
            raise ValueError("the masked-patch stage is for GSC presets; use --mae-steps 0 "
                             f"with {self.model}")
        if not 0 <= self.mae_steps <= self.steps:
            raise ValueError(f"--mae-steps {self.mae_steps} must be between 0 and --steps "
                             f"{self.steps}")


def start_point(init: str | None, channel: str) -> tuple[str | None, int]:
    """Where a warm start begins, as a provenance records it — a shipped file by its full name
    (``pretrained:gsc-m`` on rayleigh → ``pretrained:gsc-m-rayleigh``), a ``.keras`` file as
    given — and the images that starting point had seen (0 unless shipped: a checkpoint does
    not record them)."""
    from psfl.semantic import zoo

    if not init or not zoo.is_pretrained(init):
        return init, 0
    name = zoo.resolve(init, channel)
    return zoo.PREFIX + name, int(zoo.provenance(name).get("images_seen", 0))


def convergence(history: list[dict[str, Any]], tail: float = 0.2) -> dict[str, Any]:
    """How much the held-back PSNR (``psnr_test`` entries of the channel stage) rose over the
    last ``tail`` of the steps: ``gain_db`` = the last value minus the last one recorded before
    that tail began; ``converged`` when the gain is below :data:`CONVERGED_GAIN_DB`.

    Output
    ------
    dict: ``psnr_test_db``, ``gain_db``, ``over_steps`` ([from, to]), ``converged``; empty when
    fewer than two evaluations were recorded.
    """
    evals = [(int(h["step"]), float(h["psnr_test"])) for h in history
             if h.get("stage", "channel") == "channel" and "psnr_test" in h]
    if len(evals) < 2:
        return {}
    last_step, last = evals[-1]
    start = last_step - tail * (last_step - evals[0][0])
    ref_step, ref = max((e for e in evals if e[0] <= start), key=lambda e: e[0], default=evals[0])
    gain = last - ref
    return {"psnr_test_db": round(last, 3), "gain_db": round(gain, 3),
            "over_steps": [ref_step, last_step], "converged": bool(gain < CONVERGED_GAIN_DB)}


def reached(checkpoint_dir: Path) -> tuple[Any, list[dict[str, Any]], int]:
    """The codec of the channel stage's last checkpoint in ``checkpoint_dir``, the history so
    far (both stages) and the step the checkpoint holds (its optimizer's count: the history is
    recorded every 100 steps and may end before it), without training further
    (``psfl pretrain --now``)."""
    import json

    from psfl.semantic.models import load_codec
    from psfl.semantic.train import CHECKPOINT_NAME

    chan = checkpoint_dir / "channel"
    if not (chan / CHECKPOINT_NAME).is_file():
        raise DataError(f"no channel-stage checkpoint in {str(chan)!r} yet; run without --now "
                        "first")
    history: list[dict[str, Any]] = []
    for stage in ("mae", "channel"):
        if (checkpoint_dir / stage / "history.json").is_file():
            history += [{**h, "stage": stage} for h in json.loads(
                (checkpoint_dir / stage / "history.json").read_text())]
    codec = load_codec(chan / CHECKPOINT_NAME, compile=True)
    return codec, history, int(codec.optimizer.iterations.numpy())


def _ideal_link(z: Any, snr_db: Any) -> tuple[Any, Any]:
    import tensorflow as tf

    return z, tf.fill(tf.shape(snr_db), tf.constant(1e-3, tf.float32))


def pretrain(plan: PretrainPlan, images: np.ndarray, link: Callable, checkpoint_dir: Path, *,
             image_size: int = 32, k: int | None = None, log: Callable[[str], None] | None = None,
             max_seconds: float | None = None, test_images: np.ndarray | None = None,
             eval_every: int = 0, eval_snr_db: float = 10.0,
             ) -> tuple[Any, list[dict[str, float]], bool]:
    """Run both stages (resuming from ``checkpoint_dir``), for at most ``max_seconds`` of
    training in this call; returns the codec, its history and whether all ``steps`` are done.
    Every ``eval_every`` channel steps the history records the PSNR on ``test_images`` at
    ``eval_snr_db`` (held-back data: the convergence record of a shipped file)."""
    import time

    import keras

    from psfl.semantic.models import build_codec, load_codec
    from psfl.semantic.train import CHECKPOINT_NAME, train_codec

    if plan.init:
        codec = load_codec(plan.init, model=plan.model, image_size=image_size, k=k,
                           channel=plan.channel, compile=False)
    else:
        codec = build_codec(plan.model, image_size, k=k)
    if not plan.steps:  # the init weights as they are (psfl pretrain --steps 0 --init W)
        return codec, [], True
    warm = plan.warmup
    schedule = keras.optimizers.schedules.CosineDecay(
        plan.learning_rate / 100 if warm else plan.learning_rate, max(1, plan.steps - warm),
        alpha=0.05, warmup_target=plan.learning_rate if warm else None, warmup_steps=warm)
    codec.compile(optimizer=keras.optimizers.Adam(schedule))
    t0 = time.perf_counter()

    def left() -> float | None:
        return None if max_seconds is None else max(0.0, max_seconds - (time.perf_counter() - t0))

    common = dict(batch_size=plan.batch_size, jit_compile=True, seed=plan.seed,
                  checkpoint_every=500, log=log, log_every=100)
    history: list[dict[str, float]] = []
    mae_dir, chan_dir = checkpoint_dir / "mae", checkpoint_dir / "channel"
    if plan.mae_steps and not (chan_dir / CHECKPOINT_NAME).is_file():
        res = train_codec(codec, _ideal_link, images, steps=plan.mae_steps,
                          snr_db_range=(30.0, 30.0), checkpoint_dir=mae_dir,
                          mask_ratio=MAE_RATIO, mask_patch=MAE_PATCH, max_seconds=left(),
                          **common)
        codec = res.codec
        history += [{**h, "stage": "mae"} for h in res.history]
        if res.end_step < plan.mae_steps:
            return codec, history, False
    elif plan.mae_steps and (mae_dir / "history.json").is_file():
        import json

        history += [{**h, "stage": "mae"} for h in json.loads((mae_dir / "history.json")
                                                               .read_text())]
    res = train_codec(codec, link, images, steps=plan.steps, snr_db_range=plan.snr_db_range,
                      checkpoint_dir=chan_dir, max_seconds=left(), flip=plan.flip,
                      test_images=test_images, eval_every=eval_every, eval_snr_db=eval_snr_db,
                      **common)
    history += [{**h, "stage": "channel"} for h in res.history]
    return res.codec, history, res.end_step >= plan.steps


def float16_change_db(codec: Any, images: np.ndarray) -> float:
    """PSNR change that float16 storage causes: the codec with its weights rounded to float16
    minus the codec itself, over an ideal channel (``y = z``) on ``images`` at 10 dB side
    information — deterministic, so no channel noise enters the difference."""
    import tensorflow as tf

    from psfl.semantic.presets.registry import build_codec
    from psfl.semantic.train import evaluate_codec

    def ideal(z: Any, snr_db: Any) -> tuple[Any, Any]:
        return z, tf.fill(tf.shape(snr_db), tf.constant(0.1, tf.float32))

    half = build_codec(codec.arch, codec.image_size, k=codec.k)
    half.set_weights([w.astype(np.float16).astype(np.float32) for w in codec.get_weights()])
    return (evaluate_codec(half, ideal, images, [10.0])[0]["psnr"]
            - evaluate_codec(codec, ideal, images, [10.0])[0]["psnr"])


def train_wall_s(history: list[dict[str, Any]]) -> float:
    """Training wall time of both stages [s] (each stage's history counts on across resumes)."""
    return round(sum(max((h.get("wall_s", 0.0) for h in history if h["stage"] == s),
                         default=0.0) for s in ("mae", "channel")), 1)


def zoo_record(plan: PretrainPlan, codec: Any, history: list[dict[str, Any]], *,
               images_dir: str, origin: str, sources: list[dict], public_patches: int,
               start: tuple[str | None, int], table: list[dict[str, Any]],
               evaluation: dict[str, str], steps_done: int | None = None,
               convergence_snr_db: float = 10.0) -> dict[str, Any]:
    """The provenance of a zoo file (:mod:`psfl.semantic.zoo`): what it was trained on and how,
    where it started (``start``: name and images seen), how far it got (``steps`` reached of
    the schedule's ``schedule_steps``; ``images_seen`` counts the starting point's too), its
    convergence record, the environment, the command and its measured table. ``steps_done``:
    the step the weights hold (default: the history's last)."""
    from psfl.provenance import environment
    from psfl.semantic import zoo

    done = steps_done if steps_done is not None else max(
        (int(h["step"]) for h in history if h["stage"] == "channel"), default=0)
    init_name, init_images = start
    command = (f"psfl pretrain --model {plan.model} --channel {plan.channel} --images DIR "
               f"--steps {plan.steps} --mae-steps {plan.mae_steps} --seed {plan.seed} "
               f"--set semantic.learning_rate={plan.learning_rate:g}"
               + (f" --set semantic.k_over_n={codec.k_over_n:g}" if zoo.ratio_tag(codec.k_over_n)
                  else "")
               + (f" --init {init_name}" if init_name else "")
               + (f" (trained to step {done}, then --now)" if done < plan.steps else "")
               + " --export psfl/semantic/zoo")
    return {
        "name": zoo.file_name(plan.model, plan.channel, codec.k_over_n), "model": plan.model,
        "channel": plan.channel,
        "csi": "perfect", "image_size": codec.image_size[0], "k": codec.k,
        "k_over_n": codec.k_over_n, "params": int(codec.count_params()),
        "sources": {"folder": images_dir, "origin": origin, "files": sources},
        "public_patches": public_patches, "steps": done, "schedule_steps": plan.steps,
        "mae_steps": plan.mae_steps, "batch_size": plan.batch_size,
        "augmentation": "left-right flips, p = 1/2" if plan.flip and plan.steps else "none",
        "init": init_name, "init_images_seen": init_images,
        "images_seen": done * plan.batch_size + init_images,
        "convergence": {"snr_db": convergence_snr_db, "rule": "converged when the PSNR on the "
                        f"held-back patches gained < {CONVERGED_GAIN_DB} dB over the last 20 % "
                        "of the steps", **convergence(history)},
        "learning_rate": ("none: not trained on this channel (the --init weights as they are)"
                          if not plan.steps else
                          (f"Adam, linear warm-up from 1 % over {plan.warmup} steps, then "
                           if plan.warmup else "Adam, ")
                          + f"cosine {plan.learning_rate:g} -> 5 % over all steps"),
        "snr_db_range": list(plan.snr_db_range), "seed": plan.seed,
        **environment(), "train_wall_s": train_wall_s(history),
        "command": command, "evaluation": evaluation, "table": table,
    }
