"""Download every data set the benchmark uses into one data folder (needs network).

    python -m benchmark.data.fetch [--data-dir DIR] [--only set3c CBSD68 CBSD432 kernels] [--lpips]

The data folder is ``--data-dir``, else ``$POISSON_DEBLUR_DATA``, else ``data/`` beside
``objective.py``: the last two are among the folders where the datasets, the tests and the
training look (:mod:`benchmark.data.paths`). What it fetches:

=========  ========================================================================================
folder     source
=========  ========================================================================================
set3c/     deepinv's ``set3c.zip`` (huggingface.co/datasets/deepinv/images): butterfly, leaves,
           starfish, 256x256
CBSD68/    deepinv's ``CBSD68.zip`` (same place): the 68 colour BSD test images
CBSD432/   BSDS500 (github.com/BIDS/BSDS500, the archive deepinv's ``BSDS500`` reads, MD5 checked):
           its 500 images (train, val, test) minus the 68 of CBSD68; for training only
kernels/   ``Levin09.mat``, the 8 motion kernels of Levin et al. (CVPR 2009), from the KAIR
           repository (github.com/cszn/KAIR, ``kernels/Levin09.mat``), SHA-256 checked
=========  ========================================================================================

``--lpips`` also downloads torchvision's ImageNet AlexNet weights (233 MB, into torch's hub cache),
the backbone of the LPIPS metric, which a benchmark run never downloads itself.

Safe to interrupt: every download goes to a hidden temporary folder inside the data folder and is
moved to its final name only when it is complete and checked, so an interrupted or failed
download leaves no half-written data set behind (rerun the command to fetch what is missing). A
data set already complete in the data folder is not downloaded again; a folder that exists but is
incomplete is left alone, with a message. With ``POISSON_DEBLUR_OFFLINE=1`` it refuses to start.
"""

import argparse
import hashlib
import os
import re
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

from benchmark.data.images import SET3C_NAMES, download_dataset, list_images
from benchmark.data.paths import ENV_DATA_DIR, ENV_OFFLINE, PROJECT_ROOT, download_allowed
from benchmark.maths import metrics

BSDS500_URL = "https://github.com/BIDS/BSDS500/archive/refs/heads/master.zip"
BSDS500_MD5 = "7bfe17302a219367694200a61ce8256c"  # the checksum deepinv's BSDS500 dataset checks
LEVIN_URL = ("https://raw.githubusercontent.com/cszn/KAIR/"
             "fc1732f4a4514e42ce15e5b3a1e18c828af47a1e/kernels/Levin09.mat")
LEVIN_SHA256 = "377ce2fa5c95784cf454eb1c6e286038dc2ace76fb94a15ba6383a8f7b48aa1d"
# The BSD ids of CBSD68 (BSDS300 test images): left out of CBSD432.
CBSD68_IDS = frozenset("""
101085 101087 102061 103070 105025 106024 108005 108070 108082 109053 119082 12084 123074 126007
130026 134035 14037 143090 145086 147091 148026 148089 157055 159008 160068 16077 163085 167062
167083 170057 175032 175043 182053 189080 19021 196073 197017 208001 210088 21077 216081 219090
220075 223061 227092 229036 236037 24077 241004 241048 253027 253055 260058 271035 285079 291000
295087 296007 296059 299086 300091 302008 304034 304074 306005 3096 33039 351093
""".split())
DATA_SETS = ("set3c", "CBSD68", "CBSD432", "kernels")


class FetchError(RuntimeError):
    """A download that failed or did not hold what it should."""


def default_data_dir():
    """``$POISSON_DEBLUR_DATA`` when set, else ``data/`` beside ``objective.py``."""
    env = os.environ.get(ENV_DATA_DIR)
    return Path(env) if env else PROJECT_ROOT / "data"


def download_file(url, path):
    """Stream ``url`` into ``path``; return its MD5 and SHA-256 hex digests."""
    import requests  # noqa: PLC0415 (optional: needs network only)

    md5, sha256 = hashlib.md5(), hashlib.sha256()
    with requests.get(url, stream=True, timeout=(10, 60)) as response:
        response.raise_for_status()
        with open(path, "wb") as f:
            for chunk in response.iter_content(chunk_size=1 << 20):
                f.write(chunk)
                md5.update(chunk)
                sha256.update(chunk)
    return md5.hexdigest(), sha256.hexdigest()


def completeness(name, folder):
    """``None`` when ``folder`` holds the complete data set ``name``, else what it lacks."""
    folder = Path(folder)
    if name == "kernels":
        return None if (folder / "Levin09.mat").is_file() else "no Levin09.mat"
    stems = [p.stem for p in list_images(folder)]
    if name == "set3c":
        missing = [n for n in SET3C_NAMES if n not in stems]
        return f"lacks {missing}" if missing else None
    expected = {"CBSD68": 68, "CBSD432": 432}[name]
    return None if len(stems) == expected else f"holds {len(stems)} images, not {expected}"


def fetch_image_set(name, root):
    """set3c or CBSD68 through deepinv's download
    (:func:`benchmark.data.images.download_dataset`)."""
    download_dataset(name, root)


