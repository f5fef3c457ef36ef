"""Resumable training loop shared by the training entry points.

A run lives in one folder: ``state.pt`` (model, optimiser, weight average, step, elapsed time,
random states), rewritten atomically every ``checkpoint_every`` seconds and at the end;
``best.pt``, the weights of the best validation so far with its step and PSNR; and
``metrics.csv`` (one row per logged step: step, wall time, training loss, validation PSNR when
computed). Starting a run whose folder holds ``state.pt`` resumes it from that state, and drops the
rows logged after it (a run killed between two saves trains those steps again); the number of steps
is a total, not an increment.
"""

import copy
import csv
import math
import time
from pathlib import Path

import torch
from tqdm import tqdm

from benchmark.data.paths import PROJECT_ROOT
from benchmark.device import describe_device
from benchmark.networks.registry import read_weights, save_atomically, sha256

# Resumable training runs (state, best checkpoint, metrics), one folder per run.
RUNS_DIR = PROJECT_ROOT / "training_runs"


class ResumableRun:
    """Training state on disk: load it if present, save it atomically."""

    def __init__(self, folder):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.state_path = self.folder / "state.pt"
        self.best_path = self.folder / "best.pt"
        self.log_path = self.folder / "metrics.csv"

    def load(self, model, optimizer, sampler, average=None):
        """Restore a saved run; returns ``(step, elapsed_seconds)`` (``(0, 0.0)`` when new).
        A run saved without a weight average gives ``average`` the restored weights."""
        if not self.state_path.is_file():
            return 0, 0.0
        state = read_weights(self.state_path, weights_only=False)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        sampler.load_state_dict(state["sampler"])
        torch.set_rng_state(state["torch_rng"])
        if average is not None:
            average.model.load_state_dict(state.get("average") or state["model"])
        self.forget_log_after(state["step"])
        return state["step"], state["elapsed"]

    def save(self, model, optimizer, sampler, step, elapsed, average=None):
        save_atomically({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                         "sampler": sampler.state_dict(), "torch_rng": torch.get_rng_state(),
                         "average": None if average is None else average.model.state_dict(),
                         "step": step, "elapsed": elapsed}, self.state_path)

    def best(self):
        """``{"model", "step", "val_psnr", "elapsed"}`` of the best validation so far, or None."""
        if not self.best_path.is_file():
            return None
        return read_weights(self.best_path)

    def keep_if_best(self, model, step, val, elapsed):
        """Save ``model`` as ``best.pt`` when ``val`` beats every validation saved before."""
        best = self.best()
        if best is None or val > best["val_psnr"]:
            save_atomically({"model": model.state_dict(), "step": step, "val_psnr": val,
                             "elapsed": elapsed}, self.best_path)

    def log(self, row):
        """Append ``row`` to ``metrics.csv``; the columns are those of the file's header (the
        row's keys when the file is new). The file is replaced whole, so a run killed while it
        logs leaves it with or without the row, never with part of it."""
        rows = self._rows()
        fieldnames = rows[0] if rows else list(row)
        self._write([fieldnames] + rows[1:] + [[row.get(name, "") for name in fieldnames]])

    def forget_log_after(self, step):
        """Drop the rows of ``metrics.csv`` logged after step ``step``: a run stopped between two
        saves logged steps that its resume trains again."""
        rows = self._rows()
        if not rows:
            return
        column = rows[0].index("step")
        kept = rows[:1] + [row for row in rows[1:] if int(row[column]) <= step]
        if len(kept) < len(rows):
            self._write(kept)

    def _rows(self):
        """The rows of ``metrics.csv``, its header first (``[]`` when there is no file)."""
        if not self.log_path.is_file():
            return []
        with open(self.log_path, newline="") as f:
            return list(csv.reader(f))

    def _write(self, rows):
        """``metrics.csv`` replaced by ``rows`` through a temporary file beside it, which a
        failed or interrupted write removes."""
        partial = self.log_path.with_suffix(".csv.part")
        try:
            with open(partial, "w", newline="") as f:
                csv.writer(f).writerows(rows)
            partial.replace(self.log_path)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise

    def validated_at(self, step):
        """Whether the last row of ``metrics.csv`` (the latest step trained) is step ``step``
        with a validation PSNR."""
        if not self.log_path.is_file():
            return False
        with open(self.log_path) as f:
            rows = list(csv.DictReader(f))
        return bool(rows) and int(rows[-1]["step"]) == step and bool(rows[-1]["val_psnr"])


