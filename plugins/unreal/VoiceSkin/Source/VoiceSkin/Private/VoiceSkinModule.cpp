#include "VoiceSkinModule.h"

#include "HAL/PlatformProcess.h"
#include "Interfaces/IPluginManager.h"
#include "Misc/Paths.h"
#include "Modules/ModuleManager.h"
#include "VoiceSkinLog.h"

#include "voiceskin/host.hpp"

DEFINE_LOG_CATEGORY(LogVoiceSkin);

namespace
{
	std::shared_ptr<voiceskin::AdapterHost> GHost;

	// AdapterHost key function: the same key FVoiceSkinModule::KeyOf gives
	// the FName of this ID (FName comparison is case-insensitive).
	uint64_t KeyOfUtf8(const char* VoiceId)
	{
		return FVoiceSkinModule::KeyOf(FName(UTF8_TO_TCHAR(VoiceId)));
	}
}

void FVoiceSkinModule::StartupModule()
{
#if PLATFORM_WINDOWS && defined(VOICESKIN_DLL_NAME)
	// voiceskin.dll is delay-loaded: load it from the staged binaries folder
	// (or the plugin's ThirdParty folder in the editor) before first use.
	const FString PluginDir = IPluginManager::Get().FindPlugin(TEXT("VoiceSkin"))->GetBaseDir();
	const FString Candidates[] = {
		FPaths::Combine(FPlatformProcess::BaseDir(), VOICESKIN_DLL_NAME),
		FPaths::Combine(PluginDir, TEXT("Source/ThirdParty/voiceskin/lib/Win64"), VOICESKIN_DLL_NAME),
	};
	for (const FString& Path : Candidates)
	{
		if (FPaths::FileExists(Path))
		{
			LibraryHandle = FPlatformProcess::GetDllHandle(*Path);
			if (LibraryHandle) break;
		}
	}
	if (!LibraryHandle)
	{
		UE_LOG(LogVoiceSkin, Error, TEXT("voiceskin.dll not found; VoiceSkin effects pass audio through"));
		return;
	}
#endif
	if (vsk_abi_version() != VSK_ABI_VERSION)
	{
		UE_LOG(LogVoiceSkin, Error, TEXT("libvoiceskin ABI %u, plugin built for %u; effects pass audio through"),
			vsk_abi_version(), uint32(VSK_ABI_VERSION));
		return;
	}
	GHost = std::make_shared<voiceskin::AdapterHost>(&KeyOfUtf8);
	if (GHost->status() != VSK_OK)
	{
		UE_LOG(LogVoiceSkin, Error, TEXT("cannot create the voice registry: %s"), UTF8_TO_TCHAR(vsk_status_name(GHost->status())));
	}
	UE_LOG(LogVoiceSkin, Log, TEXT("libvoiceskin %s loaded"), UTF8_TO_TCHAR(vsk_version_string()));
}

void FVoiceSkinModule::ShutdownModule()
{
	// Effects hold their own adapters (and voices); the host only weak refs.
	// The DLL stays loaded: effect instances may be destroyed after this.
	GHost.reset();
}

std::shared_ptr<voiceskin::AdapterHost> FVoiceSkinModule::GetHost()
{
	return GHost;
}

IMPLEMENT_MODULE(FVoiceSkinModule, VoiceSkin)
