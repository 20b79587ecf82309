/* ops_signal.c — the signal ops: FRAME, STFT_MAG, PITCH_YIN, PITCH_MAP,
 * RUNNING_MEAN, WARP, HARMONIC, NOISE (maths in docs/bundle-format.md,
 * "Ops (version 1)"). */
#include <math.h>
#include <string.h>

#include "fft.h"
#include "kernels.h"
#include "ops_impl.h"
#include "yin_fft.h"

#define TWO_PI 6.283185307179586476925286766559
#define HDR 64u

/* ----------------------------------------------------------------- FRAME */
/* State: the last `win` input samples, oldest first. */

static vsk_status frame_validate(const vsk_node *n, const uint32_t *vs, uint32_t vc)
{
    if (vsk_check_counts(n, 1, 1, 0, 0, 1, 0) || vsk_check_ids(n, vc)) return VSK_ERR_CORRUPT;
    int32_t win = n->iattr[0];
    if (vs[n->in[0]] != n->hop || win < 1 || (uint32_t)win != vs[n->out[0]] ||
        (uint32_t)win < n->hop)
        return VSK_ERR_CORRUPT;
    return VSK_OK;
}
static size_t frame_state_bytes(const vsk_node *n, const uint32_t *vs)
{
    return vsk_align64((size_t)n->iattr[0] * sizeof(float));
}
static void frame_reset(const vsk_node *n, void *state, uint32_t isa)
{
    memset(state, 0, frame_state_bytes(n, NULL));
}
static void frame_run(const vsk_node *n, float *const *v, void *state)
{
    const uint32_t win = (uint32_t)n->iattr[0], h = vsk_in_size(n, 0);
    float *buf = state, *y = v[n->out[0]];
    memcpy(y, buf + h, (win - h) * sizeof(float));
    memcpy(y + (win - h), v[n->in[0]], h * sizeof(float));
    memcpy(buf, y, win * sizeof(float));
}
static uint64_t frame_flops(const vsk_node *n, const uint32_t *vs) { return 0; }
static uint64_t frame_cost(const vsk_node *n, const uint32_t *vs)
{
    return 2ull * (uint64_t)n->iattr[0];   /* the window copied twice */
}
const vsk_op_def vsk_op_def_frame = {"FRAME", frame_validate, frame_state_bytes,
                                     frame_reset, frame_run, frame_flops, frame_cost};

/* A real FFT of n (power of two or as fft.c allows) in double: about
 * 5·n·log2(n) units, whatever the ISA. */
static uint64_t fft_cost(uint64_t n)
{
    uint64_t lg = 1;
    while ((1ull << lg) < n) ++lg;
    return 5ull * n * lg;
}

/* -------------------------------------------------------------- STFT_MAG */
/* State: header (isa) | rfft table | buf[n + 2] (doubles). */

static vsk_status stft_validate(const vsk_node *n, const uint32_t *vs, uint32_t vc)
{
    if (vsk_check_counts(n, 1, 1, 1, 1, 1, 0) || vsk_check_ids(n, vc)) return VSK_ERR_CORRUPT;
    int32_t nfft = n->iattr[0];
    uint32_t win = vs[n->in[0]];
    if (nfft < 2 || nfft > 65536 || !vsk_fft_size_ok((uint32_t)nfft) || (uint32_t)nfft < win)
        return VSK_ERR_CORRUPT;
    if (vs[n->out[0]] != (uint32_t)nfft / 2 + 1) return VSK_ERR_CORRUPT;
    if (!vsk_tensor_is(n->const_[0], 1, win, 0, 0)) return VSK_ERR_CORRUPT;
    return VSK_OK;
}
static size_t stft_table_bytes(uint32_t nfft)
{
    return vsk_align64(vsk_rfft_table_doubles(nfft) * sizeof(double));
}
static size_t stft_state_bytes(const vsk_node *n, const uint32_t *vs)
{
    uint32_t nfft = (uint32_t)n->iattr[0];
    return HDR + stft_table_bytes(nfft) + vsk_align64((nfft + 2) * sizeof(double));
}
static void stft_reset(const vsk_node *n, void *state, uint32_t isa)
{
    uint32_t nfft = (uint32_t)n->iattr[0];
    memset(state, 0, stft_state_bytes(n, NULL));
    *(uint32_t *)state = isa;
    vsk_rfft_init(nfft, (double *)((char *)state + HDR));
}
static void stft_run(const vsk_node *n, float *const *v, void *state)
{
    const uint32_t nfft = (uint32_t)n->iattr[0], win = vsk_in_size(n, 0);
    const uint32_t isa = *(const uint32_t *)state;
    const double *table = (const double *)((char *)state + HDR);
    double *buf = (double *)((char *)state + HDR + stft_table_bytes(nfft));
    const float *x = v[n->in[0]], *w = n->const_[0]->data;
    vsk_mul_f32_to_f64(isa, x, w, win, buf);
    for (uint32_t j = win; j < nfft + 2; ++j) buf[j] = 0.0;
    vsk_rfft_forward(isa, nfft, table, buf);
    vsk_cabs_f32(isa, buf, nfft / 2 + 1, v[n->out[0]]);
}
static uint64_t stft_flops(const vsk_node *n, const uint32_t *vs)
{
    uint64_t nfft = (uint64_t)n->iattr[0], lg = 0;
    while ((1ull << lg) < nfft) ++lg;
    return nfft + 5 * (nfft / 2) * (lg ? lg - 1 : 0) + 10 * nfft + 4 * (nfft / 2 + 1);
}
static uint64_t stft_cost(const vsk_node *n, const uint32_t *vs)
{
    uint64_t nfft = (uint64_t)n->iattr[0];
    return 2ull * vs[n->in[0]] + nfft + fft_cost(nfft) +
           (uint64_t)VSK_COST_SIMD_FN * (nfft / 2 + 1);
}
const vsk_op_def vsk_op_def_stft_mag = {"STFT_MAG", stft_validate, stft_state_bytes,
                                        stft_reset, stft_run, stft_flops, stft_cost};

