"""``psfl link``: train-then-sweep with the digital baseline, checkpoint reuse, bad input."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from PIL import Image

import psfl.cli as cli
from tests.figures import assert_figures


@pytest.fixture(scope="module", autouse=True)
def _register():
    """Register the command for this module only (psfl.cli lists it once it is wired)."""
    had = "link" in cli.COMMANDS
    cli.COMMANDS["link"] = "psfl.commands.link"
    yield
    if not had:
        del cli.COMMANDS["link"]


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("link")
    folder = root / "photos"
    folder.mkdir()
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(folder / "a.png")
    Image.fromarray(rng.integers(0, 255, (40, 70, 3), dtype=np.uint8)).save(folder / "b.jpg")
    out = root / "run"
    argv = ["link", "--out", str(out), "--model", "csc", "--steps", "2", "--snr", "0,20",
            "--images", str(folder), "--tiles", "--set", "semantic.eval_images=6",
            "--set", "semantic.batch_size=8", "--set", "semantic.xla=false"]
    assert cli.main(argv) == 0
    return out, folder


def test_train_then_sweep_writes_results(trained_run):
    out, _ = trained_run
    for name in ("summary.json", "link.csv", "training.csv", "checkpoints/codec.keras",
                 "config.toml"):
        assert (out / name).is_file(), name
    assert_figures(out, "psnr_vs_snr", "samples")
    summary = json.loads((out / "summary.json").read_text())
    assert summary["model"] == "csc" and summary["k"] == 512 and summary["trained_steps"] == 2
    assert summary["cost"]["flops"] > 0 and summary["baseline"] == "jpeg+crc24a+ldpc+qam"
    rows = list(csv.DictReader((out / "link.csv").open()))
    assert [(r["dataset"], float(r["snr_db"])) for r in rows] == [
        ("test", 0.0), ("test", 20.0), ("folder", 0.0), ("folder", 20.0)]
    for r in rows:
        for key in ("codec_psnr", "codec_ssim", "digital_psnr", "digital_ssim"):
            assert np.isfinite(float(r[key])), (key, r)
    # the source coders at capacity bound the digital baseline (test set only)
    for r in rows[:2]:
        assert float(r["capacity_psnr"]) >= float(r["digital_psnr"]) - 0.01
    assert rows[2]["images"] == "6"  # every tile: 64x64 → 4, 70x40 (cropped to 64x32) → 2


def test_own_photos_per_image_table_and_stitched_reconstructions(trained_run):
    out, _ = trained_run
    rows = list(csv.DictReader((out / "images.csv").open()))
    # two photos x two schemes x two SNRs
    assert {(r["photo"], r["scheme"], float(r["snr_db"])) for r in rows} == {
        (p, s, snr) for p in ("a.png", "b.jpg") for s in ("codec", "digital")
        for snr in (0.0, 20.0)}
    for r in rows:
        assert np.isfinite(float(r["psnr"])) and -1 <= float(r["ssim"]) <= 1
    assert [float(r["tiles"]) for r in rows[:2]] == [4, 4]
    # the stitched reconstruction is the photo cropped to whole tiles, at full resolution
    full = Image.open(out / "photos" / "2-codec-20dB.png")
    assert full.size == (64, 32)
    assert (out / "photos/1-digital-0dB.png").is_file()
    assert_figures(out, "photo-1", "photo-2")
    # the PSNR in images.csv is that of the stitched picture against the cropped original
    orig = np.asarray(Image.open(out.parent / "photos" / "a.png"), np.float32) / 255
    rec = np.asarray(Image.open(out / "photos" / "1-codec-20dB.png"), np.float32) / 255
    row = next(r for r in rows if r["photo"] == "a.png" and r["scheme"] == "codec"
               and float(r["snr_db"]) == 20.0)
    assert abs(10 * np.log10(1 / np.mean((orig - rec) ** 2)) - float(row["psnr"])) < 0.1


def test_own_photos_sent_whole(trained_run, tmp_path):
    out, folder = trained_run
    ckpt = out / "checkpoints" / "codec.keras"
    argv = ["link", "--out", str(tmp_path), "--checkpoint", str(ckpt),
            "--images", str(folder), "--snr", "0,20", "--set", "semantic.eval_images=4",
            "--set", "semantic.xla=false"]
    assert cli.main(argv) == 0
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["photos_sent"] == "whole"
    rows = list(csv.DictReader((tmp_path / "link.csv").open()))
    # the photos are the evaluation: the held-back patches only with --patches
    assert [(r["dataset"], float(r["snr_db"]), r["images"]) for r in rows] == [
        ("photos", 0.0, "2"), ("photos", 20.0, "2")]
    assert not (tmp_path / "samples.png").exists()
    per = list(csv.DictReader((tmp_path / "images.csv").open()))
    # one message per photo: k = k/n * 3HW = 512 symbols per 32x32 window
    assert {(r["photo"], int(r["windows"]), int(r["k"])) for r in per} == {
        ("a.png", 4, 2048), ("b.jpg", 2, 1024)}
    # photos this small are decoded by belief propagation (semantic.photo_decoder = "auto")
    assert {r["decoder"] for r in per if r["scheme"] == "digital"} == {"ldpc"}
    assert {(r["photo"], r["scheme"], float(r["snr_db"])) for r in per} == {
        (p, s, snr) for p in ("a.png", "b.jpg") for s in ("codec", "digital")
        for snr in (0.0, 20.0)}
    from psfl.phy import UplinkLink

    n_data = UplinkLink().num_data_per_slot
    for r in per:  # the message fills whole slots: the fewest that hold its k symbols
        slots, k = int(r["slots"]), int(r["k"])
        assert (slots - 1) * n_data < k <= slots * n_data and float(r["airtime_ms"]) > 0
        watts = 10 ** (23 / 10) / 1e3  # the default transmit power, 23 dBm
        assert float(r["energy_mj"]) == pytest.approx(watts * float(r["airtime_ms"]))
    # link.csv's photo rows are the means of images.csv's
    codec_20 = [float(r["psnr"]) for r in per if r["scheme"] == "codec" and r["snr_db"] == "20.0"]
    assert float(rows[1]["codec_psnr"]) == pytest.approx(np.mean(codec_20), abs=1e-4)
    assert Image.open(tmp_path / "photos" / "2-codec-20dB.png").size == (64, 32)
    assert_figures(tmp_path, "photo-1", "photo-2", "psnr_vs_snr")
    orig = np.asarray(Image.open(folder / "a.png"), np.float32) / 255
    rec = np.asarray(Image.open(tmp_path / "photos" / "1-digital-20dB.png"), np.float32) / 255
    row = next(r for r in per if r["photo"] == "a.png" and r["scheme"] == "digital"
               and float(r["snr_db"]) == 20.0)
    assert abs(10 * np.log10(1 / np.mean((orig - rec) ** 2)) - float(row["psnr"])) < 0.1


def test_photos_with_the_patches(trained_run, tmp_path):
    out, folder = trained_run
    argv = ["link", "--out", str(tmp_path), "--checkpoint", str(out / "checkpoints" / "codec.keras"),
            "--images", str(folder), "--patches", "--snr", "20", "--no-baseline",
            "--set", "semantic.eval_images=4", "--set", "semantic.xla=false"]
    assert cli.main(argv) == 0
    rows = list(csv.DictReader((tmp_path / "link.csv").open()))
    assert [(r["dataset"], r["images"]) for r in rows] == [("test", "4"), ("photos", "2")]
    assert_figures(tmp_path, "samples", "photo-1", "photo-2")


def test_sweep_from_checkpoint(trained_run, tmp_path):
    out, _ = trained_run
    ckpt = out / "checkpoints" / "codec.keras"
    argv = ["link", "--out", str(tmp_path), "--checkpoint", str(ckpt), "--snr", "10",
            "--no-baseline", "--channel", "tdl-c", "--csi", "ls",
            "--set", "semantic.eval_images=4", "--set", "semantic.xla=false"]
    assert cli.main(argv) == 0
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["trained_steps"] == 0 and summary["channel"] == "tdl-c"
    assert summary["baseline"] == "skipped" and len(summary["results"]) == 1


def test_baseline_margin_backs_off_the_mcs(trained_run, tmp_path):
    out, _ = trained_run
    argv = ["link", "--out", str(tmp_path), "--checkpoint", str(out / "checkpoints" / "codec.keras"),
            "--snr", "20", "--set", "semantic.eval_images=6", "--set", "semantic.xla=false",
            "--set", "semantic.baseline_margin_db=40"]
    assert cli.main(argv) == 0
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["baseline_margin_db"] == 40.0
    plain = next(r for r in csv.DictReader((out / "link.csv").open())
                 if r["dataset"] == "test" and float(r["snr_db"]) == 20.0)
    backed_off = next(csv.DictReader((tmp_path / "link.csv").open()))
    # 40 dB above every threshold leaves only the lowest MCS: far fewer bits for the JPEG.
    assert float(backed_off["digital_psnr"]) < float(plain["digital_psnr"]) - 3.0
    assert float(backed_off["digital_success"]) == 1.0


def test_cifar10_setting_from_a_local_copy(tmp_path):
    """The field's CIFAR-10 setting (32x32, k/n = 1/6, AWGN) on a user's local copy: the shipped
    codec and the baseline are evaluated on the copy's test batch (here ten smooth images)."""
    from tests.fakes import write_cifar

    d, _ = write_cifar(tmp_path, n_test=10, smooth_test=True)
    out = tmp_path / "run"
    argv = ["link", "--out", str(out), "--checkpoint", "pretrained:csc-awgn", "--channel", "awgn",
            "--snr", "0,20", "--set", "data.source='cifar10'", "--set", f"data.path={str(d)!r}",
            "--set", "semantic.eval_images=0", "--set", "semantic.xla=false"]
    assert cli.main(argv) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["k"] == 512 and summary["k_over_n"] == pytest.approx(1 / 6)
    rows = list(csv.DictReader((out / "link.csv").open()))
    assert [(r["dataset"], r["images"]) for r in rows] == [("test", "10"), ("test", "10")]
    # smooth gradients are easy: a codec fed the wrong images (noise) would sit near 10 dB
    assert 25.0 < float(rows[0]["codec_psnr"]) < float(rows[1]["codec_psnr"])
    assert float(rows[1]["digital_psnr"]) > 25.0


