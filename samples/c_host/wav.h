/*
 * wav.h — a tiny WAV reader/writer for the sample host (libc only).
 *
 * Reads 16-bit PCM and 32-bit IEEE float WAV (plain or WAVE_FORMAT_EXTENSIBLE),
 * any channel count, into interleaved float. Writes 16-bit PCM (clipped,
 * rounded) or 32-bit float. Byte order is handled explicitly, so it works on
 * any host.
 */
#ifndef VSK_SAMPLE_WAV_H
#define VSK_SAMPLE_WAV_H

#include <stdint.h>

typedef enum { WAV_PCM16 = 1, WAV_FLOAT32 = 3 } wav_format;

typedef struct wav_audio {
    float *samples;        /* interleaved, frames * channels (malloc'd) */
    uint32_t frames;
    uint32_t channels;
    uint32_t sample_rate;
    wav_format format;     /* what the file held */
} wav_audio;

/* Returns 0 on success; on failure a static message in *error. */
int wav_read(const char *path, wav_audio *out, const char **error);
int wav_write(const char *path, const float *samples, uint32_t frames,
              uint32_t channels, uint32_t sample_rate, wav_format format,
              const char **error);
void wav_free(wav_audio *audio);

#endif
