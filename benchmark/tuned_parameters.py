"""Regularisation weights of the model-based solvers, one per noise level alpha, chosen on CBSD68.

set3c is never used to choose them. The protocol is ``python -m benchmark.tuning --solver NAME``:
for each (kernel, alpha) and each weight of a grid, run the solver to its stopping rule on the
first CBSD68 images (sorted by BSD id, centre crops, noise seed 0) and keep, for each alpha, the
weight with the best PSNR averaged over images and kernels.

Status of the values below (PROVISIONAL): they come from partial runs of that command with
``--n-images 4 --crop 128 --max-iter 300`` that covered the Gaussian kernel at every alpha and the
uniform kernel at alpha 40 and 60 only (grid 0.01-0.18; the runs were stopped for lack of CPU
time). Gaussian kernel, mean PSNR (dB) per weight:

* alpha 40: TV-MD 0.05 -> 23.19, 0.08 -> 23.17, 0.03 -> 22.70; PIDSplit+ 0.05 -> 23.12, 0.08 -> 23.12
* alpha 60: TV-MD 0.05 -> 23.61, 0.03 -> 23.48, 0.08 -> 23.41; PIDSplit+ 0.05 -> 23.51
* alpha 100: TV-MD 0.03 -> 24.01, 0.05 -> 23.85; PIDSplit+ 0.03 -> 23.85, 0.05 -> 23.74

The uniform kernel preferred 0.03 at alpha 40 and 60 (by 0.08 and 0.07 dB over 0.05). A complete
run over the three kernels replaces these values.
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