/* ------------------------------------------------------------- PITCH_YIN */
/* d(τ), τ ≤ τmax, is computed one of two ways, whichever is cheaper for
 * the node (yin_use_fft, fixed at plan time, so a node always runs the
 * same path):
 *
 * Direct: a sum over j < W in double from exact differences (so f0 matches
 * a double-precision reference to ~1e-15, not just to a float ulp). Split
 * W = q·g + r (g a divisor of hop, yin_block): the last q·g terms form q
 * blocks of g samples that, when the input is a sliding FRAME (this frame
 * = the previous one shifted by hop), were each computed once when they
 * entered at the right edge. A ring keeps each block's sums for all lags;
 * a step computes the hop/g new blocks and the r-sample head ((hop + r)·τmax
 * work instead of W·τmax, r < g) and adds the q blocks. Any other input
 * recomputes all blocks (same kernel on the same data, so the result does
 * not depend on which path ran).
 *
 * FFT (yin_fft.c): d(τ) = e0 + eτ − 2·r(τ) from one circular correlation of
 * size L (the power of two ≥ N) and prefix sums of x², clamped at 0 — the
 * reference's own formula; about 3 real FFTs of L per step whatever the
 * input. Its rounding is ~1e-14 of the frame's energy.
 *
 * State: header | d'[N] doubles | head sums[N] doubles | previous
 *        frame[N] floats | frame[N] in double | ring[q][τmax] doubles
 *        (direct) or the FFT's table and buffers (FFT). */

typedef struct yin_hdr {
    uint32_t isa, valid, step, pad;
    double last_f0;
} yin_hdr;

typedef struct yin_layout {
    size_t dp, head, prev, xd, ring, fft, total;
    size_t W, g, q, r;
    int use_fft;
} yin_layout;

/* τmin = floor(sr/fmax), τmax = min(ceil(sr/fmin), N − 2) (validate
 * requires 1 <= τmin <= τmax). */
static void yin_taus(const vsk_node *n, uint32_t N, int64_t *tmin, int64_t *tmax)
{
    double sr = n->fattr[0], fmin = n->fattr[1], fmax = n->fattr[2];
    double a = floor(sr / fmax), b = ceil(sr / fmin);
    *tmin = a < 0.0 ? 0 : a > 1e9 ? 1000000000 : (int64_t)a;
    *tmax = b > (double)N - 2.0 ? (int64_t)N - 2 : (int64_t)b;
}
static vsk_status yin_validate(const vsk_node *n, const uint32_t *vs, uint32_t vc)
{
    if (vsk_check_counts(n, 1, 1, 0, 0, 0, 4) || vsk_check_ids(n, vc)) return VSK_ERR_CORRUPT;
    if (!vsk_fattr_finite(n) || vs[n->out[0]] != 2) return VSK_ERR_CORRUPT;
    const float *f = n->fattr;
    if (!(f[0] > 0.f) || !(f[1] > 0.f) || !(f[2] > f[1]) || !(f[3] > 0.f) || !(f[3] < 1.f))
        return VSK_ERR_CORRUPT;
    uint32_t N = vs[n->in[0]];
    int64_t tmin, tmax;
    yin_taus(n, N, &tmin, &tmax);
    if (tmin < 1 || tmin > tmax) return VSK_ERR_CORRUPT;
    return VSK_OK;
}
/* Block length g: a divisor of hop (>= 8) minimising the per-step work
 * 3·(hop + W mod g) (new blocks + head, in lags·samples) + W/g (adding up
 * the ring), ties to the larger g. Smaller blocks shrink the head that is
 * recomputed every step (W mod hop samples with g = hop). */
static size_t yin_block(size_t hop, size_t W)
{
    size_t best = hop, best_cost = (size_t)-1;
    for (size_t d = 1; d <= 64 && hop / d >= 8; ++d) {
        if (hop % d) continue;
        size_t g = hop / d;
        if (W / g < hop / g) continue;
        size_t cost = 3 * (hop + W % g) + W / g;
        if (cost < best_cost) { best_cost = cost; best = g; }
    }
    return best;
}
/* The direct path's lag·sample pairs per step (new blocks and head when
 * the input slides, all of W otherwise) against the FFT's, weighted by
 * what each costs here (benchmarks/op_profile.py; AVX2, one core: a pair
 * ≈ 0.09 of an L·log2 L unit of the FFT path, i.e. the FFT path wins when
 * pairs > 11·L·log2 L). With hop 64, N 512, τmax 267 (the student family)
 * the direct path does ~19k pairs against the FFT's ~51k: direct. */
