/*
 * unity_audio_plugin.h — declarations of Unity's native audio plugin
 * interface (the layout of Unity's AudioPluginInterface.h, API version
 * 1.4.2), written for this package in C.
 *
 * Unity loads a native library whose file name starts with "audioplugin",
 * calls UnityGetAudioEffectDefinitions() once, and then drives each effect
 * instance through the callbacks of its UnityAudioEffectDefinition. Only
 * what a mixer effect needs is used here, but every struct is declared in
 * full so that sizes and offsets match what the engine passes.
 */
#ifndef VSK_UNITY_AUDIO_PLUGIN_H
#define VSK_UNITY_AUDIO_PLUGIN_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* 0x010402 = interface 1.4.2 (Unity 2018.1 and later). Hosts with a newer
 * minor version accept it; hostapiversion in the state says what the host has. */
#define UNITY_AUDIO_PLUGIN_API_VERSION 0x010402

#if defined(_WIN32) || defined(__CYGWIN__)
#  define UNITY_AUDIODSP_CALLBACK __stdcall
#  define UNITY_AUDIODSP_EXPORT_API __declspec(dllexport)
#else
#  define UNITY_AUDIODSP_CALLBACK
#  define UNITY_AUDIODSP_EXPORT_API __attribute__((visibility("default")))
#endif

typedef int UNITY_AUDIODSP_RESULT;
enum {
    UNITY_AUDIODSP_OK = 0,
    UNITY_AUDIODSP_ERR_UNSUPPORTED = 1
};

typedef struct UnityAudioEffectState UnityAudioEffectState;

typedef UNITY_AUDIODSP_RESULT (UNITY_AUDIODSP_CALLBACK *UnityAudioEffect_CreateCallback)(
    UnityAudioEffectState *state);
typedef UNITY_AUDIODSP_RESULT (UNITY_AUDIODSP_CALLBACK *UnityAudioEffect_ReleaseCallback)(
    UnityAudioEffectState *state);
typedef UNITY_AUDIODSP_RESULT (UNITY_AUDIODSP_CALLBACK *UnityAudioEffect_ResetCallback)(
    UnityAudioEffectState *state);
typedef UNITY_AUDIODSP_RESULT (UNITY_AUDIODSP_CALLBACK *UnityAudioEffect_ProcessCallback)(
    UnityAudioEffectState *state, float *inbuffer, float *outbuffer, unsigned int length,
    int inchannels, int outchannels);
typedef UNITY_AUDIODSP_RESULT (UNITY_AUDIODSP_CALLBACK *UnityAudioEffect_SetPositionCallback)(
    UnityAudioEffectState *state, unsigned int pos);
typedef UNITY_AUDIODSP_RESULT (UNITY_AUDIODSP_CALLBACK *UnityAudioEffect_SetFloatParameterCallback)(
    UnityAudioEffectState *state, int index, float value);
typedef UNITY_AUDIODSP_RESULT (UNITY_AUDIODSP_CALLBACK *UnityAudioEffect_GetFloatParameterCallback)(
    UnityAudioEffectState *state, int index, float *value, char *valuestr);
typedef UNITY_AUDIODSP_RESULT (UNITY_AUDIODSP_CALLBACK *UnityAudioEffect_GetFloatBufferCallback)(
    UnityAudioEffectState *state, const char *name, float *buffer, int numsamples);
typedef UNITY_AUDIODSP_RESULT (UNITY_AUDIODSP_CALLBACK *UnityAudioEffect_DistanceAttenuationCallback)(
    UnityAudioEffectState *state, float distanceIn, float attenuationIn, float *attenuationOut);

/* UnityAudioEffectDefinition.flags */
enum {
    UnityAudioEffectDefinitionFlags_IsSideChainTarget = 1 << 0,
    UnityAudioEffectDefinitionFlags_IsSpatializer = 1 << 1,
    UnityAudioEffectDefinitionFlags_IsAmbisonicDecoder = 1 << 2,
    UnityAudioEffectDefinitionFlags_AppliesDistanceAttenuation = 1 << 3,
    UnityAudioEffectDefinitionFlags_NeedsSpatializerData = 1 << 4
};

