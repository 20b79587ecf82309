// VoiceSkin runtime module: loads libvoiceskin (Windows: delay-loaded DLL)
// and owns the process-wide voiceskin::AdapterHost (registry + adapter
// servicing) that the subsystem fills and the effects attach to.
#pragma once

#include "CoreMinimal.h"
#include "Modules/ModuleInterface.h"

#include <memory>

namespace voiceskin { class AdapterHost; }

class VOICESKIN_API FVoiceSkinModule : public IModuleInterface
{
public:
	virtual void StartupModule() override;
	virtual void ShutdownModule() override;

	/** The shared host, or null before startup / after shutdown. Call from
	 *  the game thread or an effect's Init, never from audio processing. */
	static std::shared_ptr<voiceskin::AdapterHost> GetHost();

	/** The key adapters carry for a voice: derived from the FName's entry,
	 *  so computing it on the audio thread neither locks nor allocates.
	 *  NAME_None gives 0 ("no voice"). */
	static uint64 KeyOf(FName Voice)
	{
		return (uint64(Voice.GetComparisonIndex().ToUnstableInt()) << 32) | uint32(Voice.GetNumber());
	}

private:
	void* LibraryHandle = nullptr;
};
