r"""Learned regularisers of DEQ-MD (Daniele et al., arXiv 2507.11461).

RED potential (regularisation by denoising, Romano et al. 2017, in its gradient-step form,
Hurault et al. ICLR 2022):

.. math::

    R_\theta(x) = \tfrac12 \|x - N_\theta(x)\|^2, \qquad N_\theta(x) = x + D_\theta(x),

where :math:`D_\theta` is a DnCNN without batch normalisation (Zhang et al., IEEE TIP 2017): depth
5, 64 channels, 3x3 convolutions with bias, Softplus(beta=100) activations, so that
:math:`R_\theta(x) = \tfrac12 \|D_\theta(x)\|^2` is smooth. 114,307 parameters. The associated
gradient-step denoiser is :math:`x - \nabla R_\theta(x)`.

Parameter names follow the authors' code, so that their checkpoints (the state dict of their
``DEQFixedPoint``, keys ``network.net.in_conv.weight``, ``network.net.conv_list.0.weight``, ...,
``network.net.out_conv.bias``) load with :func:`load_authors_state_dict`.
"""

import torch
from torch import nn

from benchmark.parameters import check_choice

AUTHORS_PREFIX = "network."


def potential_and_grad(potential, x, create_graph=False):
    r"""``(P(x) per image, grad_x P(x))`` of a network potential ``P(x)`` (one value per image).

    ``create_graph=False``: one forward and one backward pass, no graph kept (inference).
    ``create_graph=True``: the gradient keeps its graph to the weights (training).
    """
    with torch.enable_grad():
        x_in = x if (create_graph and x.requires_grad) else x.detach().requires_grad_(True)
        value = potential(x_in)
        (grad,) = torch.autograd.grad(value.sum(), x_in, create_graph=create_graph)
    if not create_graph:
        return value.detach(), grad.detach()
    return value, grad


class DnCNN(nn.Module):
    """DnCNN body: in_conv, ``depth - 2`` hidden convolutions, out_conv; Softplus between them.

    ``forward`` returns the residual :math:`D_\\theta(x)` only (the denoiser output is
    :math:`x + D_\\theta(x)`). ``extra_inputs`` channels (a noise-level map) may be
    concatenated to the image at the input; the output has ``channels`` channels.
    """

    def __init__(self, channels=3, features=64, depth=5, beta=100.0, extra_inputs=0):
        super().__init__()
        self.in_conv = nn.Conv2d(channels + extra_inputs, features, 3, padding=1)
        self.conv_list = nn.ModuleList(
            nn.Conv2d(features, features, 3, padding=1) for _ in range(depth - 2))
        self.out_conv = nn.Conv2d(features, channels, 3, padding=1)
        self.activation = nn.Softplus(beta=beta)
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_in")
                nn.init.zeros_(module.bias)
        with torch.no_grad():
            self.out_conv.weight.mul_(0.1)

    def forward(self, x):
        h = self.activation(self.in_conv(x))
        for conv in self.conv_list:
            h = self.activation(conv(h))
        return self.out_conv(h)


class REDPotential(nn.Module):
    r""":math:`R_\theta(x) = \frac12 \|D_\theta(x)\|^2` per image, with its gradient by autograd."""

    def __init__(self, features=64, depth=5, beta=100.0, channels=3):
        super().__init__()
        self.architecture = dict(features=features, depth=depth, beta=beta, channels=channels)
        self.net = DnCNN(channels, features, depth, beta)

    @staticmethod
    def architecture_of(state_dict):
        """The ``features``, ``depth`` and ``channels`` of the DnCNN whose weights are
        ``state_dict`` (Softplus's ``beta`` is not in the weights: it keeps its default)."""
        hidden = [k for k in state_dict if k.startswith("net.conv_list.") and k.endswith(".weight")]
        return dict(features=state_dict["net.in_conv.weight"].shape[0], depth=len(hidden) + 2,
                    channels=state_dict["net.out_conv.weight"].shape[0])

    def forward(self, x):
        return 0.5 * (self.net(x) ** 2).flatten(1).sum(dim=1, dtype=torch.float64)

    def value_and_grad(self, x, create_graph=False):
        r"""``(R(x) per image, grad R(x))``, see :func:`potential_and_grad`."""
        return potential_and_grad(self, x, create_graph)

    def denoise(self, x, create_graph=False):
        r"""Gradient-step denoiser :math:`x - \nabla R_\theta(x)`."""
        return x - self.value_and_grad(x, create_graph)[1]


