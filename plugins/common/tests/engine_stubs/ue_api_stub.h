// ue_api_stub.h — the slice of the Unreal Engine 5 API that
// plugins/unreal/VoiceSkin uses, declared with UE 5.3's signatures
// (Engine/Classes/Sound/SoundEffect{Base,Preset,Submix,Source}.h,
// Subsystems, FTSTicker, FName, ...), bodies trivial. NOT an engine: it lets
// tests/test_engine_adapters.py check that the plugin's glue compiles
// against those declarations and the shared adapter (-fsyntax-only). UHT
// macros expand to nothing. The test generates one forwarding header per
// engine include path.
#pragma once
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>
#include <memory>
#include <functional>
typedef uint32_t uint32; typedef uint64_t uint64; typedef int32_t int32; typedef uint8_t uint8; typedef char TCHAR;
#define TEXT(x) x
#define VOICESKIN_API
#define UCLASS(...)
#define USTRUCT(...)
#define UPROPERTY(...)
#define UFUNCTION(...)
#define GENERATED_BODY()
#define GENERATED_USTRUCT_BODY()
#define GENERATED_UCLASS_BODY()
#define PLATFORM_WINDOWS 0
#define INDEX_NONE (-1)
#define UTF8_TO_TCHAR(x) (x)
#define TCHAR_TO_UTF8(x) (x)
struct FString { std::string s; FString() {} FString(const char *c) : s(c) {} const TCHAR *operator*() const { return s.c_str(); } };
template <typename T> struct TArray { std::vector<T> v; void Add(const T &x) { v.push_back(x); } int32 IndexOfByKey(const T &) const { return -1; }
  T *begin() { return v.data(); } T *end() { return v.data() + v.size(); } };
struct FNameEntryId { uint32 ToUnstableInt() const { return 1; } };
enum EName { NAME_None };
struct FName { FName() {} FName(EName) {} FName(const TCHAR *) {} FNameEntryId GetComparisonIndex() const { return {}; } int32 GetNumber() const { return 0; }
  FString ToString() const { return FString(); } bool operator==(const FName &) const { return true; } };
struct FText { static FText FromString(const FString &) { return {}; } static FText GetEmpty() { return {}; } };
struct FColor { FColor(int, int, int) {} };
struct FMath { template <typename T> static T Max(T a, T b) { return a > b ? a : b; } template <typename T> static T Clamp(T x, T a, T b) { return x < a ? a : x > b ? b : x; } };
struct FMemory { static void Memcpy(void *d, const void *s, size_t n) { memcpy(d, s, n); } };
#define DECLARE_LOG_CATEGORY_EXTERN(n, a, b) extern int n;
#define DEFINE_LOG_CATEGORY(n) int n;
#define UE_LOG(cat, lvl, fmt, ...) ((void)cat)
template <typename T> struct TSharedPtr { T *p = nullptr; explicit operator bool() const { return p; } T *operator->() const { return p; } };
class UObject { public: virtual ~UObject() {} };
template <typename T> T *Cast(UObject *o) { return static_cast<T *>(o); }
struct FSubsystemCollectionBase {};
class UEngineSubsystem : public UObject { public: typedef UEngineSubsystem Super; virtual void Initialize(FSubsystemCollectionBase &) {} virtual void Deinitialize() {} };
struct FTickerDelegate { template <typename U, typename M> static FTickerDelegate CreateUObject(U *, M) { return {}; } };
struct FTSTicker { struct FDelegateHandle {}; static FTSTicker &GetCoreTicker() { static FTSTicker t; return t; }
  FDelegateHandle AddTicker(const FTickerDelegate &, float) { return {}; } void RemoveTicker(FDelegateHandle) {} };
