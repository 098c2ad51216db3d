"""Speed tricks kept out of the model code.

``threads`` chooses how many threads a training step uses (one for small steps, a timed choice
for large ones) and applies it; ``split`` runs the per-image layer passes (convolution, ReLU,
max-pooling) on two threads over the halves of a batch when a CNN step runs on two threads;
``blas`` calls single BLAS kernels (axpy) for the optimizers' in-place updates. The trainer calls
these once per step; nothing here changes results beyond the float32 rounding of sums taken in
another order.
"""
