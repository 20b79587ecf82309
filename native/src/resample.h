/* resample.h — internal: streaming sample-rate converter used by the voice
 * (owned by voice.c / resample.c).
 *
 * A windowed-sinc (Kaiser) polyphase FIR, causal, with a constant integer
 * group delay of `lead` input samples. Time is counted in "units" of
 * 1/lcm(rate_in, rate_out) seconds, so every position is an exact integer:
 * an input sample lasts `pin` units, an output sample `pout` units. Output j
 * is the band-limited input evaluated at (j*pout - delay)/pin input samples,
 * where delay = lead*pin + extra_units.
 *
 *  - exact mode (pin <= VSK_RS_EXACT_MAX_PHASES): one table row per phase
 *    (pin rows), no interpolation;
 *  - interpolated mode: VSK_RS_INTERP_PHASES+1 rows of a finely oversampled
 *    prototype, linear interpolation between adjacent rows;
 *  - identity (rate_in == rate_out): no filter, a pure integer delay.
 *
 * Tables are built once (control thread) into caller memory; push/pull are
 * allocation-free and lock-free. The filter's stop band begins at the lower
 * of the two Nyquist frequencies; see docs/abi.md for the measured figures.
 */
#ifndef VSK_RESAMPLE_H
#define VSK_RESAMPLE_H

#include <stddef.h>
#include <stdint.h>

#define VSK_RS_EXACT_MAX_PHASES 1024u
#define VSK_RS_INTERP_PHASES 512u
/* Group delay budget per direction (seconds); lead is rounded down to a
 * multiple of 4 input samples. */
#define VSK_RS_MAX_DELAY_S 0.002
/* Kaiser design target (dB); the achieved figures are measured by
 * native/tests/test_voice_resample.c. */
#define VSK_RS_DESIGN_ATTEN_DB 80.0

typedef struct vsk_rs_spec {
    uint32_t rate_in, rate_out;
    uint64_t pin, pout;     /* units per input / output sample            */
    uint32_t taps;          /* input samples per output (1 for identity)  */
    uint32_t lead;          /* group delay in input samples               */
    uint32_t stride;        /* floats per table row (taps rounded to 8)   */
    uint32_t rows;          /* table rows                                 */
    uint32_t exact;         /* 1: row index = phase numerator             */
    uint32_t identity;      /* 1: rate_in == rate_out                     */
    double cutoff;          /* -6 dB point, cycles per input sample       */
    double pass_edge;       /* pass band edge, cycles per input sample    */
    double stop_edge;       /* stop band edge, cycles per input sample    */
    double beta;            /* Kaiser beta                                */
} vsk_rs_spec;

/* Designs a converter from rate_in to rate_out (both 1..1e6 Hz). */
void vsk_rs_spec_init(vsk_rs_spec *spec, uint32_t rate_in, uint32_t rate_out);
/* Bytes of the coefficient table (multiple of 64). */
size_t vsk_rs_table_bytes(const vsk_rs_spec *spec);
/* Fills the table (rows x stride floats, 64-byte aligned memory). */
void vsk_rs_table_build(const vsk_rs_spec *spec, float *table);
/* The continuous prototype kernel at tau input samples (for tests). */
double vsk_rs_kernel(const vsk_rs_spec *spec, double tau);

/* One stream's state. */
typedef struct vsk_rs {
    const vsk_rs_spec *spec;
    const float *table;
    float *hist;            /* caller memory, cap floats                  */
    uint32_t cap, len;      /* history capacity / filled length           */
    uint32_t prefill;       /* zeros standing for inputs before time 0    */
    uint64_t extra;         /* extra delay in units                       */
    int64_t pos_i;          /* next output's centre input, index in hist  */
    uint64_t pos_r;         /* its phase numerator, 0 .. pin-1            */
    uint64_t step_i, step_r;/* pout = step_i*pin + step_r                 */
    uint32_t overflow;      /* pushes dropped for lack of space (a bug)   */
    uint32_t isa;           /* kernels.h instruction set for the dots     */
} vsk_rs;

/* Prefill (zeros before time 0) for this spec and extra delay. */
uint32_t vsk_rs_prefill(const vsk_rs_spec *spec, uint64_t extra_units);
/* History floats needed when at most `max_unconsumed` inputs are pushed
 * ahead of the next output's centre and pushes are at most `max_push`. */
uint32_t vsk_rs_hist_floats(const vsk_rs_spec *spec, uint64_t extra_units,
                            uint32_t max_unconsumed, uint32_t max_push);
/* Binds state to spec, table and history memory and the instruction set
 * the dots use (kernels.h, chosen once by the caller); then resets. */
void vsk_rs_init(vsk_rs *rs, const vsk_rs_spec *spec, const float *table,
                 float *hist, uint32_t cap, uint64_t extra_units, uint32_t isa);
/* Back to time 0 (silence before it). Real-time safe. */
void vsk_rs_reset(vsk_rs *rs);
/* Appends n inputs. Real-time safe. */
void vsk_rs_push(vsk_rs *rs, const float *in, uint32_t n);
/* Writes up to max outputs whose inputs have all arrived; returns count.
 * Real-time safe. */
uint32_t vsk_rs_pull(vsk_rs *rs, float *out, uint32_t max);

#endif
