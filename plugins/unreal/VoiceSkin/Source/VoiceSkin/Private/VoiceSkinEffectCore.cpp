#include "VoiceSkinEffectCore.h"

#include "VoiceSkinLog.h"
#include "VoiceSkinModule.h"

#include "voiceskin/adapter.hpp"
#include "voiceskin/host.hpp"

void FVoiceSkinEffectCore::Init(float SampleRate, int32 NumChannels, const FVoiceSkinEffectSettings& Settings)
{
	voiceskin::AdapterConfig Config;
	Config.sample_rate = uint32(FMath::Max(1.0f, SampleRate));
	Config.channels = uint32(FMath::Clamp(NumChannels, 1, 8));
	Config.max_block_frames = 1024;  // UE's usual callback size; larger buffers are fine
	Adapter = std::make_shared<voiceskin::VoiceSkinAdapter>(Config);
	ApplySettings(Settings);

	if (std::shared_ptr<voiceskin::AdapterHost> Host = FVoiceSkinModule::GetHost())
	{
		Host->attach(Adapter);
		const vsk_status Status = Host->service(*Adapter);
		if (Status != VSK_OK)
		{
			UE_LOG(LogVoiceSkin, Warning, TEXT("voice '%s' not loaded: %s"), *Settings.Voice.ToString(),
				UTF8_TO_TCHAR(vsk_status_name(Status)));
		}
	}
}

void FVoiceSkinEffectCore::ApplySettings(const FVoiceSkinEffectSettings& Settings)
{
	if (!Adapter) return;
	Adapter->set_tier(uint32(FMath::Max(0, Settings.Tier)));
	Adapter->set_mix(FMath::Clamp(Settings.DryWet, 0.0f, 1.0f));
	Adapter->set_bypass(Settings.bBypass);
	Adapter->set_cpu_budget(FMath::Clamp(Settings.CpuBudget, 0.0f, 1.0f));
	Adapter->request_voice(FVoiceSkinModule::KeyOf(Settings.Voice));
}

void FVoiceSkinEffectCore::Process(const float* In, float* Out, int32 NumFrames, int32 NumChannels)
{
	if (NumFrames <= 0 || NumChannels <= 0) return;
	if (!Adapter)
	{
		if (In != Out) FMemory::Memcpy(Out, In, sizeof(float) * NumFrames * NumChannels);
		return;
	}
	Adapter->process(In, Out, uint32(NumFrames), uint32(NumChannels));
}

uint32 FVoiceSkinEffectCore::GetLatencyFrames() const
{
	return Adapter ? Adapter->latency_frames() : 0;
}
