"""The shipped codec zoo: every file loads and has learned; its sources are disjoint from the MUs'
and the test data; names and mismatches give clear errors; psfl pretrain reproduces a file."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from benchmarks import accel_zoo
from psfl.semantic import zoo
from psfl.semantic.config import MODEL_NAMES

NAMES = zoo.available()
#: The one statement of where the BS's public photos come from (pretrain_zoo.sh, accel_zoo).
ORIGIN = accel_zoo.ORIGIN.read_text().strip()


def test_zoo_is_complete_and_small():
    expected = {f"{m}-{c}" for m in MODEL_NAMES for c in zoo.ZOO_CHANNELS}
    assert expected <= set(NAMES)
    for name in set(NAMES) - expected:  # other bandwidth ratios: the ratio in the name
        prov = zoo.provenance(name)
        assert name == f"{prov['model']}-{prov['channel']}{zoo.ratio_tag(prov['k_over_n'])}"
        assert prov["k_over_n"] != pytest.approx(zoo.DEFAULT_K_OVER_N)
        assert f"--set semantic.k_over_n={prov['k_over_n']:g}" in prov["command"]
    total = sum(p.stat().st_size for p in zoo.ZOO_DIR.iterdir())
    assert total <= 25e6, f"zoo is {total / 1e6:.1f} MB"


@pytest.mark.parametrize("name", NAMES)
def test_provenance_is_complete(name):
    prov = zoo.provenance(name)
    assert prov["name"] == name
    for key in ("sources", "steps", "images_seen", "snr_db_range", "seed", "commit",
                "train_wall_s", "machine", "command", "table"):
        assert key in prov, key
    assert prov["images_seen"] == (prov["steps"] * prov["batch_size"]
                                   + prov.get("init_images_seen", 0))
    snrs = [r["snr_db"] for r in prov["table"]]
    assert snrs == sorted(snrs) and len(snrs) >= 3
    for row in prov["table"]:
        assert {"psnr", "ssim", "digital_psnr", "digital_delivered"} <= set(row)
    assert abs(prov["float16_psnr_change_db"]) < 0.02
    assert prov["sources"]["origin"] == ORIGIN


def test_sources_are_disjoint_from_mu_and_test_data(tmp_path):
    from psfl.errors import DataError
    from psfl.semantic.pretrain import SKIMAGE_FILES, mu_source_hashes, public_patches

    mu = mu_source_hashes()
    assert len(set(mu.values())) == len(SKIMAGE_FILES)
    mu_files = {f.lower() for f in SKIMAGE_FILES.values()}
    for name in NAMES:
        files = zoo.provenance(name)["sources"]["files"]
        assert files
        assert not {f["sha256"] for f in files} & set(mu.values()), name
        assert not {f["file"].lower() for f in files} & mu_files, name
    # and the loader refuses an MU photo slipped into the public folder, even renamed
    import skimage.data

    src = Path(skimage.data.__file__).parent / "coffee.png"
    (tmp_path / "pub").mkdir()
    shutil.copy(src, tmp_path / "pub" / "holiday.png")
    with pytest.raises(DataError, match="coffee"):
        public_patches(tmp_path / "pub")


def test_sources_are_disjoint_from_the_heldout_photos():
    """The held-out photographs (README, 'Shipped weights') by SHA-256 and by name."""
    lines = (zoo.ZOO_DIR / "heldout-photos.sha256").read_text().split("\n")
    held = dict(reversed(line.split(maxsplit=1)) for line in lines if line.strip())
    assert len(held) >= 5 and all(len(h) == 64 for h in held.values())
    for name in NAMES:
        files = zoo.provenance(name)["sources"]["files"]
        assert not {f["sha256"] for f in files} & set(held.values()), name
        assert not {f["file"].rsplit("/", 1)[-1] for f in files} & set(held), name


def test_names_resolve_by_channel_and_errors_list_the_zoo():
    assert zoo.resolve("pretrained:gsc-m", "awgn") == "gsc-m-awgn"
    assert zoo.resolve("pretrained:gsc-m", "tdl-c") == "gsc-m-rayleigh"
    assert zoo.resolve("pretrained:csc-rayleigh", "awgn") == "csc-rayleigh"
    with pytest.raises(ValueError, match="available: pretrained:csc-awgn"):
        zoo.resolve("pretrained:resnet")
    with pytest.raises(ValueError, match="data.patch_size=32"):
        zoo.load_pretrained("pretrained:csc", "awgn", image_size=16)
    with pytest.raises(ValueError, match="semantic.k_over_n"):
        zoo.load_pretrained("pretrained:csc", "awgn", k=256)


def test_names_carry_a_bandwidth_ratio_other_than_one_sixth(tmp_path):
    assert (zoo.ratio_tag(1 / 6), zoo.ratio_tag(1 / 16), zoo.ratio_tag(0.3)) == ("", "-1of16",
                                                                                  "-r0.3")
    for name in ("csc-awgn", "csc-awgn-1of16", "csc-rayleigh", "gsc-m-awgn"):
        (tmp_path / f"{name}.npz").touch()
        (tmp_path / f"{name}.json").touch()
    assert zoo.resolve("pretrained:csc", "awgn", tmp_path, k_over_n=1 / 16) == "csc-awgn-1of16"
    assert zoo.resolve("pretrained:csc", "awgn", tmp_path) == "csc-awgn"
    assert zoo.resolve("pretrained:csc-awgn-1of16", "tdl-c", tmp_path) == "csc-awgn-1of16"
    with pytest.raises(ValueError, match=r"csc-rayleigh at k/n = 1/6 \(semantic.k_over_n=0.166667"):
        zoo.resolve("pretrained:csc", "tdl-c", tmp_path, k_over_n=1 / 16)
    with pytest.raises(ValueError, match=r"k/n = 1/6 .*, 1/16 \(semantic.k_over_n=0.0625\)"):
        zoo.resolve("pretrained:csc", "awgn", tmp_path, k_over_n=1 / 12)


def test_cli_bad_pretrained_name(tmp_path, capsys):
    from psfl.cli import main

    assert main(["link", "--out", str(tmp_path), "--checkpoint", "pretrained:gsc-xl"]) == 2
    err = capsys.readouterr().err
    assert "unknown pretrained codec" in err and "pretrained:gsc-m-awgn" in err
    assert (tmp_path / "config.toml").is_file()


@pytest.fixture(scope="module")
def batch():
    from psfl.data import load_skimage

    _, test = load_skimage(32)
    return test.images[np.linspace(0, len(test) - 1, 24).astype(int)]


@pytest.mark.parametrize("name", NAMES)
def test_every_file_beats_a_fresh_codec_over_the_real_link(name, batch):
    from psfl.phy import PhyConfig, UplinkLink
    from psfl.semantic import build_codec, evaluate_codec

    prov = zoo.provenance(name)
    link = UplinkLink(PhyConfig(channel=prov["channel"]))
    trained = zoo.load_pretrained("pretrained:" + name)
    fresh = build_codec(prov["model"], 32, k=prov["k"])
    got = evaluate_codec(trained, link, batch, [10.0])[0]["psnr"]
    base = evaluate_codec(fresh, link, batch, [10.0])[0]["psnr"]
    assert got >= base + 5.0, (name, got, base)


def test_pretrain_command_trains_exports_and_resumes(tmp_path):
    """A tiny gsc-s: masked-patch then channel stage, export, load back; resume trains nothing."""
    from PIL import Image

    from psfl.cli import main

    rng = np.random.default_rng(0)
    (tmp_path / "pub").mkdir()
    for i in range(2):  # smooth random textures: nothing flat, nothing from scikit-image
        base = rng.random((12, 16, 3))
        img = np.kron(base, np.ones((8, 8, 1))) * 0.7 + 0.3 * rng.random((96, 128, 3))
        Image.fromarray((img * 255).astype(np.uint8)).save(tmp_path / "pub" / f"p{i}.png")
    out, export = tmp_path / "run", tmp_path / "zoo"
    argv = ["pretrain", "--model", "gsc-s", "--channel", "awgn", "--images", str(tmp_path / "pub"),
            "--steps", "4", "--mae-steps", "2", "--out", str(out), "--export", str(export),
            "--set", "semantic.eval_snr_db=[0,20]", "--set", "semantic.batch_size=4",
            "--set", "semantic.eval_images=16"]
    assert main(argv) == 0
    hist = [r for r in json.loads((out / "summary.json").read_text())["table"]]
    assert [r["snr_db"] for r in hist] == [0.0, 20.0]
    prov = json.loads((export / "gsc-s-awgn.json").read_text())
    assert prov["steps"] == 4 and prov["mae_steps"] == 2 and prov["images_seen"] == 16
    assert {f["file"] for f in prov["sources"]["files"]} == {"p0.png", "p1.png"}
    assert prov["evaluation"]["images"].startswith("16 evenly spaced held-back")
    codec = zoo.load_pretrained("pretrained:gsc-s-awgn", directory=export)
    ref = np.load(export / "gsc-s-awgn.npz")
    assert np.allclose(codec.get_weights()[0], ref["w0"].astype(np.float32))
    # the two stages checkpointed; running again resumes at the end (no further steps)
    assert (out / "checkpoints" / "mae" / "codec.keras").is_file()
    assert (out / "checkpoints" / "channel" / "codec.keras").is_file()
    assert main(argv + ["--no-eval"]) == 0
    steps = [r["step"] for r in json.loads((out / "checkpoints" / "channel" / "history.json")
                                           .read_text())]
    assert steps[-1] == 4
    # a warm start from that checkpoint: no masked-patch stage, the steps counted on top
    warm, export2 = tmp_path / "warm", tmp_path / "zoo2"
    argv2 = argv[:argv.index("--mae-steps")] + argv[argv.index("--mae-steps") + 2:]
    argv2[argv2.index(str(out))], argv2[argv2.index(str(export))] = str(warm), str(export2)
    init = str(out / "checkpoints" / "channel" / "codec.keras")
    assert main(argv2 + ["--init", init]) == 0
    prov2 = json.loads((export2 / "gsc-s-awgn.json").read_text())
    assert prov2["mae_steps"] == 0 and prov2["init"] == init and prov2["images_seen"] == 16
    assert not (warm / "checkpoints" / "mae").exists()
    assert main(argv2 + ["--init", init, "--mae-steps", "1", "--out", str(tmp_path / "x")]) == 2
    # --now: no further training, the last checkpoint evaluated and exported as it stands
    assert main(argv2 + ["--init", init, "--steps", "9", "--now"]) == 0
    prov3 = json.loads((export2 / "gsc-s-awgn.json").read_text())
    assert prov3["steps"] == 4 and prov3["schedule_steps"] == 9 and "then --now" in prov3["command"]
    assert main(argv2 + ["--now", "--out", str(tmp_path / "empty")]) == 2


def test_pretrain_zero_steps_exports_the_init_weights_measured_on_another_channel(tmp_path,
                                                                                 capsys):
    """--steps 0 --init: one preset file serving another channel, its table measured there."""
    from PIL import Image

    from psfl.cli import main

    (tmp_path / "pub").mkdir()
    rng = np.random.default_rng(1)
    Image.fromarray((rng.random((64, 64, 3)) * 255).astype(np.uint8)).save(
        tmp_path / "pub" / "p.png")
    argv = ["pretrain", "--model", "csc", "--channel", "rayleigh", "--images",
            str(tmp_path / "pub"), "--steps", "0", "--out", str(tmp_path / "run"),
            "--export", str(tmp_path / "zoo"), "--set", "semantic.eval_snr_db=[0,10,20]",
            "--set", "semantic.eval_images=32"]
    assert main(argv) == 2
    assert "0 with --init" in capsys.readouterr().err
    # --now (as benchmarks/pretrain_zoo.sh's export passes) changes nothing: no steps to reach
    assert main(argv + ["--init", "pretrained:csc-awgn", "--now"]) == 0
    prov = json.loads((tmp_path / "zoo" / "csc-rayleigh.json").read_text())
    shipped = zoo.provenance("csc-awgn")
    assert prov["steps"] == 0 and prov["init"] == "pretrained:csc-awgn"
    assert prov["images_seen"] == prov["init_images_seen"] == shipped["images_seen"]
    assert prov["learning_rate"].startswith("none") and prov["augmentation"] == "none"
    assert prov["evaluation"]["link"].startswith("psfl.phy.UplinkLink rayleigh")
    assert [r["snr_db"] for r in prov["table"]] == [0.0, 10.0, 20.0]
    assert prov["table"][0]["psnr"] < prov["table"][-1]["psnr"]
    with np.load(tmp_path / "zoo" / "csc-rayleigh.npz") as a, \
            np.load(zoo.ZOO_DIR / "csc-awgn.npz") as b:
        assert all(np.array_equal(a[f"w{i}"], b[f"w{i}"]) for i in range(len(b.files)))


def test_convergence_rule():
    from psfl.semantic.pretrain import convergence

    hist = [{"step": s, "psnr_test": p, "stage": "channel"}
            for s, p in [(100, 20.0), (500, 25.0), (800, 26.0), (900, 26.05), (1000, 26.08)]]
    got = convergence(hist)
    assert got["over_steps"] == [800, 1000] and got["gain_db"] == pytest.approx(0.08)
    assert got["converged"] and got["psnr_test_db"] == 26.08
    hist[-1]["psnr_test"] = 26.5
    assert not convergence(hist)["converged"]
    assert convergence(hist[:1]) == {}
    assert convergence([{"step": 5, "psnr_test": 9.0, "stage": "mae"}] * 3) == {}


def test_pretrain_bad_input(tmp_path, capsys):
    from psfl.cli import main

    base = ["pretrain", "--model", "csc", "--channel", "awgn", "--steps", "3"]
    assert main(base + ["--images", str(tmp_path / "none"), "--out", str(tmp_path / "a")]) == 2
    assert "does not exist" in capsys.readouterr().err
    (tmp_path / "pub").mkdir()
    assert main(base + ["--images", str(tmp_path / "pub"), "--mae-steps", "1",
                        "--out", str(tmp_path / "b")]) == 2
    assert "masked-patch stage is for GSC" in capsys.readouterr().err
    assert main(["pretrain", "--model", "csc", "--channel", "tdl-z", "--steps", "3", "--images",
                 str(tmp_path / "pub"), "--out", str(tmp_path / "c")]) == 2
    assert "unknown channel" in capsys.readouterr().err


def test_patch_mask_masks_whole_patches_at_the_ratio():
    from psfl.semantic.train import patch_mask

    m = patch_mask(np.random.default_rng(1), 3, (32, 32), 4, 0.75)
    assert m.shape == (3, 32, 32, 1)
    blocks = m[..., 0].reshape(3, 8, 4, 8, 4)
    assert np.all(blocks.min(axis=(2, 4)) == blocks.max(axis=(2, 4)))  # constant per patch
    assert np.all(blocks[:, :, 0, :, 0].reshape(3, -1).sum(axis=1) == 16)  # 25 % of 64 kept
    with pytest.raises(ValueError, match="does not divide"):
        patch_mask(np.random.default_rng(0), 1, (30, 30), 4, 0.5)


def test_pretrain_time_budget_stops_and_resumes(tmp_path):
    from PIL import Image

    from psfl.cli import main

    rng = np.random.default_rng(3)
    (tmp_path / "pub").mkdir()
    Image.fromarray((rng.random((64, 96, 3)) * 255).astype(np.uint8)).save(tmp_path / "pub" / "a.png")
    argv = ["pretrain", "--model", "csc", "--channel", "awgn", "--images", str(tmp_path / "pub"),
            "--steps", "3", "--out", str(tmp_path / "run"), "--no-eval",
            "--set", "semantic.batch_size=4"]
    assert main(argv + ["--minutes", "1e-6"]) == 0
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    hist = tmp_path / "run" / "checkpoints" / "channel" / "history.json"
    assert summary["finished"] is False and (hist.parent / "codec.keras").is_file()
    assert main(argv) == 0
    assert json.loads((tmp_path / "run" / "summary.json").read_text())["finished"] is True
    assert json.loads(hist.read_text())[-1]["step"] == 3


def test_cli_shipped_file_that_does_not_match_names_the_setting(tmp_path, capsys):
    from psfl.cli import main

    rc = main(["link", "--out", str(tmp_path), "--checkpoint", "pretrained:csc",
               "--set", "data.patch_size=16", "--no-baseline"])
    assert rc == 2
    err = capsys.readouterr().err
    assert "does not match the configuration" in err and "data.patch_size=32" in err
    rc = main(["link", "--out", str(tmp_path / "b"), "--checkpoint", "pretrained:gsc-s",
               "--set", "semantic.k_over_n=0.0833333", "--no-baseline"])
    assert rc == 2 and "semantic.k_over_n=0.166667" in capsys.readouterr().err


def test_a_bandwidth_ratio_picks_its_own_shipped_file(tmp_path, capsys):
    """``psfl link`` at k/n = 1/16 takes the zoo's 1/16 csc, and names it for a preset the zoo
    lacks at that ratio (issue 23: the Kodak-class evaluation at 1/16)."""
    from psfl.cli import main

    out = tmp_path / "csc"
    rc = main(["link", "--out", str(out), "--model", "csc", "--channel", "awgn", "--set",
               "semantic.k_over_n=0.0625", "--snr", "10", "--no-baseline"])
    assert rc == 0
    summary = json.loads((out / "summary.json").read_text())
    assert (summary["checkpoint"], summary["k"]) == ("pretrained:csc-awgn-1of16", 192)
    rc = main(["link", "--out", str(tmp_path / "gsc"), "--model", "gsc-m", "--set",
               "semantic.k_over_n=0.0625", "--no-baseline"])
    assert rc == 2 and "or use pretrained:csc-awgn-1of16" in capsys.readouterr().err


def test_mirror_flips_about_half_left_right_and_is_seeded():
    from psfl.semantic.train import mirror

    x = np.random.default_rng(0).random((400, 4, 6, 3)).astype(np.float32)
    y = mirror(np.random.default_rng(7), x)
    flipped = np.array([np.array_equal(b, a[:, ::-1]) for a, b in zip(x, y, strict=True)])
    same = np.array([np.array_equal(b, a) for a, b in zip(x, y, strict=True)])
    assert np.all(flipped ^ same) and 160 < flipped.sum() < 240
    assert np.array_equal(y, mirror(np.random.default_rng(7), x))


def test_warm_start_warms_the_learning_rate_up():
    from psfl.semantic.pretrain import PretrainPlan

    assert PretrainPlan("gsc-m", "rayleigh", steps=40000, init="pretrained:gsc-m").warmup == 1000
    assert PretrainPlan("gsc-m", "rayleigh", steps=4000, init="pretrained:gsc-m").warmup == 200
    assert PretrainPlan("gsc-m", "rayleigh", steps=4000, mae_steps=100).warmup == 0
    assert PretrainPlan("csc", "awgn", steps=10, init="x", warmup_steps=3).warmup == 3


def test_sources_are_disjoint_from_the_kodak_class_photos():
    """The Kodak-class set (README, 'Shipped weights'): no provenance names one of its 24 source
    photos or produced PNGs, by SHA-256 or by file name."""
    lines = (zoo.ZOO_DIR / "kodak-class.sha256").read_text().split("\n")
    pngs = dict(reversed(line.split(maxsplit=1)) for line in lines
                if line.strip() and not line.startswith("#"))
    sources = {line.split()[-1]: (line.split()[2], line.split()[3].rsplit("/", 1)[-1])
               for line in lines if line.startswith("# source ")}
    assert len(pngs) == 24 and set(sources) == set(pngs)
    hashes = set(pngs.values()) | {h for h, _ in sources.values()}
    names = set(pngs) | {n for _, n in sources.values()}
    assert all(len(h) == 64 for h in hashes)
    for name in NAMES:
        files = zoo.provenance(name)["sources"]["files"]
        assert not {f["sha256"] for f in files} & hashes, name
        assert not {f["file"].rsplit("/", 1)[-1] for f in files} & names, name


@pytest.mark.parametrize("channel", zoo.ZOO_CHANNELS)
def test_every_mentor_beats_the_shipped_student_by_1_db_at_10_db(channel):
    """The GSC presets are the stronger codecs PLD assumes: each shipped mentor is at least 1 dB
    above the shipped CSC at 10 dB on the same 128 held-back patches over the real link (issue
    22; the same seed for each, so every codec sees the same channel draws)."""
    from psfl.phy import PhyConfig, UplinkLink
    from psfl.seeding import set_seed
    from psfl.semantic import evaluate_codec
    from psfl.semantic.evaluate import held_back_patches

    images = held_back_patches(32, 128)
    link = UplinkLink(PhyConfig(channel=channel))

    def psnr(model):
        set_seed(7)
        codec = zoo.load_pretrained(f"pretrained:{model}-{channel}")
        return evaluate_codec(codec, link, images, [10.0])[0]["psnr"]

    student = psnr("csc")
    gains = {m: psnr(m) - student for m in MODEL_NAMES if m != "csc"}
    assert min(gains.values()) >= 1.0, (channel, student, gains)


#: Images each file had seen when issue 22 was filed (the zoo at commit 5af8c3c).
IMAGES_AT_ISSUE_22 = {"csc-awgn": 256_000, "csc-rayleigh": 640_000, "gsc-s-awgn": 192_000,
                      "gsc-s-rayleigh": 192_000, "gsc-m-awgn": 80_000, "gsc-m-rayleigh": 192_000,
                      "gsc-l-awgn": 38_400, "gsc-l-rayleigh": 96_000}


@pytest.mark.parametrize("name", NAMES)
def test_every_file_saw_ten_times_the_images_it_had_at_issue_22(name):
    """Issue 22, item 2: never less than 10x the images a file had when the issue was filed (a
    file exported from another with --steps 0 counts that file's images)."""
    assert zoo.provenance(name)["images_seen"] >= 10 * IMAGES_AT_ISSUE_22.get(name, 0), name
