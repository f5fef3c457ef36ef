"""On/off switches read from environment variables, with one spelling for all of them.

``POISSON_DEBLUR_OFFLINE``, ``POISSON_DEBLUR_REQUIRE_DATA``, ``POISSON_DEBLUR_KEEP_CPU_MEMORY`` and
``POISSON_DEBLUR_FLUSH_DENORMALS`` are switches. Any other value is refused by name rather than
silently read as "off": a misspelled ``POISSON_DEBLUR_OFFLINE=ture`` would otherwise try to
download.
"""

import os

ON = ("1", "true", "yes", "on")
OFF = ("0", "false", "no", "off")


def switch(name, default):
    """Whether the environment variable ``name`` turns its switch on.

    Unset or empty: ``default``. Otherwise its value, in any case and without surrounding spaces,
    must be one of :data:`ON` or :data:`OFF`; any other value is a ValueError that names the
    variable and the values it takes.
    """
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return default
    if value in ON:
        return True
    if value in OFF:
        return False
    raise ValueError(f"{name}={os.environ[name]!r} is not a switch value: use one of "
                     f"{', '.join(ON)} to turn it on, or one of {', '.join(OFF)} to turn it off")
