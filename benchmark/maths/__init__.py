"""The maths of the problem, no algorithm: the forward model (blur, Poisson noise), the data fit
(KL) and the Burg-entropy geometry (Bregman divergence, mirror step and its backtracking), TV, and
the image metrics."""
