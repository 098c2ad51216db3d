"""Tests for nn_core.optimizers: two steps of each rule against values worked out by hand.

Every case starts from p = [1, -2] with gradients g1 = [0.5, -1] then g2 = [0.25, 2]. The expected
values are written out from the textbook form of each rule (for Adam the explicit bias-corrected
m_hat / v_hat, which the implementation folds into its step size).
"""

from __future__ import annotations

import math
import tracemalloc

import numpy as np
import pytest

from nn_core.optimizers import OPTIMIZERS, SGD, Adam, Momentum, Optimizer, RMSprop, make_optimizer

P0 = [1.0, -2.0]
G1 = [0.5, -1.0]
G2 = [0.25, 2.0]


def run_two_steps(opt: Optimizer) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (p after step 1, p after step 2, the parameter array itself)."""
    p = np.array(P0, dtype=np.float32)
    opt.step({"w": p}, {"w": np.array(G1, dtype=np.float32)})
    p1 = p.copy()
    opt.step({"w": p}, {"w": np.array(G2, dtype=np.float32)})
    return p1, p.copy(), p


def test_sgd_two_steps():
    p1, p2, _ = run_two_steps(SGD(0.1))
    np.testing.assert_allclose(p1, [1 - 0.05, -2 + 0.1], rtol=1e-6)
    np.testing.assert_allclose(p2, [0.95 - 0.025, -1.9 - 0.2], rtol=1e-6)


def test_momentum_two_steps():
    # v1 = g1 = [0.5, -1]; p1 = p0 - 0.1 v1 = [0.95, -1.9]
    # v2 = 0.9 v1 + g2 = [0.7, 1.1]; p2 = p1 - 0.1 v2 = [0.88, -2.01]
    p1, p2, _ = run_two_steps(Momentum(0.1, 0.9))
    np.testing.assert_allclose(p1, [0.95, -1.9], rtol=1e-6)
    np.testing.assert_allclose(p2, [0.88, -2.01], rtol=1e-6)


def test_nesterov_two_steps():
    # step 1: v1 = g1; p1 = p0 - 0.1 (g1 + 0.9 v1) = p0 - 0.19 g1 = [0.905, -1.81]
    # step 2: v2 = [0.7, 1.1]; g2 + 0.9 v2 = [0.88, 2.99]; p2 = [0.905 - 0.088, -1.81 - 0.299]
    p1, p2, _ = run_two_steps(Momentum(0.1, 0.9, nesterov=True))
    np.testing.assert_allclose(p1, [0.905, -1.81], rtol=1e-6)
    np.testing.assert_allclose(p2, [0.817, -2.109], rtol=1e-6)


def test_rmsprop_two_steps():
    lr, rho, eps = 0.1, 0.9, 1e-7
    # s1 = 0.1 g1^2 = [0.025, 0.1]
    s1 = [0.025, 0.1]
    p1 = [P0[i] - lr * G1[i] / (math.sqrt(s1[i]) + eps) for i in range(2)]
    # s2 = 0.9 s1 + 0.1 g2^2 = [0.0225 + 0.00625, 0.09 + 0.4]
    s2 = [0.02875, 0.49]
    p2 = [p1[i] - lr * G2[i] / (math.sqrt(s2[i]) + eps) for i in range(2)]
    got1, got2, _ = run_two_steps(RMSprop(lr, rho, eps))
    # the first step moves each weight by lr * sqrt(10) with the gradient's sign
    np.testing.assert_allclose(p1, [1 - 0.1 * math.sqrt(10), -2 + 0.1 * math.sqrt(10)], rtol=1e-6)
    np.testing.assert_allclose(got1, p1, rtol=1e-6)
    np.testing.assert_allclose(got2, p2, rtol=1e-6)


def test_adam_two_steps():
    lr, b1, b2, eps = 0.1, 0.9, 0.999, 1e-7
    m1 = [0.1 * g for g in G1]
    v1 = [0.001 * g * g for g in G1]
    p1 = [P0[i] - lr * (m1[i] / 0.1) / (math.sqrt(v1[i] / 0.001) + eps) for i in range(2)]
    m2 = [0.9 * m1[i] + 0.1 * G2[i] for i in range(2)]  # [0.07, 0.11]
    v2 = [0.999 * v1[i] + 0.001 * G2[i] ** 2 for i in range(2)]  # [0.00031225, 0.004999]
    m_hat = [m / (1 - b1**2) for m in m2]
    v_hat = [v / (1 - b2**2) for v in v2]
    p2 = [p1[i] - lr * m_hat[i] / (math.sqrt(v_hat[i]) + eps) for i in range(2)]
    got1, got2, _ = run_two_steps(Adam(lr, b1, b2, eps))
    # Adam's first step is lr times the gradient's sign
    np.testing.assert_allclose(p1, [0.9, -1.9], rtol=1e-6)
    np.testing.assert_allclose(m2, [0.07, 0.11], rtol=1e-12)
    np.testing.assert_allclose(v2, [0.00031225, 0.004999], rtol=1e-12)
    np.testing.assert_allclose(got1, p1, rtol=1e-6)
    np.testing.assert_allclose(got2, p2, rtol=1e-6)


ALL = [
    lambda: SGD(0.1),
    lambda: Momentum(0.1),
    lambda: Momentum(0.1, nesterov=True),
    lambda: RMSprop(0.1),
    lambda: Adam(0.1),
]
NAMES = ["sgd", "momentum", "nesterov", "rmsprop", "adam"]


@pytest.mark.parametrize("factory", ALL, ids=NAMES)
def test_updates_in_place_and_stay_float32(factory):
    _, _, p = run_two_steps(opt := factory())
    assert p.dtype == np.float32
    p_before = p
    opt.step({"w": p}, {"w": np.ones(2, dtype=np.float32)})
    assert p is p_before and p.dtype == np.float32
    for st in opt.state.values():
        for buf in st.values():
            assert buf.dtype == np.float32


@pytest.mark.parametrize("factory", ALL, ids=NAMES)
def test_state_is_kept_per_parameter_name(factory):
    """Two parameters stepped together move exactly as each would alone."""
    together = factory()
    a = np.array(P0, dtype=np.float32)
    b = np.array([3.0, 0.5, -1.0], dtype=np.float32)
    ga = [np.array(G1, dtype=np.float32), np.array(G2, dtype=np.float32)]
    gb = [np.array([1.0, 2.0, -3.0], dtype=np.float32), np.array([-0.5, 0.1, 0.2], dtype=np.float32)]
    for i in range(2):
        together.step({"a": a, "b": b}, {"a": ga[i], "b": gb[i]})
    _, alone_a, _ = run_two_steps(factory())
    alone = factory()
    b_alone = np.array([3.0, 0.5, -1.0], dtype=np.float32)
    for i in range(2):
        alone.step({"b": b_alone}, {"b": gb[i]})
    np.testing.assert_array_equal(a, alone_a)
    np.testing.assert_array_equal(b, b_alone)
    assert set(together.state) == {"a", "b"}


@pytest.mark.parametrize("factory", ALL, ids=NAMES)
def test_state_buffers_are_made_once(factory):
    opt = factory()
    p = np.array(P0, dtype=np.float32)
    opt.step({"w": p}, {"w": np.array(G1, dtype=np.float32)})
    buffers = {k: id(v) for k, v in opt.state["w"].items()}
    opt.step({"w": p}, {"w": np.array(G2, dtype=np.float32)})
    assert {k: id(v) for k, v in opt.state["w"].items()} == buffers


def test_changing_lr_between_steps_takes_effect():
    opt = SGD(0.1)
    p = np.zeros(1, dtype=np.float32)
    opt.step({"w": p}, {"w": np.ones(1, dtype=np.float32)})
    opt.lr = 0.01
    opt.step({"w": p}, {"w": np.ones(1, dtype=np.float32)})
    assert p[0] == pytest.approx(-0.11, rel=1e-6)


def test_make_optimizer():
    for name in OPTIMIZERS:
        opt = make_optimizer(name, 0.05, momentum=0.8)
        assert opt.lr == pytest.approx(0.05)
    mom = make_optimizer("nesterov", 0.1, momentum=0.8)
    assert isinstance(mom, Momentum) and mom.nesterov and mom.momentum == pytest.approx(0.8)
    assert not make_optimizer("momentum", 0.1).nesterov
    assert isinstance(make_optimizer("adam", 0.1), Adam)
    with pytest.raises(ValueError, match="sgd, momentum, nesterov, rmsprop, adam"):
        make_optimizer("adagrad", 0.1)


@pytest.mark.parametrize("factory", ALL, ids=NAMES)
def test_a_step_allocates_no_array_data(factory):
    """After the first step made the state, a step works in place and in float32: no temporaries.

    (A float64 scalar in an in-place float32 operation, for example, makes NumPy run the loop in
    float64 through cast buffers of tens of kilobytes.)
    """
    opt = factory()
    rng = np.random.default_rng(0)
    p = rng.standard_normal(100_000).astype(np.float32)  # 400 kB
    g = rng.standard_normal(100_000).astype(np.float32)
    opt.step({"w": p}, {"w": g})
    opt.step({"w": p}, {"w": g})
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        opt.step({"w": p}, {"w": g})
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak - before < 4_000, f"a step allocated {peak - before} bytes for a 400 kB parameter"