struct IPlugin { FString GetContentDir() const { return {}; } FString GetBaseDir() const { return {}; } };
struct IPluginManager { static IPluginManager &Get() { static IPluginManager m; return m; } TSharedPtr<IPlugin> FindPlugin(const TCHAR *) { return {}; } };
struct FPaths { static FString Combine(const FString &a, const FString &) { return a; } static FString ProjectContentDir() { return {}; }
  static FString ConvertRelativePathToFull(const FString &p) { return p; } static bool DirectoryExists(const FString &) { return false; } static bool FileExists(const FString &) { return false; } };
struct FPlatformProcess { static void *GetDllHandle(const TCHAR *) { return nullptr; } static const TCHAR *BaseDir() { return ""; } };
class IModuleInterface { public: virtual ~IModuleInterface() {} virtual void StartupModule() {} virtual void ShutdownModule() {} };
#define IMPLEMENT_MODULE(c, n) static c g_module_##n;
namespace Audio { struct FAlignedFloatBuffer { std::vector<float> v; float *GetData() { return v.data(); } const float *GetData() const { return v.data(); } }; }
struct FCriticalSection {}; struct FScopeLock { FScopeLock(FCriticalSection *) {} };
class USoundEffectPreset : public UObject { public: virtual void Init() {} void Update() {} virtual FColor GetPresetColor() const { return FColor(0,0,0); } };
class FSoundEffectBase { public: virtual ~FSoundEffectBase() {} virtual void OnPresetChanged() {} protected: UObject *Preset = nullptr; };
#define GET_EFFECT_SETTINGS(EFFECT_NAME) \
  U##EFFECT_NAME##Preset *_Preset = Cast<U##EFFECT_NAME##Preset>(Preset); \
  F##EFFECT_NAME##Settings Settings = _Preset != nullptr ? _Preset->GetSettings() : F##EFFECT_NAME##Settings();
#define EFFECT_PRESET_METHODS(EFFECT_NAME) \
  virtual FSoundEffectBase *CreateNewEffect() const { return new F##EFFECT_NAME; } \
  virtual void Init() override { FScopeLock L(&SettingsCritSect); SettingsCopy = Settings; } \
  void UpdateSettings(const F##EFFECT_NAME##Settings &In) { FScopeLock L(&SettingsCritSect); SettingsCopy = In; Update(); } \
  F##EFFECT_NAME##Settings GetSettings() { FScopeLock L(&SettingsCritSect); return SettingsCopy; } \
  FCriticalSection SettingsCritSect; F##EFFECT_NAME##Settings SettingsCopy;
class USoundEffectSubmixPreset : public USoundEffectPreset {};
class USoundEffectSourcePreset : public USoundEffectPreset {};
struct FSoundEffectSubmixInitData { uint32 DeviceID = 0; void *PresetSettings = nullptr; float SampleRate = 0; uint32 ParentPresetUniqueId = 0; };
struct FSoundEffectSubmixInputData { void *PresetData; int32 NumFrames; int32 NumChannels; int32 NumDeviceChannels; Audio::FAlignedFloatBuffer *AudioBuffer; double AudioClock; };
struct FSoundEffectSubmixOutputData { Audio::FAlignedFloatBuffer *AudioBuffer; int32 NumChannels; };
class FSoundEffectSubmix : public FSoundEffectBase { public: virtual void OnProcessAudio(const FSoundEffectSubmixInputData &, FSoundEffectSubmixOutputData &) {}
 private: virtual void Init(const FSoundEffectSubmixInitData &) {} };
struct FSoundEffectSourceInitData { float SampleRate = 0; int32 NumSourceChannels = 0; double AudioClock = 0; uint32 ParentPresetUniqueId = 0; uint32 AudioDeviceId = 0; };
struct FSoundEffectSourceInputData { float CurrentVolume; float CurrentPitch; double AudioClock; float CurrentPlayFraction; float *InputSourceEffectBufferPtr; int32 NumSamples; };
class FSoundEffectSource : public FSoundEffectBase { public: virtual void ProcessAudio(const FSoundEffectSourceInputData &, float *) = 0;
 private: virtual void Init(const FSoundEffectSourceInitData &) = 0; };
