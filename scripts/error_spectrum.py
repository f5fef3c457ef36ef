r"""Where in frequency DEQ-MD's error lies, per image, for one or more weights files.

    python scripts/error_spectrum.py --dataset skimage_photos --set images=science crop=128 \
        --kernel uniform --alpha 100 --weights benchmark/networks/weights/red_all_a100.pt \
        benchmark/networks/weights/red_uniform_a100.pt

Runs DEQ-MD (``lbfgs`` to its default tolerance, the network alone) with each weights file on the
dataset's problems and prints, per image, its MSE split by radial frequency band of the error
(:func:`benchmark.maths.metrics.mse_by_frequency_band`; the bands sum to the MSE behind the
PSNR). Two models with the same PSNR can fail in different places: at low frequencies (contrast,
shading) or near the blur's spectral zeros (ringing, noise left in). ``--edges`` sets the bands in
cycles per pixel (default 0, 1/32, 1/16, 1/8, 1/4; the last band is open above).
"""

import argparse
from pathlib import Path

from per_image_psnr import add_problem_arguments, problem_data

from benchmark.algorithms.deqmd import reconstruct
from benchmark.glue.runner import prepare_problem
from benchmark.maths.metrics import mse_by_frequency_band, psnr
from benchmark.networks.registry import frozen_red_from_file


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_problem_arguments(parser)
    parser.add_argument("--weights", nargs="+", required=True)
    parser.add_argument("--edges", type=float, nargs="+", default=[0, 1 / 32, 1 / 16, 1 / 8, 1 / 4])
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:<index>")
    args = parser.parse_args(argv)
    if args.edges[0] != 0 or any(b <= a for a, b in zip(args.edges, args.edges[1:])):
        parser.error(f"--edges must start at 0 and increase, got {args.edges}")
    data = problem_data(parser, args)
    y, operator, device = prepare_problem(data["y"], data["kernel"], args.device)
    models = [(path, frozen_red_from_file(path, device)) for path in args.weights]  # fail early
    x_true = data["x_true"].to(device)
    bands = [f"{a:.3g}-{b:.3g}" for a, b in zip(args.edges, args.edges[1:])]
    print(f"{args.dataset} {args.kernel} alpha={args.alpha:g} {args.set}; MSE (1e-4) per band of "
          f"cycles per pixel: {', '.join(bands + [f'>={args.edges[-1]:.3g}'])}")
    for path, model in models:
        x = reconstruct(y, operator, model).x
        by_band = mse_by_frequency_band(x, x_true, args.edges)
        for name, value, row in zip(data["image_names"], psnr(x, x_true).tolist(),
                                    by_band.tolist()):
            print(f"{Path(path).name:>24} {name:>22}: PSNR {value:6.2f}  MSE per band "
                  + " ".join(f"{1e4 * v:8.3f}" for v in row), flush=True)


if __name__ == "__main__":
    main()
