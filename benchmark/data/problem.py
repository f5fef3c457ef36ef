"""One deblurring problem as the benchmark's datasets hand it to the objective."""

from benchmark.maths.physics import check_alpha, get_kernel, simulate


def make_problem(x_true, image_names, kernel, alpha, seed, extra_dirs=()):
    """Blur ``x_true`` with ``kernel``, draw Poisson noise at scale ``alpha`` from ``seed``.

    :return: the dict of ``Dataset.get_data``: ``x_true``, ``y``, ``kernel`` (2-D tensor),
        ``alpha``, ``image_names`` and ``seed``. The noise is drawn once here, so that every
        solver sees the same observation.
    """
    alpha = check_alpha(alpha)
    kernel = get_kernel(kernel, extra_dirs=extra_dirs)
    y, _ = simulate(x_true, kernel, alpha, seed)
    return dict(x_true=x_true, y=y, kernel=kernel, alpha=alpha,
                image_names=list(image_names), seed=int(seed))
