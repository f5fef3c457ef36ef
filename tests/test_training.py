"""Resumable training loop and the training data split."""

import csv

import torch

from benchmark.training import ResumableRun, train
from benchmark.training_data import PatchSampler, cbsd432_split
from conftest import shared_data_dir


class ConstantSampler:
    def __init__(self):
        self.generator = torch.Generator().manual_seed(0)

    def sample(self, batch):
        return torch.rand(batch, 3, 8, 8, generator=self.generator)

    def state_dict(self):
        return {"generator": self.generator.get_state()}

    def load_state_dict(self, state):
        self.generator.set_state(state["generator"])


def test_training_resumes_where_it_stopped(tmp_path):
    def run_to(steps):
        torch.manual_seed(0)
        model = torch.nn.Conv2d(3, 3, 3, padding=1)
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
        step, _ = train(model, optimizer, ConstantSampler(),
                        lambda m, x: ((m(x) - x) ** 2).mean(), lambda m: 1.0,
                        ResumableRun(tmp_path), steps, batch=2, validate_every=2)
        return step, model

    step, _ = run_to(3)
    assert step == 3
    step, resumed = run_to(5)
    assert step == 5
    with open(tmp_path / "metrics.csv") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["step"]) for r in rows] == [1, 2, 3, 4, 5]
    assert float(rows[1]["val_psnr"]) == 1.0 and rows[0]["val_psnr"] == ""

    # the same 5 steps in one go give the same weights: resuming restores everything
    straight = tmp_path / "straight"
    torch.manual_seed(0)
    model = torch.nn.Conv2d(3, 3, 3, padding=1)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    train(model, optimizer, ConstantSampler(), lambda m, x: ((m(x) - x) ** 2).mean(),
          lambda m: 1.0, ResumableRun(straight), 5, batch=2)
    assert torch.allclose(model.weight, resumed.weight)


def test_cbsd432_split_is_disjoint_and_excludes_test_sets(monkeypatch):
    monkeypatch.setenv("POISSON_DEBLUR_DATA", str(shared_data_dir()))
    train_files, validation = cbsd432_split()
    assert len(train_files) + len(validation) == 432 and len(validation) == 36
    assert not {f.name for f in train_files} & {f.name for f in validation}
    cbsd68 = {p.stem for p in (shared_data_dir() / "CBSD68").iterdir()}
    assert not {f.stem for f in train_files + validation} & cbsd68
    patches = PatchSampler(train_files[:3], patch=16, seed=0).sample(4)
    assert patches.shape == (4, 3, 16, 16) and 0 <= patches.min() and patches.max() <= 1
