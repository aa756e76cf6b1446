"""What the user gives is honoured or refused in one line (issue #13): the data preflight
before any work, and size-like arguments bounded before any work."""

import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import Image

import psfl.data
from psfl.cli import main
from psfl.config import load_config
from psfl.data import check_data, load_folder
from psfl.errors import DataError

RNG = np.random.default_rng(13)


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
