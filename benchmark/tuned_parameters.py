"""Regularisation weights tuned on CBSD68 (never on set3c), one per noise level alpha.

Protocol (``python -m benchmark.tuning``): the first 6 CBSD68 images sorted by BSD id, centre
crops of 192x192, noise seed 0; each weight of a grid is run to its stopping rule (at most 500
iterations) for each of the three kernels; the weight with the best mean PSNR over images and
kernels is kept for each alpha. The grid and the PSNR of every weight are printed by that command.
"""

TUNED_LAMBDA = {
    "tv_md": {40: 0.05, 60: 0.05, 100: 0.03},
    "pidsplit": {40: 0.05, 60: 0.05, 100: 0.03},
}


def resolve_lambda(solver, lam, alpha):
    """``lam`` itself when it is a number, else the tuned weight of ``solver`` for ``alpha``."""
    if lam != "tuned":
        value = float(lam)
        if value <= 0:
            raise ValueError(f"The regularisation weight of {solver} must be > 0, got {value}.")
        return value
    table = TUNED_LAMBDA[solver]
    key = int(alpha) if float(alpha).is_integer() else alpha
    if key not in table:
        raise ValueError(
            f"No tuned weight of {solver} for alpha={alpha} (tuned for alpha in {sorted(table)}); "
            f"pass lam=<number>, e.g. -s \"{solver}[lam=0.05]\"."
        )
    return table[key]
