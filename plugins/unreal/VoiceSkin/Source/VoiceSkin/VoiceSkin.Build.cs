// VoiceSkin runtime module: links libvoiceskin and stages it (and the plugin's
// bundled voices) with RuntimeDependencies.
//
// Expected layout (plugins/unreal/stage.sh fills it from a checkout):
//   Source/ThirdParty/voiceskin/include/voiceskin.h           the C ABI
//   Source/ThirdParty/voiceskin/adapter/voiceskin/*.hpp        the shared C++ adapter
//   Source/ThirdParty/voiceskin/lib/Win64/voiceskin.lib + voiceskin.dll
//   Source/ThirdParty/voiceskin/lib/Linux/libvoiceskin.so.0   (LinuxArm64 likewise)
//   Source/ThirdParty/voiceskin/lib/Mac/libvoiceskin.0.dylib
// Inside the voiceskin repository the headers are also found in place
// (native/include, plugins/common/include), so only lib/ must be filled.
using System.IO;
using UnrealBuildTool;

public class VoiceSkin : ModuleRules
{
	public VoiceSkin(ReadOnlyTargetRules Target) : base(Target)
	{
		PCHUsage = PCHUsageMode.UseExplicitOrSharedPCHs;

		PublicDependencyModuleNames.AddRange(new string[] { "Core", "CoreUObject", "Engine", "AudioMixer" });
		PrivateDependencyModuleNames.AddRange(new string[] { "Projects" });

		string ThirdParty = Path.Combine(PluginDirectory, "Source", "ThirdParty", "voiceskin");
		string RepoRoot = Path.GetFullPath(Path.Combine(PluginDirectory, "..", "..", ".."));

		string Include = Path.Combine(ThirdParty, "include");
		if (!File.Exists(Path.Combine(Include, "voiceskin.h")))
		{
			Include = Path.Combine(RepoRoot, "native", "include");
		}
		string Adapter = Path.Combine(ThirdParty, "adapter");
		if (!File.Exists(Path.Combine(Adapter, "voiceskin", "adapter.hpp")))
		{
			Adapter = Path.Combine(RepoRoot, "plugins", "common", "include");
		}
		if (!File.Exists(Path.Combine(Include, "voiceskin.h")) || !File.Exists(Path.Combine(Adapter, "voiceskin", "adapter.hpp")))
		{
			throw new BuildException("VoiceSkin: voiceskin.h / the adapter headers are missing; run plugins/unreal/stage.sh");
		}
		PublicIncludePaths.Add(Include);
		PublicIncludePaths.Add(Adapter);

		string LibDir = Path.Combine(ThirdParty, "lib", Target.Platform.ToString());
		if (Target.Platform == UnrealTargetPlatform.Win64)
		{
			PublicAdditionalLibraries.Add(Path.Combine(LibDir, "voiceskin.lib"));
			PublicDelayLoadDLLs.Add("voiceskin.dll");
			RuntimeDependencies.Add("$(BinaryOutputDir)/voiceskin.dll", Path.Combine(LibDir, "voiceskin.dll"));
			PublicDefinitions.Add("VOICESKIN_DLL_NAME=TEXT(\"voiceskin.dll\")");
		}
		else if (Target.Platform == UnrealTargetPlatform.Mac)
		{
			string Dylib = Path.Combine(LibDir, "libvoiceskin.0.dylib");
			PublicAdditionalLibraries.Add(Dylib);
			RuntimeDependencies.Add("$(BinaryOutputDir)/libvoiceskin.0.dylib", Dylib);
		}
		else if (Target.Platform == UnrealTargetPlatform.Linux || Target.Platform == UnrealTargetPlatform.LinuxArm64)
		{
			string So = Path.Combine(LibDir, "libvoiceskin.so.0");
			PublicAdditionalLibraries.Add(So);
			RuntimeDependencies.Add("$(BinaryOutputDir)/libvoiceskin.so.0", So);
		}
		else
		{
			throw new BuildException("VoiceSkin: no libvoiceskin build for " + Target.Platform.ToString());
		}

		// Voices shipped inside the plugin: staged as loose files (NonUFS), so
		// the library can open them by path in a packaged game.
		string Voices = Path.Combine(PluginDirectory, "Content", "VoiceSkins");
		if (Directory.Exists(Voices))
		{
			foreach (string VoiceFile in Directory.GetFiles(Voices, "*.vskin"))
			{
				RuntimeDependencies.Add(VoiceFile, StagedFileType.NonUFS);
			}
		}
	}
}
