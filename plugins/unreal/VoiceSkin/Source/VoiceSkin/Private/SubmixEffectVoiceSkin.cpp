#include "SubmixEffectVoiceSkin.h"

#include "VoiceSkinSubsystem.h"

void FVoiceSkinSubmix::Init(const FSoundEffectSubmixInitData& InitData)
{
	GET_EFFECT_SETTINGS(VoiceSkinSubmix);
	// The submix channel count arrives with each buffer; start with stereo,
	// the adapter rebuilds the voice if the submix has another layout.
	Core.Init(InitData.SampleRate, 2, Settings);
}

void FVoiceSkinSubmix::OnPresetChanged()
{
	// The settings are trivially copyable (FVoiceSkinEffectSettings): the
	// engine's settings copy allocates nothing.
	GET_EFFECT_SETTINGS(VoiceSkinSubmix);
	Core.ApplySettings(Settings);
}

void FVoiceSkinSubmix::OnProcessAudio(const FSoundEffectSubmixInputData& InData, FSoundEffectSubmixOutputData& OutData)
{
	const float* In = InData.AudioBuffer->GetData();
	float* Out = OutData.AudioBuffer->GetData();
	Core.Process(In, Out, InData.NumFrames, InData.NumChannels);
}

VOICESKIN_DEFINE_PRESET_SETTERS(UVoiceSkinSubmixPreset, FVoiceSkinSubmixSettings)
