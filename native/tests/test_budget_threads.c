/* test_budget_threads.c — one shared CPU budget (a registry's) governs
 * voices that run on several audio threads at once.
 *
 * Four audio threads each stream their own voice, all members of the
 * registry's budget (vsk_registry_get_cpu_budget), on the system clock.
 * Meanwhile a control thread moves the budget (vsk_registry_set_cpu_budget)
 * and reads it (vsk_cpu_budget_get), and the registry itself is destroyed
 * while the voices still run: the members keep the budget alive (reference
 * count). The last budget, far below any tier's cost, must take every
 * voice to its lowest tier; every call must succeed; the output must stay
 * finite. Built with -fsanitize=thread (scripts/ci_native.sh, ctest -L
 * threads) it also shows the shared sums are atomics only, and under ASan
 * that the budget is freed exactly once, by its last member. Uses POSIX
 * threads; where they are not available it skips (exit 77, vsk_skip.h). */
#include "voice_test_util.h"
#include "vsk_skip.h"

#if !(defined(__unix__) || defined(__APPLE__))
int main(void)
{
    return vsk_test_skip("test_budget_threads", "no POSIX threads");
}
#else
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#define VOICES 4
#define RATE 48000u
#define BLOCK 256u

typedef struct audio_thread {
    vsk_voice *v;
    atomic_int *stop;
    int errors, nonfinite;
    long calls;
} audio_thread;

static void *audio(void *arg)
{
    audio_thread *a = (audio_thread *)arg;
    float in[BLOCK], out[BLOCK];
    long n = 0;
    while (!atomic_load(a->stop)) {
        for (uint32_t f = 0; f < BLOCK; f++)
            in[f] = (float)(0.3 * sin(0.031 * (double)(n * BLOCK + f)));
        a->errors += vsk_voice_process(a->v, in, out, BLOCK) != VSK_OK;
        for (uint32_t f = 0; f < BLOCK; f++)
            a->nonfinite += !isfinite(out[f]);
        n++;
    }
    a->calls = n;
    return NULL;
}

typedef struct control_thread {
    vsk_cpu_budget *budget;
    vsk_registry *registry;
    atomic_int *stop;
    int errors;
} control_thread;

static void *control(void *arg)
{
    control_thread *c = (control_thread *)arg;
    uint32_t r = 7654321;
    while (!atomic_load(c->stop)) {
        r ^= r << 13; r ^= r >> 17; r ^= r << 5;
        float f = 0, load = 0;
        uint32_t m = 0;
        c->errors += vsk_registry_set_cpu_budget(c->registry,
                                                 (float)(r % 1000) * 1e-4f) != VSK_OK;
        c->errors += vsk_cpu_budget_get(c->budget, &f, &m, &load) != VSK_OK;
        c->errors += m != VOICES || !(f >= 0.0f && f < 0.1f) || !(load >= 0.0f);
    }
    return NULL;
}

int main(void)
{
    bb_builder bb;
    bb_init(&bb, "test.budget_threads", "Budget threads", "1.0.0");
    bb_identity_tier(&bb, "low", 16000, 256);
    bb_identity_tier(&bb, "medium", 16000, 128);
    bb_identity_tier(&bb, "high", 16000, 64);
    vsk_bundle *b = vt_open(&bb);

    vsk_registry_config rc;
    vsk_registry_config_init(&rc);
    vsk_registry *reg = NULL;
    CHECK_OK(vsk_registry_create(&rc, &reg));
    vsk_cpu_budget *budget = NULL;
    CHECK_OK(vsk_registry_get_cpu_budget(reg, &budget));
    CHECK(budget != NULL, "no registry budget");

    vsk_voice *v[VOICES];
    for (int i = 0; i < VOICES; i++) {
        vsk_voice_config c;
        vsk_voice_config_init(&c);
        c.sample_rate = RATE;
        c.max_block_frames = BLOCK;
        c.initial_tier = 2;
        c.shared_budget = budget;
        CHECK_OK(vsk_voice_create(b, &c, &v[i]));
    }

    atomic_int stop_control, stop_audio;
    atomic_init(&stop_control, 0);
    atomic_init(&stop_audio, 0);
    audio_thread at[VOICES];
    pthread_t ath[VOICES], cth;
    control_thread ct = {budget, reg, &stop_control, 0};
    for (int i = 0; i < VOICES; i++) {
        at[i] = (audio_thread){v[i], &stop_audio, 0, 0, 0};
        CHECK(pthread_create(&ath[i], NULL, audio, &at[i]) == 0, "audio thread");
    }
    CHECK(pthread_create(&cth, NULL, control, &ct) == 0, "control thread");
    struct timespec ms200 = {0, 200000000L};
    nanosleep(&ms200, NULL);
    atomic_store(&stop_control, 1);
    pthread_join(cth, NULL);

    /* the last word: a budget below any tier's cost; then the registry goes
     * away while its voices run on */
    CHECK_OK(vsk_registry_set_cpu_budget(reg, 1e-7f));
    vsk_registry_destroy(reg);
    struct timespec s1 = {1, 500000000L};
    nanosleep(&s1, NULL);
    for (int k = 0; k < 50; k++) { /* up to 10 s more for a slow machine */
        int all_low = 1;
        for (int i = 0; i < VOICES; i++) {
            vsk_tier_state st = {.struct_size = sizeof st};
            CHECK_OK(vsk_voice_get_tier_state(v[i], &st));
            all_low &= st.audible == 0 && st.governed_tier == 0;
        }
        if (all_low)
            break;
        nanosleep(&ms200, NULL);
    }
    atomic_store(&stop_audio, 1);
    for (int i = 0; i < VOICES; i++)
        pthread_join(ath[i], NULL);

    float f = 0, load = 0;
    uint32_t m = 0;
    CHECK_OK(vsk_cpu_budget_get(budget, &f, &m, &load));
    printf("shared budget %g, %u members, summed load %.5f\n", f, m, load);
    CHECK(m == VOICES && f == 1e-7f, "members %u budget %g", m, f);
    CHECK(ct.errors == 0, "control thread: %d failed or odd reads", ct.errors);
    for (int i = 0; i < VOICES; i++) {
        vsk_tier_state st = {.struct_size = sizeof st};
        CHECK_OK(vsk_voice_get_tier_state(v[i], &st));
        printf("voice %d: %ld calls, tier %u, governed %u, load %.5f\n", i, at[i].calls,
               st.audible, st.governed_tier, st.cpu_load);
        CHECK(at[i].errors == 0 && at[i].nonfinite == 0, "voice %d: %d errors, %d non-finite",
              i, at[i].errors, at[i].nonfinite);
        CHECK(st.audible == 0 && st.governed_tier == 0, "voice %d: tier %u governed %u", i,
              st.audible, st.governed_tier);
    }
    /* the members hold the budget: it is freed with the last one */
    for (int i = 0; i < VOICES; i++)
        vsk_voice_destroy(v[i]);
    vsk_bundle_release(b);
    return vt_finish("test_budget_threads");
}
#endif
