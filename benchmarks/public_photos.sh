#!/usr/bin/env bash
# The BS's public photographs (training) and the held-out photographs (evaluation only), from
# Debian bookworm packages; development time only, nothing here is fetched at run time.
#   bash benchmarks/public_photos.sh [DIR]     # default .public
# Writes DIR/train/<package>/… (what psfl pretrain --images reads) and DIR/heldout/… .
# Only photographs are kept (the packages' illustrations and gradients are left out). The split
# is by photographer: every photo by Aitzol Berasategi in lomiri-wallpapers-16.04, and Lukas
# Baubkus's in lomiri-wallpapers-20.04, are held out, so no scene crosses the split. The
# held-out files are listed by SHA-256 in psfl/semantic/zoo/heldout-photos.sha256 (a test
# checks that no shipped codec's provenance names one of them).
# It also writes DIR/kodak-class/NN_<name>.png: 24 photographs at 768x512 for a Kodak-like
# evaluation, from packages no codec trains on (palapeli-data, lxqt-themes, kphotoalbum's demo
# album) and the held-out photos above; benchmarks/kodak_class.py lists them, cuts each to 3:2
# about its centre and resizes it (Pillow LANCZOS), checked against
# psfl/semantic/zoo/kodak-class.sha256.
set -euo pipefail
DIR=${1:-.public}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
get() {  # package=version → extracted under $tmp/<package>
  (cd "$tmp" && apt-get download "$1" >/dev/null 2>&1)
  dpkg-deb -x "$tmp/${1%%=*}"_*.deb "$tmp/${1%%=*}"
}
get mate-backgrounds=1.26.0-1
get plasma-workspace-wallpapers=4:5.27.5-2
L16=lomiri-wallpapers-16.04=20.04.0-2 L20=lomiri-wallpapers-20.04=20.04.0-2
get $L16
get $L20
KODAK_PKGS="palapeli-data=4:22.12.3-1 lxqt-themes=1.2.0-1 kphotoalbum=5.9.1-1"
for p in $KODAK_PKGS; do get "$p"; done
mkdir -p "$DIR/train/mate-backgrounds" "$DIR/train/plasma-workspace-wallpapers" \
         "$DIR/train/lomiri-wallpapers-16.04" "$DIR/heldout"
cp "$tmp"/mate-backgrounds/usr/share/backgrounds/mate/nature/*.jpg "$DIR/train/mate-backgrounds/"
# plasma: the photographs among its wallpapers, each at its largest size
for w in BytheWater ColdRipple ColorfulCups DarkestHour EveningGlow FallenLeaf Grey Kite \
         OneStandsOut Path Volna summer_1am; do
  src=$(ls -S "$tmp"/plasma-workspace-wallpapers/usr/share/wallpapers/$w/contents/images/* | head -1)
  cp "$src" "$DIR/train/plasma-workspace-wallpapers/$w.${src##*.}"
done
bg="$tmp/lomiri-wallpapers-16.04/usr/share/backgrounds"
for f in Bridge_by_Sander_Klootwijk Dragonfly_by_Bolly Picture_0B_by_freespace \
         Picture_1A_by_freespace Wine_by_Jakkub_Mede analogpattern_by_Peter_Nerlich \
         free_by_Peter_Nerlich greentock_by_Peter_Nerlich seeding_by_Clements_Engelhardt; do
  cp "$bg/$f.jpg" "$DIR/train/lomiri-wallpapers-16.04/"
done
cp "$bg"/*_by_Aitzol_Berasategi.jpg "$DIR/heldout/"
cp "$tmp"/lomiri-wallpapers-20.04/usr/share/backgrounds/Kleiber_by_Lukas_Baubkus.jpg "$DIR/heldout/"
(cd "$DIR/heldout" && sha256sum -- *.jpg) > "$DIR/heldout.sha256"
PY=$(dirname "$0")/../.venv/bin/python; [ -x "$PY" ] || PY=python3
"$PY" "$(dirname "$0")/kodak_class.py" "$tmp" "$DIR/kodak-class" $KODAK_PKGS $L16 $L20
echo "$(find "$DIR/train" -type f | wc -l) training photos in $DIR/train," \
     "$(ls "$DIR/heldout" | wc -l) held out in $DIR/heldout," \
     "$(ls "$DIR/kodak-class" | wc -l) Kodak-class in $DIR/kodak-class"
