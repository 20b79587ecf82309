/* resample.c — streaming windowed-sinc (Kaiser) polyphase resampler.
 * See resample.h for the model. Owned by the voice. */
#include "resample.h"

#include "kernels.h"

#include <math.h>
#include <string.h>

#define VSK_PI 3.14159265358979323846

static uint64_t gcd_u64(uint64_t a, uint64_t b)
{
    while (b) {
        uint64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

static double bessel_i0(double x)
{
    /* Power series; converges quickly for the beta range used (< 20). */
    double sum = 1.0, term = 1.0, q = 0.25 * x * x;
    for (int k = 1; k < 200; k++) {
        term *= q / ((double)k * (double)k);
        sum += term;
        if (term < sum * 1e-17)
            break;
    }
    return sum;
}

void vsk_rs_spec_init(vsk_rs_spec *s, uint32_t rate_in, uint32_t rate_out)
{
    memset(s, 0, sizeof *s);
    s->rate_in = rate_in;
    s->rate_out = rate_out;
    uint64_t g = gcd_u64(rate_in, rate_out);
    s->pin = rate_out / g;
    s->pout = rate_in / g;
    if (rate_in == rate_out) {
        s->identity = 1;
        s->exact = 1;
        s->taps = 1;
        s->lead = 0;
        s->stride = 8;
        s->rows = 1;
        s->cutoff = s->pass_edge = s->stop_edge = 0.5;
        return;
    }
    uint32_t lead = (uint32_t)floor(VSK_RS_MAX_DELAY_S * rate_in / 4.0) * 4u;
    if (lead < 8)
        lead = 8;
    s->lead = lead;
    s->taps = 2 * lead;
    s->stride = s->taps; /* multiple of 8 */
    double nyq = 0.5 * (rate_out < rate_in ? (double)rate_out / rate_in : 1.0);
    double a = VSK_RS_DESIGN_ATTEN_DB;
    s->beta = 0.1102 * (a - 8.7);
    /* Kaiser's estimate of the transition width for this length. */
    double width = (a - 8.0) / (2.285 * 2.0 * VSK_PI * (double)s->taps);
    s->stop_edge = nyq;
    s->pass_edge = nyq - width;
    s->cutoff = nyq - 0.5 * width;
    if (s->pin <= VSK_RS_EXACT_MAX_PHASES) {
        s->exact = 1;
        s->rows = (uint32_t)s->pin;
    } else {
        s->exact = 0;
        s->rows = VSK_RS_INTERP_PHASES + 1;
    }
}

size_t vsk_rs_table_bytes(const vsk_rs_spec *s)
{
    size_t b = (size_t)s->rows * s->stride * sizeof(float);
    return (b + 63) & ~(size_t)63;
}

double vsk_rs_kernel(const vsk_rs_spec *s, double tau)
{
    if (s->identity)
        return tau == 0.0 ? 1.0 : 0.0;
    double w = (double)s->lead;
    if (fabs(tau) >= w)
        return 0.0;
    double fc = s->cutoff;
    double x = 2.0 * fc * tau;
    double sinc = x == 0.0 ? 1.0 : sin(VSK_PI * x) / (VSK_PI * x);
    double r = tau / w;
    double win = bessel_i0(s->beta * sqrt(1.0 - r * r)) / bessel_i0(s->beta);
    return 2.0 * fc * sinc * win;
}

void vsk_rs_table_build(const vsk_rs_spec *s, float *table)
{
    memset(table, 0, vsk_rs_table_bytes(s));
    if (s->identity) {
        table[0] = 1.0f;
        return;
    }
    for (uint32_t r = 0; r < s->rows; r++) {
        double f = s->exact ? (double)r / (double)s->pin
                            : (double)r / (double)VSK_RS_INTERP_PHASES;
        float *row = table + (size_t)r * s->stride;
        double c[8192];
        double sum = 0.0;
        for (uint32_t j = 0; j < s->taps; j++) {
            /* tap j multiplies input (centre + lead + 1 - taps + j) */
            double tau = f + (double)s->taps - 1.0 - (double)s->lead - (double)j;
            c[j] = vsk_rs_kernel(s, tau);
            sum += c[j];
        }
        /* Unit DC gain on every phase: no phase-dependent gain ripple. */
        for (uint32_t j = 0; j < s->taps; j++)
            row[j] = (float)(c[j] / sum);
    }
}

uint32_t vsk_rs_prefill(const vsk_rs_spec *s, uint64_t extra)
{
    uint64_t d = (uint64_t)s->lead * s->pin + extra;
    uint64_t back = (d + s->pin - 1) / s->pin;
    return (uint32_t)(s->taps - s->lead - 1 + back);
}

uint32_t vsk_rs_hist_floats(const vsk_rs_spec *s, uint64_t extra,
                            uint32_t max_unconsumed, uint32_t max_push)
{
    uint32_t pre = vsk_rs_prefill(s, extra);
    uint32_t keep = s->taps + max_unconsumed + (uint32_t)(extra / s->pin) + 2;
    if (keep < pre)
        keep = pre;
    uint32_t n = keep + max_push + 16;
    return (n + 15u) & ~15u;
}

void vsk_rs_init(vsk_rs *rs, const vsk_rs_spec *s, const float *table,
                 float *hist, uint32_t cap, uint64_t extra, uint32_t isa)
{
    memset(rs, 0, sizeof *rs);
    rs->spec = s;
    rs->table = table;
    rs->hist = hist;
    rs->cap = cap;
    rs->extra = extra;
    rs->prefill = vsk_rs_prefill(s, extra);
    rs->step_i = s->pout / s->pin;
    rs->step_r = s->pout % s->pin;
    rs->isa = isa;
    vsk_rs_reset(rs);
}

void vsk_rs_reset(vsk_rs *rs)
{
    const vsk_rs_spec *s = rs->spec;
    uint64_t d = (uint64_t)s->lead * s->pin + rs->extra;
    uint64_t back = (d + s->pin - 1) / s->pin;
    memset(rs->hist, 0, (size_t)rs->cap * sizeof(float));
    rs->len = rs->prefill;
    rs->pos_i = (int64_t)rs->prefill - (int64_t)back;
    rs->pos_r = (s->pin - d % s->pin) % s->pin;
    rs->overflow = 0;
}

static void compact(vsk_rs *rs)
{
    const vsk_rs_spec *s = rs->spec;
    int64_t first = rs->pos_i + (int64_t)s->lead + 1 - (int64_t)s->taps;
    if (first <= 0)
        return;
    uint32_t drop = first > (int64_t)rs->len ? rs->len : (uint32_t)first;
    memmove(rs->hist, rs->hist + drop, (size_t)(rs->len - drop) * sizeof(float));
    rs->len -= drop;
    rs->pos_i -= drop;
}

void vsk_rs_push(vsk_rs *rs, const float *in, uint32_t n)
{
    if (rs->len + (uint64_t)n > rs->cap)
        compact(rs);
    if (rs->len + (uint64_t)n > rs->cap) {
        uint32_t room = rs->cap - rs->len;
        rs->overflow += n - room;
        n = room;
    }
    memcpy(rs->hist + rs->len, in, (size_t)n * sizeof(float));
    rs->len += n;
}

/* The dot products use the library's SIMD kernels (kernels.h; AVX2+FMA /
 * SSE2 / NEON chosen once at init). */
uint32_t vsk_rs_pull(vsk_rs *rs, float *out, uint32_t max)
{
    const vsk_rs_spec *s = rs->spec;
    const uint32_t taps = s->taps, lead = s->lead, stride = s->stride;
    const uint64_t pin = s->pin;
    const uint32_t isa = rs->isa;
    int64_t pos_i = rs->pos_i;
    uint64_t pos_r = rs->pos_r;
    const int64_t len = rs->len;
    uint32_t n = 0;
    if (s->exact && !s->identity) {
        /* Gather up to 16 (table row, input window) pairs, then one batched
         * SIMD call (no per-output call; each output is bit-identical to
         * computing it alone, so block sizes do not matter). */
        enum { GROUP = 16 };
        const float *rows[GROUP], *wins[GROUP];
        const int64_t back = (int64_t)lead + 1 - (int64_t)taps;
        const uint64_t si = rs->step_i, sr = rs->step_r;
        while (n < max && pos_i + (int64_t)lead < len) {
            uint32_t k = 0;
            if (pin == 1) {
                /* integer step (48k -> 16k): one row, windows si apart */
                const int64_t avail = (len - (int64_t)lead - pos_i + (int64_t)si - 1) / (int64_t)si;
                uint32_t want = max - n < GROUP ? max - n : GROUP;
                if ((int64_t)want > avail) want = (uint32_t)avail;
                const float *w = rs->hist + (pos_i + back);
                for (; k < want; ++k, w += si) {
                    rows[k] = rs->table;
                    wins[k] = w;
                }
                pos_i += (int64_t)k * (int64_t)si;
            } else if (si == 0 && sr == 1) {
                /* integer upsampling (16k -> 48k): pin rows per input */
                const int64_t avail = (len - (int64_t)lead - pos_i) * (int64_t)pin - (int64_t)pos_r;
                uint32_t want = max - n < GROUP ? max - n : GROUP;
                if ((int64_t)want > avail) want = (uint32_t)avail;
                const float *w = rs->hist + (pos_i + back);
                for (; k < want; ++k) {
                    rows[k] = rs->table + (size_t)pos_r * stride;
                    wins[k] = w;
                    if (++pos_r == pin) {
                        pos_r = 0;
                        ++pos_i;
                        ++w;
                    }
                }
            } else {
                do {
                    rows[k] = rs->table + (size_t)pos_r * stride;
                    wins[k] = rs->hist + (pos_i + back);
                    ++k;
                    pos_i += (int64_t)si;
                    pos_r += sr;
                    if (pos_r >= pin) {
                        pos_r -= pin;
                        pos_i++;
                    }
                } while (k < GROUP && n + k < max && pos_i + (int64_t)lead < len);
            }
            vsk_dot_batch(isa, rows, wins, taps, k, out + n);
            n += k;
        }
        rs->pos_i = pos_i;
        rs->pos_r = pos_r;
        return n;
    }
    while (n < max && pos_i + (int64_t)lead < len) {
        const float *x = rs->hist + (pos_i + (int64_t)lead + 1 - (int64_t)taps);
        float y;
        if (s->identity) {
            y = x[0];
        } else if (s->exact) {
            y = vsk_dot(isa, rs->table + (size_t)pos_r * stride, x, taps);
        } else {
            double fp = (double)pos_r * (double)VSK_RS_INTERP_PHASES / (double)pin;
            uint32_t r0 = (uint32_t)fp;
            if (r0 >= VSK_RS_INTERP_PHASES)
                r0 = VSK_RS_INTERP_PHASES - 1;
            float a = (float)(fp - (double)r0);
            const float *row = rs->table + (size_t)r0 * stride;
            float y0 = vsk_dot(isa, row, x, taps);
            float y1 = vsk_dot(isa, row + stride, x, taps);
            y = y0 + a * (y1 - y0);
        }
        out[n++] = y;
        pos_i += (int64_t)rs->step_i;
        pos_r += rs->step_r;
        if (pos_r >= pin) {
            pos_r -= pin;
            pos_i++;
        }
    }
    rs->pos_i = pos_i;
    rs->pos_r = pos_r;
    return n;
}
