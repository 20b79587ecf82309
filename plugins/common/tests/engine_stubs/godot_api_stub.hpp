// godot_api_stub.hpp — the slice of the godot-cpp (godot-4.3-stable) API that
// plugins/godot uses, with its signatures (AudioEffect::_instantiate,
// AudioEffectInstance::_process(const void *, AudioFrame *, int32_t),
// _process_silence, ClassDB binding, String/PackedStringArray, FileAccess,
// DirAccess, Engine, SceneTree, callable_mp, GDExtensionBinding::InitObject),
// bodies trivial. NOT godot-cpp: it lets tests/test_engine_adapters.py check
// that the extension's glue compiles against those declarations and the
// shared adapter (-fsyntax-only). The test generates one forwarding header
// per godot-cpp include path.
#pragma once
#include <cstdint>
#include <cstddef>
#include <string>
#include <vector>
#include <algorithm>
#define GDE_EXPORT
typedef void *GDExtensionInterfaceGetProcAddress; typedef void *GDExtensionClassLibraryPtr; typedef struct {int x;} GDExtensionInitialization; typedef uint8_t GDExtensionBool;
namespace godot {
enum ModuleInitializationLevel { MODULE_INITIALIZATION_LEVEL_CORE, MODULE_INITIALIZATION_LEVEL_SERVERS, MODULE_INITIALIZATION_LEVEL_SCENE };
struct CharString { std::string s; const char *get_data() const { return s.c_str(); } };
class String { public: std::string s; String() {} String(const char *c) : s(c) {}
  static String utf8(const char *c, int64_t = -1) { return String(c); }
  CharString utf8() const { return {s}; } bool is_empty() const { return s.empty(); }
  bool ends_with(const String &) const { return true; } bool begins_with(const String &) const { return false; }
  String path_join(const String &o) const { return String((s + "/" + o.s).c_str()); }
  String join(const class PackedStringArray &) const; };
class StringName { public: StringName() {} StringName(const char *) {} bool operator==(const StringName &) const { return true; } };
class PackedStringArray { public: std::vector<String> v; void push_back(const String &x) { v.push_back(x); } int64_t size() const { return int64_t(v.size()); }
  const String &operator[](int64_t i) const { return v[size_t(i)]; } void sort() {} bool is_empty() const { return v.empty(); } };
inline String String::join(const PackedStringArray &) const { return String(); }
class PackedByteArray { public: std::vector<uint8_t> v; const uint8_t *ptr() const { return v.data(); } int64_t size() const { return int64_t(v.size()); } bool is_empty() const { return v.empty(); } };
struct AudioFrame { float left, right; };
enum PropertyHint { PROPERTY_HINT_NONE, PROPERTY_HINT_RANGE, PROPERTY_HINT_ENUM, PROPERTY_HINT_ENUM_SUGGESTION };
struct Variant { enum Type { STRING, INT, FLOAT, BOOL }; };
struct PropertyInfo { StringName name; PropertyHint hint = PROPERTY_HINT_NONE; String hint_string;
  PropertyInfo(Variant::Type, const char *, PropertyHint = PROPERTY_HINT_NONE, const char * = "") {} };
struct MethodDefinition {}; template <typename... A> MethodDefinition D_METHOD(const char *, A...) { return {}; }
struct ClassDB { template <typename M> static void bind_method(MethodDefinition, M) {} template <typename T> static void register_class() {}
  static void add_property(const PropertyInfo &, const char *, const char *) {} };
#define ADD_PROPERTY(info, set, get) ClassDB::add_property(info, set, get)
#define GDREGISTER_CLASS(c) ClassDB::register_class<c>()
#define GDCLASS(c, b) public: using self_type = c; private:
class Callable {}; template <typename T, typename M> Callable callable_mp(T *, M) { return {}; }
class Object { public: virtual ~Object() {} template <typename T> static T *cast_to(Object *o) { return static_cast<T *>(o); }
  void connect(const StringName &, const Callable &) {} void notify_property_list_changed() {} };
class RefCounted : public Object {};
template <typename T> class Ref { public: T *p = nullptr; void instantiate() { p = new T; } T *operator->() const { return p; }
  template <typename U> Ref(const Ref<U> &o) : p(o.p) {} Ref() {} };
class AudioEffectInstance : public RefCounted { public: virtual void _process(const void *, AudioFrame *, int32_t) {} virtual bool _process_silence() const { return false; } };
class AudioEffect : public RefCounted { public: virtual Ref<AudioEffectInstance> _instantiate() { return {}; } };
class AudioServer { public: static AudioServer *get_singleton() { static AudioServer a; return &a; } float get_mix_rate() const { return 48000; } };
class DirAccess { public: static bool dir_exists_absolute(const String &) { return false; } static PackedStringArray get_files_at(const String &) { return {}; } };
class FileAccess { public: static PackedByteArray get_file_as_bytes(const String &) { return {}; } };
class MainLoop : public Object {}; class SceneTree : public MainLoop {};
class Engine { public: static Engine *get_singleton() { static Engine e; return &e; } MainLoop *get_main_loop() { return nullptr; }
  void register_singleton(const StringName &, Object *) {} void unregister_singleton(const StringName &) {} };
struct UtilityFunctions { template <typename... A> static void push_error(A...) {} template <typename... A> static void push_warning(A...) {} };
template <typename T> T *memnew_impl() { return new T; }
#define memnew(T) memnew_impl<T>()
template <typename T> void memdelete(T *p) { delete p; }
struct GDExtensionBinding { struct InitObject { InitObject(GDExtensionInterfaceGetProcAddress, GDExtensionClassLibraryPtr, GDExtensionInitialization *) {}
  void register_initializer(void (*)(ModuleInitializationLevel)) {} void register_terminator(void (*)(ModuleInitializationLevel)) {}
  void set_minimum_library_initialization_level(ModuleInitializationLevel) {} GDExtensionBool init() { return 1; } }; };
}
