"""`python -m benchmark.data.fetch`: one entry point for every data set, safe to interrupt.

No test here uses the network: the downloads are replaced by fakes that write what the real
sources hold (deepinv's zip layout, the BSDS500 archive layout), fail, or are interrupted.
"""

import hashlib
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import benchmark.data.fetch as fetch_data
import benchmark.maths.metrics as metrics
from benchmark.data.fetch import CBSD68_IDS, main
from benchmark.data.images import SET3C_NAMES, load_set3c
from benchmark.training.crops import cbsd432_split

CBSD432_IDS = [str(100000 + i) for i in range(432)]


def write_png(path, size=8):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((size, size, 3), 128, dtype=np.uint8)).save(path)


def fake_deepinv_download(name, transform, data_dir, download, **kwargs):
    """What deepinv's load_dataset leaves: ``data_dir/<name>/`` with the images."""
    names = SET3C_NAMES if name == "set3c" else sorted(CBSD68_IDS)
    for stem in names:
        write_png(Path(data_dir) / name / f"{stem}.png")


def archive_member(name):
    """A zip member with a fixed time stamp, so that every fake archive has the same checksum
    (``writestr`` with a bare name stamps the current time: two archives written across a
    two-second boundary differ)."""
    return zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))


def fake_download_file(url, path):
    """The BSDS500 archive (500 images in train/val/test) or a small kernel file."""
    if url == fetch_data.BSDS500_URL:
        ids = CBSD432_IDS + sorted(CBSD68_IDS)
        with zipfile.ZipFile(path, "w") as zf:
            for i, bsd_id in enumerate(ids):
                split = ("train", "val", "test")[i % 3]
                member = f"BSDS500-master/BSDS500/data/images/{split}/{bsd_id}.jpg"
                zf.writestr(archive_member(member), b"jpg")
            zf.writestr(archive_member("BSDS500-master/README.md"), b"readme")
    else:
        Path(path).write_bytes(b"levin kernels")
    data = Path(path).read_bytes()
    return hashlib.md5(data).hexdigest(), hashlib.sha256(data).hexdigest()


@pytest.fixture
def fakes(monkeypatch, tmp_path):
    """Fake sources whose checksums are the expected ones; network-free; downloads counted."""
    import deepinv.utils.demo  # noqa: PLC0415 (heavy: deepinv)

    calls = []
    digests = {}
    for url, suffix in ((fetch_data.BSDS500_URL, "zip"), (fetch_data.LEVIN_URL, "mat")):
        digests[url] = fake_download_file(url, tmp_path / f"reference.{suffix}")
    monkeypatch.setattr(fetch_data, "BSDS500_MD5", digests[fetch_data.BSDS500_URL][0])
    monkeypatch.setattr(fetch_data, "LEVIN_SHA256", digests[fetch_data.LEVIN_URL][1])

    def counted_dataset(name, *args, **kwargs):
        calls.append(name)
        return fake_deepinv_download(name, *args, **kwargs)

    def counted_file(url, path):
        calls.append(url)
        return fake_download_file(url, path)

    monkeypatch.setattr(deepinv.utils.demo, "load_dataset", counted_dataset)
    monkeypatch.setattr(fetch_data, "download_file", counted_file)
    monkeypatch.delenv("POISSON_DEBLUR_OFFLINE", raising=False)
    return calls


def leftovers(root):
    """Hidden temporary files or folders of a download."""
    return [p for p in Path(root).rglob(".*")]


def test_offline_refuses_and_writes_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("POISSON_DEBLUR_OFFLINE", "1")
    root = tmp_path / "data"
    assert main(["--data-dir", str(root)]) == 2
    err = capsys.readouterr().err
    assert "POISSON_DEBLUR_OFFLINE=1" in err and "nothing was fetched" in err
    assert not root.exists()


def test_failed_downloads_leave_nothing_behind(tmp_path, monkeypatch, capsys):
    import deepinv.utils.demo  # noqa: PLC0415 (heavy: deepinv)

    def failing_dataset(name, transform, data_dir, download, **kwargs):
        write_png(Path(data_dir) / name / "half_written.png")
        raise OSError("Name or service not known")

    def failing_file(url, path):
        Path(path).write_bytes(b"half")
        raise ConnectionError("Name or service not known")

    monkeypatch.delenv("POISSON_DEBLUR_OFFLINE", raising=False)
    monkeypatch.setattr(deepinv.utils.demo, "load_dataset", failing_dataset)
    monkeypatch.setattr(fetch_data, "download_file", failing_file)
    root = tmp_path / "data"
    assert main(["--data-dir", str(root)]) == 1
    out = capsys.readouterr()
    for name in ("set3c", "CBSD68", "CBSD432", "kernels"):
        assert f"{name}: FAILED" in out.out
    assert "Not fetched: set3c, CBSD68, CBSD432, kernels" in out.err
    assert not root.exists(), "the data folder it created is removed again when left empty"

    root.mkdir()
    assert main(["--data-dir", str(root)]) == 1
    assert list(root.iterdir()) == [], "an existing data folder is left as it was"


