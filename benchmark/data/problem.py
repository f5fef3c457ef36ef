"""One deblurring problem as the benchmark's datasets hand it to the objective."""

from benchmark.maths.physics import CUSTOM_KERNEL, check_alpha, get_kernel, simulate


def make_problem(x_true, image_names, kernel, alpha, seed, extra_dirs=()):
    """Blur ``x_true`` with ``kernel``, draw Poisson noise at scale ``alpha`` from ``seed``.

    :param kernel: a name of :data:`benchmark.maths.physics.KERNEL_NAMES` or a 2-D array.
    :return: the dict of ``Dataset.get_data``: ``x_true``, ``y``, ``kernel`` (2-D tensor),
        ``kernel_name`` (the name given, or ``"custom"`` for an array: learned solvers pick their
        weights by it, without rebuilding kernels to find it), ``alpha``, ``image_names`` and
        ``seed``. The noise is drawn once here, so that every solver sees the same observation.
    """
    alpha = check_alpha(alpha)
    kernel_name = kernel if isinstance(kernel, str) else CUSTOM_KERNEL
    kernel = get_kernel(kernel, extra_dirs=extra_dirs)
    y, _ = simulate(x_true, kernel, alpha, seed)
    return dict(x_true=x_true, y=y, kernel=kernel, kernel_name=kernel_name, alpha=alpha,
                image_names=list(image_names), seed=int(seed))
