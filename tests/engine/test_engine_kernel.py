"""The batch kernel: every native ISA equals the pure-Python reference, exactly."""

from __future__ import annotations

import itertools
import os
import random
import subprocess
import sys
from array import array
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arbees import kernel
from arbees.arb import NO_EDGE, PairFees, check_top_edge, decode_mask, reference_check
from arbees.arb.top import _k_fee, _p_fee
from arbees.errors import KernelError
from arbees.fees import KalshiFeeModel, PolymarketFeeModel
from arbees.money import ONE

NATIVE = [b for b in kernel.available_backends() if b != "python"]

INT64 = st.integers(-(2**63), 2**63 - 1)
# int64 prices whose bits, added to those of 1.5 * 2**52 by the AVX2 kernel, are an infinity,
# a NaN (of either sign) or a double far from the price: all must read as missing
ODD_BITS = [
    0x3CC0_0000_0000_0000,
    0x3CC8_0000_0000_0000,
    0x3CCF_FFFF_FFFF_FFFF,
    0x3CD0_0000_0000_0000,
    0xBCC8_0000_0000_0000 - 2**64,
    0xBCCF_FFFF_FFFF_FFFF - 2**64,
    -(2**63),
    2**63 - 1,
    2**51,
    2**52 - 1,
    2**52,
    2**52 + 1,
    2**32,
    2**32 + 500_000,
    -(2**32) + 500_000,
    -2_000_000,
]
prices = st.one_of(
    st.sampled_from([0, 1, 2, 9_999, 10_000, 500_000, 989_999, 990_000, 999_999, ONE, ONE + 1, -1]),
    st.sampled_from(ODD_BITS),
    st.integers(0, ONE),
    st.integers(1, 99).map(lambda c: c * 10_000),  # whole cents
    INT64,
)
coefs = st.one_of(st.sampled_from([0, 17_500, 70_000, 140_000, ONE]), st.integers(0, ONE))
rates = st.one_of(st.sampled_from([0, 40_000, 50_000, 70_000, ONE]), st.integers(0, ONE))
min_edges = st.one_of(
    st.sampled_from([0, 1, -1, ONE, -2 * ONE, 10_000]), st.integers(-2 * ONE, ONE)
)
markets = st.lists(st.tuples(prices, prices, prices, prices, coefs, rates), max_size=40)


def test_native_kernel_is_built_in_ci() -> None:
    if not NATIVE:
        if os.environ.get("CI"):
            pytest.fail("CI is set but the native kernel (arbees._native_kernel) was not built")
        pytest.skip("native kernel not built here")
    assert kernel.BACKEND in (*NATIVE, "python")
    if os.environ.get("ARBEES_KERNEL", "auto") in ("", "auto", "native"):
        assert NATIVE[0] == kernel.BACKEND


def columns(rows: list[tuple[int, ...]]) -> list[array[int]]:
    return [array("q", [r[i] for r in rows]) for i in range(6)]


@settings(max_examples=300, deadline=None)
@given(markets, min_edges)
def test_every_backend_equals_the_reference(rows: list[tuple[int, ...]], min_edge: int) -> None:
    cols = columns(rows)
    expected = [reference_check(*row, min_edge) for row in rows]
    for backend in kernel.available_backends():
        result = kernel.batch_check(*cols, min_edge, backend=backend)
        got = list(zip(result.masks.tolist(), result.best_edge.tolist(), strict=True))
        assert got == expected, backend


@settings(max_examples=200, deadline=None)
@given(prices, prices, prices, prices, coefs, rates, min_edges)
def test_batch_equals_scalar(
    ky: int, kn: int, py: int, pn: int, kc: int, pr: int, min_edge: int
) -> None:
    # one market alone and the same market among vector-width neighbours (lanes and tail)
    for backend in kernel.available_backends():
        single = kernel.batch_check([ky], [kn], [py], [pn], kc, pr, min_edge, backend=backend)
        many = kernel.batch_check(
            [ky] * 9, [kn] * 9, [py] * 9, [pn] * 9, kc, pr, min_edge, backend=backend
        )
        ref = reference_check(ky, kn, py, pn, kc, pr, min_edge)
        assert (single.masks[0], single.best_edge[0]) == ref
        assert set(zip(many.masks.tolist(), many.best_edge.tolist(), strict=True)) == {ref}


