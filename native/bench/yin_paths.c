/* yin_paths.c — PITCH_YIN's two ways to d(τ), timed on the real op
 * (benchmark only; not part of the library).
 *
 *   cc -std=c11 -O3 -fno-math-errno -DVSK_BUILDING_LIBRARY -Inative/include \
 *      -Inative/src native/bench/yin_paths.c -o /tmp/yin_paths -lm
 *   /tmp/yin_paths [SPEECH_16K.f32]
 *
 * For frames of N = 256..2048 samples at 16 kHz, hop 64, 60..600 Hz
 * (τmax = min(267, N − 2)), the same node is run with in_slides = 1 (the
 * direct path: per-block sums from exact differences, (hop + r)·τmax work
 * per step) and with in_slides = 0 (for these sizes the FFT path,
 * yin_fft.c), both fed the same sliding frames, interleaved step by step
 * (alternating which runs first) so that both see the same machine load.
 * Prints the median ns per step of each, their ratio, and whether the
 * outputs agreed. Input: raw float32 mono at 16 kHz, else a gliding
 * harmonic tone with pauses. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fft.c"
#include "kernels.c"
#include "kernels_avx2.c"
#include "kernels_neon.c"
#include "kernels_ref.c"
#include "kernels_sse2.c"
#include "ops.c"
#include "ops_nn.c"
#include "ops_signal.c"
#include "yin_fft.c"

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    enum { HOP = 64, MAXS = 1 << 20 };
    static float x[MAXS];
    size_t n = 0;
    FILE *f = argc > 1 ? fopen(argv[1], "rb") : NULL;
    if (f) {
        n = fread(x, sizeof(float), MAXS, f);
        fclose(f);
    } else {
        double ph = 0.0;
        n = 16000 * 10;
        for (size_t j = 0; j < n; ++j) {
            ph += 6.283185307179586 * (110.0 + 40.0 * sin(j / 16000.0)) / 16000.0;
            x[j] = (j / 8000) % 3 == 2 ? 0.0f
                                       : (float)(0.5 * sin(ph) + 0.2 * sin(2 * ph) + 0.1 * sin(3 * ph));
        }
    }
    const float fa[4] = {16000.f, 60.f, 600.f, 0.15f};
    const uint32_t isa = vsk_isa_detect();
    const vsk_op_def *op = vsk_op_lookup(VSK_OP_PITCH_YIN);
    printf("PITCH_YIN per step, %s, hop %d, 16 kHz, 60..600 Hz, %zu samples\n", vsk_isa_name(isa),
           HOP, n);
    printf("%6s %6s %12s %12s %8s %s\n", "N", "tmax", "direct ns", "fft ns", "fft/dir", "outputs");
    const uint32_t Ns[] = {256, 512, 1024, 2048};
    for (size_t k = 0; k < sizeof Ns / sizeof *Ns; ++k) {
        const uint32_t N = Ns[k];
        if (n < N + 2 * HOP) continue;
        uint32_t vsize[2] = {N, 2}, in_id = 0, out_id = 1;
        vsk_node nd[2];
        void *st[2];
        float y[2][16];
        for (int p = 0; p < 2; ++p) {
            memset(&nd[p], 0, sizeof nd[p]);
            nd[p].op = VSK_OP_PITCH_YIN;
            nd[p].n_in = nd[p].n_out = 1;
            nd[p].n_fattr = 4;
            nd[p].in = &in_id;
            nd[p].out = &out_id;
            nd[p].fattr = fa;
            nd[p].hop = HOP;
            nd[p].value_size = vsize;
            nd[p].in_slides = p == 0;
            st[p] = aligned_alloc(64, (op->state_bytes(&nd[p], vsize) + 63) / 64 * 64);
            op->reset(&nd[p], st[p], isa);
        }
        int64_t tmin, tmax;
        yin_taus(&nd[0], N, &tmin, &tmax);
        const int fft0 = yin_plan(&nd[0], N).use_fft, fft1 = yin_plan(&nd[1], N).use_fft;
        const size_t steps = (n - N) / HOP;
        uint64_t *t[2] = {malloc(steps * sizeof(uint64_t)), malloc(steps * sizeof(uint64_t))};
        float *fr = aligned_alloc(64, (N * sizeof(float) + 63) / 64 * 64);
        size_t same = 0;
        for (size_t s = 0; s < steps; ++s) {
            memcpy(fr, x + s * HOP, N * sizeof(float));
            for (int q = 0; q < 2; ++q) {
                const int p = (int)((s + (size_t)q) % 2);
                float *vals[2] = {fr, y[p]};
                const uint64_t t0 = now_ns();
                op->run(&nd[p], vals, st[p]);
                t[p][s] = now_ns() - t0;
            }
            same += y[0][0] == y[1][0] && y[0][1] == y[1][1];
        }
        qsort(t[0], steps, sizeof(uint64_t), cmp_u64);
        qsort(t[1], steps, sizeof(uint64_t), cmp_u64);
        const double m0 = (double)t[0][steps / 2], m1 = (double)t[1][steps / 2];
        printf("%6u %6lld %12.0f %12.0f %8.2f %zu/%zu identical%s\n", N, (long long)tmax, m0, m1,
               m1 / m0, same, steps,
               fft0 == 0 && fft1 == 1 ? "" : " (paths not direct/FFT for this N)");
        free(t[0]);
        free(t[1]);
        free(fr);
        free(st[0]);
        free(st[1]);
    }
    return 0;
}
