/* test_switcher_threads.c — the switcher's lock-free hand-off under two
 * threads.
 *
 * A game thread creates voices (two bundles, random tiers), publishes them,
 * sometimes "no voice" or the voice it just published again, sets tier, mix
 * and bypass, and collects and destroys what the switcher hands back; the
 * audio thread processes random blocks meanwhile. Checks: every status OK,
 * output finite and bounded, voices really switch, and at the end every
 * voice created was handed back exactly once (none twice, none lost) and
 * destroyed. scripts/ci_native.sh runs it under ThreadSanitizer (ctest
 * label `threads`), which proves the hand-off free of data races (voices
 * are destroyed on the game thread while the audio thread runs). Uses
 * POSIX threads; elsewhere it skips (exit 77, vsk_skip.h). */
#include "voice_test_util.h"
#include "vsk_skip.h"

#if !(defined(__unix__) || defined(__APPLE__))
int main(void)
{
    return vsk_test_skip("test_switcher_threads", "no POSIX threads");
}
#else
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#define RATE 48000u
#define CH 2u
#define MAXV 4096

typedef struct shared {
    vsk_switcher *sw;
    vsk_bundle *b[2];
    atomic_int stop;
    atomic_long published;
    long created, destroyed, twice, errors;
    vsk_voice *live[MAXV];  /* created and not yet handed back */
    int nlive;
} shared;

static void take_back(shared *s)
{
    vsk_voice *v;
    uint64_t tag;
    while (vsk_switcher_collect(s->sw, &v, &tag) == VSK_OK) {
        int found = 0;
        for (int k = 0; k < s->nlive; k++)
            if (s->live[k] == v) {
                s->live[k] = s->live[--s->nlive];
                found = 1;
                break;
            }
        if (!found)
            s->twice++;
        if ((uint64_t)(uintptr_t)v != tag)
            s->errors++;
        vsk_voice_destroy(v);
        s->destroyed++;
    }
}

static void *game(void *arg)
{
    shared *s = (shared *)arg;
    uint32_t r = 987654321u;
    vsk_voice *last = NULL;
    while (!atomic_load(&s->stop)) {
        r ^= r << 13; r ^= r >> 17; r ^= r << 5;
        switch (r % 8) {
        case 0:
        case 1:
            if (s->nlive < MAXV - 1) {
                vsk_voice *v = vt_voice(s->b[(r >> 8) & 1], RATE, CH, 256, (r >> 9) & 1);
                s->live[s->nlive++] = v;
                s->created++;
                s->errors += vsk_switcher_publish(s->sw, v, (uint64_t)(uintptr_t)v) != VSK_OK;
                last = v;
                atomic_fetch_add(&s->published, 1);
            }
            break;
        case 2:
            if (last) /* lent again (maybe already heard, maybe pending) */
                s->errors += vsk_switcher_publish(s->sw, last, (uint64_t)(uintptr_t)last) != VSK_OK;
            break;
        case 3:
            if ((r >> 12) % 8 == 0) {
                s->errors += vsk_switcher_publish(s->sw, NULL, 0) != VSK_OK;
                last = NULL;
            }
            break;
        case 4: s->errors += vsk_switcher_set_tier(s->sw, (r >> 8) % 3) != VSK_OK; break;
        case 5: s->errors += vsk_switcher_set_mix(s->sw, (float)((r >> 8) % 101) / 100.0f) != VSK_OK; break;
        case 6: s->errors += vsk_switcher_set_bypass(s->sw, ((r >> 8) % 5) == 0) != VSK_OK; break;
        default: break;
        }
        vsk_switcher_state st = {.struct_size = sizeof st};
        s->errors += vsk_switcher_get_state(s->sw, &st) != VSK_OK;
        take_back(s);
        /* let the audio thread hear it: one short sleep, not a run of
           sched_yield calls (on a loaded machine each yield can cost a whole
           time slice, and 200 of them starved the game thread) */
        struct timespec nap = {0, 50000};
        nanosleep(&nap, NULL);
    }
    return NULL;
}