static int yin_use_fft(const vsk_node *n, uint32_t N, size_t W, size_t q, size_t r,
                       int64_t tmax)
{
    const uint64_t cols = q > 0 && n->in_slides ? (uint64_t)n->hop + r : (uint64_t)W;
    const uint64_t L = vsk_yin_fft_len(N);
    uint64_t lg = 0;
    while ((1ull << lg) < L) ++lg;
    return cols * (uint64_t)tmax > 11ull * L * lg;
}
static yin_layout yin_plan(const vsk_node *n, uint32_t N)
{
    int64_t tmin, tmax;
    yin_taus(n, N, &tmin, &tmax);
    yin_layout L;
    L.W = N - (size_t)tmax;
    /* blocks pay off from a few samples per hop on; their ring is capped
     * at 2^22 doubles (32 MiB) — beyond that every step sums all of W */
    L.g = n->hop >= 8 && L.W >= n->hop ? yin_block(n->hop, L.W) : n->hop;
    L.q = n->hop >= 8 && L.W >= n->hop ? L.W / L.g : 0;
    if ((uint64_t)L.q * (uint64_t)tmax > (1u << 22)) L.q = 0;
    L.r = L.W - L.q * L.g;
    L.use_fft = yin_use_fft(n, N, L.W, L.q, L.r, tmax);
    if (L.use_fft) {            /* no blocks, no head, no frame copies */
        L.q = 0;
        L.r = L.W;
    }
    L.dp = HDR;
    L.head = L.dp + vsk_align64((size_t)N * sizeof(double));
    L.prev = L.head + vsk_align64(L.use_fft ? 0 : (size_t)N * sizeof(double));
    L.xd = L.prev + vsk_align64(L.q > 0 ? (size_t)N * sizeof(float) : 0);
    L.ring = L.xd + vsk_align64(L.use_fft ? 0 : (size_t)N * sizeof(double));
    L.fft = L.ring + vsk_align64(L.q * (size_t)tmax * sizeof(double));
    L.total = L.fft + vsk_align64(L.use_fft ? vsk_yin_fft_doubles(N) * sizeof(double) : 0);
    return L;
}
static size_t yin_state_bytes(const vsk_node *n, const uint32_t *vs)
{
    return yin_plan(n, vs[n->in[0]]).total;
}
static void yin_reset(const vsk_node *n, void *state, uint32_t isa)
{
    /* all zero = consistent with an all-zero previous frame */
    const uint32_t N = vsk_in_size(n, 0);
    const yin_layout L = yin_plan(n, N);
    memset(state, 0, L.total);
    yin_hdr *hd = state;
    hd->isa = isa;
    hd->valid = 1;
    if (L.use_fft) vsk_yin_fft_init(N, (double *)((char *)state + L.fft));
}
static void yin_run(const vsk_node *n, float *const *v, void *state)
{
    yin_hdr *hd = state;
    double *dp = (double *)((char *)state + HDR);
    const float *x = v[n->in[0]];
    float *y = v[n->out[0]];
    const uint32_t N = vsk_in_size(n, 0);
    const double sr = n->fattr[0], thr = n->fattr[3];
    int64_t tmin, tmax;
    yin_taus(n, N, &tmin, &tmax);

    const yin_layout L = yin_plan(n, N);
    const size_t W = L.W, g = L.g, q = L.q, hop = n->hop, T = (size_t)tmax;
    double *head = (double *)((char *)state + L.head);
    float *prev = (float *)((char *)state + L.prev);
    double *ring = (double *)((char *)state + L.ring);
    double *xd = (double *)((char *)state + L.xd);   /* the frame in double */
    if (!L.use_fft)
        for (uint32_t j = 0; j < N; ++j) xd[j] = (double)x[j];
    if (q > 0) {
        /* logical block m (0 = newest) covers x[W − g(m+1), W − g·m) and
         * lives in slot (P − m) mod q, P = the newest block's slot; a slide
         * by hop brings nb = hop/g new blocks into the oldest slots */
        const size_t nb = hop / g, P = (hd->step + nb) % q;
        const size_t fresh =
            hd->valid && memcmp(x, prev + hop, (N - hop) * sizeof(float)) == 0 ? nb : q;
        for (size_t m = 0; m < fresh; ++m)
            vsk_sqdiff_lags_f64d(hd->isa, xd + W - g * (m + 1), g, 1, T,
                                 ring + ((P + q - m) % q) * T);
        hd->step = (uint32_t)P;
        hd->valid = 1;
        memcpy(prev, x, N * sizeof(float));
    }
    const double ms = vsk_sumsq_f64(hd->isa, x, N);
    if (ms / N < 1e-8) {
        y[0] = (float)hd->last_f0;
        y[1] = 0.f;
        return;
    }
    if (L.use_fft) {
        vsk_yin_diff_fft(hd->isa, x, N, (uint32_t)T, (double *)((char *)state + L.fft), dp);
    } else {
        vsk_sqdiff_lags_f64d(hd->isa, xd, L.r, 1, T, head);   /* head j < r (all of W if q = 0) */
        /* dp[t] = head + the q blocks, in slot order (same order on every ISA) */
        vsk_sum_rows_f64(hd->isa, head, ring, q, T, dp + 1);
    }
    vsk_yin_cmnd(hd->isa, dp, (size_t)tmax);
    int64_t tau = -1;
    for (int64_t t = tmin; t <= tmax; ++t)
        if (dp[t] < thr) { tau = t; break; }
    int voiced = tau >= 0;
    if (voiced) {
        while (tau + 1 <= tmax && dp[tau + 1] < dp[tau]) ++tau;
    } else {
        tau = tmin;
        for (int64_t t = tmin + 1; t <= tmax; ++t)
            if (dp[t] < dp[tau]) tau = t;
    }
    double shift = 0.0;
    if (tau - 1 >= 1 && tau + 1 <= tmax) {
        double a = dp[tau - 1], b = dp[tau], c = dp[tau + 1];
        double den = a - 2.0 * b + c;
        if (den > 0.0) {
            shift = 0.5 * (a - c) / den;
            shift = shift > 0.5 ? 0.5 : shift < -0.5 ? -0.5 : shift;
        }
    }
    double voicing = 1.0 - dp[tau];
    voicing = voicing < 0.0 ? 0.0 : voicing > 1.0 ? 1.0 : voicing;
    if (voiced) {
        hd->last_f0 = sr / ((double)tau + shift);
    } else if (voicing > 1.0 - thr) {
        voicing = 1.0 - thr;
    }
    y[0] = (float)hd->last_f0;
    y[1] = (float)voicing;
}
static uint64_t yin_flops(const vsk_node *n, const uint32_t *vs)
{
    uint32_t N = vs[n->in[0]];
    int64_t tmin, tmax;
    yin_taus(n, N, &tmin, &tmax);
    const yin_layout L = yin_plan(n, N);
    if (L.use_fft) {
        /* two forward real FFTs of L and one inverse (as STFT_MAG counts
         * one), the spectrum product, prefix sums, d and d' */
        const uint64_t Lf = vsk_yin_fft_len(N);
        uint64_t lg = 0;
        while ((1ull << lg) < Lf) ++lg;
        return 3ull * (5 * (Lf / 2) * (lg ? lg - 1 : 0) + 10 * Lf) + 6ull * (Lf / 2 + 1) +
               4ull * N + 12ull * (uint64_t)tmax;
    }
    /* steady state (sliding FRAME input): one new block + the head, then
     * the sum over the q blocks and the normalisation */
    uint64_t cols = L.q > 0 ? (uint64_t)n->hop + L.r : L.W;
    return 3ull * cols * (uint64_t)tmax + (uint64_t)L.q * (uint64_t)tmax + 2ull * N +
           8ull * (uint64_t)tmax;
}
static uint64_t yin_cost(const vsk_node *n, const uint32_t *vs)
{
    uint32_t N = vs[n->in[0]];
    int64_t tmin, tmax;
    yin_taus(n, N, &tmin, &tmax);
    const yin_layout L = yin_plan(n, N);
    const uint64_t T = (uint64_t)tmax;
    /* the frame widened to double, its energy */
    uint64_t c = 2ull * N;
    if (L.use_fft) {
        /* widening, zero padding and prefix sums (a scalar loop), three
         * real FFTs of L, the spectrum product (scalar), d per lag */
        const uint64_t Lf = vsk_yin_fft_len(N);
        c += (uint64_t)VSK_COST_SCALAR * N + 4ull * Lf + 3ull * fft_cost(Lf) +
             (uint64_t)VSK_COST_SCALAR * (Lf / 2 + 1) + (uint64_t)VSK_COST_SCALAR * T;
    } else if (L.q > 0) {
        /* compare + keep the frame; the blocks that enter: hop/g of them
         * when the input is a FRAME's (it always slides by hop), else all
         * q (any other input recomputes every block) */
        uint64_t blocks = n->in_slides ? n->hop / L.g : L.q;
        c += 2ull * N + 2ull * blocks * L.g * T + L.q * T;
    }
    /* the head (all of W without blocks; none with the FFT), d' (a
     * division per lag), the two searches over the lags, f0 */
    c += (L.use_fft ? 0 : 2ull * L.r * T) + 4ull * VSK_COST_SCALAR * T + VSK_COST_LIBM;
    return c;
}
const vsk_op_def vsk_op_def_pitch_yin = {"PITCH_YIN", yin_validate, yin_state_bytes,
                                         yin_reset, yin_run, yin_flops, yin_cost};

