r"""Train DEQ-MD's RED regulariser end to end at its equilibrium (JFB, or implicit differentiation).

    python -m benchmark.training.train_deq --alpha 60 --kernels gaussian uniform motion \
        --steps 300 [--solver lbfgs] [--device auto]

For each batch of clean CBSD432 patches :math:`x`: a kernel is drawn from ``--kernels``, Poisson
noise is drawn afresh, :math:`y = \mathcal{P}(\alpha A x)/\alpha`; the DEQ-MD fixed point
:math:`x^*` is computed without a graph by the fixed-point solver ``--solver`` (``lbfgs``, the
default: the equilibrium itself, to a fixed-point residual of ``--train-tol``; ``mirror``: the
paper's iteration, an early-stopped iterate), then one more mirror step :math:`T_\theta(x^*)` is
taken with the graph and the loss :math:`\|T_\theta(x^*) - x\|^2` is backpropagated to
:math:`\theta` (JFB, Fung et al. 2022). ``--gradient implicit`` differentiates the loss
:math:`\|x^* - x\|^2` exactly instead, by the implicit function theorem at the equilibrium
(:mod:`benchmark.algorithms.implicit_differentiation`; conjugate gradients on the Hessian of
:math:`\Psi`, at most ``--cg-iterations`` steps, logged as ``cg_iterations`` and ``cg_residual``).
Validation reconstructs with the same solver, so training
and test see the same point. ``metrics.csv`` logs, per step, the share of the batch's fixed points
that met the tolerance (``converged``) and their mean number of network evaluations. The
network starts from the pre-trained gradient-step denoiser
(``benchmark/networks/weights/red_denoiser.pt``).

``--symmetry flip|d4`` trains the network inside the potential averaged over a group of image
symmetries, :math:`R_G(x) = \frac{1}{|G|}\sum_g R_\theta(T_g x)`
(:mod:`benchmark.networks.symmetry`): the fixed points, the loss and the validation are those of
DEQ-MD run with ``symmetry`` at test time, so what is trained is what is used.

Resumable (``--run-dir``), logged to ``metrics.csv``. The weights are exported to
``benchmark/networks/weights/red_<kernel or all>_a<alpha>.pt`` with a provenance file whose
validation PSNR is that of DEQ-MD reconstructions of held-out CBSD432 centre crops.
"""

import argparse
import csv
import sys
from pathlib import Path

import torch

from benchmark.algorithms.composite import CompositeObjective
from benchmark.algorithms.deqmd import (
    DEFAULT_MAX_ITER,
    DEFAULT_SOLVER,
    DEFAULT_TOL,
    SOLVERS,
    jfb_output,
    make_solver,
    reconstruct,
)
from benchmark.algorithms.implicit_differentiation import (
    DEFAULT_DAMPING,
    implicit_direction,
    implicit_surrogate,
)
from benchmark.device import select_device
from benchmark.maths.metrics import psnr
from benchmark.maths.mirror import initial_point
from benchmark.maths.physics import get_kernel, simulate
from benchmark.networks.registry import (
    WEIGHTS_DIR,
    checkpoint_name,
    find_checkpoint,
    load_checkpoint,
    red_from_weights,
    run_weights,
    write_checkpoint,
)
from benchmark.networks.regularizers import REDPotential
from benchmark.networks.symmetry import GROUPS, symmetrized
from benchmark.parameters import alpha_argument, writable_output
from benchmark.training.crops import PatchSampler, cbsd432_split, validation_crops
from benchmark.training.fixed_point_pool import FixedPointPool
from benchmark.training.loop import (
    RUNS_DIR,
    ResumableRun,
    add_schedule_arguments,
    best_weights,
    check_schedule_arguments,
    describe_schedule,
    named_with_hash,
    run_provenance,
    schedule,
    train,
)

# Validate every this many steps by default (a DEQ step on a CPU solves a batch of fixed points in
# about a minute: 25).
VALIDATE_EVERY = 25
# Conjugate-gradient steps of --gradient implicit at most: 10 steps give a weight gradient at cosine
# 1.0000 (damping 1) and 0.996 (damping 0.1) to CG run to 1e-6 (scripts/bench_implicit_gradient.py).
DEFAULT_CG_ITERATIONS = 10


def training_fixed_point(model, y, operator, start, solver, tol, max_iter, symmetry="none"):
    """The fixed point by ``solver`` from ``start`` (no graph, the weights frozen) and its
    objective, the regulariser ``model`` averaged over the group ``symmetry``. Returns
    ``(objective, fixed_point)``."""
    model.requires_grad_(False)
    objective = CompositeObjective(y, operator, symmetrized(model, symmetry))
    with torch.no_grad():
        fixed_point = make_solver(solver, objective, start, tol, max_iter).run()
    return objective, fixed_point


