r"""A learned potential averaged over a group of image symmetries (a test-time self-ensemble).

For a group :math:`G` of pixel permutations :math:`T_g` (flips, rotations by 90 degrees),

.. math::

    R_G(x) = \frac{1}{|G|} \sum_{g \in G} R(T_g x), \qquad
    \nabla R_G(x) = \frac{1}{|G|} \sum_{g \in G} T_g^{-1}\, \nabla R(T_g x),

since :math:`T_g` is orthogonal (:math:`T_g^\top = T_g^{-1}`). :math:`R_G` is itself a potential,
so DEQ-MD with :math:`R_G` is still the fixed point of a mirror step on
:math:`\mathrm{KL}(y, A\cdot) + R_G`, and :math:`R_G(T_h x) = R_G(x)` for every :math:`h \in G`.
It is the equivariant plug-and-play of Terris, Moreau, Pustelnik and Tachella (CVPR 2024), with the
whole group averaged (a deterministic operator, so that the fixed point exists), for a
gradient-step potential; the self-ensemble of Timofte, Rothe and Van Gool ("Seven ways to improve
example-based single image super resolution", CVPR 2016) applied to a regulariser.

Groups (:data:`GROUPS`): ``"none"`` (the identity), ``"flip"`` (the identity and the left-right
mirror, 2 evaluations of :math:`R` per call), ``"d4"`` (the 8 symmetries of the square: rotations
by 0, 90, 180, 270 degrees and their mirrors). The transforms of one shape are evaluated as one
batch.
"""

import torch

from benchmark.parameters import check_choice

# (quarter turns, mirror) of each group element: T x = mirror(rot90(x, turns)).
GROUPS = {
    "none": ((0, False),),
    "flip": ((0, False), (0, True)),
    "d4": tuple((turns, mirror) for turns in range(4) for mirror in (False, True)),
}


def check_symmetry_name(name):
    """``name`` if it is a group of :data:`GROUPS`, else a ValueError naming them."""
    return check_choice("symmetry", name, sorted(GROUPS))


def training_symmetry_note(record, symmetry):
    """None when the weights of provenance ``record`` were trained inside the potential averaged
    over ``symmetry`` (a record without ``"symmetry"`` predates the option: ``"none"``); else one
    line saying that the run uses another potential than the one its weights were trained in."""
    trained = record.get("symmetry", "none")
    if trained == symmetry:
        return None
    return (f"the weights {record.get('file', '?')} were trained with symmetry={trained!r}; this "
            f"run uses symmetry={symmetry!r}, a potential they were not trained in")


def transform(x, turns, mirror):
    """:math:`T x`: ``x`` (N, C, H, W) rotated by ``turns`` quarter turns, then mirrored
    left-right if ``mirror``."""
    x = torch.rot90(x, turns, (2, 3))
    return torch.flip(x, (3,)) if mirror else x


def inverse_transform(x, turns, mirror):
    r""":math:`T^{-1} x`, the inverse of :func:`transform` (mirror first, then turned back)."""
    x = torch.flip(x, (3,)) if mirror else x
    return torch.rot90(x, -turns, (2, 3))


class SymmetrizedPotential:
    r""":math:`R_G` of the potential ``potential`` (any object with ``value_and_grad(x,
    create_graph=False) -> (R(x) per image, grad R(x))``) over the group ``symmetry``, with the
    same interface. The group's elements that give images of one shape (every element on square
    images) are stacked in one batch: one call of ``potential`` per shape."""

    def __init__(self, potential, symmetry):
        self.potential = potential
        self.symmetry = check_symmetry_name(symmetry)
        self.elements = GROUPS[self.symmetry]

    def value_and_grad(self, x, create_graph=False):
        transformed = [transform(x, turns, mirror) for turns, mirror in self.elements]
        values, grads = [None] * len(self.elements), [None] * len(self.elements)
        for shape in dict.fromkeys(t.shape for t in transformed):
            members = [i for i, t in enumerate(transformed) if t.shape == shape]
            value, grad = self.potential.value_and_grad(
                torch.cat([transformed[i] for i in members]), create_graph=create_graph)
            for i, v, g in zip(members, value.chunk(len(members)), grad.chunk(len(members))):
                values[i], grads[i] = v, inverse_transform(g, *self.elements[i])
        count = len(self.elements)
        return sum(values) / count, sum(grads) / count


def symmetrized(potential, symmetry):
    """``potential`` itself for ``"none"``, else its :class:`SymmetrizedPotential`."""
    if check_symmetry_name(symmetry) == "none":
        return potential
    return SymmetrizedPotential(potential, symmetry)
