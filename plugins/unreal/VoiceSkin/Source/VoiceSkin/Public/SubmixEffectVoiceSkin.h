// Submix effect: converts everything routed to a submix (e.g. a "Voice"
// submix that dialogue and voice chat are sent to) through one voice skin.
#pragma once

#include "CoreMinimal.h"
#include "Sound/SoundEffectSubmix.h"

#include "VoiceSkinEffectCore.h"

#include "SubmixEffectVoiceSkin.generated.h"

/** The submix effect's settings: FVoiceSkinEffectSettings under the name
 *  UE's effect preset macros expect (F<Effect>Settings); adds nothing. */
USTRUCT(BlueprintType)
struct VOICESKIN_API FVoiceSkinSubmixSettings : public FVoiceSkinEffectSettings
{
	GENERATED_BODY()
};

class VOICESKIN_API FVoiceSkinSubmix : public FSoundEffectSubmix
{
public:
	/** Effect creation: builds the adapter and loads the voice. */
	virtual void Init(const FSoundEffectSubmixInitData& InitData) override;
	/** Audio render thread, before a buffer, when the preset changed. */
	virtual void OnPresetChanged() override;
	/** Audio render thread: interleaved float, NumFrames x NumChannels (1..8 converted). */
	virtual void OnProcessAudio(const FSoundEffectSubmixInputData& InData, FSoundEffectSubmixOutputData& OutData) override;

	uint32 GetLatencyFrames() const { return Core.GetLatencyFrames(); }

private:
	FVoiceSkinEffectCore Core;
};

UCLASS(ClassGroup = AudioSourceEffect, meta = (BlueprintSpawnableComponent))
class VOICESKIN_API UVoiceSkinSubmixPreset : public USoundEffectSubmixPreset
{
	GENERATED_BODY()

public:
	EFFECT_PRESET_METHODS(VoiceSkinSubmix)

	virtual FColor GetPresetColor() const override { return FColor(96, 64, 196); }

	UFUNCTION(BlueprintCallable, Category = "Audio|Effects|VoiceSkin")
	void SetSettings(const FVoiceSkinSubmixSettings& InSettings);

	/** Switches the voice (loaded on the game thread, then crossfaded in). */
	UFUNCTION(BlueprintCallable, Category = "Audio|Effects|VoiceSkin")
	void SetVoice(FName InVoice);

	UFUNCTION(BlueprintCallable, Category = "Audio|Effects|VoiceSkin")
	void SetTier(int32 InTier);

	UFUNCTION(BlueprintCallable, Category = "Audio|Effects|VoiceSkin")
	void SetDryWet(float InDryWet);

	UFUNCTION(BlueprintCallable, Category = "Audio|Effects|VoiceSkin")
	void SetBypass(bool bInBypass);

	/** Options of the Voice property: the registered voice IDs. */
	UFUNCTION()
	static TArray<FString> GetVoiceOptions();

	UPROPERTY(EditAnywhere, BlueprintReadOnly, Category = SubmixEffectPreset, meta = (ShowOnlyInnerProperties))
	FVoiceSkinSubmixSettings Settings;
};
