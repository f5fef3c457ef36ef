"""Training data: random patches of CBSD432 (BSDS500 minus CBSD68), with a held-out validation
split.

set3c and CBSD68 are never used for training. The split is deterministic: images sorted by BSD id,
every ``VALIDATION_EVERY``-th image goes to validation.
"""

import torch

from benchmark.data.images import list_images, locate_dataset, read_image

VALIDATION_EVERY = 12


def cbsd432_split(extra_dirs=()):
    """``(train_files, validation_files)`` of CBSD432, deterministic."""
    files = list_images(locate_dataset("CBSD432", extra_dirs=extra_dirs))
    if not files:
        raise FileNotFoundError("CBSD432 holds no images.")
    validation = files[::VALIDATION_EVERY]
    train = [f for i, f in enumerate(files) if i % VALIDATION_EVERY]
    return train, validation


class PatchSampler:
    """Random ``patch`` x ``patch`` crops with random flips, from images kept in memory as uint8."""

    def __init__(self, files, patch, seed=0):
        self.images = [(read_image(f) * 255).round().to(torch.uint8) for f in files]
        self.patch = patch
        self.generator = torch.Generator().manual_seed(seed)

    def sample(self, batch):
        """A (batch, 3, patch, patch) float tensor in [0, 1]."""
        out = []
        for _ in range(batch):
            image = self.images[int(torch.randint(len(self.images), (1,),
                                                  generator=self.generator))]
            height, width = image.shape[-2:]
            top = int(torch.randint(height - self.patch + 1, (1,), generator=self.generator))
            left = int(torch.randint(width - self.patch + 1, (1,), generator=self.generator))
            crop = image[:, top:top + self.patch, left:left + self.patch].float() / 255.0
            if torch.rand(1, generator=self.generator) < 0.5:
                crop = crop.flip(-1)
            if torch.rand(1, generator=self.generator) < 0.5:
                crop = crop.flip(-2)
            out.append(crop)
        return torch.stack(out)

    def state_dict(self):
        return {"generator": self.generator.get_state()}

    def load_state_dict(self, state):
        self.generator.set_state(state["generator"])


def validation_crops(files, size):
    """Centre crops of the validation images: a fixed (N, 3, size, size) batch."""
    crops = []
    for f in files:
        image = read_image(f)
        height, width = image.shape[-2:]
        top, left = (height - size) // 2, (width - size) // 2
        crops.append(image[:, top:top + size, left:left + size])
    return torch.stack(crops)
