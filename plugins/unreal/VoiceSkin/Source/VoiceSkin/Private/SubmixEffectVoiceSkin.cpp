#include "SubmixEffectVoiceSkin.h"

#include "VoiceSkinSubsystem.h"

void FVoiceSkinSubmix::Init(const FSoundEffectSubmixInitData& InitData)
{
	GET_EFFECT_SETTINGS(VoiceSkinSubmix);
	// The submix channel count arrives with each buffer; start with stereo,
	// the adapter rebuilds the voice if the submix has another layout.
	Core.Init(InitData.SampleRate, 2, Settings.Voice, Settings.Tier, Settings.DryWet, Settings.bBypass);
}

void FVoiceSkinSubmix::OnPresetChanged()
{
	// FVoiceSkinSubmixSettings is trivially copyable (FName, int32, float,
	// bool): the engine's settings copy allocates nothing.
	GET_EFFECT_SETTINGS(VoiceSkinSubmix);
	Core.ApplySettings(Settings.Voice, Settings.Tier, Settings.DryWet, Settings.bBypass);
}

void FVoiceSkinSubmix::OnProcessAudio(const FSoundEffectSubmixInputData& InData, FSoundEffectSubmixOutputData& OutData)
{
	const float* In = InData.AudioBuffer->GetData();
	float* Out = OutData.AudioBuffer->GetData();
	Core.Process(In, Out, InData.NumFrames, InData.NumChannels);
}

void UVoiceSkinSubmixPreset::SetSettings(const FVoiceSkinSubmixSettings& InSettings)
{
	UpdateSettings(InSettings);
}

void UVoiceSkinSubmixPreset::SetVoice(FName InVoice)
{
	FVoiceSkinSubmixSettings S = GetSettings();
	S.Voice = InVoice;
	UpdateSettings(S);
}

void UVoiceSkinSubmixPreset::SetTier(int32 InTier)
{
	FVoiceSkinSubmixSettings S = GetSettings();
	S.Tier = FMath::Max(0, InTier);
	UpdateSettings(S);
}

void UVoiceSkinSubmixPreset::SetDryWet(float InDryWet)
{
	FVoiceSkinSubmixSettings S = GetSettings();
	S.DryWet = FMath::Clamp(InDryWet, 0.0f, 1.0f);
	UpdateSettings(S);
}

void UVoiceSkinSubmixPreset::SetBypass(bool bInBypass)
{
	FVoiceSkinSubmixSettings S = GetSettings();
	S.bBypass = bInBypass;
	UpdateSettings(S);
}

TArray<FString> UVoiceSkinSubmixPreset::GetVoiceOptions()
{
	return UVoiceSkinSubsystem::GetVoiceIdOptions();
}
