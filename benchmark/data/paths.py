"""Where the benchmark looks for data on disk, and whether it may download.

Search order for a data folder named ``name`` (``set3c``, ``CBSD68``, ``kernels``, ...):

1. ``$POISSON_DEBLUR_DATA/<name>`` when the environment variable is set;
2. folders the caller adds (benchopt datasets add the path that benchopt's ``data_home`` /
   ``data_paths`` settings of ``config.yml`` give for ``name``);
3. ``<project root>/data/<name>`` (the ``data/`` folder beside ``objective.py``);
4. deepinv's cache folder, where a download lands.

Downloads are attempted only when the folder is found nowhere and the switch
``POISSON_DEBLUR_OFFLINE`` (:func:`benchmark.environment.switch`: ``1``, ``true``, ...) is not on.
"""

import os
from pathlib import Path

from benchmark.environment import switch

ENV_DATA_DIR = "POISSON_DEBLUR_DATA"
ENV_OFFLINE = "POISSON_DEBLUR_OFFLINE"
# Tests that need real data skip when it is missing, unless this switch is on (CI): then they fail.
ENV_REQUIRE_DATA = "POISSON_DEBLUR_REQUIRE_DATA"
PROJECT_ROOT = Path(__file__).resolve().parents[2]
FETCH_HINT = ("`python -m benchmark.data.fetch` downloads every data set into one folder "
              "(needs network)")


class DataNotFoundError(FileNotFoundError):
    """Raised when a data set or kernel file is on disk nowhere and cannot be downloaded."""


def download_allowed():
    """False when the user asked for offline mode (``POISSON_DEBLUR_OFFLINE=1``, a
    :func:`~benchmark.environment.switch`)."""
    return not switch(ENV_OFFLINE, default=False)


def data_required():
    """True when missing data must fail the tests instead of skipping them
    (``POISSON_DEBLUR_REQUIRE_DATA=1``, a :func:`~benchmark.environment.switch`)."""
    return switch(ENV_REQUIRE_DATA, default=False)


def skip_or_fail_missing_data(what, searched):
    """For tests: stop the calling test because ``what`` is found in none of ``searched`` (a list
    of folders), with a reason that says how to get it; a skip, or a failure when
    :func:`data_required`."""
    import pytest  # noqa: PLC0415 (tests only: pytest)

    reason = (f"{what}, found in none of {', '.join(str(d) for d in searched)}. {FETCH_HINT}; "
              f"or set {ENV_DATA_DIR} to a folder that holds it")
    if data_required():
        pytest.fail(f"{reason} ({ENV_REQUIRE_DATA}=1 makes missing data a failure).")
    pytest.skip(reason)


def cache_dir():
    """deepinv's cache folder: where downloaded data sets and kernels are stored."""
    from deepinv.utils.demo import get_cache_home  # noqa: PLC0415 (heavy: deepinv)

    return Path(get_cache_home())


def candidate_dirs(name, extra_dirs=()):
    """Every folder, in search order, that may hold the data folder ``name``."""
    dirs = []
    if os.environ.get(ENV_DATA_DIR):
        dirs.append(Path(os.environ[ENV_DATA_DIR]) / name)
    dirs.extend(Path(d) for d in extra_dirs)
    dirs.append(PROJECT_ROOT / "data" / name)
    dirs.append(cache_dir() / "datasets" / name)
    unique = []
    for d in dirs:
        if d not in unique:
            unique.append(d)
    return unique


def find_data_dir(name, required_files=(), extra_dirs=()):
    """First existing folder of :func:`candidate_dirs` that holds ``required_files``, else None.

    A folder that exists but lacks a required file (for example the empty folder that an
    interrupted download leaves) is skipped.
    """
    for d in candidate_dirs(name, extra_dirs):
        if d.is_dir() and all((d / f).is_file() for f in required_files):
            if required_files or any(d.iterdir()):
                return d
    return None


def not_found_message(name, what, reason, extra_dirs=()):
    """The error text for a data folder that is missing everywhere."""
    searched = "\n  ".join(str(d) for d in candidate_dirs(name, extra_dirs))
    return (
        f"{what} is not on disk and {reason}.\nSearched:\n  {searched}\n"
        f"Put the files in one of these folders, or set {ENV_DATA_DIR} to a folder that "
        f"holds '{name}/'; {FETCH_HINT}."
    )
