"""Speed tricks kept out of the model code.

``threads`` chooses how many BLAS threads a training step uses (one for small steps, a timed
choice for large ones) and applies it; ``blas`` calls single BLAS kernels (axpy) for the
optimizers' in-place updates. The trainer calls these once per step; nothing here changes results.
"""
