// The fp32 FMA ceiling on one thread and on two at once, each thread timing its own loop (issue 17, docs/performance.md,
// forty-second pass): a check on the bench's own FmaPeak, which until then timed the loop from the caller's wake-up
// after the start barrier and read 10-16% high on the Zen 5.
//   register-only loops of 12 independent vfmadd231ps zmm chains, 16 lanes x 2 flops each; best of 3 trials.
// Each chain starts from a different value, or the compiler merges identical chains into one (see tools/bf16peak).
// Build and run:  gcc -O2 -mavx512f -mfma -pthread -o /tmp/fma_peak tools/fmapeak/fma_peak.c && /tmp/fma_peak
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <time.h>

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }

#define ITER 50000000L
static double rate[2];
static volatile float sink;

static void *run(void *arg)
{
    int id = (int)(long)arg;
    __m512 m = _mm512_set1_ps(0.999999f), a = _mm512_set1_ps(1e-7f);
    __m512 c0 = _mm512_set1_ps(1.0f), c1 = _mm512_set1_ps(1.1f), c2 = _mm512_set1_ps(1.2f), c3 = _mm512_set1_ps(1.3f),
           c4 = _mm512_set1_ps(1.4f), c5 = _mm512_set1_ps(1.5f), c6 = _mm512_set1_ps(1.6f), c7 = _mm512_set1_ps(1.7f),
           c8 = _mm512_set1_ps(1.8f), c9 = _mm512_set1_ps(1.9f), c10 = _mm512_set1_ps(2.0f), c11 = _mm512_set1_ps(2.1f);
    double t = now();
    for (long i = 0; i < ITER; i++)
    {
        c0 = _mm512_fmadd_ps(c0, m, a); c1 = _mm512_fmadd_ps(c1, m, a); c2 = _mm512_fmadd_ps(c2, m, a);
        c3 = _mm512_fmadd_ps(c3, m, a); c4 = _mm512_fmadd_ps(c4, m, a); c5 = _mm512_fmadd_ps(c5, m, a);
        c6 = _mm512_fmadd_ps(c6, m, a); c7 = _mm512_fmadd_ps(c7, m, a); c8 = _mm512_fmadd_ps(c8, m, a);
        c9 = _mm512_fmadd_ps(c9, m, a); c10 = _mm512_fmadd_ps(c10, m, a); c11 = _mm512_fmadd_ps(c11, m, a);
    }
    rate[id] = 2.0 * 16 * 12 * ITER / (now() - t) / 1e9;
    __m512 s = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(c0, c1), _mm512_add_ps(c2, c3)), _mm512_add_ps(_mm512_add_ps(c4, c5), _mm512_add_ps(c6, c7)));
    sink = _mm512_reduce_add_ps(_mm512_add_ps(s, _mm512_add_ps(_mm512_add_ps(c8, c9), _mm512_add_ps(c10, c11))));
    return 0;
}

int main(void)
{
    double one = 0, two = 0;
    for (int trial = 0; trial < 3; trial++)
    {
        run((void *)0);
        if (rate[0] > one) one = rate[0];
        pthread_t t[2];
        for (long i = 0; i < 2; i++) pthread_create(&t[i], 0, run, (void *)i);
        for (int i = 0; i < 2; i++) pthread_join(t[i], 0);
        // both threads' FMAs over the slower one's time, as the bench counts them
        double slower = rate[0] < rate[1] ? rate[0] : rate[1];
        if (2 * slower > two) two = 2 * slower;
    }
    printf("fp32 FMA peak, best of 3: %.1f GFLOP/s on one thread, %.1f on two\n", one, two);
    return 0;
}
