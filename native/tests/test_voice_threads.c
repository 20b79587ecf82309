/* test_voice_threads.c — the [any-rt] setters may run on other threads
 * while the audio thread processes.
 *
 * A control thread hammers set_tier / set_mix / set_bypass / get_tier /
 * get_latency while the main thread streams audio in random blocks. The
 * output must stay finite and bounded, every call must succeed, and once
 * the control thread stops, the voice must settle on the last requested
 * state (tier level and mix). Built with -fsanitize=thread this also shows
 * the setters only touch atomics (it reports no race). Both schedules
 * (VSK_SCHEDULE_LOW_LATENCY, VSK_SCHEDULE_EVEN). Uses POSIX
 * threads; where they are not available it skips (exit 77, vsk_skip.h). */
#include "voice_test_util.h"
#include "vsk_skip.h"

#if !(defined(__unix__) || defined(__APPLE__))
int main(void)
{
    return vsk_test_skip("test_voice_threads", "no POSIX threads");
}
#else
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

typedef struct shared {
    vsk_voice *v;
    atomic_int stop;
    atomic_long calls;
    atomic_int errors;
} shared;

static void *control(void *arg)
{
    shared *s = (shared *)arg;
    uint32_t r = 1234567;
    while (!atomic_load(&s->stop)) {
        r ^= r << 13; r ^= r >> 17; r ^= r << 5;
        uint32_t t, lat;
        int bad = 0;
        bad |= vsk_voice_set_tier(s->v, r % 3) != VSK_OK;
        bad |= vsk_voice_set_mix(s->v, (float)((r >> 8) % 1001) / 1000.0f) != VSK_OK;
        bad |= vsk_voice_set_bypass(s->v, (int32_t)((r >> 4) & 1)) != VSK_OK;
        bad |= vsk_voice_get_tier(s->v, &t) != VSK_OK || t > 2;
        bad |= vsk_voice_get_latency(s->v, &lat) != VSK_OK;
        if (bad)
            atomic_fetch_add(&s->errors, 1);
        atomic_fetch_add(&s->calls, 1);
        sched_yield();
    }
    /* final state */
    vsk_voice_set_bypass(s->v, 0);
    vsk_voice_set_mix(s->v, 1.0f);
    vsk_voice_set_tier(s->v, 1);
    return NULL;
}

static void run_schedule(vsk_bundle *b, uint32_t schedule)
{
    const uint32_t rate = 48000;
    shared s = {0};
    s.v = vt_voice_sched(b, rate, 2, 512, 0, schedule);
    uint32_t lat;
    CHECK_OK(vsk_voice_get_latency(s.v, &lat));

    pthread_t th;
    CHECK(pthread_create(&th, NULL, control, &s) == 0, "thread");
    static float buf[4096 * 2];
    size_t pos = 0;
    long bad = 0;
    int calls = 0;
    /* at least 3000 process calls, and until the control thread has
     * really run alongside (bounded) */
    for (; calls < 3000 || (atomic_load(&s.calls) < 2000 && calls < 200000); calls++) {
        uint32_t n = 1 + vt_rand() % 1024;
        for (uint32_t i = 0; i < n; i++) {
            float x = (float)(0.5 * sin(6.283185307179586 * 220.0 * (double)(pos + i) / rate));
            buf[2 * i] = buf[2 * i + 1] = x;
        }
        if (vsk_voice_process(s.v, buf, buf, n) != VSK_OK)
            bad++;
        for (uint32_t i = 0; i < 2 * n; i++)
            if (!isfinite(buf[i]) || fabsf(buf[i]) > 1.0f)
                bad++;
        pos += n;
    }
    atomic_store(&s.stop, 1);
    pthread_join(th, NULL);
    CHECK(bad == 0, "%ld bad statuses or samples under concurrent control", bad);
    CHECK(atomic_load(&s.errors) == 0, "control calls failed");
    CHECK(atomic_load(&s.calls) >= 2000, "control thread barely ran (%ld)", atomic_load(&s.calls));

    /* settles on tier 1 (gain 0.5), mix 1, no bypass */
    size_t settle = rate / 2, n = rate / 10;
    for (size_t done = 0; done < settle + n; done += 480) {
        for (uint32_t i = 0; i < 480; i++) {
            float x = (float)(0.5 * sin(6.283185307179586 * 220.0 * (double)(pos + i) / rate));
            buf[2 * i] = buf[2 * i + 1] = x;
        }
        CHECK_OK(vsk_voice_process(s.v, buf, buf, 480));
        pos += 480;
    }
    double xy = 0, xx = 0;
    for (uint32_t i = 0; i < 480; i++) {
        double x = 0.5 * sin(6.283185307179586 * 220.0 * (double)(pos - 480 + i - lat) / rate);
        xy += x * buf[2 * i];
        xx += x * x;
    }
    CHECK(fabs(xy / xx - 0.5) < 1e-3, "did not settle on tier 1 at mix 1 (level %.4f)", xy / xx);
    printf("schedule %u: control thread: %ld calls during %d process calls\n", schedule,
           atomic_load(&s.calls), calls);
    vsk_voice_destroy(s.v);
}

int main(void)
{
    bb_builder bb;
    bb_init(&bb, "test.threads", "Threads", "1.0.0");
    bb_gain_tier(&bb, "low", 16000, 64, 64, 1.0f);
    bb_gain_tier(&bb, "medium", 24000, 96, 256, 0.5f);
    bb_gain_tier(&bb, "high", 16000, 128, 512, 0.25f);
    vsk_bundle *b = vt_open(&bb);
    run_schedule(b, VSK_SCHEDULE_LOW_LATENCY);
    run_schedule(b, VSK_SCHEDULE_EVEN);
    vsk_bundle_release(b);
    return vt_finish("test_voice_threads");
}
#endif
