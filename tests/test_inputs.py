"""What the user gives is honoured or refused in one line (issue #13): chosen settings under the
demo's budgets, every PNG pixel mode, the data preflight, and size-like arguments bounded
before any work."""

import struct
import subprocess
import sys
import time
import zlib

import numpy as np
import pytest
from PIL import Image

import psfl.data
from psfl.cli import main
from psfl.commands.demo import _demo_config
from psfl.config import load_config
from psfl.data import check_data, load_folder, read_photos
from psfl.errors import DataError
from psfl.images import read_image, to_rgb_float

TOL = 1 / 255

# -------------------------------------------------------------------------- chosen settings


def test_quick_demo_keeps_what_the_user_set():
    cfg = _demo_config(load_config(None, ["federation.rounds=3"]), quick=True)
    assert cfg.federation.rounds == 3
    assert cfg.federation.local_steps == 4 and cfg.semantic.batch_size == 8  # quick's own
    # Values equal to the defaults (20, 32, 128) are choices too.
    cfg = _demo_config(load_config(None, ["federation.local_steps=20",
                                          "semantic.batch_size=32"]), quick=True)
    assert cfg.federation.local_steps == 20 and cfg.semantic.batch_size == 32
    assert _demo_config(load_config(None, ["semantic.batch_size=32"]),
                        quick=False).semantic.batch_size == 32


def test_quick_demo_keeps_what_the_file_set(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text("[federation]\neval_images = 128\n[data]\nnum_mus = 5\n")
    cfg = _demo_config(load_config(path), quick=True)
    assert cfg.federation.eval_images == 128 and cfg.data.num_mus == 5
    assert cfg.data.max_train == 160 and cfg.federation.rounds == 1


def test_demo_settings_unchanged_without_choices():
    quick = _demo_config(load_config(), quick=True)
    assert (quick.federation.rounds, quick.federation.local_steps, quick.federation.mentor_steps,
            quick.federation.eval_images, quick.federation.backend) == (1, 4, 2, 16, "loop")
    assert (quick.data.max_train, quick.data.max_test, quick.data.num_mus) == (160, 48, 2)
    assert quick.semantic.batch_size == 8 and list(quick.semantic.eval_snr_db) == [0.0, 10.0]
    full = _demo_config(load_config(), quick=False)
    assert (full.federation.rounds, full.federation.local_steps, full.federation.mentor_steps,
            full.federation.eval_images, full.semantic.batch_size) == (5, 40, 16, 64, 16)


# ------------------------------------------------------------------------------ image modes


def _png(path, arr, depth, color_type, width=None):
    """A PNG written byte by byte, for the kinds Pillow reads but cannot write (16-bit RGB, 2-bit
    grey). ``arr`` holds the samples, or below 8 bits the packed bytes of rows ``width`` wide."""
    h = arr.shape[0]

    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    if depth == 16:
        rows = arr.astype(">u2").reshape(h, -1).view(np.uint8)
    else:
        rows = arr.astype(np.uint8).reshape(h, -1)
    raw = b"".join(b"\x00" + r.tobytes() for r in rows)
    ihdr = struct.pack(">IIBBBBB", width or arr.shape[1], h, depth, color_type, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw))
                     + chunk(b"IEND", b""))


def _over_white(rgb, alpha):
    return rgb * alpha[..., None] + (1 - alpha[..., None])


RNG = np.random.default_rng(13)
H, W = 6, 5
PALETTE = RNG.integers(0, 256, (256, 3), dtype=np.uint8)
INDEX = RNG.integers(0, 4, (H, W), dtype=np.uint8)


