/*
 * arbees native arbitrage kernel: the fee-adjusted top-of-book check of many markets at once.
 *
 * Inputs are structure-of-arrays int64 in micro-units (1e-6 $): the best asks of the four
 * legs of every market (anything outside (0, 1_000_000) -- in particular 0 -- is "missing"),
 * the Kalshi fee coefficient k_coef (0.07 x multiplier in micro-units, 70000 for a standard
 * taker, 0 if waived) and the Polymarket fee rate p_rate (micro-units, 0 if fees disabled),
 * both in [0, 1_000_000]. Per market and per combination (bit 1 PolyYes+KalshiNo,
 * 2 KalshiYes+PolyNo, 4 PolyOnly, 8 KalshiOnly):
 *
 *   kalshi_fee(P) = ceil(k_coef * P * (1e6 - P) / 1e16) cents          (1 contract, up to the cent)
 *   poly_fee(P)   = floor((p_rate * P * (1e6 - P) + 5e12) / 1e13) * 10 (half-up to 1e-5 $)
 *   edge          = 1e6 - price_a - price_b - fee_a - fee_b
 *
 * A combination is flagged when both legs are present and edge > min_edge; best_edge is the
 * largest edge over combinations with both legs present, or ARBEES_NO_EDGE (INT64_MIN).
 * The pure-Python twin is arbees.arb.top.reference_check; both agree exactly.
 *
 * Every result is exact, on every ISA: plain C uses native 64-bit integers; SSE2 (2 lanes)
 * uses 64-bit integer lanes with multiply-shift quotients corrected by an exact remainder
 * test; AVX2 + FMA (4 lanes) carries the same integers in doubles (all below 2^53) with one
 * FMA-exact remainder sign per fee (proof in arbees_avx2.inc). SIMD lanes run ACROSS markets.
 */
#ifndef ARBEES_KERNEL_H
#define ARBEES_KERNEL_H

#include <stddef.h>
#include <stdint.h>

#define ARBEES_NO_EDGE INT64_MIN

/* isa: -1 best available, 0 plain C, 1 SSE2, 2 AVX2 (with FMA). */
#define ARBEES_ISA_BEST -1
#define ARBEES_ISA_C 0
#define ARBEES_ISA_SSE2 1
#define ARBEES_ISA_AVX2 2

/* Best ISA this CPU and build support. */
int arbees_best_isa(void);

/* Returns 0 on success, -1 if min_edge is outside [-2e6, 1e6], -2 if the ISA is not
 * available, or i + 1 where i is the first market whose k_coef or p_rate is outside
 * [0, 1e6] (outputs are then unspecified). */
int64_t arbees_batch_check(int isa, const int64_t *k_yes, const int64_t *k_no,
                           const int64_t *p_yes, const int64_t *p_no, const int64_t *k_coef,
                           const int64_t *p_rate, int64_t min_edge, size_t n, uint8_t *masks,
                           int64_t *best_edge);

/* The benchmark floor: reads the same six input arrays and sums them (same ISA choice). */
int64_t arbees_floor_sum(int isa, const int64_t *k_yes, const int64_t *k_no,
                         const int64_t *p_yes, const int64_t *p_no, const int64_t *k_coef,
                         const int64_t *p_rate, size_t n);

/* One market with prices in whole cents (the seed's API): mask of the combinations whose
 * fee-adjusted cost is strictly below threshold_cents. Cents outside 1..99 are missing.
 * Returns -1 if k_coef or p_rate is outside [0, 1e6]. */
int arbees_check_cents(int64_t k_yes, int64_t k_no, int64_t p_yes, int64_t p_no,
                       int64_t threshold_cents, int64_t k_coef, int64_t p_rate);

/* ---- events with 2 or 3 outcomes and several venues (structure of arrays) ----
 * Event e has n_outcomes[e] in {2, 3} mutually exclusive outcomes. Contract (o, s, v) --
 * outcome o, side s (0 YES: pays when o happens, 1 NO: pays when it does not), venue v --
 * lives at index ((e * ARBEES_MAX_OUTCOMES + o) * 2 + s) * n_venues + v of asks, k_coef and
 * p_rate: its best ask (outside (0, 1e6) = missing; slots of absent outcomes are ignored)
 * and its fee parameters, both in [0, 1e6] for a present contract. The 1-contract cost of a
 * contract is  ask + kalshi_fee(k_coef) + poly_fee(p_rate)  (formulas above; a venue's
 * schedule sets one of them, the other is 0), and the cheapest venue serves each
 * (outcome, side). The partitions of the outcomes into contracts:
 *   0                      YES of every outcome
 *   1 + o                  YES of o and NO of o
 *   ARBEES_PARTITION_ALL_NO  (binary events only) NO of both outcomes
 * Per event: best_edge = 1e6 - the cheapest partition's cost (ARBEES_NO_EDGE when no
 * partition has every contract present), partition = its id (the lowest id among equals;
 * ARBEES_NO_PARTITION when none), flags = best_edge > min_edge.
 * Returns 0; -1 if min_edge is outside [-3e6, 1e6]; -2 if n_venues is outside
 * [1, ARBEES_MAX_VENUES]; -(e + 3) if n_outcomes[e] is not 2 or 3; e + 1 if event e has a
 * present contract whose fee parameters are outside [0, 1e6] (outputs then unspecified). */
#define ARBEES_MAX_OUTCOMES 3
#define ARBEES_MAX_VENUES 16
#define ARBEES_PARTITION_ALL_NO 4
#define ARBEES_NO_PARTITION 255
int64_t arbees_event_check(const int64_t *asks, const int64_t *k_coef, const int64_t *p_rate,
                           const int64_t *n_outcomes, size_t n_venues, int64_t min_edge,
                           size_t n, uint8_t *flags, uint8_t *partition, int64_t *best_edge);

#endif