def jfb_loss(model, objective, fixed_point, clean):
    """The paper's training step: one mirror step with the graph from the fixed point, the
    squared error of its output to ``clean``, backpropagated through that step only (JFB).
    Returns ``(loss, extras)``."""
    model.requires_grad_(True)
    return ((jfb_output(objective, fixed_point) - clean) ** 2).mean(), {}


def implicit_loss(model, objective, fixed_point, clean, cg_iterations=DEFAULT_CG_ITERATIONS,
                  damping=DEFAULT_DAMPING):
    r"""The squared error :math:`\|x^* - x\|^2` (mean) at the fixed point, with its weight
    gradient by implicit differentiation (:mod:`benchmark.algorithms.implicit_differentiation`,
    ``cg_iterations`` CG steps at most, the Hessian damped by ``damping``). Returns
    ``(loss, extras)``: ``loss`` has the error's value and the implicit gradient, ``extras`` the
    mean CG steps and final CG residual."""
    x_star = fixed_point.x.detach()
    error = x_star - clean
    direction = implicit_direction(objective, x_star, 2 * error / error.numel(), cg_iterations,
                                   damping)
    model.requires_grad_(True)
    surrogate = implicit_surrogate(objective.regularizer, x_star, direction.v)
    loss = (error ** 2).mean().double() + surrogate - surrogate.detach()
    return loss, {"cg_iterations": float(direction.iterations.float().mean()),
                  "cg_residual": float(direction.residual.mean())}


# How the loss at the equilibrium is differentiated (--gradient).
GRADIENTS = {"jfb": jfb_loss, "implicit": implicit_loss}


def deq_loss(model, clean, y, operator, start, solver, tol, max_iter, symmetry="none",
             gradient="jfb", cg_iterations=DEFAULT_CG_ITERATIONS, damping=DEFAULT_DAMPING):
    """The training loss of a batch: :func:`training_fixed_point`, then the loss differentiated
    by ``gradient`` (:data:`GRADIENTS`). Returns ``(loss, extras, fixed_point)``, ``extras`` the
    share of the batch's fixed points that met ``tol``, their mean network evaluations, and the
    gradient's own numbers."""
    objective, fixed_point = training_fixed_point(model, y, operator, start, solver, tol,
                                                  max_iter, symmetry)
    options = ({"cg_iterations": cg_iterations, "damping": damping} if gradient == "implicit"
               else {})
    loss, extras = GRADIENTS[gradient](model, objective, fixed_point, clean, **options)
    return loss, {"converged": float(fixed_point.converged.float().mean()),
                  "evaluations": float(fixed_point.evaluations.float().mean()),
                  **extras}, fixed_point


def make_loss(kernels, alpha, device, **loss_options):
    """The training loss (:func:`deq_loss` with ``loss_options``) of a batch of fresh crops: a
    kernel drawn from ``kernels``, fresh Poisson noise, the fixed point from :math:`x_0`."""
    def loss_fn(model, clean):
        clean = clean.to(device)
        kernel = kernels[int(torch.randint(len(kernels), (1,)))]
        y, operator = simulate(clean, kernel, alpha, seed=int(torch.randint(2**31, (1,))))
        loss, extras, _ = deq_loss(model, clean, y, operator, initial_point(y, operator),
                                   **loss_options)
        return loss, extras
    return loss_fn


def make_pool_loss(pool, **loss_options):
    """The training loss (:func:`deq_loss`) of a batch of the :class:`FixedPointPool`, each solve
    warm-started from the problem's last fixed point, which is then replaced by the new one."""
    def loss_fn(model, batch):
        clean, y, operator, start = pool.problem(batch)
        loss, extras, fixed_point = deq_loss(model, clean, y, operator, start, **loss_options)
        pool.remember(batch, fixed_point.x)
        return loss, extras
    return loss_fn


def validation_problems(crops, kernels, alpha):
    """``(y, operator)`` per kernel: the held-out crops blurred, one noise draw each (seed
    ``1000 + kernel index``), the same for every run and checkpoint."""
    return [simulate(crops, kernel, alpha, seed=1000 + i) for i, kernel in enumerate(kernels)]


