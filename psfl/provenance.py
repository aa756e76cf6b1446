"""What produced a run: psfl's version and commit, the packages, the machine.

Recorded in every ``summary.json`` (key ``"provenance"``) and in every shipped weight file's
provenance record, so that a figure can be traced to the code and environment that made it.
Nothing secret is recorded: no user or host name, no environment variables.
"""

from __future__ import annotations

import functools
import os
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

__all__ = ["PACKAGES", "commit", "environment", "machine", "packages"]

#: Distributions whose versions a run records (``sionna-no-rt`` is Sionna's PHY-only wheel).
PACKAGES: tuple[str, ...] = ("tensorflow", "keras", "sionna-no-rt", "flwr", "numpy", "pillow",
                             "pyadi-iio")


def machine() -> str:
    """CPU model, core count and operating system, e.g. ``"AMD EPYC 7B13, 2 cores, Linux 6.1"``."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}"


@functools.cache
def commit() -> str:
    """The git commit psfl runs from, ``+local-changes`` if tracked files differ from it;
    ``"unknown"`` outside a git checkout (an installed wheel)."""
    here = Path(__file__).parent
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                             cwd=here, timeout=10)
        if out.returncode != 0:
            return "unknown"
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, cwd=here, timeout=10).stdout
        return out.stdout.strip() + ("+local-changes" if dirty.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def packages() -> dict[str, str]:
    """Installed versions of :data:`PACKAGES` (``"not installed"`` for a missing one)."""
    found = {}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def environment() -> dict[str, Any]:
    """psfl version, commit, Python, package versions and machine, as one JSON-able dict."""
    from psfl import __version__

    return {"psfl": __version__, "commit": commit(), "python": sys.version.split()[0],
            "packages": packages(), "machine": machine()}
