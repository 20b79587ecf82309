#include "VoiceSkinSubsystem.h"

#include "Interfaces/IPluginManager.h"
#include "Misc/Paths.h"
#include "VoiceSkinLog.h"
#include "VoiceSkinModule.h"

#include "voiceskin/host.hpp"

namespace
{
	FString ToFullPath(const FString& Path)
	{
		return FPaths::ConvertRelativePathToFull(Path);
	}
}

void UVoiceSkinSubsystem::Initialize(FSubsystemCollectionBase& Collection)
{
	Super::Initialize(Collection);
	// Project voices first: a plugin voice of the same ID only replaces one
	// with a lower version (the registry keeps the highest version).
	ScanFolder(FPaths::Combine(FPaths::ProjectContentDir(), TEXT("VoiceSkins")));
	if (TSharedPtr<IPlugin> Plugin = IPluginManager::Get().FindPlugin(TEXT("VoiceSkin")))
	{
		ScanFolder(FPaths::Combine(Plugin->GetContentDir(), TEXT("VoiceSkins")));
	}
	TickHandle = FTSTicker::GetCoreTicker().AddTicker(FTickerDelegate::CreateUObject(this, &UVoiceSkinSubsystem::Tick), 0.0f);
}

void UVoiceSkinSubsystem::Deinitialize()
{
	FTSTicker::GetCoreTicker().RemoveTicker(TickHandle);
	Super::Deinitialize();
}

bool UVoiceSkinSubsystem::Tick(float DeltaTime)
{
	if (std::shared_ptr<voiceskin::AdapterHost> Host = FVoiceSkinModule::GetHost())
	{
		Host->service();
	}
	return true;  // keep ticking
}

bool UVoiceSkinSubsystem::SetCpuBudget(float Cores)
{
	std::shared_ptr<voiceskin::AdapterHost> Host = FVoiceSkinModule::GetHost();
	return Host && Host->set_cpu_budget(Cores) == VSK_OK;
}

float UVoiceSkinSubsystem::GetCpuLoad() const
{
	std::shared_ptr<voiceskin::AdapterHost> Host = FVoiceSkinModule::GetHost();
	float Load = 0.0f;
	return Host && Host->cpu_budget(nullptr, nullptr, &Load) == VSK_OK ? Load : 0.0f;
}

int32 UVoiceSkinSubsystem::ScanFolder(const FString& Folder)
{
	std::shared_ptr<voiceskin::AdapterHost> Host = FVoiceSkinModule::GetHost();
	const FString Full = ToFullPath(Folder);
	if (!Host || !FPaths::DirectoryExists(Full))
	{
		return 0;
	}
	uint32_t Added = 0, Skipped = 0;
	const vsk_status Status = Host->scan_folder(TCHAR_TO_UTF8(*Full), &Added, &Skipped);
	if (Status != VSK_OK)
	{
		UE_LOG(LogVoiceSkin, Warning, TEXT("cannot scan %s: %s"), *Full, UTF8_TO_TCHAR(vsk_status_name(Status)));
		return 0;
	}
	UE_LOG(LogVoiceSkin, Log, TEXT("%s: %u voice bundle(s) added, %u skipped"), *Full, Added, Skipped);
	return int32(Added);
}

bool UVoiceSkinSubsystem::AddBundleFile(const FString& Path)
{
	std::shared_ptr<voiceskin::AdapterHost> Host = FVoiceSkinModule::GetHost();
	if (!Host) return false;
	const vsk_status Status = Host->add_file(TCHAR_TO_UTF8(*ToFullPath(Path)));
	if (Status != VSK_OK)
	{
		UE_LOG(LogVoiceSkin, Warning, TEXT("%s: %s"), *Path, UTF8_TO_TCHAR(vsk_status_string(Status)));
	}
	return Status == VSK_OK;
}

TArray<FName> UVoiceSkinSubsystem::GetVoiceIds() const
{
	TArray<FName> Out;
	if (std::shared_ptr<voiceskin::AdapterHost> Host = FVoiceSkinModule::GetHost())
	{
		for (const voiceskin::VoiceEntry& Entry : Host->voices())
		{
			Out.Add(FName(UTF8_TO_TCHAR(Entry.voice_id.c_str())));
		}
	}
	return Out;
}

FText UVoiceSkinSubsystem::GetDisplayName(FName Voice) const
{
	if (std::shared_ptr<voiceskin::AdapterHost> Host = FVoiceSkinModule::GetHost())
	{
		voiceskin::Bundle Bundle = Host->find(FVoiceSkinModule::KeyOf(Voice));
		if (Bundle)
		{
			return FText::FromString(UTF8_TO_TCHAR(Bundle.display_name().c_str()));
		}
	}
	return FText::GetEmpty();
}

TArray<FName> UVoiceSkinSubsystem::GetTierNames(FName Voice) const
{
	TArray<FName> Out;
	if (std::shared_ptr<voiceskin::AdapterHost> Host = FVoiceSkinModule::GetHost())
	{
		voiceskin::Bundle Bundle = Host->find(FVoiceSkinModule::KeyOf(Voice));
		if (Bundle)
		{
			for (const voiceskin::TierInfo& Tier : Bundle.tiers())
			{
				Out.Add(FName(UTF8_TO_TCHAR(Tier.name.c_str())));
			}
		}
	}
	return Out;
}

int32 UVoiceSkinSubsystem::FindTier(FName Voice, FName TierName) const
{
	return GetTierNames(Voice).IndexOfByKey(TierName);
}

float UVoiceSkinSubsystem::GetLatencySeconds(FName Voice, int32 SampleRate) const
{
	std::shared_ptr<voiceskin::AdapterHost> Host = FVoiceSkinModule::GetHost();
	if (!Host || SampleRate <= 0) return -1.0f;
	voiceskin::Bundle Bundle = Host->find(FVoiceSkinModule::KeyOf(Voice));
	if (!Bundle) return -1.0f;
	uint32_t Frames = 0;
	if (Host->latency_frames(Bundle.voice_id().c_str(), uint32_t(SampleRate), &Frames) != VSK_OK) return -1.0f;
	return float(Frames) / float(SampleRate);
}

TArray<FString> UVoiceSkinSubsystem::GetVoiceIdOptions()
{
	TArray<FString> Out;
	Out.Add(FName(NAME_None).ToString());
	if (std::shared_ptr<voiceskin::AdapterHost> Host = FVoiceSkinModule::GetHost())
	{
		for (const voiceskin::VoiceEntry& Entry : Host->voices())
		{
			Out.Add(UTF8_TO_TCHAR(Entry.voice_id.c_str()));
		}
	}
	return Out;
}
