"""cffi (API mode) builder of ``arbees._native_kernel`` from ``native/arbees_kernel.c``.

Used by ``setup.py`` through ``cffi_modules``; can also be run by hand
(``python native/build_kernel.py``) to build the extension in place under ``src/``.
Flags: ``-O3`` and the portable baseline only — never ``-march=native``: the AVX2 path is
compiled with a target attribute and chosen at run time.
"""

from __future__ import annotations

import os
import sys

from cffi import FFI

HERE = os.path.dirname(os.path.abspath(__file__))

CDEF = """
int arbees_best_isa(void);
int64_t arbees_batch_check(int isa, const int64_t *k_yes, const int64_t *k_no,
                           const int64_t *p_yes, const int64_t *p_no, const int64_t *k_coef,
                           const int64_t *p_rate, int64_t min_edge, size_t n, uint8_t *masks,
                           int64_t *best_edge);
int64_t arbees_floor_sum(int isa, const int64_t *k_yes, const int64_t *k_no,
                         const int64_t *p_yes, const int64_t *p_no, const int64_t *k_coef,
                         const int64_t *p_rate, size_t n);
int arbees_check_cents(int64_t k_yes, int64_t k_no, int64_t p_yes, int64_t p_no,
                       int64_t threshold_cents, int64_t k_coef, int64_t p_rate);
int64_t arbees_event_check(const int64_t *asks, const int64_t *k_coef, const int64_t *p_rate,
                           const int64_t *n_outcomes, size_t n_venues, int64_t min_edge,
                           size_t n, uint8_t *flags, uint8_t *partition, int64_t *best_edge);
"""

_unix = sys.platform != "win32"
# After any CFLAGS from the environment: the AVX2 path's exactness proof assumes IEEE doubles
# with no contraction into FMAs it did not plan and no fast-math (which it also refuses).
_FLAGS = ("-O3", "-std=gnu11", "-fno-strict-aliasing", "-ffp-contract=off", "-fno-fast-math")
ffibuilder = FFI()
ffibuilder.cdef(CDEF)
ffibuilder.set_source(
    "arbees._native_kernel",
    '#include "arbees_kernel.h"',
    sources=[os.path.relpath(os.path.join(HERE, "arbees_kernel.c"))],
    include_dirs=[os.path.relpath(HERE)],
    depends=[
        os.path.relpath(os.path.join(HERE, n))
        for n in ("arbees_kernel.h", "arbees_lanes.inc", "arbees_avx2.inc")
    ],
    extra_compile_args=([*_FLAGS] if _unix else []),
)

if __name__ == "__main__":
    ffibuilder.compile(tmpdir=os.path.join(HERE, "..", "src"), verbose=True)
