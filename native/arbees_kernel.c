/*
 * arbees native arbitrage kernel (see arbees_kernel.h for what it computes).
 *
 * Why this shape: the seed packed one market's four sums into one SIMD vector, which is no
 * faster than scalar code. Here each lane is a different market. Three implementations,
 * chosen at run time with __builtin_cpu_supports (the build never uses -march=native, so a
 * wheel runs anywhere):
 *   plain C   one market at a time with native 64-bit integers (also SSE2's tail);
 *   SSE2      the x86-64 baseline, 2 lanes of exact integer operations (arbees_lanes.inc);
 *   AVX2+FMA  4 lanes of exact integers carried in doubles (arbees_avx2.inc): AVX2 has no
 *             64-bit multiply, and the integer version spent ~250 instructions per 4
 *             markets emulating them; this one ~80, in L1-sized blocks (~1.6x the floor).
 */
#include "arbees_kernel.h"

#include <string.h>

#define ONE_MICRO 1000000

/* ---- plain C (every platform; also the scalar tail of the SSE2 loop) ----
 * One market with native 64-bit arithmetic: every product is < 2^58 and the divisions by
 * the constants 1e16 and 1e13 compile to a multiply-high and a shift. */
static inline int c_present(int64_t p) { return (uint64_t)(p - 1) < (uint64_t)(ONE_MICRO - 1); }

static inline int64_t c_kalshi_cost(int64_t p, uint64_t kc) {
    uint64_t q = (uint64_t)p * (uint64_t)(ONE_MICRO - p);
    return p + (int64_t)((kc * q + 9999999999999999u) / 10000000000000000u) * 10000;
}

static inline int64_t c_poly_cost(int64_t p, uint64_t pr) {
    uint64_t q = (uint64_t)p * (uint64_t)(ONE_MICRO - p);
    return p + (int64_t)((pr * q + 5000000000000u) / 10000000000000u) * 10;
}

/* (mask, best edge) of one market; k_coef and p_rate must be in [0, 1e6]. */
static inline int64_t market_c(int64_t ky, int64_t kn, int64_t py, int64_t pn, uint64_t kc,
                               uint64_t pr, int64_t min_edge, uint8_t *mask) {
    int vky = c_present(ky), vkn = c_present(kn), vpy = c_present(py), vpn = c_present(pn);
    int64_t cky = vky ? c_kalshi_cost(ky, kc) : 0, ckn = vkn ? c_kalshi_cost(kn, kc) : 0;
    int64_t cpy = vpy ? c_poly_cost(py, pr) : 0, cpn = vpn ? c_poly_cost(pn, pr) : 0;
    const int64_t edge[4] = {ONE_MICRO - cpy - ckn, ONE_MICRO - cky - cpn,
                             ONE_MICRO - cpy - cpn, ONE_MICRO - cky - ckn};
    const int ok[4] = {vpy & vkn, vky & vpn, vpy & vpn, vky & vkn};
    int64_t best = ARBEES_NO_EDGE;
    unsigned m = 0;
    for (int j = 0; j < 4; j++) {
        if (!ok[j]) continue;
        m |= (unsigned)(edge[j] > min_edge) << j;
        if (edge[j] > best) best = edge[j];
    }
    *mask = (uint8_t)m;
    return best;
}

static void run_c(const int64_t *ky, const int64_t *kn, const int64_t *py, const int64_t *pn,
                  const int64_t *kc, const int64_t *pr, int64_t min_edge, size_t lo, size_t n,
                  uint8_t *masks, int64_t *best, uint64_t *bad) {
    uint64_t over = 0;
    for (size_t i = lo; i < n; i++) {
        uint64_t c = (uint64_t)kc[i], r = (uint64_t)pr[i];
        over |= c | r; /* a superset test of "outside [0, 1e6]"; rescanned exactly */
        best[i] = market_c(ky[i], kn[i], py[i], pn[i], c, r, min_edge, masks + i);
    }
    *bad |= over > (uint64_t)ONE_MICRO;
}