def _case(kind, path):
    """Write one file of ``kind``; return the float RGB it must load as."""
    grey8 = RNG.integers(0, 256, (H, W), dtype=np.uint8)
    rgb8 = RNG.integers(0, 256, (H, W, 3), dtype=np.uint8)
    alpha8 = RNG.integers(0, 256, (H, W), dtype=np.uint8)
    grey16 = RNG.integers(0, 65536, (H, W), dtype=np.uint16)
    rep = np.repeat
    if kind == "1":
        bits = RNG.integers(0, 2, (H, W)).astype(bool)
        Image.fromarray(bits).save(path)
        return rep(bits[..., None], 3, -1).astype(float)
    if kind == "L":
        Image.fromarray(grey8).save(path)
        return rep(grey8[..., None] / 255, 3, -1)
    if kind == "LA":
        Image.fromarray(np.stack([grey8, alpha8], -1), "LA").save(path)
        return _over_white(rep(grey8[..., None] / 255, 3, -1), alpha8 / 255)
    if kind.startswith("P"):
        im = Image.fromarray(INDEX, "P")
        im.putpalette(PALETTE.tobytes())
        expect = PALETTE[INDEX] / 255
        if kind == "P":
            im.save(path)
            return expect
        if kind == "P+index":  # index 0 fully transparent
            im.save(path, transparency=0)
            return _over_white(expect, (INDEX != 0).astype(float))
        table = np.array([0, 90, 200, 255], np.uint8)  # "P+alpha": an alpha per palette entry
        im.save(path, transparency=table.tobytes())
        return _over_white(expect, table[INDEX] / 255)
    if kind == "RGB":
        Image.fromarray(rgb8).save(path)
        return rgb8 / 255
    if kind == "RGB+key":  # tRNS colour key: pixels of that colour are transparent
        rgb8[:2] = (10, 20, 30)
        Image.fromarray(rgb8).save(path, transparency=(10, 20, 30))
        return _over_white(rgb8 / 255, (rgb8 != (10, 20, 30)).any(-1).astype(float))
    if kind == "RGBA":
        Image.fromarray(np.dstack([rgb8, alpha8]), "RGBA").save(path)
        return _over_white(rgb8 / 255, alpha8 / 255)
    if kind == "I;16":
        Image.fromarray(grey16).save(path)
        return rep(grey16[..., None] / 65535, 3, -1)
    if kind == "I;16+key":
        grey16[0] = 4321
        Image.fromarray(grey16).save(path, transparency=4321)
        return _over_white(rep(grey16[..., None] / 65535, 3, -1), (grey16 != 4321).astype(float))
    if kind == "grey 2-bit":
        levels = RNG.integers(0, 4, (H, 8), dtype=np.uint8)
        packed = np.packbits(np.unpackbits(levels[..., None], axis=-1)[..., 6:].reshape(H, -1),
                             axis=1)
        _png(path, packed, 2, 0, width=8)
        return rep(levels[..., None] / 3, 3, -1)
    rgb16 = RNG.integers(0, 65536, (H, W, 3), dtype=np.uint16)
    _png(path, rgb16, 16, 2)  # "RGB 16-bit"
    return rgb16 / 65535


KINDS = ["1", "L", "LA", "P", "P+index", "P+alpha", "RGB", "RGB+key", "RGBA", "I;16",
         "I;16+key", "grey 2-bit", "RGB 16-bit"]


@pytest.mark.parametrize("kind", KINDS)
def test_every_png_mode_loads_as_float_rgb(tmp_path, kind):
    path = tmp_path / "x.png"
    expect = _case(kind, path)
    got = read_image(path)
    assert got.dtype == np.float32 and got.shape == expect.shape
    np.testing.assert_allclose(got, expect, atol=TOL, rtol=0)


def test_sixteen_bit_rgba_png_within_pillows_precision(tmp_path):
    rgba = RNG.integers(0, 65536, (H, W, 4), dtype=np.uint16)
    _png(tmp_path / "x.png", rgba, 16, 6)
    # Pillow keeps the high byte of colour and alpha: each within 1/257, the blend within 2/255.
    expect = _over_white(rgba[..., :3] / 65535, rgba[..., 3] / 65535)
    np.testing.assert_allclose(read_image(tmp_path / "x.png"), expect, atol=2 / 255, rtol=0)


@pytest.mark.parametrize("mode, values, scale", [
    ("I;16B", np.array([[0, 1000], [40000, 65535]], ">u2"), 65535),
    ("I;16L", np.array([[0, 1000], [40000, 65535]], "<u2"), 65535),
    ("I", np.array([[0, 1000], [40000, 70000]], np.int32), 65535),
    ("F", np.array([[0.0, 12.5], [255.0, 300.0]], np.float32), 255),
])
def test_modes_pillow_cannot_write_as_png(mode, values, scale):
    got = to_rgb_float(Image.frombytes(mode, (2, 2), values.tobytes()))
    expect = np.clip(values.astype(float) / scale, 0, 1)
    np.testing.assert_allclose(got, np.repeat(expect[..., None], 3, -1), atol=1e-6, rtol=0)


def test_folder_readers_decode_sixteen_bit_grey(tmp_path):
    # The bug: "I;16" through convert("RGB") came out all white (PSNR 5.8 dB).
    for i, level in enumerate((1000, 20000)):
        Image.fromarray(np.full((64, 64), level, np.uint16)).save(tmp_path / f"{i}.png")
    photos = read_photos(tmp_path, 32)
    assert [float(p.image.mean()) for p in photos] == pytest.approx([1000 / 65535, 20000 / 65535],
                                                                    abs=1e-6)
    train, test = load_folder(tmp_path, 32, mode="center", test_fraction=0.5)
    levels = sorted(float(s.images.mean()) for s in (train, test))
    assert levels == pytest.approx([1000 / 65535, 20000 / 65535], abs=1e-6)


# ------------------------------------------------------------------------- data preflight


def _folder_cfg(path, *more):
    return load_config(None, ["data.source=folder", f"data.path={str(path)!r}", *more]).data


