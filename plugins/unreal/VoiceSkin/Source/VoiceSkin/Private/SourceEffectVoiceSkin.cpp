#include "SourceEffectVoiceSkin.h"

#include "VoiceSkinSubsystem.h"

void FVoiceSkinSource::Init(const FSoundEffectSourceInitData& InitData)
{
	NumChannels = FMath::Max(1, InitData.NumSourceChannels);
	GET_EFFECT_SETTINGS(VoiceSkinSource);
	Core.Init(InitData.SampleRate, NumChannels, Settings);
}

void FVoiceSkinSource::OnPresetChanged()
{
	GET_EFFECT_SETTINGS(VoiceSkinSource);
	Core.ApplySettings(Settings);
}

void FVoiceSkinSource::ProcessAudio(const FSoundEffectSourceInputData& InData, float* OutAudioBufferData)
{
	const int32 NumFrames = InData.NumSamples / NumChannels;
	Core.Process(InData.InputSourceEffectBufferPtr, OutAudioBufferData, NumFrames, NumChannels);
}

VOICESKIN_DEFINE_PRESET_SETTERS(UVoiceSkinSourcePreset, FVoiceSkinSourceSettings)
