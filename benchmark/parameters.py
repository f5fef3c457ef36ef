"""Checks of solver parameters and command-line options (no benchopt here).

benchopt passes a solver's parameters as written on the command line (``-s "tv_md[lam=x]"``), so
a typo reaches the solver as a string. Each solver checks its parameters with these helpers before
it uses them, so that a wrong value stops the run with the values that are allowed, instead of an
error from deep inside the code (or a misleading one, such as "no checkpoint"). The scripts and
training entry points check their ``--alpha`` (:func:`alpha_argument`) and the files they will
write (:func:`check_writable`) before any work.
"""

import argparse
import math
import os
import re
from pathlib import Path

from benchmark.maths.physics import check_alpha


def _show(values):
    return ", ".join(repr(v) for v in values)


def check_choice(name, value, allowed):
    """``value`` itself when it is one of ``allowed``, else a ValueError that lists them.

    ``True``/``False`` are told apart from ``1``/``0`` (``backtracking=1`` is refused), and a
    string is compared as written.

    >>> check_choice("preset", "tuned", ("tuned", "paper"))
    'tuned'
    """
    allowed = tuple(allowed)
    for candidate in allowed:
        if type(candidate) is type(value) and candidate == value:
            return value
    raise ValueError(f"unknown {name} {value!r}; choose one of {_show(allowed)}.")


def check_choice_or_number(name, value, choices, minimum=0.0):
    """``value`` when it is one of ``choices`` (strings such as ``"tuned"``), else ``value`` as a
    finite float that must be > ``minimum``; a ValueError names the choices otherwise."""
    if isinstance(value, str) and value in choices:
        return value
    if isinstance(value, bool):
        number = None
    else:
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = None
    if number is None:
        raise ValueError(f"unknown {name} {value!r}; choose one of {_show(choices)} or a number "
                         f"> {minimum:g}.")
    if not (number > minimum and math.isfinite(number)):
        raise ValueError(f"{name} must be > {minimum:g} and finite, got {number:g}.")
    return number


DEVICE_CHOICES = ("auto", "cpu", "cuda")


def check_device(value):
    """``"auto"``, ``"cpu"``, ``"cuda"`` or ``"cuda:<index>"``; else a ValueError listing them."""
    if isinstance(value, str) and (value in DEVICE_CHOICES or re.fullmatch(r"cuda:\d+", value)):
        return value
    raise ValueError(f"unknown device {value!r}; choose one of {_show(DEVICE_CHOICES)} or "
                     "'cuda:<index>'.")


def alpha_argument(text):
    """The ``type`` of an ``--alpha`` option: the Poisson scale, a finite number > 0
    (:func:`benchmark.maths.physics.check_alpha`), else a usage error with its message."""
    try:
        return check_alpha(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def writable_output(parser, path, option="--output"):
    """``path`` checked by :func:`check_writable`, else the command's usage error naming
    ``option`` (for an output whose default is only known once the arguments are parsed)."""
    try:
        return check_writable(path)
    except OSError as exc:
        parser.error(f"{option}: {exc}")


def check_writable(path, folder=False):
    """``path`` as a :class:`~pathlib.Path` once it is sure that it can be written (atomically:
    a temporary file or folder beside it, then a rename): a file (``folder=True``: a folder) that
    is not there yet or is one already, whose nearest existing parent is a folder that this
    process may write into (an existing folder too). Otherwise an :class:`OSError` that names the
    path and the reason, raised before any work whose result would be lost."""
    path = Path(path)
    if path.exists() and path.is_dir() != folder:
        error = NotADirectoryError if folder else IsADirectoryError
        raise error(f"Cannot write {path}: it is a {'folder' if path.is_dir() else 'file'}, "
                    f"not a {'folder' if folder else 'file'}.")
    parent = path.parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise NotADirectoryError(f"Cannot write {path}: {parent} is a file, not a folder.")
    for target in [parent] + ([path] if folder and path.exists() else []):
        if not os.access(target, os.W_OK | os.X_OK):
            raise PermissionError(f"Cannot write {path}: no permission to write into {target}.")
    return path
