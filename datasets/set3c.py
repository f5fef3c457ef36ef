"""set3c: butterfly, leaves and starfish (256x256 colour), the test set of DEQ-MD's paper."""

from benchopt import BaseDataset
from benchopt.config import get_data_path

from benchmark.data.images import load_set3c
from benchmark.data.problem import make_problem


class Dataset(BaseDataset):
    name = "set3c"
    parameters = {
        "kernel": ["gaussian", "uniform", "motion"],
        "alpha": [40, 60, 100],
        "seed": [0],
    }

    def get_data(self):
        """``benchmark.data.problem.make_problem``: x_true, y, the kernel array and its name
        (``kernel_name``), alpha, image names and seed."""
        extra = [get_data_path("set3c")]
        x, names = load_set3c(extra_dirs=extra)
        return make_problem(x, names, self.kernel, self.alpha, self.seed,
                            extra_dirs=[get_data_path("kernels")])
