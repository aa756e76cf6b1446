"""Image data: the embedded default set, CIFAR-10 from a local copy, folders of images; MU partitions.

Every loader returns a train and a test :class:`ImageSet` of float32 RGB images in [0, 1] with
shape ``[N, P, P, 3]`` and an integer label per image (the source photo, or the CIFAR-10 class),
which is what non-IID partitions are drawn over.

Train/test split without leakage
    Large photos are cut into square *regions* of ``REGION_PATCHES × patch_size`` pixels. Whole
    regions go to the test split (a fixed fraction per photo, chosen by a seed that depends only on
    the photo, never on the run seed), so no source region appears in both splits, and a patch
    stride smaller than the patch size (overlapping patches) cannot leak either: patches never
    cross a region boundary.

Embedded default
    Natural photos that ship inside scikit-image (no download): astronaut, coffee, chelsea, rocket,
    hubble_deep_field, immunohistochemistry, retina and the left view of stereo_motorcycle (the
    right view is a near copy of the left and would leak). Flat patches (per-patch standard
    deviation below ``FLAT_STD`` = 0.02, e.g. the black corners of retina) are dropped because they
    carry no texture and would inflate PSNR. Photos whose long side exceeds ``MAX_SIDE`` = 640 px
    are downscaled (anti-aliased) to it, so that the two largest (retina, hubble) do not dominate
    the set and patches hold more structure.

Folders of images
    Files are decoded by :mod:`psfl.images` (every PNG/JPEG pixel mode, 16-bit grey included).
    Before any pixel is decoded, the headers are read: every image must hold one patch, and the
    float32 copy of the images plus their patches must fit in ``MAX_DATA_BYTES`` = 8 GiB, since a
    data set is held in memory whole (each Flower worker holds its own copy).
    :func:`check_data` runs these checks, and the CIFAR-10 and embedded ones, on a ``[data]``
    section without loading anything.
"""

from __future__ import annotations

import dataclasses
import pickle
import zlib
from pathlib import Path

import numpy as np

from psfl.config import DataConfig
from psfl.errors import DataError
from psfl.images import Photo, image_files, image_size, read_image, stitch

# Older name kept for psfl.semantic.pretrain, which decodes its photos the same way.
_read_image = read_image

__all__ = [
    "SKIMAGE_SOURCES",
    "ImageSet",
    "Photo",
    "as_dataset",
    "check_data",
    "load_cifar10",
    "load_folder",
    "load_images",
    "read_photos",
    "stitch",
    "load_skimage",
    "partition",
    "partition_stats",
]

SKIMAGE_SOURCES: tuple[str, ...] = (
    "astronaut", "coffee", "chelsea", "rocket", "hubble_deep_field",
    "immunohistochemistry", "retina", "stereo_motorcycle",
)
REGION_PATCHES = 4
FLAT_STD = 0.02
MAX_SIDE = 640
#: Smallest side of an embedded photo after downscaling (chelsea, 451x300).
SKIMAGE_MIN_SIDE = 300
#: Most bytes a folder's float32 images and patches may take (see the module docstring).
MAX_DATA_BYTES = 8 * 2**30
_FLOAT_RGB = 3 * 4  # bytes of one float32 RGB pixel


@dataclasses.dataclass(frozen=True)
class ImageSet:
    """Images with one integer label each.

    Attributes
    ----------
    images : np.ndarray, float32, [N, H, W, 3], values in [0, 1]
    labels : np.ndarray, int64, [N] — source photo (or class) index
    label_names : tuple[str, ...] — name of each label value
    """

    images: np.ndarray
    labels: np.ndarray
    label_names: tuple[str, ...]

    def __post_init__(self) -> None:
        if self.images.ndim != 4 or self.images.shape[-1] != 3:
            raise DataError(f"images must be [N, H, W, 3], got shape {self.images.shape}")
        if len(self.labels) != len(self.images):
            raise DataError("images and labels differ in length")

    def __len__(self) -> int:
        return len(self.images)

    def subset(self, idx: np.ndarray) -> ImageSet:
        return ImageSet(self.images[idx], self.labels[idx], self.label_names)

    def cap(self, n: int, seed: int) -> ImageSet:
        """At most ``n`` images (a seeded random subset, order kept); ``n = 0`` keeps all."""
        if n <= 0 or n >= len(self):
            return self
        idx = np.sort(np.random.default_rng(seed).choice(len(self), size=n, replace=False))
        return self.subset(idx)


