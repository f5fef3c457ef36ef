"""Regularisation weights of the model-based solvers, one per noise level alpha, chosen on CBSD68.

set3c is never used to choose them. The tuning commands, their PSNR tables and cost are in
``results/tuning.md``.

Any other alpha > 0 gets a weight by a fixed rule (:func:`tuned_lambda`): interpolation of the
tuned weights, linear in (log alpha, log weight), clamped to the end weights outside [40, 100].
The solvers print the weight and the rule when the rule was used.
"""

import math

from benchmark.maths.physics import check_alpha
from benchmark.parameters import check_choice, check_choice_or_number

TUNED_LAMBDA = {
    "tv_md": {40: 0.05, 60: 0.03, 100: 0.02},
    "pidsplit": {40: 0.05, 60: 0.03, 100: 0.02},
}


def tuned_lambda(solver, alpha):
    r"""The weight of ``solver`` for any ``alpha > 0``, and how it was obtained.

    Rule: at a tuned alpha, the tuned weight; between two tuned alphas
    :math:`\alpha_i < \alpha < \alpha_{i+1}`, the weight interpolated linearly in
    :math:`(\log \alpha, \log \lambda)`,

    .. math::

        \log \lambda = (1 - t) \log \lambda_i + t \log \lambda_{i+1}, \qquad
        t = \frac{\log \alpha - \log \alpha_i}{\log \alpha_{i+1} - \log \alpha_i};

    outside the tuned range, the weight of the nearest tuned alpha (clamped at the ends: no
    extrapolation).

    :return: ``(weight, how)``, ``how`` a short text that says which rule gave the weight.
    """
    alpha = check_alpha(alpha)
    table = sorted(TUNED_LAMBDA[solver].items())
    alphas = [a for a, _ in table]
    for tuned_alpha, weight in table:
        if math.isclose(alpha, tuned_alpha, rel_tol=1e-9):
            return weight, f"tuned at alpha={tuned_alpha:g}"
    if alpha < alphas[0]:
        return table[0][1], (f"alpha={alpha:g} is below the tuned range {alphas}: clamped to "
                             f"the weight tuned at alpha={alphas[0]:g}")
    if alpha > alphas[-1]:
        return table[-1][1], (f"alpha={alpha:g} is above the tuned range {alphas}: clamped to "
                              f"the weight tuned at alpha={alphas[-1]:g}")
    for (a0, w0), (a1, w1) in zip(table, table[1:]):
        if a0 < alpha < a1:
            t = (math.log(alpha) - math.log(a0)) / (math.log(a1) - math.log(a0))
            weight = math.exp((1 - t) * math.log(w0) + t * math.log(w1))
            return weight, (f"interpolated in log alpha between the weights tuned at "
                            f"alpha={a0:g} ({w0:g}) and alpha={a1:g} ({w1:g})")
    raise AssertionError("unreachable")  # pragma: no cover


def resolve_lambda(solver, lam, alpha, announce=None):
    """``lam`` itself when it is a number > 0, else (``lam="tuned"``) the weight of
    :func:`tuned_lambda` for ``alpha``; any other value is a ValueError that says what to pass.

    ``announce``: called with one line of text when the weight comes from the rule for an alpha
    that was not tuned (the solvers print it in the run's output).
    """
    value = check_choice_or_number("lam", lam, ("tuned",))
    if value != "tuned":
        return value
    weight, how = tuned_lambda(solver, alpha)
    if announce is not None and not how.startswith("tuned at"):
        announce(f"{solver}: lam={weight:.4g} for alpha={float(alpha):g}: {how} "
                 "(rule of benchmark/algorithms/presets.py; pass lam=<number> to override).")
    return weight


# B-RED and B-PnP (Hurault et al., NeurIPS 2023), two presets of parameters per alpha:
# "paper": the paper's, from the authors' code (utils_restoration.py); it has no alpha = 100.
# "tuned": chosen for the shipped denoiser (bregman_denoiser.pt) on CBSD68 images, never set3c; the
# commands, the grid, its PSNRs and why B-RED at alpha 100 keeps the runner-up lam = 2 (lam = 4
# diverges in the initialisation on 256x256 images) are in results/tuning_bregman.md and
# results/protocol.md.
BREGMAN_PNP_PRESETS = {
    "paper": {
        "b_red": {40: dict(lam_init=2.0, lam=0.5, tau_init=1.0, tau=0.05),
                  60: dict(lam_init=2.5, lam=0.5, tau_init=1.0, tau=0.05)},
        "b_pnp": {40: dict(lam_init=2.0, lam=0.025, denoiser_weight=0.05),
                  60: dict(lam_init=2.0, lam=0.025, denoiser_weight=0.05)},
    },
    "tuned": {
        "b_red": {alpha: dict(lam_init=lam, lam=lam, noise_level_init=level, noise_level=level,
                              tau_init=1.0, tau=0.05)
                  for alpha, lam, level in ((40, 2.0, 0.02), (60, 2.0, 0.02), (100, 2.0, 0.01))},
        "b_pnp": {alpha: dict(lam_init=2.0, lam=2.0, noise_level_init=level, noise_level=level,
                              denoiser_weight=1.0)
                  for alpha, level in ((40, 0.02), (60, 0.02), (100, 0.01))},
    },
}


def bregman_pnp_parameters(solver, alpha, preset="tuned"):
    """The entry of ``preset`` for ``solver`` ("b_red" or "b_pnp") and ``alpha``.

    Raises a ValueError naming the alphas that have an entry when ``alpha`` has none: there is
    no silent default (the learned solvers skip such an alpha with this message).
    """
    check_choice("preset", preset, sorted(BREGMAN_PNP_PRESETS))
    alpha = check_alpha(alpha)
    table = BREGMAN_PNP_PRESETS[preset][solver]
    key = int(alpha) if float(alpha).is_integer() else alpha
    if key not in table:
        alphas = ", ".join(f"{a:g}" for a in sorted(table))
        raise ValueError(
            f"No {preset} parameters of {solver} for alpha={float(alpha):g}: its {preset} preset "
            f"was made for alpha in {{{alphas}}} only. Give a number to each parameter left at "
            f"'preset' (-s \"{solver}[lam=...,lam_init=...]\"), or tune them with "
            "configs/tuning_bregman.yml.")
    return dict(table[key])
