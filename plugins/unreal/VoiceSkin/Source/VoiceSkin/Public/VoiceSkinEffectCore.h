// The engine glue shared by the submix and the source effect: one
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
// game-thread tick (AdapterHost::service) and crossfaded in.
#pragma once

#include "CoreMinimal.h"

#include <memory>

namespace voiceskin { class VoiceSkinAdapter; }

class FVoiceSkinEffectCore
{
public:
	void Init(float SampleRate, int32 NumChannels, FName Voice, int32 Tier, float DryWet, bool bBypass);
	void ApplySettings(FName Voice, int32 Tier, float DryWet, bool bBypass);
	void Process(const float* In, float* Out, int32 NumFrames, int32 NumChannels);
	/** Latency of the voice in use, in frames (0 while none is loaded). */
	uint32 GetLatencyFrames() const;

private:
	std::shared_ptr<voiceskin::VoiceSkinAdapter> Adapter;
};