@given(
    st.integers(1, ONE - 1),
    st.integers(1, ONE - 1),
    st.integers(1, ONE - 1),
    st.integers(1, ONE - 1),
    st.sampled_from([1, Decimal("0.5"), 2]),
    st.booleans(),
    st.sampled_from(["0", "0.04", "0.05", "0.07"]),
)
def test_kernel_fee_equals_fee_models(
    ky: int, kn: int, py: int, pn: int, mult: int | Decimal, maker: bool, rate: str
) -> None:
    fees = PairFees(KalshiFeeModel(multiplier=mult, maker=maker), PolymarketFeeModel(rate))
    ref = check_top_edge(ky, kn, py, pn, fees, 0)
    cols = [[ky], [kn], [py], [pn]]
    result = kernel.batch_check(*cols, fees.kalshi.kernel_coef, fees.poly.kernel_rate)
    assert (result.masks[0], result.best_edge[0]) == ref


cents = st.one_of(st.integers(-3, 103), st.sampled_from([0, 1, 50, 99, 100]), INT64)


@given(cents, cents, cents, cents, st.integers(-400, 500))
def test_simd_check_arbs_equals_python_twin(
    ky: int, kn: int, py: int, pn: int, threshold: int
) -> None:
    got = kernel.simd_check_arbs(ky, kn, py, pn, threshold)
    assert got == kernel.simd_check_arbs_py(ky, kn, py, pn, threshold)
    fees = PolymarketFeeModel(Decimal("0.05"))
    assert kernel.simd_check_arbs(ky, kn, py, pn, threshold, poly_fee=fees) == (
        kernel.simd_check_arbs_py(ky, kn, py, pn, threshold, poly_fee=fees)
    )
    names = kernel.simd_decode_mask(got)
    assert names == [n for bit, n in zip((1, 2, 4, 8), decode_mask(15), strict=True) if got & bit]


def test_seed_api_values() -> None:
    # PolyYes 45 + KalshiNo 50 (+2c Kalshi fee) = 97; KalshiYes 40 + KalshiNo 50 + 4c = 94
    assert kernel.simd_check_arbs(40, 50, 45, 60) == 9
    assert kernel.simd_decode_mask(9) == ["PolyYes+KalshiNo", "KalshiOnly"]
    assert kernel.simd_calculate_profit(40, 50, 45, 60, 8) == 6
    assert kernel.simd_calculate_profit(40, 50, 45, 60, 1) == 3
    assert kernel.simd_calculate_profit(40, 50, 45, 60, 2) == -2
    assert kernel.simd_calculate_profit(0, 50, 45, 60, 8) == 0  # missing leg
    assert kernel.simd_calculate_profit(40, 50, 45, 60, 3) == 0  # not a single combination
    # with Polymarket fees the 97c combination pays 0.05*.45*.55 = 1.2375c more -> 1.76c
    poly = PolymarketFeeModel(Decimal("0.05"))
    assert kernel.simd_calculate_profit(40, 50, 45, 60, 1, poly_fee=poly) == 1
    assert kernel.simd_batch_scan([(40, 50, 45, 60), (0, 0, 0, 0), (57, 43, 57, 43)]) == [(0, 9)]
    assert kernel.simd_check_arbs(0, 0, 0, 0) == 0  # missing prices never flag
    assert kernel.simd_check_arbs(40, 50, 45, 60, threshold_cents=90) == 0


@pytest.mark.parametrize("backend", kernel.available_backends())
def test_bad_inputs_are_rejected(backend: str) -> None:
    one = [500_000]
    with pytest.raises(KernelError, match="market 0"):
        kernel.batch_check(one, one, one, one, -1, 0, backend=backend)
    with pytest.raises(KernelError, match="market 2"):
        kernel.batch_check(one * 3, one * 3, one * 3, one * 3, [0, 0, ONE + 1], 0, backend=backend)
    with pytest.raises(KernelError):
        kernel.batch_check(one, one, one, one, 0, 0, 2 * ONE, backend=backend)
    with pytest.raises(KernelError):
        kernel.batch_check(one, one * 2, one, one, backend=backend)
    with pytest.raises(KernelError):
        kernel.batch_check([0.5], one, one, one, backend=backend)  # type: ignore[list-item]
    with pytest.raises(KernelError):
        kernel.batch_check(array("i", [1]), one, one, one, backend=backend)
    with pytest.raises(KernelError):
        kernel.simd_check_arbs(0.57, 43, 0, 0)  # type: ignore[arg-type]
    empty = kernel.batch_check([], [], [], [], backend=backend)
    assert len(empty.masks) == 0 == len(empty.best_edge)


