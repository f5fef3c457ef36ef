"""Learned models (the RED and scalar potentials of DEQ-MD, the Bregman score denoiser of
B-RED/B-PnP) and the registry of their shipped weights (``networks/weights/``, package data)."""
