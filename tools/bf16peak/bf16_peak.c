// The ceiling of bf16 products on this processor, beside the fp32 one (issue 17, docs/performance.md):
// register-only loops of independent accumulator chains, one thread, best of 5 trials each.
//   vfmadd231ps zmm: 16 lanes x 2 flops;  vdpbf16ps zmm (AVX512-BF16): 16 lanes x 2 bf16 pairs x 2 flops.
// .NET 10 exposes no AVX512-BF16 intrinsics, hence C.  Build and run:  gcc -O2 -o bf16_peak bf16_peak.c && ./bf16_peak
// Each of the 24 chains starts from a different value, or the compiler merges identical chains into one (a first
// version started the two sets of 12 at the same values: gcc ran 12 chains and both rates read twice the truth).
#include <immintrin.h>
#include <stdio.h>
#include <time.h>

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }

#define ITER 10000000L
#define SUM12(a) _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a##0, a##1), _mm512_add_ps(a##2, a##3)), \
    _mm512_add_ps(_mm512_add_ps(a##4, a##5), _mm512_add_ps(a##6, a##7))), \
    _mm512_add_ps(_mm512_add_ps(a##8, a##9), _mm512_add_ps(a##10, a##11)))
#define INIT12(a, o) __m512 a##0 = _mm512_set1_ps(o + 0), a##1 = _mm512_set1_ps(o + 1), a##2 = _mm512_set1_ps(o + 2), \
    a##3 = _mm512_set1_ps(o + 3), a##4 = _mm512_set1_ps(o + 4), a##5 = _mm512_set1_ps(o + 5), a##6 = _mm512_set1_ps(o + 6), \
    a##7 = _mm512_set1_ps(o + 7), a##8 = _mm512_set1_ps(o + 8), a##9 = _mm512_set1_ps(o + 9), a##10 = _mm512_set1_ps(o + 10), \
    a##11 = _mm512_set1_ps(o + 11)
#define REP12(OP, a) OP(a##0) OP(a##1) OP(a##2) OP(a##3) OP(a##4) OP(a##5) OP(a##6) OP(a##7) OP(a##8) OP(a##9) OP(a##10) OP(a##11)

static volatile float sink;

__attribute__((target("avx512f"))) static double fp32_gflops(void)
{
    __m512 x = _mm512_set1_ps(1.0001f), y = _mm512_set1_ps(0.9999f);
    INIT12(a, 0); INIT12(b, 12);
    double t = now();
    for (long i = 0; i < ITER; i++)
    {
#define F(v) v = _mm512_fmadd_ps(x, y, v);
        REP12(F, a) REP12(F, b)
    }
    t = now() - t;
    sink = _mm512_reduce_add_ps(_mm512_add_ps(SUM12(a), SUM12(b)));
    return ITER * 24.0 * 16 * 2 / t / 1e9;
}

__attribute__((target("avx512f,avx512bf16"))) static double bf16_gflops(void)
{
    __m512bh x = (__m512bh)_mm512_set1_epi16(0x3F80), y = (__m512bh)_mm512_set1_epi16(0x3F7F);   // 1.0, ~0.996
    INIT12(a, 0); INIT12(b, 12);
    double t = now();
    for (long i = 0; i < ITER; i++)
    {
#define D(v) v = _mm512_dpbf16_ps(v, x, y);
        REP12(D, a) REP12(D, b)
    }
    t = now() - t;
    sink = _mm512_reduce_add_ps(_mm512_add_ps(SUM12(a), SUM12(b)));
    return ITER * 24.0 * 16 * 4 / t / 1e9;
}

int main(void)
{
    if (!__builtin_cpu_supports("avx512bf16")) { printf("no AVX512-BF16 on this processor\n"); return 1; }
    double f = 0, b = 0;
    for (int trial = 0; trial < 5; trial++)
    {
        double ft = fp32_gflops(), bt = bf16_gflops();
        if (ft > f) f = ft;
        if (bt > b) b = bt;
    }
    printf("one thread, 24 chains, best of 5: fp32 vfmadd231ps %.1f GFLOP/s, bf16 vdpbf16ps %.1f GFLOP/s (%.2fx)\n", f, b, b / f);
    return 0;
}