def _to_float(img: np.ndarray) -> np.ndarray:
    """An 8-bit RGB array (the embedded photos, CIFAR-10) → float32 in [0, 1]. Image files are
    decoded by :func:`psfl.images.to_rgb_float` instead, which knows every pixel mode."""
    if img.dtype != np.uint8 or img.shape[-1] != 3:
        raise DataError(f"expected 8-bit RGB pixels, got {img.dtype} of shape {img.shape}")
    return img.astype(np.float32) / 255.0


def _stable_seed(name: str) -> int:
    return zlib.crc32(name.encode("utf-8"))


def _regions(h: int, w: int, patch: int) -> list[tuple[int, int, int, int]]:
    """Region boxes (y0, y1, x0, x1); the last row/column absorbs the remainder so every region
    holds at least one patch."""
    region = REGION_PATCHES * patch
    ny, nx = max(1, h // region), max(1, w // region)
    ys = [i * region for i in range(ny)] + [h]
    xs = [j * region for j in range(nx)] + [w]
    return [(ys[i], ys[i + 1], xs[j], xs[j + 1]) for i in range(ny) for j in range(nx)]


def _patches(img: np.ndarray, box: tuple[int, int, int, int], patch: int, stride: int
             ) -> list[np.ndarray]:
    y0, y1, x0, x1 = box
    return [img[y:y + patch, x:x + patch]
            for y in range(y0, y1 - patch + 1, stride) for x in range(x0, x1 - patch + 1, stride)]


def _pick_test(n: int, fraction: float, name: str) -> set[int]:
    """Indices held back for testing: a fixed fraction, at least one and never all (n >= 2)."""
    if n < 2:
        return set()
    order = np.random.default_rng(_stable_seed(name)).permutation(n)
    n_test = min(max(int(round(fraction * n)), 1), n - 1)
    return set(order[:n_test].tolist())


def _cut_regions(img: np.ndarray, patch: int, stride: int, test_fraction: float, name: str
                 ) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Cut ``img`` into patches, whole regions going to train or test (see module docstring)."""
    boxes = _regions(img.shape[0], img.shape[1], patch)
    test_ids = _pick_test(len(boxes), test_fraction, name)
    train, test = [], []
    for i, box in enumerate(boxes):
        (test if i in test_ids else train).extend(_patches(img, box, patch, stride))
    return train, test


def _stack(patches: list[np.ndarray], labels: list[int], names: tuple[str, ...],
           drop_flat: bool) -> ImageSet:
    if not patches:
        return ImageSet(np.zeros((0, 1, 1, 3), np.float32), np.zeros(0, np.int64), names)
    images = np.stack(patches).astype(np.float32)
    lab = np.asarray(labels, np.int64)
    if drop_flat:
        keep = images.reshape(len(images), -1).std(axis=1) >= FLAT_STD
        images, lab = images[keep], lab[keep]
    return ImageSet(np.ascontiguousarray(images), lab, names)


def _split_photos(photos: list[tuple[str, np.ndarray]], patch: int, stride: int,
                  test_fraction: float, drop_flat: bool) -> tuple[ImageSet, ImageSet]:
    """Region split per photo; photos too small for two regions are split as whole photos."""
    names = tuple(n for n, _ in photos)
    small = [i for i, (_, im) in enumerate(photos) if len(_regions(*im.shape[:2], patch)) < 2]
    small_test = {small[j] for j in _pick_test(len(small), test_fraction, "|".join(names))}
    tr, te, ltr, lte = [], [], [], []
    for label, (name, img) in enumerate(photos):
        if label in small:
            a = _patches(img, (0, img.shape[0], 0, img.shape[1]), patch, stride)
            a, b = ([], a) if label in small_test else (a, [])
        else:
            a, b = _cut_regions(img, patch, stride, test_fraction, name)
        tr += a
        te += b
        ltr += [label] * len(a)
        lte += [label] * len(b)
    return _stack(tr, ltr, names, drop_flat), _stack(te, lte, names, drop_flat)


def load_skimage(patch_size: int = 32, stride: int = 0, test_fraction: float = 0.2
                 ) -> tuple[ImageSet, ImageSet]:
    """Patches of the natural photos shipped in scikit-image (see module docstring).

    Output
    ------
    (train, test) : ImageSet, images float32 [N, patch_size, patch_size, 3] in [0, 1];
        labels index :data:`SKIMAGE_SOURCES`.
    """
    import skimage.data
    from skimage.transform import rescale

    photos = []
    for name in SKIMAGE_SOURCES:
        img = getattr(skimage.data, name)()
        if isinstance(img, tuple):  # stereo pair: keep the left view only
            img = img[0]
        img = _to_float(img)
        scale = MAX_SIDE / max(img.shape[:2])
        if scale < 1:
            img = rescale(img, scale, anti_aliasing=True, channel_axis=-1,
                          preserve_range=True).astype(np.float32)
        photos.append((name, img))
    small = [n for n, im in photos if min(im.shape[:2]) < patch_size]
    if small:
        raise DataError(f"patch_size {patch_size} is larger than the embedded photo {small[0]!r}; "
                        f"choose data.patch_size <= {SKIMAGE_MIN_SIDE}")
    return _split_photos(photos, patch_size, stride or patch_size, test_fraction, drop_flat=True)


# ------------------------------------------------------------------------------------ CIFAR-10

_CIFAR_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
                  "ship", "truck")


def _cifar_dir(path: Path) -> Path:
    if (path / "data_batch_1").is_file():
        return path
    if (path / "cifar-10-batches-py" / "data_batch_1").is_file():
        return path / "cifar-10-batches-py"
    raise DataError(f"no CIFAR-10 python batches in {str(path)!r}: expected data_batch_1…5 and "
                    "test_batch (the 'cifar-10-batches-py' folder of the python version); "
                    "set data.path to that folder")


def _cifar_files(path: str | Path, patch_size: int) -> tuple[Path, list[Path]]:
    """The batches folder and its training batches, once the folder and test_batch are there."""
    if patch_size != 32:
        raise DataError(f"CIFAR-10 images are 32x32 but data.patch_size = {patch_size}; "
                        "set data.patch_size = 32")
    root = Path(path)
    if not root.exists():
        raise DataError(f"CIFAR-10 path {str(root)!r} does not exist; set data.path to the "
                        "extracted cifar-10-batches-py folder")
    d = _cifar_dir(root)
    if not (d / "test_batch").is_file():
        raise DataError(f"{str(d / 'test_batch')!r} is missing; re-extract the CIFAR-10 archive")
    return d, sorted(d.glob("data_batch_[1-5]"))


def _read_cifar_batch(file: Path) -> tuple[np.ndarray, np.ndarray]:
    try:
        with open(file, "rb") as fh:
            batch = pickle.load(fh, encoding="bytes")
        data = np.asarray(batch[b"data"], dtype=np.uint8)
        labels = np.asarray(batch[b"labels"], dtype=np.int64)
    except (OSError, pickle.UnpicklingError, EOFError, KeyError, TypeError, ValueError) as exc:
        raise DataError(f"CIFAR-10 batch {str(file)!r} is corrupt or not a python-version batch "
                        f"({exc.__class__.__name__}); re-extract cifar-10-python.tar.gz") from exc
    if data.ndim != 2 or data.shape[1] != 3072 or len(labels) != len(data):
        raise DataError(f"CIFAR-10 batch {str(file)!r} has data of shape {data.shape}; expected "
                        "[N, 3072] with N labels")
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise DataError(f"CIFAR-10 batch {str(file)!r} has labels outside 0…9")
    images = data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return images, labels


def load_cifar10(path: str | Path, patch_size: int = 32) -> tuple[ImageSet, ImageSet]:
    """CIFAR-10 from a local copy of the python batches (official train/test split).

    Parameters
    ----------
    path
        The ``cifar-10-batches-py`` folder or its parent. Missing training batches are allowed
        (a partial copy), ``test_batch`` is required.
    patch_size
        Must be 32 (CIFAR-10 images are 32×32).

    Output
    ------
    (train, test) : ImageSet, images float32 [N, 32, 32, 3] in [0, 1]; labels are the classes.
    """
    d, tr_files = _cifar_files(path, patch_size)
    tr = [_read_cifar_batch(f) for f in tr_files]
    te_img, te_lab = _read_cifar_batch(d / "test_batch")
    tr_img = np.concatenate([t[0] for t in tr])
    tr_lab = np.concatenate([t[1] for t in tr])
    return (ImageSet(_to_float(tr_img), tr_lab, _CIFAR_CLASSES),
            ImageSet(_to_float(te_img), te_lab, _CIFAR_CLASSES))


# -------------------------------------------------------------------------------------- folders


def _center_crop(img: np.ndarray, size: int) -> np.ndarray:
    h, w = img.shape[:2]
    y, x = (h - size) // 2, (w - size) // 2
    return img[y:y + size, x:x + size]


def _num_patches(h: int, w: int, patch: int, stride: int) -> int:
    """Patches :func:`_split_photos` cuts from an ``h`` x ``w`` photo (all regions together)."""
    return sum(max(0, (y1 - y0 - patch) // stride + 1) * max(0, (x1 - x0 - patch) // stride + 1)
               for y0, y1, x0, x1 in _regions(h, w, patch))


def _folder_files(root: Path, patch_size: int, stride: int | None, fix: str) -> list[Path]:
    """The image files of a folder, checked from their headers before any pixel is decoded.

    Every image must hold one patch, and the float32 images with their patches (cut at
    ``stride``, or one centre crop per image when ``stride`` is None) must fit in
    :data:`MAX_DATA_BYTES`.
    """
    files = image_files(root, "image folder", fix)
    pixels = patches = 0
    for f in files:
        w, h = image_size(f)
        if min(w, h) < patch_size:
            raise DataError(f"image {str(f)!r} is {w}x{h}, smaller than the "
                            f"{patch_size}x{patch_size} patch; lower data.patch_size or remove it")
        pixels += w * h
        patches += 1 if stride is None else _num_patches(h, w, patch_size, stride)
    need = _FLOAT_RGB * (pixels + patches * patch_size**2)
    if need > MAX_DATA_BYTES:
        raise DataError(f"the {len(files)} images in {str(root)!r} need {need / 2**30:.1f} GiB "
                        f"as float32 images and patches, more than the {MAX_DATA_BYTES // 2**30} "
                        "GiB a data set may hold in memory; use fewer or smaller images"
                        + ("" if stride is None else " or a larger data.stride"))
    return files


def _read_photos(root: Path, patch_size: int, stride: int | None, fix: str
                 ) -> list[tuple[str, np.ndarray]]:
    """(name relative to ``root``, float image) of every image file (see :func:`_folder_files`)."""
    return [(str(f.relative_to(root)), read_image(f))
            for f in _folder_files(root, patch_size, stride, fix)]


def read_photos(path: str | Path, patch_size: int) -> list[Photo]:
    """Every PNG/JPEG image in a folder (recursively, sorted by path) as a :class:`Photo` of
    ``patch_size`` tiles, for evaluation on the user's own images. Raises a :class:`DataError`
    naming the fix for a missing folder, a folder without images, an unreadable file or an
    image smaller than one tile."""
    root = Path(path)
    if root.is_file():
        raise DataError(f"--images {str(root)!r} is a file; give the folder that holds it")
    photos = []
    for name, img in _read_photos(root, patch_size, patch_size,
                                  "give a folder of PNG/JPEG images"):
        rows, cols = img.shape[0] // patch_size, img.shape[1] // patch_size
        photos.append(Photo(name, img[:rows * patch_size, :cols * patch_size], (rows, cols)))
    return photos


_FOLDER_FIX = "set data.path to a folder of PNG/JPEG images"


def _one_image(root: Path) -> str:
    return (f"folder {str(root)!r} has one image; centre-crop mode needs at least two (one for "
            "testing) — use data.folder_mode = 'tiles'")


def load_folder(path: str | Path, patch_size: int = 32, stride: int = 0, mode: str = "tiles",
                test_fraction: float = 0.2) -> tuple[ImageSet, ImageSet]:
    """Every PNG/JPEG image in a folder (recursively), of any size.

    Parameters
    ----------
    path
        Folder to search.
    patch_size, stride
        Patch side and stride in pixels (stride 0 = patch_size).
    mode
        ``"tiles"``: cut each image into patches, split by region as for the embedded set.
        ``"center"``: one centre crop per image, split by image (needs at least 2 images).
    test_fraction
        Fraction of regions (tiles) or images (center) held back.

    Output
    ------
    (train, test) : ImageSet, images float32 [N, patch_size, patch_size, 3] in [0, 1];
        labels index the files (sorted by path).
    """
    root = Path(path)
    if mode not in ("tiles", "center"):
        raise DataError(f"unknown folder mode {mode!r}; use 'tiles' or 'center'")
    photos = _read_photos(root, patch_size, stride or patch_size if mode == "tiles" else None,
                          _FOLDER_FIX)
    if mode == "tiles":
        return _split_photos(photos, patch_size, stride or patch_size, test_fraction,
                             drop_flat=False)
    if len(photos) < 2:
        raise DataError(_one_image(root))
    names = tuple(n for n, _ in photos)
    crops = np.stack([_center_crop(im, patch_size) for _, im in photos])
    test_ids = _pick_test(len(photos), test_fraction, str(root.name))
    test_idx = np.array(sorted(test_ids), dtype=np.int64)
    train_idx = np.array([i for i in range(len(photos)) if i not in test_ids], dtype=np.int64)
    labels = np.arange(len(photos), dtype=np.int64)
    return (ImageSet(crops[train_idx], labels[train_idx], names),
            ImageSet(crops[test_idx], labels[test_idx], names))


# ------------------------------------------------------------------------------------- dispatch


def check_data(cfg: DataConfig) -> None:
    """Refuse a ``[data]`` section whose source is missing or unusable, in one line.

    Cheap: no pixel is decoded, no CIFAR-10 batch unpickled, TensorFlow not imported, so a
    command can call it before it starts workers (each of Flower's would otherwise report the
    same problem as a traceback). Checked per ``data.source``:

    * ``"skimage"``: ``data.patch_size`` fits the smallest embedded photo;
    * ``"cifar10"``: ``data.patch_size`` is 32, the batches folder holds ``data_batch_1`` and
      ``test_batch``;
    * ``"folder"``: the folder holds PNG/JPEG files whose headers Pillow reads, each at least one
      patch, at least two in centre-crop mode, within ``MAX_DATA_BYTES`` (module docstring).

    What only decoding can find (a truncated file, a corrupt batch, a set too small for the
    test split) is still raised by :func:`load_images`.

    Raises
    ------
    DataError
        A ``ValueError`` naming the path or setting and the fix.
    """
    if cfg.source == "skimage":
        if cfg.patch_size > SKIMAGE_MIN_SIDE:
            raise DataError(f"data.patch_size {cfg.patch_size} is larger than the smallest "
                            f"embedded photo; choose data.patch_size <= {SKIMAGE_MIN_SIDE}")
    elif cfg.source == "cifar10":
        _cifar_files(cfg.path, cfg.patch_size)
    else:
        root = Path(cfg.path)
        if root.is_file():
            raise DataError(f"data.path {str(root)!r} is a file; give the folder that holds the "
                            "images")
        center = cfg.folder_mode == "center"
        files = _folder_files(root, cfg.patch_size, None if center else cfg.stride or
                              cfg.patch_size, _FOLDER_FIX)
        if center and len(files) < 2:
            raise DataError(_one_image(root))


def load_images(cfg: DataConfig, seed: int = 0) -> tuple[ImageSet, ImageSet]:
    """Load the train and test sets described by the ``[data]`` section (caps applied)."""
    if cfg.source == "skimage":
        train, test = load_skimage(cfg.patch_size, cfg.stride, cfg.test_fraction)
    elif cfg.source == "cifar10":
        train, test = load_cifar10(cfg.path, cfg.patch_size)
    else:
        train, test = load_folder(cfg.path, cfg.patch_size, cfg.stride, cfg.folder_mode,
                                  cfg.test_fraction)
    if len(train) == 0 or len(test) == 0:
        raise DataError(f"data source {cfg.source!r} gave {len(train)} training and {len(test)} "
                        "test images; use more or larger images, or a smaller data.patch_size")
    return train.cap(cfg.max_train, seed), test.cap(cfg.max_test, seed + 1)


def as_dataset(images: np.ndarray, batch_size: int, *, shuffle: bool = False, seed: int = 0,
               repeat: bool = False, drop_remainder: bool = False):
    """A ``tf.data.Dataset`` of image batches.

    Input
    -----
    images : np.ndarray, float32, [N, H, W, 3] in [0, 1]

    Output
    ------
    tf.data.Dataset yielding tf.float32 [batch_size, H, W, 3] (the last batch may be smaller
    unless ``drop_remainder``). With ``shuffle``, the order depends only on ``seed``.
    """
    import tensorflow as tf

    images = np.asarray(images, np.float32)
    if images.ndim != 4 or images.shape[-1] != 3:
        raise DataError(f"images must be [N, H, W, 3], got {images.shape}")
    ds = tf.data.Dataset.from_tensor_slices(images)
    if shuffle:
        ds = ds.shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
    if repeat:
        ds = ds.repeat()
    return ds.batch(batch_size, drop_remainder=drop_remainder).prefetch(tf.data.AUTOTUNE)


# ------------------------------------------------------------------------------------ partition


def partition(labels: np.ndarray, num_mus: int, scheme: str = "dirichlet", alpha: float = 0.5,
              seed: int = 0, min_size: int = 2, max_tries: int = 100) -> list[np.ndarray]:
    """Split sample indices across MUs.

    ``iid``: a seeded shuffle cut into ``num_mus`` near-equal parts. ``dirichlet``: for every
    label ``c`` draw ``q_c ~ Dir(α·1)`` over the MUs and deal the samples of ``c`` in those
    proportions (Hsu et al., 2019). Small α gives MUs dominated by few labels, large α tends to
    IID. Draws are repeated (at most ``max_tries``) until every MU holds at least ``min_size``
    samples.

    Input
    -----
    labels : int array [N]

    Output
    ------
    list of ``num_mus`` sorted int64 index arrays, disjoint, covering all N samples.
    """
    labels = np.asarray(labels)
    n = len(labels)
    if num_mus < 1:
        raise ValueError(f"num_mus must be >= 1, got {num_mus}")
    if n < num_mus * min_size:
        raise DataError(f"{n} training images cannot give {num_mus} MUs {min_size} images each; "
                        "lower data.num_mus or use more data")
    rng = np.random.default_rng(seed)
    if scheme == "iid":
        return [np.sort(p).astype(np.int64) for p in np.array_split(rng.permutation(n), num_mus)]
    if scheme != "dirichlet":
        raise ValueError(f"unknown partition scheme {scheme!r}; use 'iid' or 'dirichlet'")
    if not alpha > 0:
        raise ValueError(f"alpha must be > 0, got {alpha}")
    classes = np.unique(labels)
    for _ in range(max_tries):
        parts: list[list[np.ndarray]] = [[] for _ in range(num_mus)]
        for c in classes:
            idx = rng.permutation(np.flatnonzero(labels == c))
            q = rng.dirichlet(np.full(num_mus, alpha))
            cuts = (np.cumsum(q)[:-1] * len(idx)).astype(int)
            for mu, chunk in enumerate(np.split(idx, cuts)):
                parts[mu].append(chunk)
        out = [np.sort(np.concatenate(p)).astype(np.int64) for p in parts]
        if min(len(p) for p in out) >= min_size:
            return out
    raise DataError(f"could not give each of {num_mus} MUs {min_size} images with alpha={alpha} "
                    f"in {max_tries} draws; raise data.alpha, lower data.num_mus or set "
                    "data.partition = iid")


def partition_stats(labels: np.ndarray, parts: list[np.ndarray]) -> dict[str, float]:
    """Summary of a partition: sizes, and how skewed the MUs' label mixes are.

    ``mean_tv``: mean total-variation distance between each MU's label histogram and the global
    one (0 for perfectly IID, → 1 when every MU holds a single label). ``size_cv``: coefficient of
    variation of the MU sizes.
    """
    labels = np.asarray(labels)
    classes = np.unique(labels)
    glob = np.array([(labels == c).mean() for c in classes])
    tvs, sizes = [], []
    for p in parts:
        sizes.append(len(p))
        if len(p) == 0:
            tvs.append(1.0)
            continue
        h = np.array([(labels[p] == c).mean() for c in classes])
        tvs.append(0.5 * np.abs(h - glob).sum())
    sizes_a = np.asarray(sizes, float)
    return {"mean_tv": float(np.mean(tvs)), "size_cv": float(sizes_a.std() / sizes_a.mean()),
            "min_size": int(sizes_a.min()), "max_size": int(sizes_a.max())}
