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

AUTHORS_PREFIX = "network."


class DnCNN(nn.Module):
    """DnCNN body: in_conv, ``depth - 2`` hidden convolutions, out_conv; Softplus between them.

    ``forward`` returns the residual :math:`D_\\theta(x)` only (the denoiser output is
    :math:`x + D_\\theta(x)`).
    """

    def __init__(self, channels=3, features=64, depth=5, beta=100.0):
        super().__init__()
        self.in_conv = nn.Conv2d(channels, features, 3, padding=1)
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

    def forward(self, x):
        return 0.5 * (self.net(x) ** 2).flatten(1).sum(dim=1)

    def value_and_grad(self, x, create_graph=False):
        r"""``(R(x) per image, grad R(x))``.

        ``create_graph=False``: one forward and one backward pass, no graph kept (inference).
        ``create_graph=True``: the gradient keeps its graph to the weights (training).
        """
        with torch.enable_grad():
            x_in = x if (create_graph and x.requires_grad) else x.detach().requires_grad_(True)
            value = self(x_in)
            (grad,) = torch.autograd.grad(value.sum(), x_in, create_graph=create_graph)
        if not create_graph:
            return value.detach(), grad.detach()
        return value, grad

    def denoise(self, x, create_graph=False):
        r"""Gradient-step denoiser :math:`x - \nabla R_\theta(x)`."""
        return x - self.value_and_grad(x, create_graph)[1]


def load_authors_state_dict(model, state_dict):
    """Load a state dict in the authors' ``DEQFixedPoint`` layout (``network.net.*``) or ours."""
    if any(k.startswith(AUTHORS_PREFIX) for k in state_dict):
        state_dict = {k[len(AUTHORS_PREFIX):]: v for k, v in state_dict.items()
                      if k.startswith(AUTHORS_PREFIX)}
    model.load_state_dict(state_dict, strict=True)
    return model


def count_parameters(model):
    return sum(p.numel() for p in model.parameters())
