// The engine-wide VoiceSkin subsystem (game thread): fills the registry from
// content folders at startup, lists voices and tiers for UI/Blueprints, and
// once per frame services the effects' adapters (loads requested voices,
// destroys the ones the audio thread swapped out).
#pragma once

#include "CoreMinimal.h"
#include "Containers/Ticker.h"
#include "Subsystems/EngineSubsystem.h"

#include "VoiceSkinSubsystem.generated.h"

UCLASS()
class VOICESKIN_API UVoiceSkinSubsystem : public UEngineSubsystem
{
	GENERATED_BODY()

public:
	/** Scans <Project>/Content/VoiceSkins and <Plugin>/Content/VoiceSkins. */
	virtual void Initialize(FSubsystemCollectionBase& Collection) override;
	virtual void Deinitialize() override;

	/** Adds every *.vskin directly inside Folder (an absolute or project-relative
	 *  path on disk). Returns how many were added. */
	UFUNCTION(BlueprintCallable, Category = "VoiceSkin")
	int32 ScanFolder(const FString& Folder);

	/** Adds one bundle file. Returns true if it was added (or replaced an older version). */
	UFUNCTION(BlueprintCallable, Category = "VoiceSkin")
	bool AddBundleFile(const FString& Path);

	/** Registered voice IDs (registry order). */
	UFUNCTION(BlueprintPure, Category = "VoiceSkin")
	TArray<FName> GetVoiceIds() const;

	UFUNCTION(BlueprintPure, Category = "VoiceSkin")
	FText GetDisplayName(FName Voice) const;

	/** The voice's quality tiers, lowest first: the index is the effects' Tier. */
	UFUNCTION(BlueprintPure, Category = "VoiceSkin")
	TArray<FName> GetTierNames(FName Voice) const;

	/** Tier index of a tier name, or -1. */
	UFUNCTION(BlueprintPure, Category = "VoiceSkin")
	int32 FindTier(FName Voice, FName TierName) const;

	/** Latency the voice adds at this sample rate, in seconds (the same for
	 *  every tier; -1 if unknown). Builds a throwaway voice: not per frame. */
	UFUNCTION(BlueprintCallable, Category = "VoiceSkin")
	float GetLatencySeconds(FName Voice, int32 SampleRate = 48000) const;

	/** One CPU budget, in cores (0 = off), shared by need by every voice the
	 *  effects load from now on (dynamic quality across the whole game; an
	 *  effect's own CpuBudget still caps its voice). False for a value
	 *  outside 0..64. */
	UFUNCTION(BlueprintCallable, Category = "VoiceSkin")
	bool SetCpuBudget(float Cores);

	/** The shared budget's members' summed load, in cores (last ~100 ms). */
	UFUNCTION(BlueprintPure, Category = "VoiceSkin")
	float GetCpuLoad() const;

	/** For the effect presets' Voice dropdown. */
	static TArray<FString> GetVoiceIdOptions();

private:
	bool Tick(float DeltaTime);

	FTSTicker::FDelegateHandle TickHandle;
};
