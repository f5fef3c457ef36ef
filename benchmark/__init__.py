"""Library of the Poisson deblurring benchmark: physics, data fit, mirror descent, algorithms.

Importing it flushes subnormal floats on the CPU (:func:`benchmark.device.flush_denormals`, unless
``POISSON_DEBLUR_FLUSH_DENORMALS=0``): torch's CPU threads take that mode only when they are started
after it, and the first parallel torch operation of a process starts them.
"""

from benchmark.device import denormals_flushed_by_default, flush_denormals

if denormals_flushed_by_default():
    flush_denormals()
