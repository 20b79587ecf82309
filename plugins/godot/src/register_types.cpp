// GDExtension entry point: registers the effect classes and the "VoiceSkin"
// engine singleton at the SCENE initialization level.
#include <gdextension_interface.h>

#include <godot_cpp/classes/engine.hpp>
#include <godot_cpp/core/class_db.hpp>
#include <godot_cpp/core/defs.hpp>
#include <godot_cpp/core/memory.hpp>
#include <godot_cpp/godot.hpp>

#include "voiceskin_effect.h"
#include "voiceskin_server.h"

using namespace godot;

static VoiceSkinServer *g_server = nullptr;

static void initialize_voiceskin(ModuleInitializationLevel level) {
    if (level != MODULE_INITIALIZATION_LEVEL_SCENE) return;
    GDREGISTER_CLASS(VoiceSkinServer);
    GDREGISTER_CLASS(AudioEffectVoiceSkinInstance);
    GDREGISTER_CLASS(AudioEffectVoiceSkin);
    g_server = memnew(VoiceSkinServer);
    VoiceSkinServer::set_singleton(g_server);
    Engine::get_singleton()->register_singleton("VoiceSkin", g_server);
}

static void uninitialize_voiceskin(ModuleInitializationLevel level) {
    if (level != MODULE_INITIALIZATION_LEVEL_SCENE) return;
    Engine::get_singleton()->unregister_singleton("VoiceSkin");
    VoiceSkinServer::set_singleton(nullptr);
    memdelete(g_server);
    g_server = nullptr;
}

extern "C" {
GDExtensionBool GDE_EXPORT voiceskin_library_init(GDExtensionInterfaceGetProcAddress get_proc_address,
                                                  GDExtensionClassLibraryPtr library,
                                                  GDExtensionInitialization *initialization) {
    GDExtensionBinding::InitObject init(get_proc_address, library, initialization);
    init.register_initializer(initialize_voiceskin);
    init.register_terminator(uninitialize_voiceskin);
    init.set_minimum_library_initialization_level(MODULE_INITIALIZATION_LEVEL_SCENE);
    return init.init();
}
}
