"""The README's "Python API" script runs as it stands and prints a finite PSNR."""

from __future__ import annotations

import math
import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def api_script() -> str:
    """The first ```python block of the README's "## Python API" section."""
    text = README.read_text()
    section = text.split("\n## Python API\n", 1)[1].split("\n## ", 1)[0]
    return re.search(r"```python\n(.*?)```", section, re.DOTALL).group(1)


def test_readme_api_script_runs(tmp_path):
    script = tmp_path / "api.py"
    script.write_text(api_script())
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         cwd=tmp_path, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    values = [float(v) for v in re.findall(r"PSNR (\S+) dB", out.stdout)]
    assert len(values) == 3, out.stdout
    assert all(math.isfinite(v) for v in values), out.stdout
    # a trained codec over the link: well above the ~11 dB of uniform grey, better at high SNR
    assert values[-1] > 18.0 and values[-1] >= values[0], out.stdout