/* ------------------------------------------------------------- PITCH_MAP */

typedef struct pmap_state { double n, m, s2; } pmap_state;

static vsk_status pmap_validate(const vsk_node *n, const uint32_t *vs, uint32_t vc)
{
    if (vsk_check_counts(n, 1, 1, 0, 0, 0, 7) || vsk_check_ids(n, vc)) return VSK_ERR_CORRUPT;
    if (vs[n->in[0]] != 2 || vs[n->out[0]] != 1 || !vsk_fattr_finite(n)) return VSK_ERR_CORRUPT;
    const float *f = n->fattr;   /* t_mu, t_sigma, p_mu, p_sigma, warmup, tau, vthr */
    if (f[1] < 0.f || f[3] < 0.f || !(f[4] > 0.f) || !(f[5] >= 1.f)) return VSK_ERR_CORRUPT;
    return VSK_OK;
}
static size_t pmap_state_bytes(const vsk_node *n, const uint32_t *vs) { return 64; }
static void pmap_reset(const vsk_node *n, void *state, uint32_t isa) { memset(state, 0, 64); }
static void pmap_run(const vsk_node *n, float *const *v, void *state)
{
    pmap_state *s = state;
    const float *f = n->fattr;
    const double t_mu = f[0], t_sigma = f[1], p_mu = f[2], p_sigma = f[3];
    const double warmup = f[4], tau = f[5], vthr = f[6];
    const double f0 = v[n->in[0]][0], vo = v[n->in[0]][1];
    float *y = v[n->out[0]];
    if (!(f0 > 0.0) || !isfinite(f0)) { y[0] = 0.f; return; }   /* NaN/Inf: as 0 */
    const double l = log(f0);
    if (vo >= vthr) {
        s->n += 1.0;
        double a = 1.0 / s->n > 1.0 / tau ? 1.0 / s->n : 1.0 / tau;
        s->m += a * (l - s->m);
        s->s2 += a * ((l - s->m) * (l - s->m) - s->s2);
    }
    double w = s->n / warmup < 1.0 ? s->n / warmup : 1.0;
    double mu = w * s->m + (1.0 - w) * p_mu;
    double sigma = w * sqrt(s->s2) + (1.0 - w) * p_sigma;
    if (sigma < 0.02) sigma = 0.02;
    y[0] = (float)exp(t_mu + t_sigma * (l - mu) / sigma);
}
static uint64_t pmap_flops(const vsk_node *n, const uint32_t *vs) { return 80; }
static uint64_t pmap_cost(const vsk_node *n, const uint32_t *vs) { return 4ull * VSK_COST_LIBM; }
const vsk_op_def vsk_op_def_pitch_map = {"PITCH_MAP", pmap_validate, pmap_state_bytes,
                                         pmap_reset, pmap_run, pmap_flops, pmap_cost};

