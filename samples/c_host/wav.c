/* wav.c — see wav.h. */
#include "wav.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t le32(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint16_t le16(const unsigned char *p) { return (uint16_t)(p[0] | p[1] << 8); }
static void put32(unsigned char *p, uint32_t v) {
    p[0] = (unsigned char)v; p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16); p[3] = (unsigned char)(v >> 24);
}
static void put16(unsigned char *p, uint16_t v) { p[0] = (unsigned char)v; p[1] = (unsigned char)(v >> 8); }

static int fail(const char **error, const char *msg, FILE *f) {
    if (f) fclose(f);
    *error = msg;
    return -1;
}

int wav_read(const char *path, wav_audio *out, const char **error) {
    FILE *f = fopen(path, "rb");
    if (!f) return fail(error, "cannot open the file", NULL);
    unsigned char h[12];
    if (fread(h, 1, 12, f) != 12 || memcmp(h, "RIFF", 4) || memcmp(h + 8, "WAVE", 4))
        return fail(error, "not a RIFF/WAVE file", f);

    uint16_t fmt = 0, channels = 0, bits = 0;
    uint32_t rate = 0;
    int have_fmt = 0;
    for (;;) {
        unsigned char ch[8];
        if (fread(ch, 1, 8, f) != 8) return fail(error, "no data chunk", f);
        uint32_t size = le32(ch + 4);
        if (!memcmp(ch, "fmt ", 4)) {
            unsigned char b[40];
            if (size < 16 || size > sizeof b || fread(b, 1, size, f) != size)
                return fail(error, "bad fmt chunk", f);
            fmt = le16(b);
            channels = le16(b + 2);
            rate = le32(b + 4);
            bits = le16(b + 14);
            if (fmt == 0xFFFE && size >= 26) fmt = le16(b + 24); /* extensible: sub-format */
            have_fmt = 1;
            if (size & 1) fseek(f, 1, SEEK_CUR);
        } else if (!memcmp(ch, "data", 4)) {
            if (!have_fmt) return fail(error, "data chunk before fmt chunk", f);
            if (!((fmt == 1 && bits == 16) || (fmt == 3 && bits == 32)))
                return fail(error, "only 16-bit PCM and 32-bit float WAV are supported", f);
            if (channels == 0 || rate == 0) return fail(error, "bad channel count or rate", f);
            uint32_t bytes_per_frame = (uint32_t)channels * bits / 8;
            uint32_t frames = size / bytes_per_frame;
            size_t n = (size_t)frames * channels;
            unsigned char *raw = malloc(n * (bits / 8) + 1);
            float *s = malloc((n ? n : 1) * sizeof(float));
            if (!raw || !s) { free(raw); free(s); return fail(error, "out of memory", f); }
            size_t got = fread(raw, bits / 8, n, f);
            frames = (uint32_t)(got / channels); /* tolerate a truncated last chunk */
            n = (size_t)frames * channels;
            for (size_t i = 0; i < n; i++) {
                if (fmt == 1) {
                    s[i] = (float)(int16_t)le16(raw + 2 * i) / 32768.0f;
                } else {
                    uint32_t u = le32(raw + 4 * i);
                    memcpy(&s[i], &u, 4);
                }
            }
            free(raw);
            fclose(f);
            out->samples = s;
            out->frames = frames;
            out->channels = channels;
            out->sample_rate = rate;
            out->format = fmt == 1 ? WAV_PCM16 : WAV_FLOAT32;
            return 0;
        } else {
            if (fseek(f, (long)size + (long)(size & 1), SEEK_CUR))
                return fail(error, "truncated chunk", f);
        }
    }
}

int wav_write(const char *path, const float *samples, uint32_t frames,
              uint32_t channels, uint32_t sample_rate, wav_format format,
              const char **error) {
    const uint32_t bps = format == WAV_PCM16 ? 2 : 4;
    const uint64_t data = (uint64_t)frames * channels * bps;
    if (data > 0xFFFFFFF0u - 64) { *error = "too long for a WAV file"; return -1; }
    FILE *f = fopen(path, "wb");
    if (!f) { *error = "cannot create the file"; return -1; }
    /* PCM: fmt(16). Float: fmt(18, cbSize 0) + fact chunk, as the spec asks. */
    unsigned char h[58];
    const uint32_t fmt_size = format == WAV_PCM16 ? 16 : 18;
    const uint32_t header = 12 + 8 + fmt_size + (format == WAV_PCM16 ? 0 : 12) + 8;
    memcpy(h, "RIFF", 4); put32(h + 4, (uint32_t)(header - 8 + data));
    memcpy(h + 8, "WAVE", 4);
    memcpy(h + 12, "fmt ", 4); put32(h + 16, fmt_size);
    put16(h + 20, (uint16_t)format); put16(h + 22, (uint16_t)channels);
    put32(h + 24, sample_rate); put32(h + 28, sample_rate * channels * bps);
    put16(h + 32, (uint16_t)(channels * bps)); put16(h + 34, (uint16_t)(bps * 8));
    unsigned char *p = h + 36;
    if (format != WAV_PCM16) {
        put16(p, 0); p += 2;
        memcpy(p, "fact", 4); put32(p + 4, 4); put32(p + 8, frames); p += 12;
    }
    memcpy(p, "data", 4); put32(p + 4, (uint32_t)data); p += 8;
    int ok = fwrite(h, 1, (size_t)(p - h), f) == (size_t)(p - h);
    unsigned char buf[4096];
    size_t n = (size_t)frames * channels, fill = 0;
    for (size_t i = 0; ok && i < n; i++) {
        if (format == WAV_PCM16) {
            float v = samples[i] * 32768.0f;
            v = v > 32767.0f ? 32767.0f : v < -32768.0f ? -32768.0f : v;
            put16(buf + fill, (uint16_t)(int16_t)lrintf(v));
        } else {
            uint32_t u;
            memcpy(&u, &samples[i], 4);
            put32(buf + fill, u);
        }
        fill += bps;
        if (fill == sizeof buf || i + 1 == n) {
            ok = fwrite(buf, 1, fill, f) == fill;
            fill = 0;
        }
    }
    if (fclose(f) != 0) ok = 0;
    if (!ok) { *error = "write failed"; return -1; }
    return 0;
}

void wav_free(wav_audio *audio) {
    free(audio->samples);
    audio->samples = NULL;
}