def test_buffers_and_reuse() -> None:
    cols = [array("q", [400_000, 0, 450_000]) for _ in range(4)]
    result = kernel.batch_check(*cols, 70_000, 0)
    again = kernel.batch_check(*(memoryview(c) for c in cols), 70_000, 0, out=result)
    if kernel.BACKEND != "python":
        assert again is result  # filled in place
    # 0.40 everywhere: 0.80 + up to 2 x 2c Kalshi fees < $1 -> all four combinations
    assert again.flagged() == [(0, 15), (2, 15)]
    assert again.best_edge[1] == NO_EDGE
    assert again.best_edge[0] == 200_000  # PolyOnly: 1 - 0.80, no Polymarket fee


def test_env_forces_python_backend() -> None:
    code = "import arbees.kernel as k; print(k.BACKEND)"
    env = {**os.environ, "ARBEES_KERNEL": "python"}
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert out.stdout.strip() == "python"
    env["ARBEES_KERNEL"] = "bogus"
    bad = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert bad.returncode != 0
    assert "ARBEES_KERNEL" in bad.stderr


# ---- exactness of the native fee arithmetic (doubles + FMA in AVX2, multiply-high in C) ----

ALL_PRICES = array("q", range(ONE + 1))
# Kalshi k x multiplier (maker 0.0175, taker 0.07, multipliers 0.5 .. 10) and the bounds
K_COEFS = [0, 1, 17_500, 35_000, 70_000, 140_000, 700_000, 999_999, ONE]
# Polymarket rates (0 = fees off; 0.01 .. 0.07 seen on sports) and the bounds
P_RATES = [0, 1, 10_000, 40_000, 50_000, 70_000, 999_999, ONE]


def _expected_both_legs(fee: list[int]) -> list[int]:
    """best_edge of markets whose two legs on one venue are both at price P (P = index)."""
    return [ONE - 2 * (p + fee[p]) if 0 < p < ONE else NO_EDGE for p in range(ONE + 1)]


def _check_sweep(expected: list[int], bit: int, cols: list[array[int]], kc: int, pr: int) -> None:
    masks = [bit if e != NO_EDGE and e > 0 else 0 for e in expected]
    for backend in NATIVE:
        result = kernel.batch_check(*cols, kc, pr, 0, backend=backend)
        assert result.best_edge.tolist() == expected, (backend, kc, pr)
        assert result.masks.tolist() == masks, (backend, kc, pr)


@pytest.mark.skipif(not NATIVE, reason="native kernel not built")
@pytest.mark.parametrize("kc", K_COEFS)
def test_kalshi_fee_exact_at_every_price(kc: int) -> None:
    # KalshiOnly at (P, P): both Kalshi legs at every price 0..1e6, each lane position
    fee = [_k_fee(p, kc) if 0 < p < ONE else 0 for p in range(ONE + 1)]
    zeros = array("q", bytes(8 * (ONE + 1)))
    _check_sweep(_expected_both_legs(fee), 8, [ALL_PRICES, ALL_PRICES, zeros, zeros], kc, 0)


@pytest.mark.skipif(not NATIVE, reason="native kernel not built")
@pytest.mark.parametrize("pr", P_RATES)
def test_polymarket_fee_exact_at_every_price(pr: int) -> None:
    fee = [_p_fee(p, pr) if 0 < p < ONE else 0 for p in range(ONE + 1)]
    zeros = array("q", bytes(8 * (ONE + 1)))
    _check_sweep(_expected_both_legs(fee), 4, [zeros, zeros, ALL_PRICES, ALL_PRICES], 70_000, pr)


def test_reference_fee_helpers_match_reference_check() -> None:
    # the sweeps above use the reference's own fee helpers; tie them to reference_check
    rnd = random.Random(7)
    for _ in range(2_000):
        p, kc, pr = rnd.randrange(1, ONE), rnd.choice(K_COEFS), rnd.choice(P_RATES)
        assert reference_check(p, p, 0, 0, kc, pr, 0)[1] == ONE - 2 * (p + _k_fee(p, kc))
        assert reference_check(0, 0, p, p, kc, pr, 0)[1] == ONE - 2 * (p + _p_fee(p, pr))


