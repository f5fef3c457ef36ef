"""Training entry points (``python -m benchmark.training.<name>``): the denoisers, DEQ-MD, the
tuning of the model-based weights on CBSD68; the resumable loop they share. No benchopt run
imports this package."""
