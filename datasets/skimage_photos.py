"""Offline default: images that ship inside scikit-image, centre-cropped.

``images="photographs"`` (default): astronaut, chelsea, coffee and rocket. ``images="science"``:
the Hubble deep field (astronomy), an immunohistochemistry slide (microscopy) and a retina fundus
photograph, images of the fields where Poisson noise is the rule. Neither set is in this
repository or in any training or tuning set. No network and no data folder are needed (the
Gaussian and uniform kernels need no file either; the motion kernel reads Levin09.mat).
"""

from benchopt import BaseDataset
from benchopt.config import get_data_path

from benchmark.data.images import SKIMAGE_SETS, load_skimage_photos
from benchmark.data.problem import make_problem
from benchmark.parameters import check_choice


class Dataset(BaseDataset):
    name = "skimage_photos"
    parameters = {
        "kernel": ["gaussian", "uniform", "motion"],
        "alpha": [40, 60, 100],
        "crop": [256],
        "images": ["photographs"],
        "seed": [0],
    }

    def get_data(self):
        """``benchmark.data.problem.make_problem``: x_true, y, the kernel array and its name
        (``kernel_name``), alpha, image names and seed."""
        names = SKIMAGE_SETS[check_choice("images", self.images, sorted(SKIMAGE_SETS))]
        x, names = load_skimage_photos(self.crop, names)
        return make_problem(x, names, self.kernel, self.alpha, self.seed,
                            extra_dirs=[get_data_path("kernels")])
