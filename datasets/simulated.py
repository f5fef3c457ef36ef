"""Tiny simulated problem for tests: random piecewise-smooth colour images, no file needed."""

from benchopt import BaseDataset

from benchmark.data.images import smooth_random_images
from benchmark.data.problem import make_problem


class Dataset(BaseDataset):
    name = "simulated"
    parameters = {
        "kernel": ["gaussian", "uniform"],
        "alpha": [60],
        "n_images": [2],
        "size": [32],
        "seed": [0],
    }
    test_parameters = {"kernel": ["gaussian"], "size": [32]}

    def get_data(self):
        """``benchmark.data.problem.make_problem``: x_true, y, the kernel array and its name
        (``kernel_name``), alpha, image names and seed."""
        x, names = smooth_random_images(self.n_images, self.size, self.seed)
        return make_problem(x, names, self.kernel, self.alpha, self.seed)
