#include "SourceEffectVoiceSkin.h"

#include "VoiceSkinSubsystem.h"

void FVoiceSkinSource::Init(const FSoundEffectSourceInitData& InitData)
{
	NumChannels = FMath::Max(1, InitData.NumSourceChannels);
	GET_EFFECT_SETTINGS(VoiceSkinSource);
	Core.Init(InitData.SampleRate, NumChannels, Settings.Voice, Settings.Tier, Settings.DryWet, Settings.bBypass);
}

void FVoiceSkinSource::OnPresetChanged()
{
	GET_EFFECT_SETTINGS(VoiceSkinSource);
	Core.ApplySettings(Settings.Voice, Settings.Tier, Settings.DryWet, Settings.bBypass);
}

void FVoiceSkinSource::ProcessAudio(const FSoundEffectSourceInputData& InData, float* OutAudioBufferData)
{
	const int32 NumFrames = InData.NumSamples / NumChannels;
	Core.Process(InData.InputSourceEffectBufferPtr, OutAudioBufferData, NumFrames, NumChannels);
}

void UVoiceSkinSourcePreset::SetSettings(const FVoiceSkinSourceSettings& InSettings)
{
	UpdateSettings(InSettings);
}

void UVoiceSkinSourcePreset::SetVoice(FName InVoice)
{
	FVoiceSkinSourceSettings S = GetSettings();
	S.Voice = InVoice;
	UpdateSettings(S);
}

void UVoiceSkinSourcePreset::SetTier(int32 InTier)
{
	FVoiceSkinSourceSettings S = GetSettings();
	S.Tier = FMath::Max(0, InTier);
	UpdateSettings(S);
}

void UVoiceSkinSourcePreset::SetDryWet(float InDryWet)
{
	FVoiceSkinSourceSettings S = GetSettings();
	S.DryWet = FMath::Clamp(InDryWet, 0.0f, 1.0f);
	UpdateSettings(S);
}

void UVoiceSkinSourcePreset::SetBypass(bool bInBypass)
{
	FVoiceSkinSourceSettings S = GetSettings();
	S.bBypass = bInBypass;
	UpdateSettings(S);
}

TArray<FString> UVoiceSkinSourcePreset::GetVoiceOptions()
{
	return UVoiceSkinSubsystem::GetVoiceIdOptions();
}
