"""The Kodak-class evaluation set: 24 photographs at 768×512 from Debian packages that no codec
trains on.

    python benchmarks/kodak_class.py SRC OUT PACKAGE=VERSION...

SRC holds each package extracted under SRC/<package>/ (``benchmarks/public_photos.sh`` does it);
OUT receives ``NN_<name>.png``. Each photo is cut to 3:2 about its centre (the largest such
rectangle), portrait sources first turned a quarter left where the table says so, then resized
to 768×512 with Pillow's LANCZOS filter and written as an RGB PNG without metadata. The source
files and the PNGs are checked against ``psfl/semantic/zoo/kodak-class.sha256``: a source that
differs is an error (another package version), a PNG that differs is a warning (another Pillow or
libjpeg build may round differently; the sources stay the reference). ``--write`` rewrites that
file instead. Development time only: nothing here runs when psfl runs.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

from PIL import Image

SIZE = (768, 512)
REFERENCE = Path(__file__).resolve().parent.parent / "psfl/semantic/zoo/kodak-class.sha256"

# name, package, path inside the package, rotate (portrait → landscape), photographer, subject
PHOTOS: list[tuple[str, str, str, bool, str, str]] = [
    ("castle", "palapeli-data", "usr/share/palapeli/collection/castle-maintenon.jpg", False,
     "Eric Pouhier", "Château de Maintenon, towers and gardens under clouds"),
    ("bridge", "palapeli-data", "usr/share/palapeli/collection/cincinnati-bridge.jpg", False,
     "Derek Jensen", "Roebling suspension bridge, Cincinnati, at night with lights on the river"),
    ("citrus", "palapeli-data", "usr/share/palapeli/collection/citrus-fruits.jpg", False,
     "US Department of Agriculture", "backlit slices of oranges, lemons and limes"),
    ("bee", "palapeli-data", "usr/share/palapeli/collection/european-honey-bee.jpg", False,
     "John Severns", "honey bee on a purple aster, close-up"),
    ("chameleon", "palapeli-data", "usr/share/palapeli/collection/panther-chameleon-female.jpg",
     True, "B. Navez and others", "female panther chameleon on a branch (portrait, turned)"),
    ("aitzgorri", "lomiri-wallpapers-16.04",
     "usr/share/backgrounds/aitzgorri_by_Aitzol_Berasategi.jpg", False, "Aitzol Berasategi",
     "Aitzgorri mountains, autumn larches, meadow"),
    ("dogs", "lomiri-wallpapers-16.04", "usr/share/backgrounds/friends_by_Aitzol_Berasategi.jpg",
     False, "Aitzol Berasategi", "two spaniels at the window of a wooden house (portrait, cut)"),
    ("stream", "lomiri-wallpapers-16.04", "usr/share/backgrounds/life_by_Aitzol_Berasategi.jpg",
     False, "Aitzol Berasategi", "forest stream over limestone rocks"),
    ("picos", "lomiri-wallpapers-16.04",
     "usr/share/backgrounds/picosdeeuropa_by_Aitzol_Berasategi.jpg", False, "Aitzol Berasategi",
     "Picos de Europa: rock peaks, snow, a path through pasture"),
    ("sunrise", "lomiri-wallpapers-16.04", "usr/share/backgrounds/sunset_by_Aitzol_Berasategi.jpg",
     False, "Aitzol Berasategi", "sun low over mountain ridges, a summit marker"),
    ("nuthatch", "lomiri-wallpapers-20.04", "usr/share/backgrounds/Kleiber_by_Lukas_Baubkus.jpg",
     False, "Lukas Baubkus", "nuthatch on a tree trunk, bark texture, blurred background"),
    ("storm_sky", "lxqt-themes", "usr/share/lxqt/wallpapers/after-the-rain.jpg", False,
     "Stef Binde", "lit storm clouds over a dark ridge at sunset"),
    ("swallowtail", "lxqt-themes", "usr/share/lxqt/wallpapers/butterfly.png", False,
     "Stef Binde", "swallowtail butterfly on a scabious flower, dark background"),
    ("meadow", "lxqt-themes", "usr/share/lxqt/wallpapers/flowers.png", False,
     "Stef Binde", "anemones and grasses in a meadow"),
    ("valendas", "lxqt-themes", "usr/share/lxqt/wallpapers/Valendas.png", False,
     "not stated", "mountain silhouettes under heavy clouds, Valendas"),
    ("fog", "lxqt-themes", "usr/share/lxqt/wallpapers/fog.jpg", False,
     "not stated", "fog over a hillside above a ploughed field"),
    ("hills", "lxqt-themes", "usr/share/lxqt/wallpapers/this-is-not-windows.jpg", False,
     "not stated", "green hills, a row of bare trees, blue sky"),
    ("bar", "kphotoalbum", "usr/share/kphotoalbum/demo/bar55_2.jpg", False,
     "KPhotoAlbum demo album (J. K. Pedersen's)", "a couple toasting at a bar counter"),
    ("portrait", "kphotoalbum", "usr/share/kphotoalbum/demo/jesper_2.jpg", False,
     "KPhotoAlbum demo album (J. K. Pedersen's)", "a man talking, head and shoulders indoors"),
    ("beach", "kphotoalbum", "usr/share/kphotoalbum/demo/cold_water.jpg", False,
     "KPhotoAlbum demo album (J. K. Pedersen's)", "people wading at the tip of Skagen"),
    ("billiards", "kphotoalbum", "usr/share/kphotoalbum/demo/pool.jpg", False,
     "KPhotoAlbum demo album (J. K. Pedersen's)", "two men playing pool, green tables"),
    ("waves", "kphotoalbum", "usr/share/kphotoalbum/demo/skagen.jpg", False,
     "KPhotoAlbum demo album (J. K. Pedersen's)", "choppy sea off Skagen under a pale sky"),
    ("airport", "kphotoalbum", "usr/share/kphotoalbum/demo/snow.jpg", False,
     "KPhotoAlbum demo album (J. K. Pedersen's)", "airliners at gates after a snowfall"),
    ("forest_dog", "kphotoalbum", "usr/share/kphotoalbum/demo/donna.jpg", False,
     "KPhotoAlbum demo album (J. K. Pedersen's)", "black dog in a winter forest, fallen leaves"),
]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def kodak_crop(image: Image.Image, rotate: bool = False) -> Image.Image:
    """The largest 3:2 rectangle about the centre, resized to 768×512 (LANCZOS), as RGB."""
    image = image.convert("RGB")
    if rotate:
        image = image.transpose(Image.Transpose.ROTATE_90)
    w, h = image.size
    if 2 * w >= 3 * h:                        # wider than 3:2: cut the sides
        cw, ch = 3 * h // 2, h
    else:                                     # taller: cut top and bottom
        cw, ch = w, 2 * w // 3
    left, top = (w - cw) // 2, (h - ch) // 2
    return image.crop((left, top, left + cw, top + ch)).resize(SIZE, Image.Resampling.LANCZOS)


def read_reference(path: Path = REFERENCE) -> tuple[dict[str, str], dict[str, str]]:
    """(PNG name → sha256, PNG name → source sha256) from the reference file."""
    pngs, sources = {}, {}
    if path.exists():
        for line in path.read_text().splitlines():
            parts = line.split()
            if line.startswith("# source "):
                sources[parts[-1]] = parts[2]
            elif parts and not line.startswith("#"):
                pngs[parts[1]] = parts[0]
    return pngs, sources


def build(src: Path, out: Path, versions: dict[str, str]) -> list[tuple[str, str, str, str]]:
    """Write the 24 PNGs; return (png name, png sha256, source sha256, package=version:path)."""
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for i, (name, package, inner, rotate, _, _) in enumerate(PHOTOS, 1):
        source = src / package / inner
        if package not in versions:
            sys.exit(f"kodak_class: no version given for {package} (pass {package}=VERSION)")
        if not source.exists():
            sys.exit(f"kodak_class: {source} missing (extract {package}={versions[package]})")
        png = out / f"{i:02d}_{name}.png"
        with Image.open(source) as image:
            kodak_crop(image, rotate).save(png, format="PNG", optimize=False, compress_level=9)
        rows.append((png.name, sha256(png), sha256(source),
                     f"{package}={versions[package]}:{inner}"))
    return rows


def write_reference(rows: list[tuple[str, str, str, str]], path: Path = REFERENCE) -> None:
    lines = ["# Kodak-class evaluation set: 24 photographs at 768x512 from Debian bookworm",
             "# packages that no codec trains on (benchmarks/kodak_class.py: centre crop to 3:2,",
             "# 768x512 with LANCZOS; portrait sources turned where its table says).",
             "# SHA-256 of each PNG (Pillow " + Image.__version__ + "), then of each source file:"]
    lines += [f"{png_hash}  {png}" for png, png_hash, _, _ in rows]
    lines += [f"# source {src_hash}  {origin}  {png}" for png, _, src_hash, origin in rows]
    path.write_text("\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("src", type=Path, help="folder with each package extracted under <package>/")
    ap.add_argument("out", type=Path, help="folder for NN_<name>.png")
    ap.add_argument("packages", nargs="+", help="package=version, one per package used")
    ap.add_argument("--write", action="store_true", help=f"rewrite {REFERENCE.name}")
    args = ap.parse_args(argv)
    versions = dict(p.split("=", 1) for p in args.packages)
    rows = build(args.src, args.out, versions)
    if args.write:
        write_reference(rows)
        print(f"wrote {REFERENCE}")
        return 0
    ref_png, ref_src = read_reference()
    bad_src = [png for png, _, h, _ in rows if ref_src and ref_src.get(png) != h]
    if bad_src:
        sys.exit(f"kodak_class: source files differ from {REFERENCE.name}: {', '.join(bad_src)}")
    bad_png = [png for png, h, _, _ in rows if ref_png and ref_png.get(png) != h]
    if bad_png:
        print(f"kodak_class: warning: {len(bad_png)} PNGs differ from {REFERENCE.name} "
              f"(sources match; another Pillow/libjpeg build?)", file=sys.stderr)
    print(f"{len(rows)} Kodak-class photos in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
