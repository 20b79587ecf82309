// Source effect: converts one sound (a character's dialogue, a voice-chat
// stream) before spatialisation. Put it in a Source Effect Chain.
#pragma once

#include "CoreMinimal.h"
#include "Sound/SoundEffectSource.h"

#include "VoiceSkinEffectCore.h"

#include "SourceEffectVoiceSkin.generated.h"

/** The source effect's settings: FVoiceSkinEffectSettings under the name
 *  UE's effect preset macros expect (F<Effect>Settings); adds nothing. */
USTRUCT(BlueprintType)
struct VOICESKIN_API FVoiceSkinSourceSettings : public FVoiceSkinEffectSettings
{
	GENERATED_BODY()
};

class VOICESKIN_API FVoiceSkinSource : public FSoundEffectSource
{
public:
	/** Effect creation: builds the adapter for the source's channel count. */
	virtual void Init(const FSoundEffectSourceInitData& InitData) override;
	/** Audio render thread, before a buffer, when the preset changed. */
	virtual void OnPresetChanged() override;
	/** Audio render thread: InData.NumSamples interleaved samples of NumChannels. */
	virtual void ProcessAudio(const FSoundEffectSourceInputData& InData, float* OutAudioBufferData) override;

	uint32 GetLatencyFrames() const { return Core.GetLatencyFrames(); }

private:
	FVoiceSkinEffectCore Core;
	int32 NumChannels = 1;
};

UCLASS(ClassGroup = AudioSourceEffect, meta = (BlueprintSpawnableComponent))
class VOICESKIN_API UVoiceSkinSourcePreset : public USoundEffectSourcePreset
{
	GENERATED_BODY()

public:
	EFFECT_PRESET_METHODS(VoiceSkinSource)

	virtual FColor GetPresetColor() const override { return FColor(96, 64, 196); }

	UFUNCTION(BlueprintCallable, Category = "Audio|Effects|VoiceSkin")
	void SetSettings(const FVoiceSkinSourceSettings& InSettings);

	UFUNCTION(BlueprintCallable, Category = "Audio|Effects|VoiceSkin")
	void SetVoice(FName InVoice);

	UFUNCTION(BlueprintCallable, Category = "Audio|Effects|VoiceSkin")
	void SetTier(int32 InTier);

	UFUNCTION(BlueprintCallable, Category = "Audio|Effects|VoiceSkin")
	void SetDryWet(float InDryWet);

	UFUNCTION(BlueprintCallable, Category = "Audio|Effects|VoiceSkin")
	void SetBypass(bool bInBypass);

	UFUNCTION()
	static TArray<FString> GetVoiceOptions();

	UPROPERTY(EditAnywhere, BlueprintReadOnly, Category = SourceEffectPreset, meta = (ShowOnlyInnerProperties))
	FVoiceSkinSourceSettings Settings;
};