def fetch_cbsd432(root):
    """BSDS500's 500 images minus the 68 of CBSD68, as flat ``<BSD id>.jpg`` files."""
    with tempfile.TemporaryDirectory(dir=root, prefix=".CBSD432-download-") as tmp:
        archive = Path(tmp) / "BSDS500.zip"
        md5, _ = download_file(BSDS500_URL, archive)
        if md5 != BSDS500_MD5:
            raise FetchError(f"the BSDS500 archive has MD5 {md5}, expected {BSDS500_MD5}")
        folder = Path(tmp) / "CBSD432"
        folder.mkdir()
        pattern = re.compile(r".*/BSDS500/data/images/(train|val|test)/(\d+)\.jpg$")
        with zipfile.ZipFile(archive) as zf:
            members = [(m, pattern.match(m).group(2)) for m in zf.namelist() if pattern.match(m)]
            kept = [(m, bsd_id) for m, bsd_id in members if bsd_id not in CBSD68_IDS]
            if len(members) != 500 or len(kept) != 432:
                raise FetchError(f"the BSDS500 archive holds {len(members)} images, "
                                 f"{len(kept)} outside CBSD68 (expected 500 and 432)")
            for member, bsd_id in kept:
                (folder / f"{bsd_id}.jpg").write_bytes(zf.read(member))
        os.replace(folder, root / "CBSD432")


def fetch_kernels(root):
    """``kernels/Levin09.mat``, checked against its SHA-256."""
    folder = root / "kernels"
    created = not folder.exists()
    folder.mkdir(exist_ok=True)
    handle, partial = tempfile.mkstemp(dir=folder, prefix=".Levin09.mat-")
    os.close(handle)
    try:
        _, sha256 = download_file(LEVIN_URL, partial)
        if sha256 != LEVIN_SHA256:
            raise FetchError(f"Levin09.mat has SHA-256 {sha256}, expected {LEVIN_SHA256}")
        os.replace(partial, folder / "Levin09.mat")
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        if created and not any(folder.iterdir()):
            folder.rmdir()
        raise


def fetch_lpips_backbone():
    """torchvision's ImageNet AlexNet weights into torch's hub cache (torch writes a temporary
    file and moves it in place)."""
    import torchvision  # noqa: PLC0415 (heavy: torchvision)

    if metrics.lpips_backbone_file().is_file():
        return f"already there: {metrics.lpips_backbone_file()}"
    torchvision.models.alexnet(weights="IMAGENET1K_V1")
    return f"downloaded: {metrics.lpips_backbone_file()}"


FETCHERS = {"set3c": lambda root: fetch_image_set("set3c", root),
            "CBSD68": lambda root: fetch_image_set("CBSD68", root),
            "CBSD432": fetch_cbsd432,
            "kernels": fetch_kernels}


def remove_stale_downloads(root):
    """Temporary folders and files of a download that was killed (SIGKILL, power loss)."""
    for path in Path(root).glob(".*-download-*"):
        shutil.rmtree(path, ignore_errors=True)
    for path in Path(root).glob("kernels/.Levin09.mat-*"):
        path.unlink(missing_ok=True)


def fetch(names, root, log=print):
    """Fetch the data sets ``names`` into ``root``; return the names that failed."""
    root = Path(root)
    created = not root.exists()
    root.mkdir(parents=True, exist_ok=True)
    remove_stale_downloads(root)
    failed = []
    try:
        for name in names:
            target = root / name
            lack = completeness(name, target) if target.exists() else "absent"
            if lack is None:
                log(f"{name}: already there ({target})")
                continue
            if target.exists() and name != "kernels":
                log(f"{name}: {target} exists but {lack}; left alone: remove it and rerun to "
                    "download it again")
                failed.append(name)
                continue
            log(f"{name}: downloading into {target} ...")
            try:
                FETCHERS[name](root)
            except Exception as exc:
                detail = str(exc).splitlines()[0][:200] if str(exc) else ""
                log(f"{name}: FAILED ({type(exc).__name__}: {detail}); nothing was written")
                failed.append(name)
                continue
            lack = completeness(name, target)
            if lack is not None:  # pragma: no cover - the fetchers check their content
                log(f"{name}: the download {lack}")
                failed.append(name)
            else:
                log(f"{name}: done ({target})")
    finally:
        if created and root.is_dir() and not any(root.iterdir()):
            root.rmdir()
    return failed


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=None,
                        help=f"where to put the data (default: ${ENV_DATA_DIR}, else "
                             f"{PROJECT_ROOT / 'data'})")
    parser.add_argument("--only", nargs="+", choices=DATA_SETS, default=list(DATA_SETS),
                        help="fetch only these data sets")
    parser.add_argument("--lpips", action="store_true",
                        help="also download the LPIPS backbone (torchvision's AlexNet, 233 MB)")
    args = parser.parse_args(argv)
    root = args.data_dir or default_data_dir()
    if not download_allowed():
        print(f"Downloads are disabled ({ENV_OFFLINE}=1): nothing was fetched and nothing was "
              f"written. Unset {ENV_OFFLINE} on a machine with network, or copy the data folders "
              f"({', '.join(args.only)}) into {root} yourself.", file=sys.stderr)
        return 2
    failed = fetch(args.only, root)
    if args.lpips:
        try:
            print(f"LPIPS backbone: {fetch_lpips_backbone()}")
        except Exception as exc:
            print(f"LPIPS backbone: FAILED ({type(exc).__name__})")
            failed.append("lpips")
    if failed:
        print(f"Not fetched: {', '.join(failed)} (see above); rerun to retry: complete data sets "
              "are kept.", file=sys.stderr)
        return 1
    print(f"Every data set is in {root}." + ("" if root == default_data_dir() else
          f" Point the benchmark at it: export {ENV_DATA_DIR}={root}"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