/* ---------------------------------------------------------- RUNNING_MEAN */
/* State: double n | double m[C]. m starts at the prior (reset). */

static vsk_status rmean_validate(const vsk_node *n, const uint32_t *vs, uint32_t vc)
{
    if (vsk_check_counts(n, 2, 1, 1, 1, 0, 3) || vsk_check_ids(n, vc)) return VSK_ERR_CORRUPT;
    uint32_t C = vs[n->in[0]];
    if (vs[n->in[1]] != 1 || vs[n->out[0]] != C || !vsk_fattr_finite(n)) return VSK_ERR_CORRUPT;
    if (!vsk_tensor_is(n->const_[0], 1, C, 0, 0)) return VSK_ERR_CORRUPT;
    const float *f = n->fattr;   /* warmup, tau, vthreshold */
    if (!(f[0] > 0.f) || !(f[1] >= 1.f)) return VSK_ERR_CORRUPT;
    return VSK_OK;
}
static size_t rmean_state_bytes(const vsk_node *n, const uint32_t *vs)
{
    return vsk_align64(sizeof(double) * (1u + (size_t)vs[n->in[0]]));
}
static void rmean_reset(const vsk_node *n, void *state, uint32_t isa)
{
    double *s = state;
    const float *prior = n->const_[0]->data;
    s[0] = 0.0;
    for (uint32_t i = 0, C = vsk_in_size(n, 0); i < C; ++i) s[1 + i] = prior[i];
}
static void rmean_run(const vsk_node *n, float *const *v, void *state)
{
    double *s = state, *m = s + 1;
    const float *x = v[n->in[0]], *prior = n->const_[0]->data;
    const double warmup = n->fattr[0], tau = n->fattr[1], vthr = n->fattr[2];
    const uint32_t C = vsk_in_size(n, 0);
    float *y = v[n->out[0]];
    int finite = 1;
    for (uint32_t i = 0; i < C; ++i) finite &= isfinite(x[i]) != 0;
    if ((double)v[n->in[1]][0] >= vthr && finite) {   /* NaN gate: no update */
        s[0] += 1.0;
        const double a = 1.0 / s[0] > 1.0 / tau ? 1.0 / s[0] : 1.0 / tau;
        for (uint32_t i = 0; i < C; ++i) m[i] += a * ((double)x[i] - m[i]);
    }
    const double w = s[0] / warmup < 1.0 ? s[0] / warmup : 1.0;
    for (uint32_t i = 0; i < C; ++i) y[i] = (float)(w * m[i] + (1.0 - w) * (double)prior[i]);
}
static uint64_t rmean_flops(const vsk_node *n, const uint32_t *vs) { return 6ull * vs[n->in[0]]; }
static uint64_t rmean_cost(const vsk_node *n, const uint32_t *vs)
{
    return (uint64_t)VSK_COST_SCALAR * vs[n->in[0]] + VSK_COST_SCALAR;
}
const vsk_op_def vsk_op_def_running_mean = {"RUNNING_MEAN", rmean_validate, rmean_state_bytes,
                                            rmean_reset, rmean_run, rmean_flops, rmean_cost};

