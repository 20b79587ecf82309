#include "voiceskin_server.h"

#include <godot_cpp/classes/audio_server.hpp>
#include <godot_cpp/classes/dir_access.hpp>
#include <godot_cpp/classes/engine.hpp>
#include <godot_cpp/classes/file_access.hpp>
#include <godot_cpp/classes/scene_tree.hpp>
#include <godot_cpp/core/class_db.hpp>
#include <godot_cpp/variant/callable_method_pointer.hpp>
#include <godot_cpp/variant/packed_byte_array.hpp>
#include <godot_cpp/variant/utility_functions.hpp>

namespace godot {

VoiceSkinServer *VoiceSkinServer::singleton_ = nullptr;

VoiceSkinServer::VoiceSkinServer() = default;

VoiceSkinServer::~VoiceSkinServer() {
    if (singleton_ == this) singleton_ = nullptr;
}

void VoiceSkinServer::_bind_methods() {
    ClassDB::bind_method(D_METHOD("scan_folder", "path"), &VoiceSkinServer::scan_folder);
    ClassDB::bind_method(D_METHOD("add_file", "path"), &VoiceSkinServer::add_file);
    ClassDB::bind_method(D_METHOD("get_voice_ids"), &VoiceSkinServer::get_voice_ids);
    ClassDB::bind_method(D_METHOD("get_display_name", "voice_id"), &VoiceSkinServer::get_display_name);
    ClassDB::bind_method(D_METHOD("get_tier_names", "voice_id"), &VoiceSkinServer::get_tier_names);
    ClassDB::bind_method(D_METHOD("get_latency_frames", "voice_id"), &VoiceSkinServer::get_latency_frames);
    ClassDB::bind_method(D_METHOD("set_cpu_budget", "cores"), &VoiceSkinServer::set_cpu_budget);
    ClassDB::bind_method(D_METHOD("get_cpu_load"), &VoiceSkinServer::get_cpu_load);
}

int VoiceSkinServer::set_cpu_budget(double cores) {
    vsk_status st = host().set_cpu_budget(float(cores));
    if (st != VSK_OK)
        UtilityFunctions::push_error("voiceskin: set_cpu_budget(", cores, "): ",
                                     String::utf8(voiceskin::status_text(st).c_str()));
    return st;
}

double VoiceSkinServer::get_cpu_load() {
    float load = 0.0f;
    return host().cpu_budget(nullptr, nullptr, &load) == VSK_OK ? double(load) : 0.0;
}

voiceskin::AdapterHost &VoiceSkinServer::host() {
    if (!host_) {
        host_ = std::make_unique<voiceskin::AdapterHost>();
        if (host_->status() != VSK_OK)
            UtilityFunctions::push_error("voiceskin: cannot create the registry: ",
                                         String::utf8(voiceskin::status_text(host_->status()).c_str()));
    }
    if (!scanned_) {
        scanned_ = true;
        if (DirAccess::dir_exists_absolute(kDefaultFolder)) scan_folder(kDefaultFolder);
    }
    return *host_;
}

uint64_t VoiceSkinServer::key_of(const String &voice_id) {
    if (voice_id.is_empty()) return 0;
    return voiceskin::voice_key(voice_id.utf8().get_data());
}

int VoiceSkinServer::add_file(const String &path) {
    // Read through FileAccess: works for res:// inside an exported .pck.
    PackedByteArray bytes = FileAccess::get_file_as_bytes(path);
    if (bytes.is_empty()) {
        UtilityFunctions::push_error("voiceskin: cannot read ", path);
        return VSK_ERR_IO;
    }
    vsk_status st = host().add_memory(bytes.ptr(), size_t(bytes.size()));
    if (st != VSK_OK && st != VSK_ERR_DUPLICATE)
        UtilityFunctions::push_error("voiceskin: ", path, ": ", String::utf8(voiceskin::status_text(st).c_str()));
    return st;
}

int VoiceSkinServer::scan_folder(const String &path) {
    host();  // creates the host; the default scan may recurse here once
    PackedStringArray files = DirAccess::get_files_at(path);
    files.sort();  // the registry's name order
    int added = 0;
    for (int64_t i = 0; i < files.size(); ++i) {
        const String name = files[i];
        if (!name.ends_with(".vskin") || name.begins_with(".")) continue;
        if (add_file(path.path_join(name)) == VSK_OK) ++added;
    }
    return added;
}

PackedStringArray VoiceSkinServer::get_voice_ids() {
    PackedStringArray out;
    for (const auto &v : host().voices()) out.push_back(String::utf8(v.voice_id.c_str()));
    return out;
}

String VoiceSkinServer::get_display_name(const String &voice_id) {
    voiceskin::Bundle b = host().find(voice_id.utf8().get_data());
    return b ? String::utf8(b.display_name().c_str()) : String();
}

PackedStringArray VoiceSkinServer::get_tier_names(const String &voice_id) {
    PackedStringArray out;
    voiceskin::Bundle b = host().find(voice_id.utf8().get_data());
    if (b)
        for (const auto &t : b.tiers()) out.push_back(String::utf8(t.name.c_str()));
    return out;
}

int VoiceSkinServer::get_latency_frames(const String &voice_id) {
    uint32_t frames = 0;
    const uint32_t rate = uint32_t(AudioServer::get_singleton()->get_mix_rate());
    vsk_status st = host().latency_frames(voice_id.utf8().get_data(), rate, &frames);
    return st == VSK_OK ? int(frames) : -1;
}

void VoiceSkinServer::service_now(voiceskin::VoiceSkinAdapter &adapter) {
    vsk_status st = host().service(adapter);
    if (st != VSK_OK)
        UtilityFunctions::push_warning("voiceskin: voice not loaded: ", String::utf8(voiceskin::status_text(st).c_str()));
    ensure_polling();
}

void VoiceSkinServer::ensure_polling() {
    if (polling_) return;
    SceneTree *tree = Object::cast_to<SceneTree>(Engine::get_singleton()->get_main_loop());
    if (!tree) return;  // no main loop yet: setters still service directly
    tree->connect("process_frame", callable_mp(this, &VoiceSkinServer::poll));
    polling_ = true;
}

void VoiceSkinServer::poll() {
    // Main thread, once per frame: destroys voices the audio thread retired
    // and loads voices whose requests are still pending.
    if (host_) host_->service();
}

}  // namespace godot