def test_check_data_refuses_unusable_folders(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        check_data(_folder_cfg(tmp_path / "missing"))
    (tmp_path / "f.png").write_bytes(b"")
    with pytest.raises(DataError, match="is a file; give the folder"):
        check_data(_folder_cfg(tmp_path / "f.png"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no PNG/JPEG images"):
        check_data(_folder_cfg(tmp_path / "empty"))
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "x.png").write_bytes(b"not a png")
    with pytest.raises(DataError, match=r"x\.png.*cannot be read"):
        check_data(_folder_cfg(bad))
    small = tmp_path / "small"
    small.mkdir()
    Image.new("RGB", (40, 20)).save(small / "s.png")
    with pytest.raises(DataError, match=r"s\.png.*40x20, smaller than the 32x32 patch"):
        check_data(_folder_cfg(small))
    one = tmp_path / "one"
    one.mkdir()
    Image.new("RGB", (64, 64)).save(one / "a.png")
    check_data(_folder_cfg(one))
    with pytest.raises(DataError, match="centre-crop mode needs at least two"):
        check_data(_folder_cfg(one, "data.folder_mode=center"))


def test_check_data_bounds_memory_from_headers(tmp_path, monkeypatch):
    Image.new("RGB", (640, 480)).save(tmp_path / "a.png")
    cfg = _folder_cfg(tmp_path, "data.stride=8")
    check_data(cfg)
    # 640x480 float RGB is 3.7 MB, its 32x32 patches at stride 8 another 42 MB.
    monkeypatch.setattr(psfl.data, "MAX_DATA_BYTES", 20 * 2**20)
    with pytest.raises(DataError, match=r"need 0\.0 GiB .* or a larger data\.stride"):
        check_data(cfg)
    with pytest.raises(DataError, match="GiB a data set may hold in memory"):
        load_folder(tmp_path, 32, stride=8)
    check_data(_folder_cfg(tmp_path))  # stride 32: 7.4 MB


def test_check_data_reads_headers_only(tmp_path):
    Image.fromarray(RNG.integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(tmp_path / "a.png")
    data = (tmp_path / "a.png").read_bytes()
    (tmp_path / "a.png").write_bytes(data[:len(data) // 2])  # truncated pixel data
    check_data(_folder_cfg(tmp_path))
    with pytest.raises(DataError, match="cannot be read"):
        load_folder(tmp_path)


def test_check_data_cifar10_and_embedded(tmp_path):
    cfg = load_config(None, ["data.source=cifar10", f"data.path={str(tmp_path / 'c')!r}"]).data
    with pytest.raises(DataError, match="does not exist"):
        check_data(cfg)
    (tmp_path / "c").mkdir()
    with pytest.raises(DataError, match="no CIFAR-10 python batches"):
        check_data(cfg)
    (tmp_path / "c" / "data_batch_1").write_bytes(b"")
    with pytest.raises(DataError, match="test_batch.*is missing"):
        check_data(cfg)
    (tmp_path / "c" / "test_batch").write_bytes(b"")
    check_data(cfg)  # nothing unpickled
    with pytest.raises(DataError, match="data.patch_size = 16"):
        check_data(load_config(None, ["data.source=cifar10", "data.path='x'",
                                      "data.patch_size=16"]).data)
    check_data(load_config().data)
    with pytest.raises(DataError, match="choose data.patch_size <= 300"):
        check_data(load_config(None, ["data.patch_size=301"]).data)


def test_check_data_does_not_start_tensorflow(tmp_path):
    Image.new("RGB", (64, 64)).save(tmp_path / "a.png")
    # The section alone: load_config imports every part, and psfl.phy still starts TensorFlow.
    code = ("import sys; from psfl.config import DataConfig, section_from_dict; "
            "from psfl.data import check_data; "
            "check_data(section_from_dict(DataConfig, {'source': 'folder', 'path': sys.argv[1]}, "
            "'data')); check_data(DataConfig()); "
            "assert 'tensorflow' not in sys.modules, 'tensorflow imported'")
    proc = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr


# ------------------------------------------------------------------ size-like arguments


@pytest.mark.parametrize("spec, fragment", [
    ("10:600:1e9", "COUNT 1000000000 is more than 1000"),
    ("10:inf:5", "must be finite"),
    ("10:600:nan", "must be finite"),
    ("10:600:1e400", "must be finite"),
    ("10:600", "expected START:STOP:COUNT"),
    ("600:10:5", "need 0 < START < STOP"),
])
def test_energy_distances_refused_in_one_line(tmp_path, capsys, spec, fragment):
    t0 = time.perf_counter()
    code = main(["energy", "--distances", spec, "--out", str(tmp_path / "e")])
    seconds = time.perf_counter() - t0
    err = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
    assert code == 2
    assert len(err) == 1 and err[0].startswith("psfl energy: error: --distances") and fragment in err[0]
    assert not (tmp_path / "e" / "energy_vs_distance.csv").exists()
    assert seconds < 30  # before: 132 s, then killed for memory


def test_config_bounds_refused_before_the_run(tmp_path, capsys):
    code = main(["demo", "--quick", "--set", "data.stride=1", "--out", str(tmp_path / "d")])
    err = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
    assert code == 2 and len(err) == 1 and "data.stride: 1 with data.patch_size = 32" in err[0]
    assert not (tmp_path / "d").exists()
