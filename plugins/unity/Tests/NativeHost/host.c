/*
 * host.c — loads the VoiceSkin native audio plugin the way Unity does and
 * drives one effect instance over a file of interleaved float32 audio.
 * Built and run by tests/test_unity_native_effect.py (Linux/macOS: dlopen).
 *
 *   host PLUGIN IN.f32 OUT.f32 CHANNELS BLOCK RATE SCHEDULE [FOLDER [MODE]]
 *
 * SCHEDULE: comma-separated "buffer/parameter/value" items; before buffer
 * `buffer` is processed, setfloatparameter(parameter, value) is called
 * (0 = Voice, 1 = Tier, 2 = Dry/Wet). FOLDER, if given, is passed to
 * audioplugin_voiceskin_set_bundle_folder before the instance is created
 * (otherwise the plugin reads VOICESKIN_BUNDLE_DIR). Prints "key value"
 * lines for the test.
 *
 * MODE "paramthread": a second thread calls setfloatparameter /
 * getfloatparameter / getfloatbuffer with random values for as long as the
 * main thread processes (what a game thread does while Unity's mixer thread
 * runs); built with -fsanitize=thread by the test. MODE "race": also a
 * deliberate data race on a host variable, to show the sanitizer is live.
 *
 * On glibc (not under a sanitizer, which has its own allocator) the host also counts heap calls (malloc, calloc, realloc, free,
 * the aligned allocators) made by anything in the process while it is inside
 * create ("alloc_create", must be > 0: proves the counter sees the plugin)
 * and inside the audio-thread calls process / reset and the parameter calls
 * ("alloc_audio", must be 0). The executable's definitions interpose on
 * libc's for the dlopen'ed plugin and libvoiceskin (built with -rdynamic).
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unity_audio_plugin.h"

static volatile int g_armed;
static volatile long g_calls;
#define ARM() (g_armed = 1)
#define DISARM() (g_armed = 0)

#if defined(__GLIBC__) && !defined(__SANITIZE_THREAD__) && !defined(__SANITIZE_ADDRESS__)
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);
#define COUNT() do { if (g_armed) g_calls++; } while (0)
void *malloc(size_t n) { COUNT(); return __libc_malloc(n); }
void *calloc(size_t n, size_t m) { COUNT(); return __libc_calloc(n, m); }
void *realloc(void *p, size_t n) { COUNT(); return __libc_realloc(p, n); }
void free(void *p) { if (p) COUNT(); __libc_free(p); }
void *aligned_alloc(size_t a, size_t n) { COUNT(); return __libc_memalign(a, n); }
void *memalign(size_t a, size_t n) { COUNT(); return __libc_memalign(a, n); }
int posix_memalign(void **out, size_t a, size_t n)
{
    COUNT();
    void *p = __libc_memalign(a, n);
    if (!p) return 12; /* ENOMEM */
    *out = p;
    return 0;
}
#define COUNTING 1
#else
#define COUNTING 0
#endif

static int fail(const char *what)
{
    fprintf(stderr, "host: %s\n", what);
    return 1;
}

static float *read_f32(const char *path, size_t *count)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    float *d = malloc(n > 0 ? (size_t)n : 1);
    if (d && fread(d, 1, (size_t)n, f) != (size_t)n) { free(d); d = NULL; }
    fclose(f);
    *count = (size_t)n / sizeof(float);
    return d;
}

typedef struct { long block; int param; float value; } change;

typedef struct {
    UnityAudioEffectDefinition *def;
    UnityAudioEffectState *state;
    atomic_int stop;
    long calls;
    int race;
} param_job;

static long g_racy;   /* MODE "race": written by both threads without synchronisation */

static void *param_thread(void *arg)
{
    param_job *job = arg;
    unsigned seed = 12345u;
    while (!atomic_load(&job->stop)) {
        seed = seed * 1103515245u + 12345u;
        int p = (int)((seed >> 16) % 3u);
        float v = p == 2 ? (float)((seed >> 8) & 1023u) / 1023.0f : (float)((seed >> 12) % 3u);
        job->def->setfloatparameter(job->state, p, v);
        float got;
        job->def->getfloatparameter(job->state, p, &got, NULL);
        float buf[2];
        job->def->getfloatbuffer(job->state, "Tiers", buf, 2);
        job->calls++;
        if (job->race) g_racy++;
    }
    return NULL;
}