def _assert_backends_match(rows: list[tuple[int, ...]], min_edge: int) -> None:
    cols = columns(rows)
    expected = [reference_check(*row, min_edge) for row in rows]
    for backend in NATIVE:
        result = kernel.batch_check(*cols, min_edge, backend=backend)
        got = list(zip(result.masks.tolist(), result.best_edge.tolist(), strict=True))
        assert got == expected, backend


def test_odd_int64_prices_are_missing_in_every_position() -> None:
    values = [0, 1, 450_000, 999_999, ONE, *ODD_BITS[:8]]
    rows = [(*legs, 70_000, 50_000) for legs in itertools.product(values, repeat=4)]
    for min_edge in (0, -2 * ONE, ONE):
        _assert_backends_match(rows, min_edge)


@pytest.mark.parametrize("n", [1, 3, 4, 5, 255, 256, 257, 515, 1027])
def test_sizes_across_vector_tails_and_blocks(n: int) -> None:
    rnd = random.Random(n)
    pick = [0, ONE, -1, 2**52, *range(1, 6)]
    rows = [
        (
            *(rnd.choice(pick) if rnd.random() < 0.1 else rnd.randrange(1, ONE) for _ in range(4)),
            rnd.choice(K_COEFS),
            rnd.choice(P_RATES),
        )
        for _ in range(n)
    ]
    for min_edge in (0, -ONE, 10_000):
        _assert_backends_match(rows, min_edge)


@pytest.mark.parametrize("backend", kernel.available_backends())
def test_fee_parameter_checks_in_later_blocks(backend: str) -> None:
    n = 1_000
    price = [400_000] * n
    # both large but valid: their bitwise OR exceeds 1e6, which must not be taken as an error
    big = kernel.batch_check(price, price, price, price, 700_000, 350_000, backend=backend)
    assert set(big.best_edge.tolist()) == {reference_check(*[400_000] * 4, 700_000, 350_000, 0)[1]}
    for bad in (ONE + 1, -1, 2**40, -(2**63)):
        kc = [70_000] * n
        kc[777] = bad
        with pytest.raises(KernelError, match="market 777"):
            kernel.batch_check(price, price, price, price, kc, 0, backend=backend)
        with pytest.raises(KernelError, match="market 777"):
            kernel.batch_check(price, price, price, price, 70_000, kc, backend=backend)


def test_bench_kernel_smoke() -> None:
    from arbees.bench import kernel as bench

    report = bench.run(
        [64, 67], repeat=1, python_subset=16, all_isas=True, shard_games=20, shard_batch=8
    )
    assert report["backend"] == kernel.BACKEND
    shard = report["shard"]
    assert shard["quotes"] == 2_000 // 8 * 8
    assert shard["kernel_us_per_quote"] > 0
    assert shard["walk_all_over_kernel"] > 0
    assert 0 <= shard["flagged_share"] <= 1
    if NATIVE and kernel.BACKEND != "python":
        assert [r["n"] for r in report["events"]] == [64, 67]
        assert all(r["event_over_batch"] > 0 for r in report["events"])
    for row in report["batch"]:
        assert row["python_ns_per_market"] > 0
        if NATIVE and kernel.BACKEND != "python":
            assert row["native_over_floor"] > 0
            others = set(NATIVE) - {kernel.BACKEND}
            assert set(row["other_backends"]) == others


@pytest.mark.skipif("native-avx2" not in NATIVE, reason="no AVX2 kernel here")
def test_avx2_exact_under_any_rounding_mode() -> None:
    # The AVX2 proof assumes round-to-nearest; another library may change the mode (MXCSR).
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("m")
    if name is None or not sys.platform.startswith("linux"):
        pytest.skip("needs libm's fesetround")
    libm = ctypes.CDLL(name)
    rnd = random.Random(11)
    rows = [
        (*(rnd.randrange(0, ONE + 1) for _ in range(4)), rnd.choice(K_COEFS), rnd.choice(P_RATES))
        for _ in range(3_000)
    ]
    cols = columns(rows)
    expected = [reference_check(*row, 0) for row in rows]
    for mode in (0x400, 0x800, 0xC00, 0):  # x86 FE_DOWNWARD, FE_UPWARD, FE_TOWARDZERO, nearest
        assert libm.fesetround(mode) == 0
        try:
            result = kernel.batch_check(*cols, 0, backend="native-avx2")
        finally:
            libm.fesetround(0)
        got = list(zip(result.masks.tolist(), result.best_edge.tolist(), strict=True))
        assert got == expected, hex(mode)