static int64_t floor_c(const int64_t *a, const int64_t *b, const int64_t *c, const int64_t *d,
                       const int64_t *e, const int64_t *f, size_t n) {
    uint64_t s = 0;
    for (size_t i = 0; i < n; i++)
        s += (uint64_t)a[i] + (uint64_t)b[i] + (uint64_t)c[i] + (uint64_t)d[i] +
             (uint64_t)e[i] + (uint64_t)f[i];
    return (int64_t)s;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define ARBEES_X86 1
#include <immintrin.h>

typedef uint64_t u64x2 __attribute__((vector_size(16)));
typedef uint8_t u8x2 __attribute__((vector_size(2)));

/* ---- SSE2: 2 markets per vector, 2 vectors per iteration ---- */
#define LANE_T u64x2
#define MUL32(a, b) ((u64x2)_mm_mul_epu32((__m128i)(a), (__m128i)(b)))
#define LANE_FN lanes_sse2
#define LANE_ATTR __attribute__((target("sse2")))
#define BCAST(c) ((u64x2){0, 0} + (uint64_t)(c))
#include "arbees_lanes.inc"
#undef LANE_T
#undef MUL32
#undef LANE_FN
#undef LANE_ATTR
#undef BCAST

#define LOADV(T, p, i) \
    ({                 \
        T v_;          \
        memcpy(&v_, (p) + (i), sizeof v_); \
        v_;            \
    })

__attribute__((target("sse2"))) static void run_sse2(const int64_t *ky, const int64_t *kn,
                                                     const int64_t *py, const int64_t *pn,
                                                     const int64_t *kc, const int64_t *pr,
                                                     int64_t min_edge, size_t n, uint8_t *masks,
                                                     int64_t *best, uint64_t *bad) {
    u64x2 vbad = {0, 0};
    u64x2 me = (u64x2){0, 0} + (uint64_t)min_edge;
    size_t i = 0;
    for (; i + 2 <= n; i += 2) {
        u64x2 m, b;
        lanes_sse2(LOADV(u64x2, ky, i), LOADV(u64x2, kn, i), LOADV(u64x2, py, i),
                   LOADV(u64x2, pn, i), LOADV(u64x2, kc, i), LOADV(u64x2, pr, i), me, &m, &b,
                   &vbad);
        u8x2 m8 = __builtin_convertvector(m, u8x2);
        memcpy(masks + i, &m8, sizeof m8);
        memcpy(best + i, &b, sizeof b);
    }
    *bad |= vbad[0] | vbad[1];
    run_c(ky, kn, py, pn, kc, pr, min_edge, i, n, masks, best, bad);
}

/* ---- AVX2 + FMA: 4 markets per vector, exact integers in doubles ---- */
#include "arbees_avx2.inc"

__attribute__((target("avx2"))) static int64_t floor_avx2(const int64_t *a, const int64_t *b,
                                                          const int64_t *c, const int64_t *d,
                                                          const int64_t *e, const int64_t *f,
                                                          size_t n) {
    uint64_t s = 0;
    for (size_t i = 0; i < n; i++)
        s += (uint64_t)a[i] + (uint64_t)b[i] + (uint64_t)c[i] + (uint64_t)d[i] +
             (uint64_t)e[i] + (uint64_t)f[i];
    return (int64_t)s;
}
#endif

int arbees_best_isa(void) {
#ifdef ARBEES_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return ARBEES_ISA_AVX2;
    return ARBEES_ISA_SSE2;
#else
    return ARBEES_ISA_C;
#endif
}

static int resolve_isa(int isa) {
    int best = arbees_best_isa();
    if (isa == ARBEES_ISA_BEST) return best;
    if (isa < ARBEES_ISA_C || isa > best) return -1;
    return isa;
}

int64_t arbees_batch_check(int isa, const int64_t *k_yes, const int64_t *k_no,
                           const int64_t *p_yes, const int64_t *p_no, const int64_t *k_coef,
                           const int64_t *p_rate, int64_t min_edge, size_t n, uint8_t *masks,
                           int64_t *best_edge) {
    if (min_edge < -2 * ONE_MICRO || min_edge > ONE_MICRO) return -1;
    isa = resolve_isa(isa);
    if (isa < 0) return -2;
    uint64_t bad = 0;
    switch (isa) {
#ifdef ARBEES_X86
    case ARBEES_ISA_AVX2:
        /* the doubles' proof assumes round-to-nearest; under another MXCSR rounding mode
         * (set by some other library in this process) the integer C path stays exact */
        if (_mm_getcsr() & 0x6000)
            run_c(k_yes, k_no, p_yes, p_no, k_coef, p_rate, min_edge, 0, n, masks, best_edge,
                  &bad);
        else
            run_avx2(k_yes, k_no, p_yes, p_no, k_coef, p_rate, min_edge, n, masks, best_edge,
                     &bad);
        break;
    case ARBEES_ISA_SSE2:
        run_sse2(k_yes, k_no, p_yes, p_no, k_coef, p_rate, min_edge, n, masks, best_edge, &bad);
        break;
#endif
    default:
        run_c(k_yes, k_no, p_yes, p_no, k_coef, p_rate, min_edge, 0, n, masks, best_edge, &bad);
    }
    if (bad) {
        for (size_t i = 0; i < n; i++)
            if (k_coef[i] < 0 || k_coef[i] > ONE_MICRO || p_rate[i] < 0 || p_rate[i] > ONE_MICRO)
                return (int64_t)i + 1;
    }
    return 0;
}

int64_t arbees_floor_sum(int isa, const int64_t *k_yes, const int64_t *k_no,
                         const int64_t *p_yes, const int64_t *p_no, const int64_t *k_coef,
                         const int64_t *p_rate, size_t n) {
#ifdef ARBEES_X86
    if (resolve_isa(isa) == ARBEES_ISA_AVX2)
        return floor_avx2(k_yes, k_no, p_yes, p_no, k_coef, p_rate, n);
#else
    (void)isa;
#endif
    return floor_c(k_yes, k_no, p_yes, p_no, k_coef, p_rate, n);
}

static uint64_t cents_to_micro(int64_t cents) {
    return (cents > 0 && cents < 100) ? (uint64_t)(cents * 10000) : 0;
}

int arbees_check_cents(int64_t k_yes, int64_t k_no, int64_t p_yes, int64_t p_no,
                       int64_t threshold_cents, int64_t k_coef, int64_t p_rate) {
    if (k_coef < 0 || k_coef > ONE_MICRO || p_rate < 0 || p_rate > ONE_MICRO) return -1;
    /* flagged when cost < threshold, i.e. edge = 1e6 - cost > 1e6 - threshold * 1e4;
     * thresholds beyond [-200, 300] cents behave like the bounds (costs are in (0, 3e6)). */
    if (threshold_cents < -200) threshold_cents = -200;
    if (threshold_cents > 300) threshold_cents = 300;
    uint8_t m;
    market_c((int64_t)cents_to_micro(k_yes), (int64_t)cents_to_micro(k_no),
             (int64_t)cents_to_micro(p_yes), (int64_t)cents_to_micro(p_no), (uint64_t)k_coef,
             (uint64_t)p_rate, ONE_MICRO - threshold_cents * 10000, &m);
    return (int)m;
}

/* ---- events: outcomes x contracts (scalar; see arbees_kernel.h) ----
 * Why scalar: an event is a handful of contracts with a variable number of outcomes and
 * venues; the work per event is a few min() over contract costs, and lanes across events
 * would need the same shape in every lane. Measured (`arbees bench kernel`, same run, 2-vCPU
 * Xeon): ~24 ns per binary two-venue event against ~4 ns per market for the SIMD batch
 * kernel at N = 100,000; but the shard scans the tens of events one batch of quotes
 * touched, where the kernel is < 1 us per call and the Python that fills the columns
 * costs ~5 us per event: SIMD here would not show in the shard's figures. */
static inline int64_t contract_cost(int64_t p, uint64_t kc, uint64_t pr) {
    uint64_t q = (uint64_t)p * (uint64_t)(ONE_MICRO - p);
    return p + (int64_t)((kc * q + 9999999999999999u) / 10000000000000000u) * 10000 +
           (int64_t)((pr * q + 5000000000000u) / 10000000000000u) * 10;
}

int64_t arbees_event_check(const int64_t *asks, const int64_t *k_coef, const int64_t *p_rate,
                           const int64_t *n_outcomes, size_t n_venues, int64_t min_edge,
                           size_t n, uint8_t *flags, uint8_t *partition, int64_t *best_edge) {
    if (min_edge < -3 * ONE_MICRO || min_edge > ONE_MICRO) return -1;
    if (n_venues < 1 || n_venues > ARBEES_MAX_VENUES) return -2;
    const size_t stride = (size_t)ARBEES_MAX_OUTCOMES * 2 * n_venues;
    for (size_t e = 0; e < n; e++) {
        int64_t k = n_outcomes[e];
        if (k < 2 || k > ARBEES_MAX_OUTCOMES) return -(int64_t)e - 3;
        const size_t base = e * stride;
        /* cheapest present contract per (outcome, side); INT64_MAX when none */
        int64_t best[ARBEES_MAX_OUTCOMES][2];
        for (int64_t o = 0; o < k; o++) {
            for (int s = 0; s < 2; s++) {
                int64_t low = INT64_MAX;
                const size_t at = base + ((size_t)o * 2 + (size_t)s) * n_venues;
                for (size_t v = 0; v < n_venues; v++) {
                    int64_t p = asks[at + v], kc = k_coef[at + v], pr = p_rate[at + v];
                    if (!c_present(p)) continue;
                    if (kc < 0 || kc > ONE_MICRO || pr < 0 || pr > ONE_MICRO)
                        return (int64_t)e + 1;
                    int64_t c = contract_cost(p, (uint64_t)kc, (uint64_t)pr);
                    if (c < low) low = c;
                }
                best[o][s] = low;
            }
        }
        int64_t top = ARBEES_NO_EDGE;
        int part = ARBEES_NO_PARTITION;
        /* partition 0: every outcome's YES */
        int64_t sum = 0;
        int ok = 1;
        for (int64_t o = 0; o < k; o++) {
            if (best[o][0] == INT64_MAX) ok = 0;
            else sum += best[o][0];
        }
        if (ok) top = ONE_MICRO - sum, part = 0;
        /* partition 1 + o: YES of o and NO of o */
        for (int64_t o = 0; o < k; o++) {
            if (best[o][0] == INT64_MAX || best[o][1] == INT64_MAX) continue;
            int64_t edge = ONE_MICRO - best[o][0] - best[o][1];
            if (edge > top) top = edge, part = 1 + (int)o;
        }
        /* binary only: NO of each outcome (NO of 0 pays on 1 and vice versa) */
        if (k == 2 && best[0][1] != INT64_MAX && best[1][1] != INT64_MAX) {
            int64_t edge = ONE_MICRO - best[0][1] - best[1][1];
            if (edge > top) top = edge, part = ARBEES_PARTITION_ALL_NO;
        }
        best_edge[e] = top;
        partition[e] = (uint8_t)part;
        flags[e] = part != ARBEES_NO_PARTITION && top > min_edge;
    }
    return 0;
}
