"""Checks of solver parameters that take one of a fixed set of values (no benchopt here).

benchopt passes a solver's parameters as written on the command line (``-s "tv_md[lam=x]"``), so
a typo reaches the solver as a string. Each solver checks its parameters with these helpers before
it uses them, so that a wrong value stops the run with the values that are allowed, instead of an
error from deep inside the code (or a misleading one, such as "no checkpoint").
"""

import math
import re


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