int main(void)
{
    bb_builder bb;
    bb_init(&bb, "test.sw.a", "A", "1.0.0");
    bb_gain_tier(&bb, "low", 16000, 64, 64, 1.0f);
    bb_gain_tier(&bb, "high", 16000, 128, 128, 0.5f);
    shared *s = calloc(1, sizeof *s);
    s->b[0] = vt_open(&bb);
    bb_init(&bb, "test.sw.b", "B", "1.0.0");
    bb_gain_tier(&bb, "low", 24000, 96, 96, -0.5f);
    bb_gain_tier(&bb, "high", 16000, 64, 256, 0.25f);
    s->b[1] = vt_open(&bb);
    vsk_switcher_config c;
    vsk_switcher_config_init(&c);
    c.sample_rate = RATE;
    c.max_channels = CH;
    c.max_block_frames = 256;
    c.warmup_ms = 5;
    CHECK_OK(vsk_switcher_create(&c, &s->sw));

    pthread_t th;
    CHECK(pthread_create(&th, NULL, game, s) == 0, "thread");
    static float buf[2048 * CH];
    long bad = 0, swaps = 0, calls = 0;
    uint64_t last_tag = 0;
    size_t pos = 0;
    /* run until enough happened (not for a time: a loaded machine schedules the
       game thread unevenly), with a cap that only a broken switcher reaches:
       60 s of wall time (a call count was not one: cheap audio calls pile up
       while the game thread waits for the CPU) */
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    double waited = 0.0;
    for (; calls < 4000 || ((atomic_load(&s->published) < 100 || swaps < 20) && waited < 60.0);
         calls++) {
        if ((calls & 1023) == 0) {
            clock_gettime(CLOCK_MONOTONIC, &t1);
            waited = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
        }
        uint32_t n = 1 + vt_rand() % 1024;
        for (uint32_t i = 0; i < n; i++) {
            float x = (float)(0.5 * sin(6.283185307179586 * 220.0 * (double)(pos + i) / RATE));
            buf[CH * i] = buf[CH * i + 1] = x;
        }
        if (vsk_switcher_process(s->sw, buf, buf, n, CH) != VSK_OK)
            bad++;
        for (uint32_t i = 0; i < CH * n; i++)
            if (!isfinite(buf[i]) || fabsf(buf[i]) > 1.0f)
                bad++;
        vsk_switcher_state st = {.struct_size = sizeof st};
        if (vsk_switcher_get_state(s->sw, &st) != VSK_OK || st.errors)
            bad++;
        if (st.heard_tag != last_tag) {
            swaps++;
            last_tag = st.heard_tag;
        }
        pos += n;
    }
    atomic_store(&s->stop, 1);
    pthread_join(th, NULL);
    CHECK(bad == 0, "%ld bad statuses or samples", bad);
    CHECK(s->errors == 0, "%ld game-thread calls failed", s->errors);
    CHECK(swaps >= 20, "voices barely switched (%ld swaps, %ld published)", swaps,
          atomic_load(&s->published));
    CHECK_OK(vsk_switcher_retire_all(s->sw));
    take_back(s);
    CHECK(s->twice == 0, "%ld voices handed back twice", s->twice);
    CHECK(s->nlive == 0 && s->created == s->destroyed,
          "%d voices never handed back (%ld created, %ld destroyed)", s->nlive, s->created,
          s->destroyed);
    printf("%ld process calls, %ld voices published, %ld swaps heard, %.1f s\n", calls,
           atomic_load(&s->published), swaps, waited);
    vsk_switcher_destroy(s->sw);
    vsk_bundle_release(s->b[0]);
    vsk_bundle_release(s->b[1]);
    free(s);
    return vt_finish("test_switcher_threads");
}
#endif
