"""What every command's figures must be: a PNG and a PDF of the same name (psfl.plotting)."""

from __future__ import annotations

from pathlib import Path

MAGIC = {"png": b"\x89PNG\r\n\x1a\n", "pdf": b"%PDF-"}


def assert_figures(out: Path, *names: str) -> None:
    """Each figure ``name`` (with or without ``.png``) exists in ``out`` as a non-trivial PNG and
    PDF."""
    for name in names:
        stem = name.removesuffix(".png")
        for fmt, magic in MAGIC.items():
            path = Path(out) / f"{stem}.{fmt}"
            assert path.is_file(), path
            data = path.read_bytes()
            assert data.startswith(magic) and len(data) > 1000, (path, data[:8], len(data))
