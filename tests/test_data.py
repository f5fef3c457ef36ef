"""Data sets on disk, downloads that fail cleanly, and the offline error messages."""

from pathlib import Path

import pytest
import torch
from benchopt.benchmark import Benchmark
from conftest import real_data

import benchmark.data.images as images
import benchmark.data.paths as data_paths
import benchmark.maths.physics as physics
from benchmark.data.images import (
    SKIMAGE_SETS,
    center_crop,
    load_cbsd68,
    load_set3c,
    load_skimage_photos,
    locate_dataset,
    smooth_random_images,
)
from benchmark.data.paths import DataNotFoundError
from benchmark.data.problem import make_problem
from benchmark.maths.physics import check_kernel_name, motion_kernel

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def isolated(monkeypatch, tmp_path):
    """No project data folder and an empty deepinv cache: only what a test puts in place."""
    monkeypatch.setattr(data_paths, "PROJECT_ROOT", tmp_path / "project")
    for module in (data_paths, images, physics):
        monkeypatch.setattr(module, "cache_dir", lambda: tmp_path / "cache")
    monkeypatch.delenv("POISSON_DEBLUR_DATA", raising=False)
    return tmp_path


def test_set3c_from_shared_data(monkeypatch):
    monkeypatch.setenv("POISSON_DEBLUR_DATA", str(real_data("set3c")))
    x, names = load_set3c()
    assert names == ["butterfly", "leaves", "starfish"]
    assert x.shape == (3, 3, 256, 256) and 0 <= x.min() and x.max() <= 1


def test_cbsd68_crops_and_counts(monkeypatch):
    monkeypatch.setenv("POISSON_DEBLUR_DATA", str(real_data("CBSD68")))
    x, names = load_cbsd68(n_images=3, crop=128)
    assert x.shape == (3, 3, 128, 128) and len(names) == 3 and names == sorted(names)
    with pytest.raises(ValueError, match="n_images"):
        load_cbsd68(n_images=0)


def test_skimage_photos_need_no_network():
    x, names = load_skimage_photos(crop=64)
    assert x.shape == (4, 3, 64, 64) and names[0] == "astronaut"
    x, names = load_skimage_photos(crop=64, names=SKIMAGE_SETS["science"])
    assert x.shape == (3, 3, 64, 64) and names == list(SKIMAGE_SETS["science"])
    assert float(x.min()) >= 0.0 and float(x.max()) <= 1.0


def test_skimage_photos_refuses_an_unknown_image_set_by_name():
    datasets = {cls.name: cls for cls in Benchmark(ROOT).get_datasets()}
    with pytest.raises(ValueError, match="unknown images 'astro'; choose one of 'photographs', "
                                         "'science'"):
        datasets["skimage_photos"].get_instance(images="astro", crop=32).get_data()


def test_center_crop_turns_portraits():
    portrait = torch.arange(2 * 6 * 4.0).view(2, 6, 4)
    assert center_crop(portrait, 4).shape == (2, 4, 4)
    with pytest.raises(ValueError, match="larger than the image"):
        center_crop(portrait, 5)


def test_set3c_absent_while_offline_names_the_folders(isolated, monkeypatch):
    monkeypatch.setenv("POISSON_DEBLUR_OFFLINE", "1")
    with pytest.raises(DataNotFoundError, match="downloads are disabled") as info:
        load_set3c()
    assert "set3c" in str(info.value) and "POISSON_DEBLUR_DATA" in str(info.value)
    assert not (isolated / "cache" / "datasets" / "set3c").exists()


def test_motion_kernel_absent_while_offline(isolated, monkeypatch):
    monkeypatch.setenv("POISSON_DEBLUR_OFFLINE", "1")
    with pytest.raises(DataNotFoundError, match="Levin09.mat"):
        motion_kernel()


def test_failed_download_leaves_nothing_behind(isolated, monkeypatch):
    import deepinv.utils.demo  # noqa: PLC0415 (heavy: deepinv)

    def failing_download(name, transform, data_dir, download, **kwargs):
        folder = Path(data_dir) / name
        folder.mkdir(parents=True)
        (folder / "half_written.png").write_bytes(b"\x89PNG")
        raise OSError("connection reset")

    monkeypatch.delenv("POISSON_DEBLUR_OFFLINE", raising=False)
    monkeypatch.setattr(deepinv.utils.demo, "load_dataset", failing_download)
    with pytest.raises(DataNotFoundError, match="download failed"):
        locate_dataset("set3c")
    leftovers = list((isolated / "cache" / "datasets").iterdir())
    assert leftovers == []


def test_empty_folder_is_not_taken_for_a_dataset(isolated, monkeypatch):
    (isolated / "project" / "data" / "set3c").mkdir(parents=True)
    monkeypatch.setenv("POISSON_DEBLUR_OFFLINE", "1")
    with pytest.raises(DataNotFoundError):
        load_set3c()


def test_make_problem_draws_the_same_noise_for_every_call():
    x, names = smooth_random_images(2, 16, seed=0)
    first = make_problem(x, names, "uniform", 40, seed=5)
    second = make_problem(x, names, "uniform", 40, seed=5)
    assert torch.equal(first["y"], second["y"]) and first["alpha"] == 40.0
    with pytest.raises(ValueError, match="alpha"):
        make_problem(x, names, "uniform", -1, seed=5)


@pytest.mark.parametrize("name, parameters, data", [
    ("simulated", dict(size=32), ()),
    ("skimage_photos", dict(crop=32), ()),
    ("skimage_photos", dict(crop=32, images="science"), ()),
    ("set3c", {}, ("set3c",)),
    ("cbsd68", dict(n_images=1, crop=32), ("CBSD68",)),
])
def test_every_dataset_hands_the_kernel_with_its_name(name, parameters, data, monkeypatch):
    """What benchopt loads from datasets/: the kernel array and the name that goes with it, which
    the objective checks against the array (``check_kernel_name``)."""
    monkeypatch.setenv("POISSON_DEBLUR_DATA", str(real_data("kernels", *data)))
    datasets = {cls.name: cls for cls in Benchmark(ROOT).get_datasets()}
    assert set(datasets) == {"simulated", "skimage_photos", "set3c", "cbsd68"}
    for kernel in ("motion", "uniform"):
        problem = datasets[name].get_instance(kernel=kernel, alpha=60, **parameters).get_data()
        assert problem["kernel_name"] == kernel
        assert check_kernel_name(problem["kernel_name"], problem["kernel"]) == kernel
