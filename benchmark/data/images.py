"""Test images: reading image folders, centre crops, and the offline scikit-image photographs.

Every loader returns ``(images, names)`` with ``images`` a float32 tensor (B, 3, H, W) in [0, 1].
"""

import os
import tempfile
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from benchmark.data.paths import (
    DataNotFoundError,
    cache_dir,
    download_allowed,
    find_data_dir,
    not_found_message,
)

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")
SET3C_NAMES = ("butterfly", "leaves", "starfish")
SKIMAGE_PHOTOS = ("astronaut", "chelsea", "coffee", "rocket")
# Images where Poisson noise is the rule, also inside scikit-image: the Hubble deep field
# (astronomy), an immunohistochemistry slide (microscopy) and a retina fundus photograph.
SKIMAGE_SCIENCE = ("hubble_deep_field", "immunohistochemistry", "retina")
SKIMAGE_SETS = {"photographs": SKIMAGE_PHOTOS, "science": SKIMAGE_SCIENCE}


def to_tensor(array):
    """(H, W, 3) uint8 array -> (3, H, W) float32 tensor in [0, 1]."""
    array = np.asarray(array)
    if array.ndim == 2:
        array = np.repeat(array[..., None], 3, axis=-1)
    return torch.from_numpy(np.ascontiguousarray(array[..., :3])).permute(2, 0, 1).float() / 255.0


def center_crop(image, size):
    """Centre crop of a (C, H, W) tensor to ``size`` x ``size``; a portrait image is turned first.

    BSD images are 481x321 or 321x481: turning portraits keeps every crop in the same content
    scale.
    """
    if size is None:
        return image
    if image.shape[-2] > image.shape[-1]:
        image = image.transpose(-2, -1)
    height, width = image.shape[-2:]
    if size > min(height, width):
        raise ValueError(f"Crop size {size} is larger than the image ({height}x{width}).")
    top, left = (height - size) // 2, (width - size) // 2
    return image[..., top:top + size, left:left + size]


def read_image(path):
    """One RGB image file as a (3, H, W) tensor in [0, 1]."""
    with Image.open(path) as img:
        return to_tensor(np.array(img.convert("RGB")))


def list_images(folder):
    """Image files under ``folder`` (recursively), sorted by name."""
    files = [p for p in Path(folder).rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES]
    return sorted(files, key=lambda p: p.name)


def stack(images, names):
    """Stack same-size (3, H, W) images into a batch; refuse mixed sizes with a clear error."""
    shapes = {tuple(im.shape) for im in images}
    if len(shapes) != 1:
        raise ValueError(f"Images of different sizes {sorted(shapes)} cannot form a batch; "
                         "give a crop size.")
    return torch.stack(images), list(names)


def download_dataset(name, root=None):
    """Download deepinv's ``<name>.zip`` into ``root/<name>`` (default: deepinv's cache); a
    failure or an interruption leaves no ``<name>`` folder behind.

    deepinv's ``load_dataset`` creates the target folder before downloading, so an interrupted
    download would later read as an empty data set. We download into a temporary folder beside
    the target and move the extracted folder in place only when everything succeeded.
    """
    from deepinv.utils.demo import load_dataset  # noqa: PLC0415 (heavy: deepinv)

    target = (cache_dir() / "datasets" if root is None else Path(root)) / name
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=f".{name}-download-") as tmp:
        load_dataset(name, transform=None, data_dir=tmp, download=True)
        extracted = Path(tmp) / name
        if not list_images(extracted):
            raise DataNotFoundError(f"The download of {name} held no images.")
        os.replace(extracted, target)
    return target


def locate_dataset(name, required_files=(), extra_dirs=()):
    """Folder holding the image set ``name``: on disk first, else downloaded (unless offline)."""
    folder = find_data_dir(name, required_files, extra_dirs)
    if folder is not None:
        return folder
    what = f"The image set {name!r}"
    if not download_allowed():
        raise DataNotFoundError(not_found_message(
            name, what, "downloads are disabled (POISSON_DEBLUR_OFFLINE=1)", extra_dirs))
    try:
        return download_dataset(name)
    except Exception as exc:
        raise DataNotFoundError(not_found_message(
            name, what, f"its download failed ({exc})", extra_dirs)) from exc


def load_set3c(extra_dirs=()):
    """set3c (butterfly, leaves, starfish; 256x256), in that order."""
    folder = locate_dataset("set3c", extra_dirs=extra_dirs)
    files = {p.stem: p for p in list_images(folder)}
    missing = [n for n in SET3C_NAMES if n not in files]
    if missing:
        raise DataNotFoundError(f"set3c folder {folder} lacks {missing}.")
    return stack([read_image(files[n]) for n in SET3C_NAMES], SET3C_NAMES)


def load_cbsd68(n_images=68, crop=256, extra_dirs=()):
    """The first ``n_images`` CBSD68 images (sorted by BSD id), centre-cropped to ``crop``."""
    folder = locate_dataset("CBSD68", extra_dirs=extra_dirs)
    files = list_images(folder)
    if not 1 <= n_images <= len(files):
        raise ValueError(f"n_images must be in [1, {len(files)}], got {n_images}.")
    files = files[:n_images]
    return stack([center_crop(read_image(p), crop) for p in files], [p.stem for p in files])


def load_skimage_photos(crop=256, names=SKIMAGE_PHOTOS):
    """Colour images shipped inside scikit-image (``names``: functions of ``skimage.data``; the
    sets of :data:`SKIMAGE_SETS`), centre-cropped: needs no network."""
    import skimage.data  # noqa: PLC0415 (heavy: skimage)

    images = [center_crop(to_tensor(getattr(skimage.data, n)()), crop) for n in names]
    return stack(images, names)


def smooth_random_images(n_images, size, seed):
    """Random piecewise-smooth colour images: low-resolution noise, upsampled, plus a bright
    disc."""
    generator = torch.Generator().manual_seed(int(seed))
    coarse = torch.rand(n_images, 3, max(size // 8, 2), max(size // 8, 2), generator=generator)
    images = torch.nn.functional.interpolate(coarse, size=(size, size), mode="bicubic",
                                             align_corners=False)
    yy, xx = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
    disc = ((yy - size / 2) ** 2 + (xx - size / 3) ** 2 < (size / 5) ** 2).float()
    images = 0.15 + 0.6 * images.clamp(0, 1) + 0.2 * disc
    return images.clamp(0.0, 1.0), [f"random_{i}" for i in range(n_images)]
