// VoiceSkinServer — the "VoiceSkin" engine singleton of the Godot extension.
// Owns the AdapterHost (registry of bundles + adapter servicing) and runs
// AdapterHost::service() once per frame on the main thread (SceneTree
// process_frame), so voice changes and retired voices are handled off the
// audio thread. Everything here runs on the main thread.
#pragma once

#include <godot_cpp/classes/object.hpp>
#include <godot_cpp/variant/packed_string_array.hpp>
#include <godot_cpp/variant/string.hpp>

#include <memory>

#include "voiceskin/host.hpp"

namespace godot {

class VoiceSkinServer : public Object {
    GDCLASS(VoiceSkinServer, Object)

public:
    /// Folder scanned on first use (files read through FileAccess, so bundles
    /// inside an exported .pck work too).
    static constexpr const char *kDefaultFolder = "res://voiceskins";

    VoiceSkinServer();
    ~VoiceSkinServer() override;

    static VoiceSkinServer *get_singleton() { return singleton_; }
    /// Set by the extension's initializer only: the engine may construct
    /// throwaway instances of registered classes (e.g. for default values).
    static void set_singleton(VoiceSkinServer *server) { singleton_ = server; }

    /// Adds every *.vskin directly inside `path` (res://, user:// or an
    /// absolute path). Returns how many were added; errors go to the log.
    int scan_folder(const String &path);
    /// Adds one bundle file. Returns a vsk_status (0 = OK).
    int add_file(const String &path);
    PackedStringArray get_voice_ids();
    String get_display_name(const String &voice_id);
    /// Tier names of a voice, lowest quality first (the tier index is the
    /// position in this list).
    PackedStringArray get_tier_names(const String &voice_id);
    /// Latency in frames at the AudioServer mix rate (same for every tier).
    int get_latency_frames(const String &voice_id);
    /// One CPU budget, in cores (0 = off), shared by need by every voice the
    /// effects load (voices loaded from now on join it; see voiceskin.h
    /// vsk_cpu_budget). Returns a vsk_status (0 = OK).
    int set_cpu_budget(double cores);
    /// The budget's members' summed load, in cores (their last ~100 ms).
    double get_cpu_load();

    /// The shared host (scans the default folder on first use).
    voiceskin::AdapterHost &host();
    /// Services one adapter now (voice requested by a property setter), and
    /// makes sure the per-frame service is connected.
    void service_now(voiceskin::VoiceSkinAdapter &adapter);
    uint64_t key_of(const String &voice_id);

protected:
    static void _bind_methods();

private:
    void poll();
    void ensure_polling();

    static VoiceSkinServer *singleton_;
    std::unique_ptr<voiceskin::AdapterHost> host_;
    bool scanned_ = false;
    bool polling_ = false;
};

}  // namespace godot
