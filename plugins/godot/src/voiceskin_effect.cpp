#include "voiceskin_effect.h"

#include <godot_cpp/classes/audio_server.hpp>
#include <godot_cpp/core/class_db.hpp>
#include <godot_cpp/variant/utility_functions.hpp>

#include "voiceskin_server.h"

namespace godot {

// Godot's AudioFrame is two packed floats: the buffer is stereo interleaved.
static_assert(sizeof(AudioFrame) == sizeof(voiceskin::StereoFrame), "AudioFrame must be {float left, right}");

// ------------------------------------------------------------------ instance
void AudioEffectVoiceSkinInstance::_bind_methods() {
    ClassDB::bind_method(D_METHOD("get_latency_frames"), &AudioEffectVoiceSkinInstance::get_latency_frames);
}

void AudioEffectVoiceSkinInstance::_process(const void *src_buffer, AudioFrame *dst_buffer, int32_t frame_count) {
    // Audio thread. src_buffer is an AudioFrame array too.
    const auto *in = static_cast<const voiceskin::StereoFrame *>(src_buffer);
    auto *out = reinterpret_cast<voiceskin::StereoFrame *>(dst_buffer);
    if (frame_count <= 0) return;
    if (!adapter_) {
        for (int32_t i = 0; i < frame_count; ++i) out[i] = in[i];
        return;
    }
    adapter_->process_stereo(in, out, uint32_t(frame_count));
}

// -------------------------------------------------------------------- effect
void AudioEffectVoiceSkin::_bind_methods() {
    ClassDB::bind_method(D_METHOD("set_voice", "voice_id"), &AudioEffectVoiceSkin::set_voice);
    ClassDB::bind_method(D_METHOD("get_voice"), &AudioEffectVoiceSkin::get_voice);
    ClassDB::bind_method(D_METHOD("set_tier", "tier"), &AudioEffectVoiceSkin::set_tier);
    ClassDB::bind_method(D_METHOD("get_tier"), &AudioEffectVoiceSkin::get_tier);
    ClassDB::bind_method(D_METHOD("set_mix", "mix"), &AudioEffectVoiceSkin::set_mix);
    ClassDB::bind_method(D_METHOD("get_mix"), &AudioEffectVoiceSkin::get_mix);
    ClassDB::bind_method(D_METHOD("set_bypass", "bypass"), &AudioEffectVoiceSkin::set_bypass);
    ClassDB::bind_method(D_METHOD("get_bypass"), &AudioEffectVoiceSkin::get_bypass);
    ClassDB::bind_method(D_METHOD("set_cpu_budget", "fraction"), &AudioEffectVoiceSkin::set_cpu_budget);
    ClassDB::bind_method(D_METHOD("get_cpu_budget"), &AudioEffectVoiceSkin::get_cpu_budget);
    ClassDB::bind_method(D_METHOD("get_tier_names"), &AudioEffectVoiceSkin::get_tier_names);
    ClassDB::bind_method(D_METHOD("get_latency_seconds"), &AudioEffectVoiceSkin::get_latency_seconds);

    ADD_PROPERTY(PropertyInfo(Variant::STRING, "voice", PROPERTY_HINT_ENUM_SUGGESTION, ""), "set_voice", "get_voice");
    ADD_PROPERTY(PropertyInfo(Variant::INT, "tier", PROPERTY_HINT_RANGE, "0,7,1"), "set_tier", "get_tier");
    ADD_PROPERTY(PropertyInfo(Variant::FLOAT, "mix", PROPERTY_HINT_RANGE, "0,1,0.01"), "set_mix", "get_mix");
    ADD_PROPERTY(PropertyInfo(Variant::BOOL, "bypass"), "set_bypass", "get_bypass");
    ADD_PROPERTY(PropertyInfo(Variant::FLOAT, "cpu_budget", PROPERTY_HINT_RANGE, "0,0.05,0.0001"),
                 "set_cpu_budget", "get_cpu_budget");
}

void AudioEffectVoiceSkin::_validate_property(PropertyInfo &property) const {
    // Inspector menus: registered voices, and the selected voice's tier names.
    VoiceSkinServer *server = VoiceSkinServer::get_singleton();
    if (!server) return;
    if (property.name == StringName("voice")) {
        property.hint_string = String(",").join(server->get_voice_ids());
    } else if (property.name == StringName("tier")) {
        PackedStringArray names = server->get_tier_names(voice_);
        if (!names.is_empty()) {
            property.hint = PROPERTY_HINT_ENUM;
            property.hint_string = String(",").join(names);
        }
    }
}

Ref<AudioEffectInstance> AudioEffectVoiceSkin::_instantiate() {
    // Main thread, when the effect is put on a bus (once per bus channel).
    voiceskin::AdapterConfig cfg;
    cfg.sample_rate = uint32_t(AudioServer::get_singleton()->get_mix_rate());
    cfg.channels = 2;             // Godot buses are stereo AudioFrames
    cfg.max_block_frames = 512;   // Godot's mix chunk; longer buffers are fine
    auto adapter = std::make_shared<voiceskin::VoiceSkinAdapter>(cfg);
    adapter->set_tier(uint32_t(tier_));
    adapter->set_mix(mix_);
    adapter->set_bypass(bypass_);
    adapter->set_cpu_budget(cpu_budget_);

    Ref<AudioEffectVoiceSkinInstance> inst;
    inst.instantiate();
    inst->setup(adapter);
    if (VoiceSkinServer *server = VoiceSkinServer::get_singleton()) {
        adapter->request_voice(server->key_of(voice_));
        server->host().attach(adapter);
        server->service_now(*adapter);  // the voice exists before the first buffer
    }
    // Drop adapters whose instances are gone, then remember this one.
    size_t k = 0;
    for (auto &w : adapters_)
        if (!w.expired()) adapters_[k++] = w;
    adapters_.resize(k);
    adapters_.push_back(adapter);
    return inst;
}

template <typename F>
void AudioEffectVoiceSkin::for_each_adapter(F &&f) {
    for (auto &w : adapters_)
        if (auto a = w.lock()) f(*a);
}

void AudioEffectVoiceSkin::set_voice(const String &voice_id) {
    voice_ = voice_id;
    VoiceSkinServer *server = VoiceSkinServer::get_singleton();
    if (!server) return;
    const uint64_t key = server->key_of(voice_id);
    for_each_adapter([&](voiceskin::VoiceSkinAdapter &a) {
        a.request_voice(key);
        server->service_now(a);  // creates the voice here, on the main thread
    });
    notify_property_list_changed();  // the tier menu follows the voice
}

void AudioEffectVoiceSkin::set_tier(int tier) {
    tier_ = tier < 0 ? 0 : tier;
    for_each_adapter([&](voiceskin::VoiceSkinAdapter &a) { a.set_tier(uint32_t(tier_)); });
}

void AudioEffectVoiceSkin::set_mix(float mix) {
    if (!(mix >= 0.0f && mix <= 1.0f)) {
        UtilityFunctions::push_error("voiceskin: mix must be in 0..1");
        return;
    }
    mix_ = mix;
    for_each_adapter([&](voiceskin::VoiceSkinAdapter &a) { a.set_mix(mix_); });
}

void AudioEffectVoiceSkin::set_cpu_budget(float fraction) {
    if (!(fraction >= 0.0f && fraction <= 1.0f)) return;
    cpu_budget_ = fraction;
    for_each_adapter([&](voiceskin::VoiceSkinAdapter &a) { a.set_cpu_budget(cpu_budget_); });
}

void AudioEffectVoiceSkin::set_bypass(bool bypass) {
    bypass_ = bypass;
    for_each_adapter([&](voiceskin::VoiceSkinAdapter &a) { a.set_bypass(bypass_); });
}

PackedStringArray AudioEffectVoiceSkin::get_tier_names() const {
    VoiceSkinServer *server = VoiceSkinServer::get_singleton();
    return server ? server->get_tier_names(voice_) : PackedStringArray();
}

double AudioEffectVoiceSkin::get_latency_seconds() const {
    VoiceSkinServer *server = VoiceSkinServer::get_singleton();
    if (!server) return -1.0;
    const int frames = server->get_latency_frames(voice_);
    return frames < 0 ? -1.0 : double(frames) / AudioServer::get_singleton()->get_mix_rate();
}

}  // namespace godot