def test_fetches_every_data_set_where_the_benchmark_looks(tmp_path, fakes, monkeypatch, capsys):
    root = tmp_path / "data"
    assert main(["--data-dir", str(root)]) == 0
    assert sorted(p.name for p in root.iterdir()) == ["CBSD432", "CBSD68", "kernels", "set3c"]
    assert (root / "kernels" / "Levin09.mat").read_bytes() == b"levin kernels"
    assert leftovers(root) == []

    monkeypatch.setenv("POISSON_DEBLUR_DATA", str(root))
    monkeypatch.setenv("POISSON_DEBLUR_OFFLINE", "1")
    x, names = load_set3c()
    assert names == list(SET3C_NAMES) and x.shape == (3, 3, 8, 8)
    train, validation = cbsd432_split()
    files = train + validation
    assert len(files) == 432 and not {f.stem for f in files} & CBSD68_IDS

    # a second run downloads nothing
    fakes.clear()
    capsys.readouterr()
    monkeypatch.delenv("POISSON_DEBLUR_OFFLINE")
    assert main(["--data-dir", str(root)]) == 0
    assert fakes == []
    assert capsys.readouterr().out.count("already there") == 4


def test_interrupted_download_leaves_no_half_written_data_set(tmp_path, fakes, monkeypatch):
    root = tmp_path / "data"

    def interrupted(url, path):
        Path(path).write_bytes(b"PK half an archive")
        raise KeyboardInterrupt

    monkeypatch.setattr(fetch_data, "download_file", interrupted)
    with pytest.raises(KeyboardInterrupt):
        main(["--data-dir", str(root), "--only", "set3c", "CBSD432"])
    assert sorted(p.name for p in root.iterdir()) == ["set3c"], "set3c was complete: kept"
    assert leftovers(root) == []

    # a temporary folder left by a killed process is cleaned; the rerun fetches what is missing
    (root / ".CBSD432-download-killed").mkdir()
    monkeypatch.setattr(fetch_data, "download_file", fake_download_file)
    fakes.clear()
    assert main(["--data-dir", str(root), "--only", "set3c", "CBSD432"]) == 0
    assert fakes == [] and len(list((root / "CBSD432").iterdir())) == 432
    assert leftovers(root) == []


def test_a_wrong_checksum_is_refused(tmp_path, fakes, monkeypatch, capsys):
    monkeypatch.setattr(fetch_data, "LEVIN_SHA256", "0" * 64)
    root = tmp_path / "data"
    assert main(["--data-dir", str(root), "--only", "kernels"]) == 1
    assert "expected 0000" in capsys.readouterr().out
    assert not root.exists()


def test_an_incomplete_folder_is_left_alone(tmp_path, fakes, capsys):
    root = tmp_path / "data"
    write_png(root / "set3c" / "butterfly.png")
    assert main(["--data-dir", str(root), "--only", "set3c"]) == 1
    assert "exists but lacks ['leaves', 'starfish']; left alone" in capsys.readouterr().out
    assert [p.name for p in (root / "set3c").iterdir()] == ["butterfly.png"] and fakes == []


def test_lpips_backbone_already_in_the_cache_is_not_downloaded(tmp_path, fakes, monkeypatch,
                                                               capsys):
    import torchvision  # noqa: PLC0415 (heavy: torchvision)

    backbone = tmp_path / "hub" / "checkpoints" / "alexnet-owt-7be5be79.pth"
    backbone.parent.mkdir(parents=True)
    backbone.write_bytes(b"weights")
    monkeypatch.setattr(metrics, "lpips_backbone_file", lambda: backbone)

    def no_download(*args, **kwargs):
        raise AssertionError("downloaded although the file is there")

    monkeypatch.setattr(torchvision.models, "alexnet", no_download)
    assert main(["--data-dir", str(tmp_path / "data"), "--only", "set3c", "--lpips"]) == 0
    assert f"LPIPS backbone: already there: {backbone}" in capsys.readouterr().out