class ScalarPotential(nn.Module):
    r"""Scalar CNN potential :math:`R_\theta(x) = w^\top \mathrm{mean}_{pixels}(h(x)) + b`, the
    authors' "ICNN" class (without the positivity constraint on weights, as they train it).

    A multi-scale convolutional network: ``lin[0]`` (3 -> width), then five 3x3 convolutions
    (strides 2, 1, 2, 1, 2) each added to a convolution ``res[i]`` (same stride) of the input
    resized (bilinear) to the scale of that layer's input, Softplus(beta=100) after each;
    ``lin[6]`` a ``final_kernel`` x ``final_kernel`` convolution to 64 channels plus ``res[5]``,
    Softplus, spatial mean, and ``lin[7]`` a linear map to one scalar per image. ``width=256``
    (the paper's) has 7,235,713 parameters; a narrower width runs faster on a CPU. Parameter names
    follow the authors' code.
    """

    def __init__(self, width=256, channels=3, final_kernel=16, beta=100.0):
        super().__init__()
        self.architecture = dict(width=width, channels=channels, final_kernel=final_kernel,
                                 beta=beta)
        strides = (2, 1, 2, 1, 2)
        self.lin = nn.ModuleList(
            [nn.Conv2d(channels, width, 3, padding=1)]
            + [nn.Conv2d(width, width, 3, stride=s, padding=1, bias=False) for s in strides]
            + [nn.Conv2d(width, 64, final_kernel, bias=False), nn.Linear(64, 1)])
        self.res = nn.ModuleList(
            [nn.Conv2d(channels, width, 3, stride=s, padding=1) for s in strides]
            + [nn.Conv2d(channels, 64, final_kernel)])
        self.activation = nn.Softplus(beta=beta)
        self.scales = (1, 2, 2, 4, 4)

    def forward(self, x):
        size = torch.tensor(x.shape[-2:])
        h = self.activation(self.lin[0](x))
        for conv, res, scale in zip(self.lin[1:6], self.res[:5], self.scales):
            resized = nn.functional.interpolate(x, tuple((size // scale).tolist()),
                                                mode="bilinear", align_corners=False)
            h = self.activation(conv(h) + res(resized))
        resized = nn.functional.interpolate(x, tuple((size // 8).tolist()), mode="bilinear",
                                            align_corners=False)
        h = self.activation(self.lin[6](h) + self.res[5](resized))
        return self.lin[7](h.mean(dim=(2, 3))).flatten()

    def value_and_grad(self, x, create_graph=False):
        return potential_and_grad(self, x, create_graph)


REGULARIZERS = {"red": REDPotential, "scalar": ScalarPotential}


def check_regularizer_name(name):
    """``name`` if it is a regulariser of :data:`REGULARIZERS`, else a ValueError naming them."""
    return check_choice("regularizer", name, sorted(REGULARIZERS))


def build_regularizer(name, architecture=None):
    """``"red"`` -> :class:`REDPotential`, ``"scalar"`` -> :class:`ScalarPotential`."""
    return REGULARIZERS[check_regularizer_name(name)](**(architecture or {}))


def load_authors_state_dict(model, state_dict):
    """Load a state dict in the authors' ``DEQFixedPoint`` layout (``network.net.*``) or ours."""
    if any(k.startswith(AUTHORS_PREFIX) for k in state_dict):
        state_dict = {k[len(AUTHORS_PREFIX):]: v for k, v in state_dict.items()
                      if k.startswith(AUTHORS_PREFIX)}
    model.load_state_dict(state_dict, strict=True)
    return model


def count_parameters(model):
    return sum(p.numel() for p in model.parameters())
