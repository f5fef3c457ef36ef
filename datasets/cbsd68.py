"""CBSD68: the 68 colour BSD test images, centre-cropped (a sub-set of ``n_images`` of them)."""

from benchopt import BaseDataset
from benchopt.config import get_data_path

from benchmark.data.images import load_cbsd68
from benchmark.data.problem import make_problem


class Dataset(BaseDataset):
    name = "cbsd68"
    parameters = {
        "kernel": ["gaussian", "uniform", "motion"],
        "alpha": [40, 60, 100],
        "n_images": [10],
        "crop": [256],
        "seed": [0],
    }

    def get_data(self):
        """``benchmark.data.problem.make_problem``: x_true, y, the kernel array and its name
        (``kernel_name``), alpha, image names and seed."""
        x, names = load_cbsd68(self.n_images, self.crop, extra_dirs=[get_data_path("CBSD68")])
        return make_problem(x, names, self.kernel, self.alpha, self.seed,
                            extra_dirs=[get_data_path("kernels")])
