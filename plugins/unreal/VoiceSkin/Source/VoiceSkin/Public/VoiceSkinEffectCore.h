// The engine glue shared by the submix and the source effect: their one
// settings struct, the preset setters' one definition, and one
// voiceskin::VoiceSkinAdapter per effect instance.
//
//   Init            (effect creation)     creates the adapter, attaches it to
//                                         the host and loads the voice, so
//                                         the first buffer is converted
//   ApplySettings   (audio render thread, OnPresetChanged)  atomics only
//   Process         (audio render thread)  VoiceSkinAdapter::process: no
//                                          allocation, lock or I/O
//
// Voice changes requested in ApplySettings are loaded by the subsystem's
// game-thread tick (AdapterHost::service) and crossfaded in by the library's
// voice switcher (vsk_switcher).
#pragma once

#include "CoreMinimal.h"

#include <memory>

#include "VoiceSkinEffectCore.generated.h"

namespace voiceskin { class VoiceSkinAdapter; }

/** Settings of a VoiceSkin effect, the same for the source and the submix
 *  effect. UE's effect preset macros want a struct named after each effect
 *  (FVoiceSkinSourceSettings, FVoiceSkinSubmixSettings): those derive from
 *  this one and add nothing. Trivially copyable (FName, int32, float, bool),
 *  so the engine's settings copy on the audio render thread allocates
 *  nothing. */
USTRUCT(BlueprintType)
struct VOICESKIN_API FVoiceSkinEffectSettings
{
	GENERATED_BODY()

	/** Voice ID of a registered bundle (see UVoiceSkinSubsystem). None = pass through. */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "VoiceSkin", meta = (GetOptions = "GetVoiceOptions"))
	FName Voice;

	/** Quality tier index, 0 = lowest quality / cheapest. Clamped to the voice's
	 *  tier count; switching crossfades without a click. */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "VoiceSkin", meta = (ClampMin = "0", UIMin = "0", UIMax = "7"))
	int32 Tier = 0;

	/** Wet amount: 0 = dry (delayed by the voice latency), 1 = fully converted. */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "VoiceSkin", meta = (ClampMin = "0.0", ClampMax = "1.0", UIMin = "0.0", UIMax = "1.0"))
	float DryWet = 1.0f;

	/** Bypass the model (the output stays delayed by the same latency, so toggling keeps sync). */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "VoiceSkin")
	bool bBypass = false;

	/** CPU budget per voice, fraction of one core (0.002 = 0.2 %); 0 = off. The
	 *  voice times its own processing and steps its tier down (or back up, never
	 *  above Tier) with the usual crossfade: dynamic quality. */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "VoiceSkin", meta = (ClampMin = "0.0", ClampMax = "1.0", UIMin = "0.0", UIMax = "0.05"))
	float CpuBudget = 0.0f;
};

/** Defines, in a preset's .cpp, the Blueprint setters both presets declare
 *  (SetSettings, SetVoice, SetTier, SetDryWet, SetBypass) and
 *  GetVoiceOptions. UHT reads UFUNCTION declarations literally, so each
 *  preset class keeps its own; their bodies are these, once. Each setter
 *  edits the preset's settings copy (clamped as the property metadata says)
 *  and pushes it to the running effects (OnPresetChanged). Needs
 *  VoiceSkinSubsystem.h. */
#define VOICESKIN_DEFINE_PRESET_SETTERS(PresetClass, SettingsStruct) \
	void PresetClass::SetSettings(const SettingsStruct& InSettings) { UpdateSettings(InSettings); } \
	void PresetClass::SetVoice(FName InVoice) { SettingsStruct S = GetSettings(); S.Voice = InVoice; UpdateSettings(S); } \
	void PresetClass::SetTier(int32 InTier) { SettingsStruct S = GetSettings(); S.Tier = FMath::Max(0, InTier); UpdateSettings(S); } \
	void PresetClass::SetDryWet(float InDryWet) { SettingsStruct S = GetSettings(); S.DryWet = FMath::Clamp(InDryWet, 0.0f, 1.0f); UpdateSettings(S); } \
	void PresetClass::SetBypass(bool bInBypass) { SettingsStruct S = GetSettings(); S.bBypass = bInBypass; UpdateSettings(S); } \
	TArray<FString> PresetClass::GetVoiceOptions() { return UVoiceSkinSubsystem::GetVoiceIdOptions(); }

class FVoiceSkinEffectCore
{
public:
	void Init(float SampleRate, int32 NumChannels, const FVoiceSkinEffectSettings& Settings);
	void ApplySettings(const FVoiceSkinEffectSettings& Settings);
	void Process(const float* In, float* Out, int32 NumFrames, int32 NumChannels);
	/** Latency of the voice in use, in frames (0 while none is loaded). */
	uint32 GetLatencyFrames() const;

private:
	std::shared_ptr<voiceskin::VoiceSkinAdapter> Adapter;
};
