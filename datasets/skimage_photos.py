"""Offline default: astronaut, chelsea, coffee and rocket from scikit-image, centre-cropped.

These photographs ship inside scikit-image, so this data set needs no network and no data folder
(the Gaussian and uniform kernels need no file either; the motion kernel reads Levin09.mat).
"""

from benchopt import BaseDataset
from benchopt.config import get_data_path

from benchmark.data.images import load_skimage_photos
from benchmark.data.problem import make_problem


class Dataset(BaseDataset):
    name = "skimage_photos"
    parameters = {
        "kernel": ["gaussian", "uniform", "motion"],
        "alpha": [40, 60, 100],
        "crop": [256],
        "seed": [0],
    }

    def get_data(self):
        """``benchmark.data.problem.make_problem``: x_true, y, the kernel array and its name
        (``kernel_name``), alpha, image names and seed."""
        x, names = load_skimage_photos(self.crop)
        return make_problem(x, names, self.kernel, self.alpha, self.seed,
                            extra_dirs=[get_data_path("kernels")])