/* UnityAudioEffectState.flags */
enum {
    UnityAudioEffectStateFlags_IsPlaying = 1 << 0,
    UnityAudioEffectStateFlags_IsPaused = 1 << 1,
    UnityAudioEffectStateFlags_IsMuted = 1 << 2,
    UnityAudioEffectStateFlags_IsSideChainTarget = 1 << 3
};

typedef struct UnityAudioSpatializerData {
    float listenermatrix[16];
    float sourcematrix[16];
    float spatialblend;
    float reverbzonemix;
    float spread;
    float stereopan;
    UnityAudioEffect_DistanceAttenuationCallback distanceattenuationcallback;
    float minDistance;
    float maxDistance;
} UnityAudioSpatializerData;

typedef struct UnityAudioAmbisonicData {
    float listenermatrix[16];
    float sourcematrix[16];
    float spatialblend;
    float reverbzonemix;
    float spread;
    float stereopan;
    UnityAudioEffect_DistanceAttenuationCallback distanceattenuationcallback;
    int ambisonicOutChannels;
    float volume;
} UnityAudioAmbisonicData;

/* Filled by the host for every instance; effectdata belongs to the effect.
 * Fields after `internal` exist only when structsize says so (API >= 1.1). */
struct UnityAudioEffectState {
    union {
        struct {
            uint32_t structsize;        /* sizeof as the host knows it        */
            uint32_t samplerate;        /* mixer rate (Hz)                    */
            uint64_t currdsptick;       /* sample counter at this block       */
            uint64_t prevdsptick;
            float *sidechainbuffer;
            void *effectdata;           /* the effect's instance data         */
            uint32_t flags;             /* UnityAudioEffectStateFlags_*       */
            void *internal;             /* host's, do not touch               */
            UnityAudioSpatializerData *spatializerdata;
            uint32_t dspbuffersize;     /* frames per process call            */
            uint32_t hostapiversion;
            UnityAudioAmbisonicData *ambisonicdata;
        };
        unsigned char pad[80];          /* the host's struct is at least 80 bytes */
    };
};

typedef struct UnityAudioParameterDefinition {
    char name[16];                      /* shown in the mixer                 */
    char unit[16];                      /* appended to values                 */
    const char *description;            /* tooltip                            */
    float min;
    float max;
    float defaultval;
    float displayscale;                 /* e.g. 100 to show 0..1 as percent   */
    float displayexponent;              /* slider mapping exponent            */
} UnityAudioParameterDefinition;

typedef struct UnityAudioEffectDefinition {
    uint32_t structsize;                /* sizeof(UnityAudioEffectDefinition) */
    uint32_t paramstructsize;           /* sizeof(UnityAudioParameterDefinition) */
    uint32_t apiversion;                /* UNITY_AUDIO_PLUGIN_API_VERSION      */
    uint32_t pluginversion;
    uint32_t channels;                  /* 0: any channel count (effects)      */
    uint32_t numparameters;
    uint64_t flags;                     /* UnityAudioEffectDefinitionFlags_*   */
    char name[32];                      /* shown in the mixer's effect menu    */
    UnityAudioEffect_CreateCallback create;
    UnityAudioEffect_ReleaseCallback release;
    UnityAudioEffect_ResetCallback reset;
    UnityAudioEffect_ProcessCallback process;
    UnityAudioEffect_SetPositionCallback setposition;
    UnityAudioParameterDefinition *paramdefs;   /* static, numparameters long */
    UnityAudioEffect_SetFloatParameterCallback setfloatparameter;
    UnityAudioEffect_GetFloatParameterCallback getfloatparameter;
    UnityAudioEffect_GetFloatBufferCallback getfloatbuffer;
} UnityAudioEffectDefinition;

/* The entry point Unity looks up: stores a pointer to an array of effect
 * definition pointers in *descptr and returns how many there are. */
typedef int (*UnityGetAudioEffectDefinitionsFunc)(UnityAudioEffectDefinition ***descptr);

#ifdef __cplusplus
}
#endif
#endif /* VSK_UNITY_AUDIO_PLUGIN_H */