class WeightAverage:
    r"""Exponential moving average of a model's weights along its training iterates,

    .. math::

        \bar\theta_0 = \theta_0, \qquad
        \bar\theta_k = d\, \bar\theta_{k-1} + (1 - d)\, \theta_k,

    with :math:`\theta_k` the weights after step :math:`k` and :math:`d` = ``decay`` (about
    :math:`1/(1 - d)` steps of memory). Averaging the iterates of a stochastic gradient method
    cancels part of their noise (Polyak and Juditsky, SIAM J. Control Optim. 1992; Izmailov et al.,
    UAI 2018). ``model`` is the averaged copy: it is what a run with an average validates and
    keeps."""

    def __init__(self, model, decay):
        if not 0 < decay < 1:
            raise ValueError(f"the weight average's decay must be in (0, 1), got {decay}")
        self.decay = decay
        self.model = copy.deepcopy(model)

    def update(self, model):
        with torch.no_grad():
            for averaged, current in zip(self.model.parameters(), model.parameters(), strict=True):
                averaged.lerp_(current, 1 - self.decay)


def cosine_learning_rate(lr, lr_min, steps):
    r"""The cosine schedule of step :math:`k` (0-based) out of ``steps``:

    .. math::

        \eta_k = \eta_{\min} + \tfrac12 (\eta - \eta_{\min}) (1 + \cos(\pi k / K)),

    from ``lr`` at the first step down to ``lr_min`` at step :math:`K` = ``steps`` (Loshchilov and
    Hutter, ICLR 2017, without restarts). A function of the step only, so a resumed run continues
    on the same curve."""
    def learning_rate(step):
        return lr_min + 0.5 * (lr - lr_min) * (1 + math.cos(math.pi * min(step, steps) / steps))
    return learning_rate


def add_schedule_arguments(parser):
    """The options of the learning-rate schedule and the weight average, shared by every
    training entry point: ``--lr-min`` and ``--average-decay``."""
    parser.add_argument("--lr-min", type=float, default=None,
                        help="decay the learning rate from --lr to this value over --steps on a "
                             "cosine (set at every step, also on resume); default: constant --lr")
    parser.add_argument("--average-decay", type=float, default=None,
                        help="validate and keep an exponential moving average of the weights "
                             "with this decay (e.g. 0.95: about 20 steps of memory) instead of "
                             "the last iterate; default: no average")


def check_schedule_arguments(parser, args):
    """Refuse a ``--lr-min`` outside [0, --lr] and an ``--average-decay`` outside (0, 1)."""
    if args.lr_min is not None and not 0 <= args.lr_min <= args.lr:
        parser.error(f"--lr-min must be in [0, --lr = {args.lr:g}], got {args.lr_min:g}")
    if args.average_decay is not None and not 0 < args.average_decay < 1:
        parser.error(f"--average-decay must be in (0, 1), got {args.average_decay:g}")


def schedule(args, model):
    """``(learning_rate, average)`` for :func:`train` from the parsed schedule options."""
    learning_rate = (None if args.lr_min is None
                     else cosine_learning_rate(args.lr, args.lr_min, args.steps))
    average = None if args.average_decay is None else WeightAverage(model, args.average_decay)
    return learning_rate, average


def describe_schedule(args):
    """The learning rate and the kept weights, in words, for a provenance file."""
    rate = (f"{args.lr:g}" if args.lr_min is None else
            f"cosine from {args.lr:g} to {args.lr_min:g} over {args.steps} steps")
    kept = ("" if args.average_decay is None else
            f", kept: the exponential moving average of the weights, decay {args.average_decay:g}")
    return f"Adam, learning rate {rate}{kept}"


