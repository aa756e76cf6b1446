"""Where a command's codec comes from: a checkpoint (a ``.keras`` file or a shipped
``pretrained:NAME``) or a fresh preset trained here — one resolver for ``psfl link`` and
``psfl hil``.

:func:`codec_source` loads or builds the codec and reads the data it is evaluated on (the
held-back test split in patches of the codec's size; ``data.patch_size`` follows a checkpoint,
said in the log); :meth:`CodecSource.train` trains a fresh one through a link, checkpointed in
the run directory and resumed from there. The two are separate so that a command can check
everything else (the baseline's MCS table, the user's photos) before any long training.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from psfl.config import Config
    from psfl.data import ImageSet
    from psfl.phy.link import LinkFn
    from psfl.results import RunDir
    from psfl.semantic.codec import SemanticCodec

__all__ = ["CodecSource", "codec_source", "shipped_default"]


def shipped_default(model: str, config: Config) -> str:
    """``pretrained:<model>-<variant>``: the shipped file for ``model`` on the configured
    channel at the configured bandwidth ratio (``semantic.k`` or ``k_over_n``)."""
    from psfl.semantic.power import ratio_from_k
    from psfl.semantic.zoo import PREFIX, resolve

    sem = config.semantic
    ratio = ratio_from_k(config.data.patch_size, sem.k) if sem.k else sem.k_over_n
    return PREFIX + resolve(model, config.phy.channel, k_over_n=ratio)


@dataclasses.dataclass
class CodecSource:
    """A codec and its data.

    Attributes
    ----------
    codec : the loaded or freshly built codec; checkpoint : where it was loaded from (None:
    fresh); train : the training split (fresh codecs only); test : the held-back test split.
    """

    codec: SemanticCodec
    checkpoint: str | None
    train_split: ImageSet | None
    test: ImageSet

    def train(self, link: LinkFn, config: Config, run_dir: RunDir, *, steps: int,
              snr_db_range: tuple[float, float], what: str = "") -> dict[str, Any]:
        """Train the fresh codec for ``steps`` through ``link`` with the ``[semantic]``
        recipe (checkpoints in ``<out>/checkpoints/``, resumed from there), write
        ``training.csv``; returns what the summary records."""
        from psfl.semantic.train import train_codec

        if self.train_split is None:
            raise ValueError("a loaded checkpoint is not trained again here; drop --checkpoint "
                             "to train a fresh codec")
        sem = config.semantic
        run_dir.log(f"training {self.codec.describe()} for {steps} steps{what}, SNR "
                    f"{snr_db_range[0]:g}..{snr_db_range[1]:g} dB", echo=True)
        result = train_codec(
            self.codec, link, self.train_split.images, steps=steps, batch_size=sem.batch_size,
            learning_rate=sem.learning_rate, lr_schedule=sem.lr_schedule,
            snr_db_range=snr_db_range, checkpoint_dir=run_dir.file("checkpoints"),
            checkpoint_every=sem.checkpoint_every, jit_compile=sem.xla, seed=config.run.seed,
            test_images=self.test.images, eval_every=sem.eval_every,
            eval_snr_db=sum(snr_db_range) / 2, log=run_dir.log)
        self.codec = result.codec
        if result.history:
            run_dir.write_csv("training.csv", result.history)
        return {"checkpoint": str(run_dir.file("checkpoints") / "codec.keras"),
                "trained_steps": result.end_step, "resumed_from_step": result.start_step,
                "train_images_per_s": round(result.images_per_s, 1)}


def codec_source(config: Config, run_dir: RunDir, *, checkpoint: str | None,
                 model: str | None = None, require: str | None = None,
                 channel: str | None = None, match_config: bool = True) -> CodecSource:
    """Load ``checkpoint`` or build a fresh ``model`` preset, and read its data.

    Parameters
    ----------
    checkpoint : a ``.keras`` file, ``pretrained:NAME`` (the variant for ``channel``), or None
        for a fresh codec of ``model`` (default ``semantic.model``; ``data.patch_size``,
        ``semantic.k``/``k_over_n``).
    require : with a checkpoint, the preset it must hold (None: any).
    match_config : a shipped checkpoint must match ``data.patch_size`` and ``k`` as configured;
        off: take it as it is.
    """
    from psfl.data import load_images
    from psfl.semantic.models import build_codec, load_codec
    from psfl.semantic.power import k_from_ratio
    from psfl.semantic.zoo import is_pretrained

    sem, seed = config.semantic, config.run.seed
    if checkpoint is None:
        train, test = load_images(config.data, seed=seed)
        codec = build_codec(model or sem.model, image_size=config.data.patch_size, k=sem.k or None,
                            k_over_n=sem.k_over_n)
        return CodecSource(codec, None, train, test)
    expect: dict[str, Any] = {"model": require}
    if match_config and is_pretrained(checkpoint):
        expect.update(image_size=config.data.patch_size,
                      k=sem.k or k_from_ratio(config.data.patch_size, sem.k_over_n))
    codec = load_codec(checkpoint, compile=False, channel=channel, **expect)
    data_cfg = config.data
    if data_cfg.patch_size != codec.image_size[0]:
        run_dir.log(f"data.patch_size {data_cfg.patch_size} -> {codec.image_size[0]} to match "
                    "the checkpoint", echo=True)
        data_cfg = config.replace("data", patch_size=codec.image_size[0]).data
    _, test = load_images(data_cfg, seed=seed)
    return CodecSource(codec, checkpoint, None, test)