def make_validator(crops, kernels, alpha, solver, max_iter, symmetry):
    """Mean PSNR of DEQ-MD (``solver``, its default tolerance, the potential averaged over the
    group ``symmetry``) over the crops and kernels."""
    problems = validation_problems(crops, kernels, alpha)

    def validate(model):
        model.eval().requires_grad_(False)
        potential = symmetrized(model, symmetry)
        scores = [float(psnr(reconstruct(y, op, potential, solver, max_iter=max_iter).x,
                             crops).mean()) for y, op in problems]
        model.requires_grad_(True)
        return sum(scores) / len(scores)
    return validate


def converged_share(log_path):
    """Share of the training fixed points that met the tolerance, over the whole run's log
    (``None`` when no step was trained: ``--steps 0`` only validates its ``--init`` weights)."""
    if not Path(log_path).is_file():
        return None
    with open(log_path, newline="") as f:
        values = [float(r["converged"]) for r in csv.DictReader(f) if r.get("converged")]
    return sum(values) / len(values) if values else None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alpha", type=alpha_argument, required=True)
    parser.add_argument("--kernels", nargs="+", default=["gaussian", "uniform", "motion"])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--patch", type=int, default=128,
                        help="training crop size (at least 64: the motion kernel is 23x23)")
    parser.add_argument("--lr", type=float, default=3e-4)
    add_schedule_arguments(parser)
    parser.add_argument("--solver", default=DEFAULT_SOLVER, choices=sorted(SOLVERS),
                        help="fixed-point solver of training and validation (lbfgs: the "
                             "equilibrium; mirror: the paper's early-stopped iteration)")
    parser.add_argument("--train-tol", type=float, default=None,
                        help="tolerance of the training fixed points (default: the solver's)")
    parser.add_argument("--train-max-iter", type=int, default=None,
                        help="iteration cap of the training fixed points (default: the solver's)")
    parser.add_argument("--pool", type=int, default=0,
                        help="train on a fixed pool of this many problems (crop, kernel, noise), "
                             "each solve warm-started from the problem's last fixed point "
                             "(lbfgs only); 0: fresh crops and noise at every step")
    parser.add_argument("--symmetry", default="none", choices=sorted(GROUPS),
                        help="train and validate the potential averaged over this group of image "
                             "symmetries, as DEQ-MD's symmetry uses it (none: the network alone)")
    parser.add_argument("--gradient", default="jfb", choices=sorted(GRADIENTS),
                        help="how the loss at the fixed point is differentiated: jfb, one mirror "
                             "step (the paper's); implicit, the exact gradient by implicit "
                             "differentiation with conjugate gradients")
    parser.add_argument("--cg-iterations", type=int, default=DEFAULT_CG_ITERATIONS,
                        help=f"CG steps at most of --gradient implicit (default "
                             f"{DEFAULT_CG_ITERATIONS})")
    parser.add_argument("--cg-damping", type=float, default=DEFAULT_DAMPING,
                        help=f"damping mu of --gradient implicit: CG solves (Hessian + mu "
                             f"diag(1/x*)) v = grad loss (default {DEFAULT_DAMPING:g})")
    parser.add_argument("--validation-images", type=int, default=4)
    parser.add_argument("--validation-size", type=int, default=96)
    parser.add_argument("--validation-max-iter", type=int, default=None)
    parser.add_argument("--validate-every", type=int, default=VALIDATE_EVERY,
                        help=f"validate every this many steps and at the end (default "
                             f"{VALIDATE_EVERY}; a GPU trains far more steps per minute)")
    parser.add_argument("--device", default="auto",
                        help="auto (CUDA when torch sees it), cpu, cuda")
    parser.add_argument("--init", default=None,
                        help="start from these RED weights (an exported .pt, or a run's best.pt "
                             "or state.pt) instead of the pre-trained denoiser")
    parser.add_argument("--run-dir", default=None)
    parser.add_argument("--output", default=None,
                        help="checkpoint to write (default benchmark/networks/weights/<name>.pt)")
    parser.add_argument("--max-minutes", type=float, default=None)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.patch < 64:
        parser.error(f"--patch must be at least 64 (the motion kernel is 23x23), got {args.patch}")
    check_schedule_arguments(parser, args)
    if args.validate_every < 1:
        parser.error(f"--validate-every must be at least 1, got {args.validate_every}")
    if not args.cg_damping >= 0:
        parser.error(f"--cg-damping must be >= 0, got {args.cg_damping:g}")
    if args.cg_iterations < 1:
        parser.error(f"--cg-iterations must be at least 1, got {args.cg_iterations}")
    if args.pool and args.solver != "lbfgs":
        parser.error("--pool warm-starts the equilibrium solver: it needs --solver lbfgs (the "
                     "paper's iteration stops early, so its end point depends on its start)")

    kernel_tag = args.kernels[0] if len(args.kernels) == 1 else "all"
    name = checkpoint_name("red", kernel_tag, args.alpha)
    run_dir = args.run_dir or str(RUNS_DIR / name)
    output = args.output or WEIGHTS_DIR / f"{name}.pt"
    writable_output(parser, output)
    device = select_device(args.device)
    tol = DEFAULT_TOL[args.solver] if args.train_tol is None else args.train_tol
    max_iter = DEFAULT_MAX_ITER[args.solver] if args.train_max_iter is None else args.train_max_iter
    torch.manual_seed(args.seed)
    if args.init is None:  # the weights first: a bad file fails before the data are read
        init = find_checkpoint("red", "none", 0, stage="denoiser")
        model = REDPotential()
        model.load_state_dict(load_checkpoint(init["path"], init["sha256"]))
        initialisation = named_with_hash(init["file"], init["path"])
    else:
        model = red_from_weights(run_weights(args.init), args.init)
        initialisation = named_with_hash(args.init)
    kernels = [get_kernel(k) for k in args.kernels]
    train_files, val_files = cbsd432_split()
    sampler = PatchSampler(train_files, args.patch, seed=args.seed)
    crops = validation_crops(val_files[:args.validation_images], args.validation_size).to(device)
    validate = make_validator(crops, kernels, args.alpha, args.solver, args.validation_max_iter,
                              args.symmetry)
    model.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    run = ResumableRun(run_dir)
    learning_rate, average = schedule(args, model)
    loss_options = dict(solver=args.solver, tol=tol, max_iter=max_iter, symmetry=args.symmetry,
                        gradient=args.gradient, cg_iterations=args.cg_iterations,
                        damping=args.cg_damping)
    if args.pool:
        sampler = FixedPointPool(sampler, kernels, args.alpha, args.pool, args.seed, device)
        loss_fn = make_pool_loss(sampler, **loss_options)
    else:
        loss_fn = make_loss(kernels, args.alpha, device, **loss_options)
    step, elapsed = train(model, optimizer, sampler, loss_fn, validate, run, args.steps,
                          args.batch, validate_every=args.validate_every,
                          max_seconds=None if args.max_minutes is None else 60 * args.max_minutes,
                          learning_rate=learning_rate, average=average)
    best = best_weights(run, model if average is None else average.model, validate, step,
                        elapsed)
    share = converged_share(run.log_path)
    record = write_checkpoint(best["model"], output, {
        "regularizer": "red", "kernel": kernel_tag, "alpha": args.alpha, "stage": "deq",
        "architecture": model.architecture, "initialisation": initialisation,
        "fixed_point_solver": args.solver, "symmetry": args.symmetry,
        "data": f"CBSD432 train split ({len(train_files)} images), {args.patch}x{args.patch} "
                f"patches, batch {args.batch}, kernels {args.kernels}, "
                f"{describe_schedule(args)}, "
                + (f"a fixed pool of {args.pool} problems (crop, kernel, noise draw), each solve "
                   f"warm-started from the problem's last fixed point" if args.pool else
                   "Poisson noise redrawn per batch")
                + f"; training fixed points by {args.solver!r} to tol {tol:g}, cap {max_iter}"
                + ("; the loss at the fixed point differentiated by one mirror step (JFB)"
                   if args.gradient == "jfb" else
                   f"; the gradient by implicit differentiation, at most "
                   f"{args.cg_iterations} CG steps, damping {args.cg_damping:g}"),
        "gradient": args.gradient,
        "converged_share": None if share is None else round(share, 4),
        **run_provenance(best, step, args.steps, elapsed, device, args.validate_every),
        "validation": f"DEQ-MD ({args.solver!r}, its default tolerance) on "
                      f"{args.validation_images} held-out CBSD432 centre crops "
                      f"{args.validation_size}x{args.validation_size}, mean over kernels "
                      f"{args.kernels}, symmetry {args.symmetry!r}",
        "command": "python -m benchmark.training.train_deq " + " ".join(sys.argv[1:] if argv is None
                                                               else argv),
    })
    print(f"step {step}/{args.steps}; best validation PSNR {best['val_psnr']:.2f} dB at step "
          f"{best['step']}; training fixed points converged: "
          f"{'n/a' if share is None else f'{100 * share:.1f}%'} -> {record['file']}")


if __name__ == "__main__":
    main()
