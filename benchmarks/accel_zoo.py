"""Train the shipped zoo on an accelerator: prepare here, train there, export here.

On these 2 CPU cores a session buys each zoo file about 1–3 M images (``psfl pretrain``,
``benchmarks/pretrain_zoo.sh``); one accelerator trains every file at once, each about ten times
faster (issue 22, item 2). Same data, same warm starts, the same loss and SNR range; the link is
:mod:`psfl.semantic.surrogate`'s per-symbol stand-in (exact in distribution on AWGN with perfect
CSI; Rayleigh through a table of gains sampled from the real link). Three steps:

``prepare`` (here: TensorFlow, Sionna, Pillow)
    ``DIR/photos.npz``: the BS's public photographs (:func:`psfl.semantic.pretrain.public_photos`,
    checked against the MUs' files) at each training scale, uint8; ``DIR/meta.json``: their
    sources (SHA-256, the patches the CPU recipe cuts from each) and the flat-patch rule;
    ``DIR/test.npy``: the 256 held-back patches the convergence rule watches;
    ``DIR/gains_rayleigh_k<k>.npy``: per-symbol gains of the Rayleigh link for each ``k`` the zoo
    sends. About 60 MB, carried to the accelerator beside the repository, whose zoo files are the
    warm starts.
``train`` (there: Keras on any backend and numpy; no TensorFlow, Sionna or Pillow)
    Every zoo file named (default: all) in its own process, all at once: a warm start from the
    shipped file; random 32×32 crops of the photos (flat ones redrawn, as the CPU recipe drops
    them) mirrored left–right with probability 1/2; SNR uniform in [0, 20] dB per image; Adam
    warmed up from 1 % over the first 5 % of the wall-time budget, then a cosine to 5 % at its end
    (the CPU recipe's schedule over time instead of steps); the held-back PSNR at 10 dB through
    the stand-in every ``--eval-every`` steps (the convergence record). Writes, at every
    evaluation, ``OUT/<name>.npz`` (float32 weights) and ``OUT/<name>.json`` (steps, images,
    machine, history), so a run cut short still brings back what it reached.
``export`` (here)
    Each ``OUT/<name>.npz`` loaded into its preset and measured over the real link beside the
    digital baseline and the shipped file (same patches, same draws); ``--write`` replaces a zoo
    file (provenance included) when the new weights are better at 10 dB, ``--force`` always.

    python -m benchmarks.accel_zoo prepare --images .public/train --dir .accel-zoo
    KERAS_BACKEND=jax python -m benchmarks.accel_zoo train --dir .accel-zoo --seconds 480 \\
        --out $OUT/zoo
    python -m benchmarks.accel_zoo export --weights DIR/zoo [--write]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

#: Rows of each fading gain table (4 MB at k = 512 in float16).
GAIN_ROWS = 4096
EVAL_SNR_DB = 10.0
#: The photos' origin as provenance states it (also read by pretrain_zoo.sh).
ORIGIN = Path(__file__).with_name("public_photos.origin")


def _uint8(images: np.ndarray) -> np.ndarray:
    return np.round(np.clip(images, 0.0, 1.0) * 255.0).astype(np.uint8)


def prepare(directory: Path, images_dir: str, origin: str, rows: int = GAIN_ROWS) -> None:
    """Write what the accelerator needs (module docstring, ``prepare``) to ``directory``."""
    from psfl.data import FLAT_STD
    from psfl.phy import PhyConfig, UplinkLink
    from psfl.semantic import zoo
    from psfl.semantic.evaluate import held_back_patches
    from psfl.semantic.pretrain import public_photos, textured_patches
    from psfl.semantic.surrogate import gain_table

    directory.mkdir(parents=True, exist_ok=True)
    arrays, sources = {}, []
    for i, (source, scaled) in enumerate(public_photos(images_dir)):
        for j, img in enumerate(scaled):
            arrays[f"p{i:03d}s{j}"] = _uint8(img)
        # the patches the CPU recipe cuts from it, as its provenance counts them
        sources.append({**source, "patches": len(textured_patches(scaled))})
    np.savez_compressed(directory / "photos.npz", **arrays)
    meta = {"images_dir": images_dir, "origin": origin, "sources": sources,
            "public_patches": sum(s["patches"] for s in sources), "flat_std": FLAT_STD,
            "patch_size": 32}
    (directory / "meta.json").write_text(json.dumps(meta, indent=1))
    np.save(directory / "test.npy", _uint8(held_back_patches(32)))
    print(f"photos.npz: {len(sources)} photos, {len(arrays)} scaled images; test.npy: 256 "
          "held-back patches", flush=True)
    ks = sorted({zoo.provenance(n)["k"] for n in zoo.available()
                 if zoo.provenance(n)["channel"] != "awgn"})
    link = UplinkLink(PhyConfig(channel="rayleigh", csi="perfect"))
    for k in ks:
        g = gain_table(link, k, rows)
        np.save(directory / f"gains_rayleigh_k{k}.npy", g.astype(np.float16))
        print(f"gains_rayleigh_k{k}.npy: {g.shape}, mean {g.mean():.3f}", flush=True)


class Crops:
    """Endless batches of random ``size × size`` crops of ``photos`` (uint8 [H, W, 3] each;
    a photo is drawn in proportion to its crop positions), flat crops (std < ``flat_std``)
    redrawn, each mirrored left–right with probability 1/2; float32 in [0, 1], input = target."""

    def __init__(self, photos: list[np.ndarray], batch: int, seed: int, flat_std: float,
                 size: int = 32):
        self.photos, self.batch, self.size, self.flat_std = photos, batch, size, flat_std
        area = np.array([(p.shape[0] - size + 1) * (p.shape[1] - size + 1) for p in photos],
                        np.float64)
        self.p = area / area.sum()
        self.rng = np.random.default_rng(seed)

    def draw(self) -> np.ndarray:
        got: list[np.ndarray] = []
        while sum(len(g) for g in got) < self.batch:
            which = self.rng.choice(len(self.photos), 2 * self.batch, p=self.p)
            x = np.stack([self._crop(self.photos[i]) for i in which]).astype(np.float32) / 255.0
            got.append(x[x.reshape(len(x), -1).std(axis=1) >= self.flat_std])
        x = np.concatenate(got)[:self.batch]
        flip = self.rng.random(self.batch) < 0.5
        return np.where(flip[:, None, None, None], x[:, :, ::-1], x)

    def _crop(self, photo: np.ndarray) -> np.ndarray:
        y = self.rng.integers(0, photo.shape[0] - self.size + 1)
        x = self.rng.integers(0, photo.shape[1] - self.size + 1)
        return photo[y:y + self.size, x:x + self.size]

    def __iter__(self):
        while True:
            x = self.draw()
            yield x, x


def budget_rate(fraction: float, lr: float, warmup: float = 0.05, floor: float = 0.05) -> float:
    """The learning rate at ``fraction`` of the wall-time budget: linear from 1 % to ``lr`` over
    the first ``warmup``, then a cosine to ``floor · lr`` at the end (ours: the CPU recipe's
    :class:`psfl.semantic.pretrain.PretrainPlan` schedule, over time instead of steps)."""
    f = min(max(fraction, 0.0), 1.0)
    if f < warmup:
        return lr * (0.01 + 0.99 * f / warmup)
    c = 0.5 * (1.0 + math.cos(math.pi * (f - warmup) / (1.0 - warmup)))
    return lr * (floor + (1.0 - floor) * c)


def _machine() -> str:
    import platform

    import keras

    kind = keras.backend.backend()
    if kind == "jax":
        import jax

        kind += ", " + jax.devices()[0].device_kind
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, {kind}"


def train_one(directory: Path, name: str, seconds: float, batch: int, lr: float, out: Path,
              eval_every: int, seed: int, max_steps: int | None = None) -> dict[str, Any]:
    """Train the zoo file ``name`` for ``seconds`` (or ``max_steps``) from its shipped weights."""
    import keras

    from psfl.semantic import zoo
    from psfl.semantic.surrogate import SurrogateTrainer

    keras.utils.set_random_seed(seed)
    prov = zoo.provenance(name)
    meta = json.loads((directory / "meta.json").read_text())
    with np.load(directory / "photos.npz") as data:
        photos = [data[k] for k in sorted(data.files)]
    test = np.load(directory / "test.npy").astype(np.float32) / 255.0
    gains = (None if prov["channel"] == "awgn"
             else np.load(directory / f"gains_{prov['channel']}_k{prov['k']}.npy"))
    codec = zoo.load_pretrained(zoo.PREFIX + name)
    trainer = SurrogateTrainer(codec, gains, seed=seed)
    trainer.compile(optimizer=keras.optimizers.Adam(budget_rate(0.0, lr)), loss="mse",
                    jit_compile="auto")
    out.mkdir(parents=True, exist_ok=True)
    history: list[dict[str, Any]] = []
    t0 = time.monotonic()
    rec = {"name": name, "model": prov["model"], "channel": prov["channel"], "k": prov["k"],
           "init": zoo.PREFIX + name, "init_images_seen": int(prov["images_seen"]),
           "batch": batch, "lr": lr, "seconds_budget": seconds, "seed": seed,
           "machine": _machine(), "keras": keras.__version__, "history": history}

    def held_back_psnr() -> float:
        probe = SurrogateTrainer(codec, gains, seed=seed + 1)  # the same draws at every probe
        snr = np.full(len(test), EVAL_SNR_DB, np.float32)
        y, no_eff = probe.channel(codec.symbol_pairs(test, snr, False), snr)
        rx = np.clip(keras.ops.convert_to_numpy(codec.reconstruct(y, no_eff, False)), 0, 1)
        mse = np.mean((rx - test) ** 2, axis=(1, 2, 3))
        return float(np.mean(10 * np.log10(1.0 / np.maximum(mse, 1e-10))))

    def save(step: int, loss: float | None) -> None:
        history.append({"stage": "channel", "step": step, "psnr_test": round(held_back_psnr(), 3),
                        "loss": loss, "wall_s": round(time.monotonic() - t0, 1)})
        partial = out / f".{name}.partial"  # not *.npz: export must never pick it up
        with open(partial, "wb") as f:
            np.savez(f, *codec.get_weights())
        os.replace(partial, out / f"{name}.npz")
        rec.update(steps=step, images=step * batch, seconds=history[-1]["wall_s"])
        (out / f"{name}.json").write_text(json.dumps(rec))
        print(f"{name}: step {step}, {history[-1]['wall_s']:.0f} s, loss {loss}, held-back "
              f"{history[-1]['psnr_test']:.2f} dB at {EVAL_SNR_DB:g} dB", flush=True)

    class Schedule(keras.callbacks.Callback):
        # steps counted here: reading the optimizer's counter would wait for the device
        # at every step
        steps = 0

        def on_train_batch_begin(self, b: int, logs: dict | None = None) -> None:
            self.model.optimizer.learning_rate.assign(
                budget_rate((time.monotonic() - t0) / seconds, lr))

        def on_train_batch_end(self, b: int, logs: dict | None = None) -> None:
            self.steps += 1
            if (time.monotonic() - t0 >= seconds
                    or (max_steps is not None and self.steps >= max_steps)):
                self.model.stop_training = True

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            save(self.steps, round(float(logs["loss"]), 6))

    save(0, None)
    trainer.fit(iter(Crops(photos, batch, seed, meta["flat_std"])), epochs=1_000_000,
                steps_per_epoch=eval_every, callbacks=[Schedule()], shuffle=False, verbose=0)
    return rec


def train_all(directory: Path, names: list[str], seconds: float, batch: int, lr: float,
              out: Path, eval_every: int, max_steps: int | None = None) -> int:
    """One process per file, all at once (small models leave an accelerator mostly idle one at
    a time); returns how many failed."""
    out.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "XLA_PYTHON_CLIENT_PREALLOCATE": "false"}  # room for every process
    procs = []
    for name in names:
        log = open(out / f"{name}.log", "w")  # noqa: SIM115 - closed below
        cmd = [sys.executable, "-m", "benchmarks.accel_zoo", "train", "--dir", str(directory),
               "--names", name, "--seconds", str(seconds), "--batch", str(batch), "--lr",
               str(lr), "--out", str(out), "--eval-every", str(eval_every)]
        cmd += [] if max_steps is None else ["--max-steps", str(max_steps)]
        procs.append((name, subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env),
                      log))
    failed = 0
    for name, proc, log in procs:
        code = proc.wait()
        log.close()
        if code:
            failed += 1
            print(f"{name} failed ({code}); see {out / (name + '.log')}", flush=True)
    return failed


def record(codec: Any, rec: dict[str, Any], meta: dict[str, Any], table: list[dict[str, Any]],
           baseline: str, images: int) -> dict[str, Any]:
    """The provenance of a file trained here (:func:`psfl.semantic.pretrain.zoo_record`'s fields,
    with this recipe's command, schedule, augmentation, machine and wall time; ``table`` measured
    on ``images`` held-back patches beside ``baseline``)."""
    from psfl.semantic.pretrain import PretrainPlan, zoo_evaluation, zoo_record

    plan = PretrainPlan(model=rec["model"], channel=rec["channel"], steps=rec["steps"],
                        batch_size=rec["batch"], learning_rate=rec["lr"], seed=rec["seed"],
                        init=rec["init"])
    out = zoo_record(plan, codec, rec["history"], images_dir=meta["images_dir"],
                     origin=meta["origin"], sources=meta["sources"],
                     public_patches=meta["public_patches"],
                     start=(rec["init"], rec["init_images_seen"]), table=table,
                     steps_done=rec["steps"],
                     evaluation=zoo_evaluation(images, rec["channel"], baseline))
    out["convergence"]["rule"] += (" (trained elsewhere: measured through the link's per-symbol "
                                   "stand-in, psfl.semantic.surrogate)")
    out.update(
        command=f"python -m benchmarks.accel_zoo train --names {rec['name']} --seconds "
                f"{rec['seconds_budget']:g} --batch {rec['batch']} --lr {rec['lr']:g} --seed "
                f"{rec['seed']}, then export --write (warm start {rec['init']})",
        learning_rate=f"Adam, linear warm-up from 1 % over the first 5 % of a "
                      f"{rec['seconds_budget']:g} s budget, then cosine {rec['lr']:g} -> 5 % "
                      "(benchmarks.accel_zoo.budget_rate)",
        augmentation="random 32x32 crops of each photo at each scale (flat ones redrawn), "
                     "left-right flips, p = 1/2",
        machine=rec["machine"], train_wall_s=rec["seconds"], schedule_steps=rec["steps"],
        trained_with={"keras": rec["keras"], "link": "psfl.semantic.surrogate stand-in"})
    return out


def export(weights: Path, directory: Path, write: bool, force: bool,
           zoo_dir: Path | None = None) -> list[dict[str, Any]]:
    """Measure each trained file beside the shipped one; write the better ones into the zoo
    (``zoo_dir``, default the shipped zoo)."""
    from psfl.commands.pretrain import link_table
    from psfl.config import load_config
    from psfl.phy import PhyConfig, UplinkLink
    from psfl.seeding import set_seed
    from psfl.semantic import build_codec, evaluate_codec, zoo
    from psfl.semantic.evaluate import digital_baseline, held_back_patches
    from psfl.semantic.pretrain import float16_change_db

    files = sorted(weights.glob("*.npz"))
    if not files:
        raise SystemExit(f"no trained *.npz in {weights}; run the train step first")
    meta = json.loads((directory / "meta.json").read_text())
    test = held_back_patches(32)
    sem = load_config().semantic
    rows = []
    for f in files:
        rec = json.loads(f.with_suffix(".json").read_text())
        codec = build_codec(rec["model"], 32, k=rec["k"])
        with np.load(f) as data:
            codec.set_weights([data[f"arr_{i}"] for i in range(len(data.files))])
        link = UplinkLink(PhyConfig(channel=rec["channel"], csi="perfect"))
        baseline = digital_baseline(link.cfg, sem, rec["k"])
        set_seed(7)
        table = link_table(codec, link, test, list(sem.eval_snr_db), baseline.scheme)
        set_seed(7)
        shipped = {r["snr_db"]: r["psnr"] for r in evaluate_codec(
            zoo.load_pretrained(zoo.PREFIX + rec["name"]), link, test, list(sem.eval_snr_db))}
        gain = next(r["psnr"] for r in table if r["snr_db"] == EVAL_SNR_DB) - shipped[EVAL_SNR_DB]
        print(f"{rec['name']}: {rec['images'] / 1e6:.2f} M images in {rec['seconds']:.0f} s; PSNR "
              + " / ".join(f"{r['psnr']:.2f}" for r in table) + " dB (shipped "
              + " / ".join(f"{shipped[r['snr_db']]:.2f}" for r in table)
              + f"); {gain:+.2f} dB at {EVAL_SNR_DB:g} dB", flush=True)
        row = {"name": rec["name"], "gain_db": round(gain, 3), "table": table, "written": False}
        if write and (force or gain > 0):
            prov = record(codec, rec, meta, table, baseline.description, len(test))
            prov["float16_psnr_change_db"] = round(float16_change_db(codec, test), 4)
            path = zoo.export(codec, rec["channel"], prov, zoo_dir or zoo.ZOO_DIR)
            row["written"] = True
            print(f"  exported {path}", flush=True)
        rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    pp = sub.add_parser("prepare", help="photos, held-back patches, gain tables (needs TF)")
    pp.add_argument("--images", default=".public/train")
    pp.add_argument("--origin", default=ORIGIN.read_text().strip(),
                    help="where the photos come from (default: public_photos.origin)")
    pp.add_argument("--dir", default=".accel-zoo")
    pt = sub.add_parser("train", help="train zoo files at once (any Keras backend)")
    pt.add_argument("--dir", default=".accel-zoo")
    pt.add_argument("--names", default="all", help="zoo files, comma-separated (default all)")
    pt.add_argument("--seconds", type=float, default=480.0, help="wall-time budget per file")
    pt.add_argument("--max-steps", type=int, default=None, help="also stop at this step")
    pt.add_argument("--batch", type=int, default=128)
    pt.add_argument("--lr", type=float, default=3e-4)
    pt.add_argument("--eval-every", type=int, default=500, help="steps between evaluations")
    pt.add_argument("--seed", type=int, default=1)
    pt.add_argument("--out", default="runs/accel-zoo")
    pe = sub.add_parser("export", help="measure through the real link; --write into the zoo")
    pe.add_argument("--weights", default="runs/accel-zoo")
    pe.add_argument("--dir", default=".accel-zoo")
    pe.add_argument("--write", action="store_true", help="replace zoo files that improved")
    pe.add_argument("--force", action="store_true", help="with --write: replace regardless")
    a = p.parse_args(argv)
    if a.cmd == "prepare":
        prepare(Path(a.dir), a.images, a.origin)
        return 0
    if a.cmd == "export":
        export(Path(a.weights), Path(a.dir), a.write, a.force)
        return 0
    from psfl.semantic import zoo

    names = zoo.available() if a.names == "all" else a.names.split(",")
    unknown = sorted(set(names) - set(zoo.available()))
    if unknown:
        raise SystemExit(f"not in the zoo: {', '.join(unknown)}; have {', '.join(zoo.available())}")
    if not (Path(a.dir) / "meta.json").is_file():
        raise SystemExit(f"{a.dir}/meta.json missing: run the prepare step here first")
    if len(names) > 1:
        return min(1, train_all(Path(a.dir), names, a.seconds, a.batch, a.lr, Path(a.out),
                                a.eval_every, a.max_steps))
    train_one(Path(a.dir), names[0], a.seconds, a.batch, a.lr, Path(a.out), a.eval_every,
              a.seed, a.max_steps)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
