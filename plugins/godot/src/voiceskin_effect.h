// AudioEffectVoiceSkin (an AudioEffect resource, added to an audio bus) and
// AudioEffectVoiceSkinInstance (what the AudioServer runs per bus).
//
// Threads: properties are set on the main thread (inspector, GDScript);
// _instantiate runs on the main thread when the effect is added to a bus;
// _process runs on the audio thread with stereo AudioFrame buffers. The
// property setters only store atomics in the shared VoiceSkinAdapter (and
// ask VoiceSkinServer to load a new voice, on the main thread); _process
// only calls VoiceSkinAdapter::process_stereo (no allocation, no lock).
#pragma once

#include <godot_cpp/classes/audio_effect.hpp>
#include <godot_cpp/classes/audio_effect_instance.hpp>
#include <godot_cpp/classes/audio_frame.hpp>
#include <godot_cpp/core/property_info.hpp>
#include <godot_cpp/variant/packed_string_array.hpp>
#include <godot_cpp/variant/string.hpp>

#include <memory>
#include <vector>

#include "voiceskin/adapter.hpp"

namespace godot {

class AudioEffectVoiceSkinInstance : public AudioEffectInstance {
    GDCLASS(AudioEffectVoiceSkinInstance, AudioEffectInstance)

public:
    void _process(const void *src_buffer, AudioFrame *dst_buffer, int32_t frame_count) override;
    /// Keep processing on a silent bus: the voice's latency and state tail
    /// must flush, and a crossfade must finish.
    bool _process_silence() const override { return true; }

    void setup(std::shared_ptr<voiceskin::VoiceSkinAdapter> adapter) { adapter_ = std::move(adapter); }
    /// Latency in frames of the voice in use (0 while none is loaded).
    int get_latency_frames() const { return adapter_ ? int(adapter_->latency_frames()) : 0; }

protected:
    static void _bind_methods();

private:
    std::shared_ptr<voiceskin::VoiceSkinAdapter> adapter_;
};

class AudioEffectVoiceSkin : public AudioEffect {
    GDCLASS(AudioEffectVoiceSkin, AudioEffect)

public:
    Ref<AudioEffectInstance> _instantiate() override;

    void set_voice(const String &voice_id);
    String get_voice() const { return voice_; }
    void set_tier(int tier);
    int get_tier() const { return tier_; }
    void set_mix(float mix);
    float get_mix() const { return mix_; }
    void set_bypass(bool bypass);
    bool get_bypass() const { return bypass_; }
    /// CPU budget per voice, fraction of one core (0 = off): dynamic quality.
    void set_cpu_budget(float fraction);
    float get_cpu_budget() const { return cpu_budget_; }

    /// Tier names of the selected voice, lowest quality first.
    PackedStringArray get_tier_names() const;
    /// Latency of the selected voice at the mix rate, in seconds (-1 if the
    /// voice is not registered). The same for every tier.
    double get_latency_seconds() const;

protected:
    static void _bind_methods();
    void _validate_property(PropertyInfo &property) const;

private:
    template <typename F>
    void for_each_adapter(F &&f);

    String voice_;
    int tier_ = 0;
    float mix_ = 1.0f;
    bool bypass_ = false;
    float cpu_budget_ = 0.0f;
    // Adapters of the instances on buses; they die with their instances.
    std::vector<std::weak_ptr<voiceskin::VoiceSkinAdapter>> adapters_;
};

}  // namespace godot