def train(model, optimizer, sampler, loss_fn, validate_fn, run, steps, batch,
          checkpoint_every=180.0, validate_every=50, max_seconds=None, learning_rate=None,
          average=None):
    """Run ``loss_fn(model, sampler.sample(batch))`` steps until ``steps`` in total.

    ``loss_fn`` returns the loss, or ``(loss, extras)`` with ``extras`` a dict of numbers logged
    beside it in ``metrics.csv`` (for example the share of converged fixed points).

    Saves ``run`` every ``checkpoint_every`` seconds, validates every ``validate_every`` steps and
    at its last step (keeping the best validated weights in ``run.best_path``), and stops early
    (its last step then: validated and saved) when ``max_seconds`` of this call have passed.
    ``learning_rate`` (a function of the 0-based step, e.g. :func:`cosine_learning_rate`) sets the
    optimiser's rate before every step, overriding the one a resumed optimiser state carries;
    ``None`` keeps the optimiser's.
    ``average`` (a :class:`WeightAverage` of ``model``) is updated after every step, and then it,
    not ``model``, is validated and kept as the best weights. Returns ``(step, elapsed_seconds)``.
    """
    step, elapsed = run.load(model, optimizer, sampler, average)
    validated = model if average is None else average.model
    start, last_save = time.perf_counter(), time.perf_counter()
    base = elapsed
    with tqdm(total=steps, initial=step, desc="training", dynamic_ncols=True) as bar:
        while step < steps:
            model.train()
            if learning_rate is not None:
                for group in optimizer.param_groups:
                    group["lr"] = learning_rate(step)
            loss = loss_fn(model, sampler.sample(batch))
            loss, extras = loss if isinstance(loss, tuple) else (loss, {})
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            if average is not None:
                average.update(model)
            step += 1
            elapsed = base + time.perf_counter() - start
            out_of_time = max_seconds is not None and time.perf_counter() - start > max_seconds
            last = step == steps or out_of_time
            val = validate_fn(validated) if step % validate_every == 0 or last else None
            if val is not None:
                run.keep_if_best(validated, step, val, elapsed)
            run.log({"step": step, "elapsed_s": round(elapsed, 1), "loss": loss.item(),
                     "val_psnr": "" if val is None else round(val, 3),
                     "lr": optimizer.param_groups[0]["lr"], **extras})
            bar.set_postfix(loss=f"{loss.item():.2e}",
                            val=("-" if val is None else f"{val:.2f}"))
            bar.update(1)
            if time.perf_counter() - last_save > checkpoint_every or last:
                run.save(model, optimizer, sampler, step, elapsed, average)
                last_save = time.perf_counter()
            if out_of_time:
                break
    return step, elapsed


def best_weights(run, model, validate_fn, step, elapsed):
    """Validate the final weights unless the run's last step already was (:func:`train`
    validates its last step; a run with no step trained was not), then return the run's best
    validated weights.

    :return: ``{"model": state dict, "step", "val_psnr", "elapsed"}``: the final weights when no
        earlier validation beat them.
    """
    if not run.validated_at(step):
        run.keep_if_best(model, step, validate_fn(model), elapsed)
    return run.best()


def named_with_hash(name, path=None):
    """``"<name> (SHA-256 <hex>)"``: how a provenance file names the weights a run started from,
    the hash of ``path`` (default: ``name`` itself, a path) pinning the version of that file."""
    return f"{name} (SHA-256 {sha256(name if path is None else path)})"


def run_provenance(best, step, steps, elapsed, device, validate_every):
    """The provenance fields every exported training run shares: which step was kept out of how
    many trained, whether the run finished, its wall time and device, and the best validation."""
    return {"steps": best["step"], "steps_trained": step, "complete": step >= steps,
            "wall_time_s": round(elapsed, 1), "device": describe_device(device),
            "validation_psnr": round(best["val_psnr"], 3),
            "selection": "the weights of the best validation PSNR of the run (validated every "
                         f"{validate_every} steps and at the end)"}