static int parse_schedule(const char *s, change *out, int max)
{
    int n = 0;
    while (s && *s && n < max) {
        char *end;
        out[n].block = strtol(s, &end, 10);
        if (*end != '/') break;
        out[n].param = (int)strtol(end + 1, &end, 10);
        if (*end != '/') break;
        out[n].value = strtof(end + 1, &end);
        n++;
        s = (*end == ',') ? end + 1 : NULL;
    }
    return n;
}

static float get_buffer(UnityAudioEffectDefinition *d, UnityAudioEffectState *st, const char *name)
{
    float v = -1.0f;
    if (d->getfloatbuffer && d->getfloatbuffer(st, name, &v, 1) != UNITY_AUDIODSP_OK) v = -1.0f;
    return v;
}

int main(int argc, char **argv)
{
    if (argc < 8) return fail("usage: host PLUGIN IN.f32 OUT.f32 CHANNELS BLOCK RATE SCHEDULE [FOLDER]");
    const int channels = atoi(argv[4]);
    const unsigned block = (unsigned)atoi(argv[5]);
    const unsigned rate = (unsigned)atoi(argv[6]);
    change sched[256];
    const int nsched = parse_schedule(argv[7], sched, 256);

    void *lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!lib) return fail(dlerror());
    UnityGetAudioEffectDefinitionsFunc get_defs =
        (UnityGetAudioEffectDefinitionsFunc)dlsym(lib, "UnityGetAudioEffectDefinitions");
    if (!get_defs) return fail("UnityGetAudioEffectDefinitions not exported");
    if (argc > 8) {
        int (*set_folder)(const char *) =
            (int (*)(const char *))dlsym(lib, "audioplugin_voiceskin_set_bundle_folder");
        if (!set_folder || set_folder(argv[8]) != 0) return fail("set_bundle_folder");
    }

    /* 1. Definitions, as Unity reads them when it loads the library. */
    UnityAudioEffectDefinition **defs = NULL;
    int ndefs = get_defs(&defs);
    printf("effects %d\n", ndefs);
    if (ndefs < 1 || !defs || !defs[0]) return fail("no effect definitions");
    UnityAudioEffectDefinition *d = defs[0];
    printf("name %s\n", d->name);
    printf("structsize %u %zu\n", d->structsize, sizeof(UnityAudioEffectDefinition));
    printf("paramstructsize %u %zu\n", d->paramstructsize, sizeof(UnityAudioParameterDefinition));
    printf("apiversion 0x%06x\n", d->apiversion);
    printf("channels %u\n", d->channels);
    printf("flags %llu\n", (unsigned long long)d->flags);
    printf("statesize %zu\n", sizeof(UnityAudioEffectState));
    printf("numparameters %u\n", d->numparameters);
    for (unsigned i = 0; i < d->numparameters; i++) {
        UnityAudioParameterDefinition *p = &d->paramdefs[i];
        printf("param %u %s|%s|%g|%g|%g|%g\n", i, p->name, p->unit, p->min, p->max, p->defaultval,
               p->displayscale);
    }
    if (!d->create || !d->release || !d->process || !d->setfloatparameter || !d->getfloatparameter)
        return fail("missing callbacks");

    /* 2. An instance, with the state Unity fills. */
    UnityAudioEffectState state;
    memset(&state, 0, sizeof state);
    state.structsize = sizeof state;
    state.samplerate = rate;
    state.dspbuffersize = block;
    state.hostapiversion = UNITY_AUDIO_PLUGIN_API_VERSION;
    state.flags = UnityAudioEffectStateFlags_IsPlaying;
    static int host_internal;
    state.internal = &host_internal;
    g_calls = 0;
    ARM();
    int created = d->create(&state);
    DISARM();
    long alloc_create = g_calls;
    if (created != UNITY_AUDIODSP_OK || !state.effectdata) return fail("create failed");
    /* Unity then sets every parameter to its stored value. */
    for (unsigned i = 0; i < d->numparameters; i++)
        d->setfloatparameter(&state, (int)i, d->paramdefs[i].defaultval);
    printf("latency %g\n", get_buffer(d, &state, "Latency"));
    printf("voices %g\n", get_buffer(d, &state, "Voices"));

    /* 3. Process the file in buffers of `block` frames (separate in/out). */
    size_t count = 0;
    float *in = read_f32(argv[2], &count);
    if (!in) return fail("cannot read input");
    size_t frames = count / (size_t)channels;
    float *out = calloc(count ? count : 1, sizeof(float));
    float *ib = malloc((size_t)block * channels * sizeof(float));
    float *ob = malloc((size_t)block * channels * sizeof(float));
    if (!out || !ib || !ob) return fail("out of memory");
    const char *mode = argc > 9 ? argv[9] : "";
    param_job job = { d, &state, 0, 0, strcmp(mode, "race") == 0 };
    pthread_t worker;
    int threaded = strcmp(mode, "paramthread") == 0 || job.race;
    if (threaded && pthread_create(&worker, NULL, param_thread, &job) != 0) return fail("pthread_create");
    long k = 0;
    long alloc_audio = 0;
    for (size_t f0 = 0; f0 < frames; f0 += block, k++) {
        for (int i = 0; i < nsched; i++) {
            if (sched[i].block != k) continue;
            float v = -1.0f;
            char str[64] = "x";
            g_calls = 0;
            ARM();
            int st = d->setfloatparameter(&state, sched[i].param, sched[i].value);
            d->getfloatparameter(&state, sched[i].param, &v, str);
            DISARM();
            alloc_audio += g_calls;
            if (st != UNITY_AUDIODSP_OK) return fail("setfloatparameter refused");
            printf("get %ld %d %g\n", k, sched[i].param, v);
        }
        size_t n = frames - f0 < block ? frames - f0 : block;
        memcpy(ib, in + f0 * channels, n * channels * sizeof(float));
        g_calls = 0;
        ARM();
        int st = d->process(&state, ib, ob, (unsigned)n, channels, channels);
        DISARM();
        alloc_audio += g_calls;
        if (st != UNITY_AUDIODSP_OK) return fail("process failed");
        memcpy(out + f0 * channels, ob, n * channels * sizeof(float));
        state.prevdsptick = state.currdsptick;
        state.currdsptick += n;
        if (job.race) g_racy++;
    }
    if (threaded) {
        atomic_store(&job.stop, 1);
        pthread_join(worker, NULL);
        printf("param_calls %ld\n", job.calls);
    }
    printf("tiers %g\n", get_buffer(d, &state, "Tiers"));
    FILE *fo = fopen(argv[3], "wb");
    if (!fo || fwrite(out, sizeof(float), count, fo) != count) return fail("cannot write output");
    fclose(fo);

    /* 4. Reset, one more buffer, release (as Unity does when stopping). */
    memset(ib, 0, (size_t)block * channels * sizeof(float));
    g_calls = 0;
    ARM();
    int rs = d->reset ? d->reset(&state) : UNITY_AUDIODSP_OK;
    int ps = d->process(&state, ib, ob, block, channels, channels);
    DISARM();
    alloc_audio += g_calls;
    if (rs != UNITY_AUDIODSP_OK) return fail("reset failed");
    if (ps != UNITY_AUDIODSP_OK) return fail("process after reset");
    if (COUNTING) printf("alloc_create %ld\nalloc_audio %ld\n", alloc_create, alloc_audio);
    int finite = 1;
    for (size_t i = 0; i < (size_t)block * channels; i++) finite &= ob[i] == ob[i];
    printf("after_reset_finite %d\n", finite);
    if (d->release(&state) != UNITY_AUDIODSP_OK) return fail("release failed");
    printf("released %d\n", state.effectdata == NULL);
    free(in); free(out); free(ib); free(ob);
    dlclose(lib);
    return 0;
}