/* ------------------------------------------------------------------ WARP */
/* Stateless. x[C] sampled at the strictly increasing positions[C], read back
 * at positions·exp(−s) (clamped to the first and last position) by linear
 * interpolation. s is clamped to [−700, 700] so exp(∓s) stays finite and
 * non-zero (no NaN from 0·∞ at a position 0; no effect on float32 results). */

#define WARP_MAX_LOG 700.0

static vsk_status warp_validate(const vsk_node *n, const uint32_t *vs, uint32_t vc)
{
    if (vsk_check_counts(n, 2, 1, 1, 1, 0, 0) || vsk_check_ids(n, vc)) return VSK_ERR_CORRUPT;
    const uint32_t C = vs[n->in[0]];
    if (C < 2 || vs[n->in[1]] != 1 || vs[n->out[0]] != C) return VSK_ERR_CORRUPT;
    if (!vsk_tensor_is(n->const_[0], 1, C, 0, 0)) return VSK_ERR_CORRUPT;
    const float *p = n->const_[0]->data;
    for (uint32_t c = 0; c < C; ++c)
        if (!isfinite(p[c]) || (c > 0 && !(p[c] > p[c - 1]))) return VSK_ERR_CORRUPT;
    return VSK_OK;
}
static size_t warp_state_bytes(const vsk_node *n, const uint32_t *vs) { return 0; }
static void warp_reset(const vsk_node *n, void *state, uint32_t isa) {}
static void warp_run(const vsk_node *n, float *const *v, void *state)
{
    const float *x = v[n->in[0]], *pos = n->const_[0]->data;
    const uint32_t C = vsk_in_size(n, 0);
    float *y = v[n->out[0]];
    double s = v[n->in[1]][0];
    if (!isfinite(s)) s = 0.0;                        /* NaN/Inf: as 0 */
    s = s < -WARP_MAX_LOG ? -WARP_MAX_LOG : s > WARP_MAX_LOG ? WARP_MAX_LOG : s;
    const double k = exp(-s), lo = pos[0], hi = pos[C - 1];
    /* j = the largest index in [0, C−2] with pos[j] <= q (pos[0] <= q).
     * q never decreases with c (k > 0, positions increasing, the clamp
     * monotone), so neither does j: one forward scan over all c. */
    uint32_t j = 0;
    for (uint32_t c = 0; c < C; ++c) {
        double q = (double)pos[c] * k;
        q = q < lo ? lo : q > hi ? hi : q;
        while (j < C - 2 && (double)pos[j + 1] <= q) ++j;
        const double p0 = pos[j], w = (q - p0) / ((double)pos[j + 1] - p0);
        y[c] = (float)((double)x[j] * (1.0 - w) + (double)x[j + 1] * w);
    }
}
static uint64_t warp_flops(const vsk_node *n, const uint32_t *vs) { return 6ull * vs[n->in[0]]; }
static uint64_t warp_cost(const vsk_node *n, const uint32_t *vs)
{
    const uint64_t C = vs[n->in[0]];
    /* per element: the scan (C − 1 steps over all elements) and the
     * interpolation */
    return (uint64_t)VSK_COST_SCALAR * C * 6 + VSK_COST_LIBM;
}
const vsk_op_def vsk_op_def_warp = {"WARP", warp_validate, warp_state_bytes, warp_reset,
                                    warp_run, warp_flops, warp_cost};

/* -------------------------------------------------------------- HARMONIC */
/* State (doubles): header (φ, f0_prev, isa) | A_prev[K+1] | A[K+1] | t[hop]
 * | s1[hop] | s0[hop] | c2[hop] | acc[hop]. */

typedef struct harm_hdr { double phase, f0_prev; uint32_t isa; } harm_hdr;