def test_bad_input(trained_run, tmp_path, capsys):
    out, _ = trained_run
    ckpt = out / "checkpoints" / "codec.keras"
    rc = cli.main(["link", "--out", str(tmp_path / "a"), "--checkpoint", str(ckpt),
                   "--model", "gsc-s"])
    err = capsys.readouterr().err
    assert rc == 2 and "holds codec 'csc'" in err and "expected 'gsc-s'" in err
    rc = cli.main(["link", "--out", str(tmp_path / "b"), "--snr", "0,ten"])
    assert rc == 2 and "--snr '0,ten'" in capsys.readouterr().err
    rc = cli.main(["link", "--out", str(tmp_path / "c"), "--checkpoint", str(tmp_path / "x.keras")])
    assert rc == 2 and "not found" in capsys.readouterr().err
    rc = cli.main(["link", "--out", str(tmp_path / "d"), "--channel", "tdl-z"])
    assert rc == 2 and "unknown channel" in capsys.readouterr().err
    rc = cli.main(["link", "--out", str(tmp_path / "e"), "--checkpoint", str(ckpt),
                   "--set", "semantic.baseline_codec=bpg"])
    err = capsys.readouterr().err
    assert rc == 2 and "semantic.baseline_codec" in err and "avif" in err
    # the shipped Rayleigh table holds for the default grid only: another one is refused, naming
    # the fix, before any evaluation
    rc = cli.main(["link", "--out", str(tmp_path / "f"), "--checkpoint", str(ckpt),
                   "--channel", "rayleigh", "--set", "phy.num_subcarriers=48"])
    err = capsys.readouterr().err
    assert rc == 2 and "num_subcarriers" in err and "baseline_calibrate=true" in err, err
    assert len(err.strip().splitlines()) == 1 and not (tmp_path / "f" / "link.csv").exists()


def test_bad_images_are_refused_before_training(tmp_path, capsys):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "broken.png").write_bytes(b"not a png")
    tiny = tmp_path / "tiny"
    tiny.mkdir()
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(tiny / "t.png")
    for folder, message in ((bad, "cannot be read"), (tiny, "smaller than the 32x32 patch"),
                            (bad / "broken.png", "is a file"),
                            (tmp_path / "missing", "does not exist")):
        out = tmp_path / f"run-{folder.name}"
        rc = cli.main(["link", "--out", str(out), "--model", "csc", "--steps", "500",
                       "--images", str(folder)])
        err = capsys.readouterr().err
        assert rc == 2 and message in err and len(err.strip().splitlines()) == 1, err
        assert not (out / "checkpoints").exists()  # refused before any training
