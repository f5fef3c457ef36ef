"""Library of the Poisson deblurring benchmark: physics, data fit, mirror descent, algorithms."""