static vsk_status harm_validate(const vsk_node *n, const uint32_t *vs, uint32_t vc)
{
    if (vsk_check_counts(n, 2, 1, 0, 0, 2, 1) || vsk_check_ids(n, vc)) return VSK_ERR_CORRUPT;
    int32_t hop = n->iattr[0], K = n->iattr[1];
    if (hop < 1 || (uint32_t)hop != n->hop || (uint32_t)hop != vs[n->out[0]] || K < 1 ||
        K > 4096)
        return VSK_ERR_CORRUPT;
    if (vs[n->in[0]] != 1 || vs[n->in[1]] < 2) return VSK_ERR_CORRUPT;
    if (!vsk_fattr_finite(n) || !(n->fattr[0] > 0.f)) return VSK_ERR_CORRUPT;
    return VSK_OK;
}
static size_t harm_state_bytes(const vsk_node *n, const uint32_t *vs)
{
    size_t hop = (size_t)n->iattr[0], K = (size_t)n->iattr[1];
    return HDR + 2 * vsk_align64((K + 1) * sizeof(double)) +
           5 * vsk_align64(hop * sizeof(double));
}
static void harm_reset(const vsk_node *n, void *state, uint32_t isa)
{
    memset(state, 0, harm_state_bytes(n, NULL));
    ((harm_hdr *)state)->isa = isa;
}
static void harm_run(const vsk_node *n, float *const *v, void *state)
{
    const size_t hop = (size_t)n->iattr[0], K = (size_t)n->iattr[1];
    const size_t kb = vsk_align64((K + 1) * sizeof(double)), hb = vsk_align64(hop * sizeof(double));
    harm_hdr *hd = state;
    double *A_prev = (double *)((char *)state + HDR), *A = (double *)((char *)A_prev + kb);
    double *t = (double *)((char *)A + kb);
    double *s1 = (double *)((char *)t + hb), *s0 = (double *)((char *)s1 + hb);
    double *c2 = (double *)((char *)s0 + hb), *acc = (double *)((char *)c2 + hb);

    const double sr = n->fattr[0], nyq = 0.5 * sr;
    const float f0in = v[n->in[0]][0];
    const double f0 = isfinite(f0in) ? (double)f0in : 0.0;   /* NaN/Inf: silent */
    const float *env = v[n->in[1]];
    const uint32_t B = vsk_in_size(n, 1);

    /* target amplitudes A_k = E(k·f0), k = 1..K (index k) */
    size_t kmax = 0;
    for (size_t k = 1; k <= K; ++k) {
        double f = (double)k * f0, a = 0.0;
        if (f0 > 0.0 && f < nyq) {
            double p = f * (double)(B - 1) / nyq;
            size_t i = (size_t)p;
            if (i > B - 2) i = B - 2;
            double fr = p - (double)i;
            a = (double)env[i] * (1.0 - fr) + (double)env[i + 1] * fr;
        }
        A[k] = a;
        if (a != 0.0 || A_prev[k] != 0.0) kmax = k;
    }
    /* per-sample phase (sequential, wrapped to [0, 2π)): the state φ
     * follows the spec exactly; sin φ_j / cos φ_j come from the rotation
     * e^{iφ_j} = e^{iφ_{j−1}}·e^{i·inc_j}, inc_j = a + (j+1)·b (no per-sample
     * trig; agrees with sin/cos of φ_j to ~1e-14). */
    const double fp = hd->f0_prev == 0.0 ? f0 : hd->f0_prev;
    const double a = TWO_PI * fp / sr, b = TWO_PI * (f0 - fp) / (sr * (double)hop);
    double phase = hd->phase;
    double zr = cos(phase), zi = sin(phase);
    double wr = cos(a + b), wi = sin(a + b);
    const double er = cos(b), ei = sin(b);
    for (size_t j = 0; j < hop; ++j) {
        t[j] = (double)(j + 1) / (double)hop;
        double f = fp + t[j] * (f0 - fp);
        phase += TWO_PI * f / sr;
        if (phase >= TWO_PI || phase < 0.0) {
            phase -= TWO_PI * floor(phase / TWO_PI);
            if (phase >= TWO_PI) phase -= TWO_PI;   /* rounding guard */
        }
        double nr = zr * wr - zi * wi, ni = zr * wi + zi * wr;
        zr = nr; zi = ni;
        double vr = wr * er - wi * ei, vi = wr * ei + wi * er;
        wr = vr; wi = vi;
        s1[j] = zi;
        s0[j] = 0.0;
        c2[j] = 2.0 * zr;
        acc[j] = 0.0;
    }
    hd->phase = phase;
    hd->f0_prev = f0;
    vsk_harmonic_sum(hd->isa, A_prev, A, kmax, t, c2, s1, s0, acc, hop);
    float *y = v[n->out[0]];
    for (size_t j = 0; j < hop; ++j) y[j] = (float)acc[j];
    memcpy(A_prev, A, (K + 1) * sizeof(double));
}
static uint64_t harm_flops(const vsk_node *n, const uint32_t *vs)
{
    uint64_t hop = (uint64_t)n->iattr[0], K = (uint64_t)n->iattr[1];
    /* typical voice: about a third of the harmonics lie below Nyquist */
    return 8 * K + hop * 40 + hop * 6 * ((K + 2) / 3);
}
static uint64_t harm_cost(const vsk_node *n, const uint32_t *vs)
{
    uint64_t hop = (uint64_t)n->iattr[0], K = (uint64_t)n->iattr[1];
    /* worst case: every harmonic below Nyquist (a low f0) */
    return (uint64_t)VSK_COST_SCALAR * (K + 4 * hop) + 8ull * VSK_COST_LIBM +
           6ull * hop * K + 2 * K + hop;
}
const vsk_op_def vsk_op_def_harmonic = {"HARMONIC", harm_validate, harm_state_bytes,
                                        harm_reset, harm_run, harm_flops, harm_cost};

/* ----------------------------------------------------------------- NOISE */
/* State: header (step counter c) | rfft table | hann[N] | buf[N + 2]
 * | ola[hop] (doubles). */

typedef struct noise_hdr { uint32_t c, isa; } noise_hdr;

