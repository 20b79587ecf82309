// Source effect: converts one sound (a character's dialogue, a voice-chat
// stream) before spatialisation. Put it in a Source Effect Chain.
#pragma once

#include "CoreMinimal.h"
#include "Sound/SoundEffectSource.h"

#include "VoiceSkinEffectCore.h"

#include "SourceEffectVoiceSkin.generated.h"

USTRUCT(BlueprintType)
struct VOICESKIN_API FVoiceSkinSourceSettings
{
	GENERATED_USTRUCT_BODY()

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

	/** Bypass the model (the output stays delayed by the same latency). */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "VoiceSkin")
	bool bBypass = false;
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
