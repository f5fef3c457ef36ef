"""Reconstruction algorithms, one module each, written as step-by-step iterations in torch.

Each algorithm object exposes ``x`` (current estimate, a (B, C, H, W) batch), ``step()`` (one
iteration) and ``stop_reason`` (``None`` while running, else a sentence saying why it stopped), so
that benchopt solvers can run them one iteration per callback.
"""