static vsk_status noise_validate(const vsk_node *n, const uint32_t *vs, uint32_t vc)
{
    if (vsk_check_counts(n, 1, 1, 0, 0, 2, 0) || vsk_check_ids(n, vc)) return VSK_ERR_CORRUPT;
    int32_t hop = n->iattr[0];
    if (hop < 1 || (uint32_t)hop != n->hop || hop > 32768 ||
        !vsk_fft_size_ok(2u * (uint32_t)hop) ||
        (uint32_t)hop != vs[n->out[0]] || vs[n->in[0]] < 2)
        return VSK_ERR_CORRUPT;
    return VSK_OK;
}
static void noise_layout(const vsk_node *n, size_t *tab, size_t *hann, size_t *buf,
                         size_t *ola, size_t *total)
{
    uint32_t N = 2u * (uint32_t)n->iattr[0];
    *tab = HDR;
    *hann = *tab + vsk_align64(vsk_rfft_table_doubles(N) * sizeof(double));
    *buf = *hann + vsk_align64(N * sizeof(double));
    *ola = *buf + vsk_align64((N + 2) * sizeof(double));
    /* then the bin interpolation (fixed by B and N): fr[N/2+1] doubles,
     * lo[N/2+1] uint32 */
    *total = *ola + vsk_align64((N / 2) * sizeof(double)) +
             vsk_align64((N / 2 + 1) * sizeof(double)) + vsk_align64((N / 2 + 1) * sizeof(uint32_t));
}
static double *noise_fr(const vsk_node *n, void *state, size_t ola)
{
    return (double *)((char *)state + ola + vsk_align64((size_t)n->iattr[0] * sizeof(double)));
}
static uint32_t *noise_lo(const vsk_node *n, void *state, size_t ola)
{
    return (uint32_t *)((char *)noise_fr(n, state, ola) +
                        vsk_align64(((size_t)n->iattr[0] + 1) * sizeof(double)));
}
static size_t noise_state_bytes(const vsk_node *n, const uint32_t *vs)
{
    size_t a, b, c, d, total;
    noise_layout(n, &a, &b, &c, &d, &total);
    return total;
}
static void noise_reset(const vsk_node *n, void *state, uint32_t isa)
{
    size_t tab, hann, buf, ola, total;
    noise_layout(n, &tab, &hann, &buf, &ola, &total);
    memset(state, 0, total);
    uint32_t N = 2u * (uint32_t)n->iattr[0];
    vsk_rfft_init(N, (double *)((char *)state + tab));
    ((noise_hdr *)state)->isa = isa;
    double *w = (double *)((char *)state + hann);
    for (uint32_t j = 0; j < N; ++j) w[j] = 0.5 - 0.5 * cos(TWO_PI * (double)j / (double)N);
    const uint32_t B = vsk_in_size(n, 0), half = N / 2;
    double *frs = noise_fr(n, state, ola);
    uint32_t *los = noise_lo(n, state, ola);
    for (uint32_t k = 0; k <= half; ++k) {
        double p = (double)k * (double)(B - 1) / (double)half;
        uint32_t i = (uint32_t)p;
        if (i > B - 2) i = B - 2;
        los[k] = i;
        frs[k] = p - (double)i;
    }
}
static void noise_run(const vsk_node *n, float *const *v, void *state)
{
    size_t tab_o, hann_o, buf_o, ola_o, total;
    noise_layout(n, &tab_o, &hann_o, &buf_o, &ola_o, &total);
    noise_hdr *hd = state;
    const double *tab = (const double *)((char *)state + tab_o);
    const double *hann = (const double *)((char *)state + hann_o);
    double *buf = (double *)((char *)state + buf_o), *ola = (double *)((char *)state + ola_o);
    const uint32_t hop = (uint32_t)n->iattr[0], N = 2u * hop, half = N / 2;
    const uint32_t seed = (uint32_t)n->iattr[1];
    const float *env = v[n->in[0]];

    vsk_noise_uniform(hd->isa, seed, hd->c * N, N, buf);
    vsk_rfft_forward(hd->isa, N, tab, buf);
    const double *frs = noise_fr(n, state, ola_o);
    const uint32_t *los = noise_lo(n, state, ola_o);
    for (uint32_t k = 0; k <= half; ++k) {
        const uint32_t i = los[k];
        const double fr = frs[k];
        double H = (double)env[i] * (1.0 - fr) + (double)env[i + 1] * fr;
        buf[2 * k] *= H;
        buf[2 * k + 1] *= H;
    }
    vsk_rfft_inverse(hd->isa, N, tab, buf);
    float *y = v[n->out[0]];
    for (uint32_t j = 0; j < hop; ++j) {
        y[j] = (float)(ola[j] + buf[j] * hann[j]);
        ola[j] = buf[hop + j] * hann[hop + j];
    }
    hd->c += 1u;
}
static uint64_t noise_flops(const vsk_node *n, const uint32_t *vs)
{
    uint64_t N = 2ull * (uint64_t)n->iattr[0], lg = 0;
    while ((1ull << lg) < N) ++lg;
    return 2 * (5 * (N / 2) * (lg ? lg - 1 : 0) + 10 * N) + 12 * N + 6 * (N / 2 + 1);
}
static uint64_t noise_cost(const vsk_node *n, const uint32_t *vs)
{
    uint64_t N = 2ull * (uint64_t)n->iattr[0];
    /* white noise, two FFTs, the envelope per bin, overlap-add */
    return 4 * N + 2 * fft_cost(N) + (uint64_t)VSK_COST_SCALAR * (N / 2 + 1) / 2 + 3 * N;
}
const vsk_op_def vsk_op_def_noise = {"NOISE", noise_validate, noise_state_bytes,
                                     noise_reset, noise_run, noise_flops, noise_cost};
