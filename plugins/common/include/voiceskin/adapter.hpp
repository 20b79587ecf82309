// adapter.hpp — the engine-independent part of every voiceskin engine plugin.
//
// One VoiceSkinAdapter sits behind one engine effect instance (an Unreal
// submix/source effect, a Godot AudioEffectInstance). It owns the voice that
// converts that effect's audio and hands everything between the engine's
// threads without locks:
//
//   game / control thread                      audio thread
//   ---------------------                      ------------
//   set_tier / set_mix / set_bypass  --atomics-->  applied at the start of
//   request_voice(key)                             the next process() call
//   load_voice(bundle) creates a vsk_voice
//     and publishes it  ------pending_ (atomic)-->  taken at a buffer start;
//                                                   warm-up + crossfade from
//   collect() destroys   <----retired_ (atomic)--   the old voice, which is
//     what was swapped out                          then retired (never freed
//                                                   on the audio thread)
//
// process() never allocates, locks or frees: all scratch memory is allocated
// in the constructor, voices are created and destroyed on the control
// thread. Buffers are interleaved float, any frame count (longer than
// max_block_frames is fine), 1..8 channels, in place allowed; a Godot
// AudioFrame buffer ({float left, right} pairs) is stereo interleaved float.
//
// A buffer whose channel count differs from the voice's (a submix whose
// layout changed) passes through unchanged, and the count is reported to the
// control thread, which rebuilds the voice for it (AdapterHost::service).
// Without a voice the adapter passes audio through unchanged.
//
// C++17, header-only, no engine headers, no exceptions.
#pragma once

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "voiceskin.hpp"

namespace voiceskin {

/// Godot's AudioFrame layout: one stereo frame.
struct StereoFrame {
    float left;
    float right;
};
static_assert(sizeof(StereoFrame) == 2 * sizeof(float), "StereoFrame must be two packed floats");
static_assert(std::atomic<float>::is_always_lock_free && std::atomic<uint64_t>::is_always_lock_free &&
                  std::atomic<uint32_t>::is_always_lock_free && std::atomic<void *>::is_always_lock_free,
              "the adapter's hand-off needs lock-free atomics");

struct AdapterConfig {
    uint32_t sample_rate = 48000;     ///< host rate (Hz)
    uint32_t channels = 2;            ///< expected channel count, 1..8
    uint32_t max_block_frames = 1024; ///< typical largest buffer (sizes scratch)
    float voice_fade_ms = 10.0f;      ///< crossfade when the voice changes
    float voice_warmup_ms = 100.0f;   ///< a new voice runs this long (plus its
                                      ///< latency) before it is faded in
};

class VoiceSkinAdapter {
public:
    static constexpr uint32_t kMaxChannels = 8;

    /// [control] Allocates all scratch memory the audio path will use.
    explicit VoiceSkinAdapter(const AdapterConfig &cfg = AdapterConfig())
        : cfg_(sanitize(cfg)), channels_(cfg_.channels) {
        scratch_.assign(size_t(cfg_.max_block_frames) * kMaxChannels, 0.0f);
        const uint32_t fade = std::max<uint32_t>(
            1, uint32_t(std::lround(double(cfg_.voice_fade_ms) * 1e-3 * cfg_.sample_rate)));
        fade_.resize(fade);
        const double pi = 3.14159265358979323846;
        for (uint32_t i = 0; i < fade; ++i)  // raised cosine, 0 -> 1
            fade_[i] = float(0.5 - 0.5 * std::cos(pi * (double(i) + 0.5) / double(fade)));
        warmup_extra_ = uint32_t(std::lround(double(cfg_.voice_warmup_ms) * 1e-3 * cfg_.sample_rate));
    }
    /// [control] The engine must have stopped calling process().
    ~VoiceSkinAdapter() {
        delete pending_.exchange(nullptr);
        delete retired_.exchange(nullptr);
        delete cur_;
        delete old_;
    }
    VoiceSkinAdapter(const VoiceSkinAdapter &) = delete;
    VoiceSkinAdapter &operator=(const VoiceSkinAdapter &) = delete;

    const AdapterConfig &config() const { return cfg_; }
    /// Length of the voice-change crossfade, in host frames.
    uint32_t fade_frames() const { return uint32_t(fade_.size()); }
    /// Warm-up a new voice gets on top of its latency before the crossfade.
    uint32_t warmup_extra_frames() const { return warmup_extra_; }

    // ------------------------------------------------ [any thread] parameters
    /// Requested tier index (clamped to the voice's tier count when applied).
    void set_tier(uint32_t tier) { tier_.store(tier, std::memory_order_relaxed); }
    uint32_t tier() const { return tier_.load(std::memory_order_relaxed); }
    /// Wet amount 0..1; false (and no change) for anything else or NaN.
    bool set_mix(float wet) {
        if (!(wet >= 0.0f && wet <= 1.0f)) return false;
        mix_.store(wet, std::memory_order_relaxed);
        return true;
    }
    float mix() const { return mix_.load(std::memory_order_relaxed); }
    void set_bypass(bool on) { bypass_.store(on, std::memory_order_relaxed); }
    bool bypass() const { return bypass_.load(std::memory_order_relaxed); }
    /// Asks the control thread (AdapterHost::service) for the voice with this
    /// key (voice_key(id) by default; 0 = no voice). Real-time safe.
    void request_voice(uint64_t key) { requested_.store(key, std::memory_order_relaxed); }
    uint64_t requested_voice() const { return requested_.load(std::memory_order_relaxed); }
    /// Latency in host frames of the voice the audio thread uses now (0
    /// without one). Constant per voice; same for every tier.
    uint32_t latency_frames() const { return latency_.load(std::memory_order_relaxed); }
    /// Key of the voice the audio thread uses now (0 = none yet).
    uint64_t active_voice() const { return active_.load(std::memory_order_relaxed); }
    /// Channel count of the latest buffer (0 before the first).
    uint32_t seen_channels() const { return seen_channels_.load(std::memory_order_relaxed); }

    // ------------------------------------------------------------- [control]
    // Calls in this group must not overlap each other (one control thread, or
    // AdapterHost's lock); they may overlap process().

    /// Creates a voice of `bundle` for this adapter's rate and channel count,
    /// starting at the current tier/mix/bypass, and publishes it under `key`
    /// to the audio thread. On failure the current voice stays, the failure
    /// is remembered (needs_service() is false for it) and the status is
    /// returned. Does not touch the request: a newer request_voice() made
    /// meanwhile is still served next time. Call request_voice(key) first
    /// when an AdapterHost services this adapter.
    vsk_status load_voice(const Bundle &bundle, uint64_t key) {
        collect();
        uint32_t ch = wanted_channels();
        vsk_voice_config c;
        vsk_voice_config_init(&c);
        c.sample_rate = cfg_.sample_rate;
        c.channels = ch;
        c.max_block_frames = cfg_.max_block_frames;
        const uint32_t tc = bundle.tier_count();
        const uint32_t t = tier();
        c.initial_tier = tc ? std::min(t, tc - 1) : 0;
        c.mix = mix();
        c.bypass = bypass() ? 1u : 0u;
        vsk_status st = VSK_ERR_NOT_FOUND;
        Voice v = bundle ? Voice::create(bundle, c, &st) : Voice();
        published_key_ = key;
        if (st != VSK_OK) {
            failed_key_ = key;
            failed_channels_ = ch;
            last_status_ = st;
            return st;
        }
        Slot *s = new Slot();
        s->latency = v.latency();
        s->voice = std::move(v);
        s->key = key;
        s->channels = ch;
        s->tier_count = tc;
        s->tier = t;
        s->mix = c.mix;
        s->bypass = c.bypass != 0;
        publish(s, ch);
        failed_key_ = 0;
        last_status_ = VSK_OK;
        return VSK_OK;
    }
    /// Publishes "no voice": the audio fades back to the dry input.
    void unload_voice() {
        collect();
        Slot *s = new Slot();
        published_key_ = 0;
        publish(s, wanted_channels());
    }
    /// Destroys the voice the audio thread swapped out, if any.
    void collect() { delete retired_.exchange(nullptr, std::memory_order_acquire); }
    /// True when the requested voice or the channel count differs from what
    /// was last published (and that combination has not just failed).
    bool needs_service() const {
        const uint64_t want = requested_voice();
        const uint32_t ch = wanted_channels();
        if (want == failed_key_ && want != 0 && ch == failed_channels_) return false;
        return want != published_key_ || (want != 0 && ch != published_channels_);
    }
    /// Lets a voice that failed to load be tried again (the host calls this
    /// when its registry changed).
    void forget_failure() { failed_key_ = 0; }
    /// Status of the last load_voice (VSK_OK after a success).
    vsk_status last_status() const { return last_status_; }
    /// The channel count a voice built now would have.
    uint32_t wanted_channels() const {
        uint32_t s = seen_channels();
        return (s >= 1 && s <= kMaxChannels) ? s : channels_;
    }

    // ---------------------------------------------------------------- [audio]
    /// Converts `frames` interleaved frames of `channels` channels. `in == out`
    /// is allowed. No allocation, lock or free.
    void process(const float *in, float *out, uint32_t frames, uint32_t channels) noexcept {
        if (frames == 0) return;
        if (channels != seen_cache_) {
            seen_cache_ = channels;
            seen_channels_.store(channels, std::memory_order_relaxed);
        }
        take_pending();
        started_ = true;
        const bool fits = channels >= 1 && channels <= kMaxChannels && (!cur_ || cur_->channels == channels) &&
                          (!old_ || old_->channels == channels);
        if (!fits) {
            copy(in, out, size_t(frames) * channels);
            return;
        }
        apply_params(cur_);
        if (!fading_) {
            run(cur_, in, out, frames, channels);
            return;
        }
        uint32_t done = 0;
        while (done < frames && fading_) {
            const uint32_t n = std::min(frames - done, cfg_.max_block_frames);
            const size_t off = size_t(done) * channels;
            run(cur_, in + off, scratch_.data(), n, channels);  // new voice first: in may alias out
            run(old_, in + off, out + off, n, channels);
            float *o = out + off;
            const float *w = scratch_.data();
            for (uint32_t i = 0; i < n; ++i, o += channels, w += channels) {
                if (warm_left_ > 0) {
                    --warm_left_;  // the new voice warms up; the old one is heard
                } else if (fade_pos_ < fade_.size()) {
                    const float g = fade_[fade_pos_++];
                    for (uint32_t c = 0; c < channels; ++c) o[c] = o[c] * (1.0f - g) + w[c] * g;
                } else {
                    for (uint32_t c = 0; c < channels; ++c) o[c] = w[c];
                }
            }
            if (warm_left_ == 0 && fade_pos_ >= fade_.size()) finish_fade();
            done += n;
        }
        if (done < frames)
            run(cur_, in + size_t(done) * channels, out + size_t(done) * channels, frames - done, channels);
    }
    /// Godot: stereo AudioFrame buffers.
    void process_stereo(const StereoFrame *in, StereoFrame *out, uint32_t frames) noexcept {
        process(reinterpret_cast<const float *>(in), reinterpret_cast<float *>(out), frames, 2);
    }
    /// Clears the streaming state of the current voice (vsk_voice_reset) and
    /// ends a voice crossfade at once. [audio]
    void reset() noexcept {
        if (fading_) finish_fade();
        if (cur_ && cur_->voice) vsk_voice_reset(cur_->voice.get());
    }

private:
    struct Slot {
        Voice voice;  // empty: "no voice" (dry)
        uint64_t key = 0;
        uint32_t channels = 0;
        uint32_t latency = 0;
        uint32_t tier_count = 0;
        uint32_t tier = 0;  // what the voice was created with
        float mix = 1.0f;
        bool bypass = false;
    };

    static AdapterConfig sanitize(AdapterConfig c) {
        c.channels = std::min<uint32_t>(std::max<uint32_t>(c.channels, 1), kMaxChannels);
        c.max_block_frames = std::min<uint32_t>(std::max<uint32_t>(c.max_block_frames, 1), 65536);
        if (!(c.voice_fade_ms >= 0.0f)) c.voice_fade_ms = 0.0f;
        if (!(c.voice_warmup_ms >= 0.0f)) c.voice_warmup_ms = 0.0f;
        return c;
    }

    void publish(Slot *s, uint32_t ch) {
        s->channels = ch;
        published_channels_ = ch;
        channels_ = ch;
        delete pending_.exchange(s, std::memory_order_acq_rel);  // never seen by the audio thread
    }

    static void copy(const float *in, float *out, size_t n) {
        if (in != out) std::memmove(out, in, n * sizeof(float));
    }

    void run(Slot *s, const float *in, float *out, uint32_t frames, uint32_t channels) noexcept {
        if (s && s->voice && vsk_voice_process(s->voice.get(), in, out, frames) == VSK_OK) return;
        copy(in, out, size_t(frames) * channels);
    }

    // Swaps in a published voice at a buffer start. Only one swap is in
    // flight: it waits while a crossfade runs or the last retiree is uncollected.
    void take_pending() noexcept {
        if (fading_ || pending_.load(std::memory_order_relaxed) == nullptr) return;
        if (retired_.load(std::memory_order_acquire) != nullptr) return;
        Slot *s = pending_.exchange(nullptr, std::memory_order_acq_rel);
        if (!s) return;
        applied_tier_ = s->tier;
        applied_mix_ = s->mix;
        applied_bypass_ = s->bypass;
        latency_.store(s->latency, std::memory_order_relaxed);
        active_.store(s->key, std::memory_order_relaxed);
        const bool had_audio = started_ && (cur_ ? bool(cur_->voice) : false);
        const bool gets_audio = bool(s->voice);
        if (!started_ || (!had_audio && !gets_audio) || s->channels != (cur_ ? cur_->channels : s->channels)) {
            // Before the first buffer (or nothing audible changes): swap at once.
            if (cur_) retired_.store(cur_, std::memory_order_release);
            cur_ = s;
            return;
        }
        old_ = cur_;  // may be nullptr: fade from the dry input
        cur_ = s;
        fading_ = true;
        fade_pos_ = 0;
        warm_left_ = gets_audio ? s->latency + warmup_extra_ : 0;
    }

    void finish_fade() noexcept {
        fading_ = false;
        warm_left_ = 0;
        fade_pos_ = uint32_t(fade_.size());
        if (old_) retired_.store(old_, std::memory_order_release);  // empty: checked in take_pending
        old_ = nullptr;
    }

    void apply_params(Slot *s) noexcept {
        if (!s || !s->voice) return;
        vsk_voice *v = s->voice.get();
        const uint32_t t = tier();
        if (t != applied_tier_) {
            applied_tier_ = t;
            vsk_voice_set_tier(v, s->tier_count ? std::min(t, s->tier_count - 1) : 0);
        }
        const float m = mix();
        if (m != applied_mix_) {
            applied_mix_ = m;
            vsk_voice_set_mix(v, m);
        }
        const bool b = bypass();
        if (b != applied_bypass_) {
            applied_bypass_ = b;
            vsk_voice_set_bypass(v, b ? 1 : 0);
        }
    }

    const AdapterConfig cfg_;

    // shared between threads
    std::atomic<uint32_t> tier_{0};
    std::atomic<float> mix_{1.0f};
    std::atomic<bool> bypass_{false};
    std::atomic<uint64_t> requested_{0};
    std::atomic<uint64_t> active_{0};
    std::atomic<uint32_t> latency_{0};
    std::atomic<uint32_t> seen_channels_{0};
    std::atomic<Slot *> pending_{nullptr};
    std::atomic<Slot *> retired_{nullptr};

    // control thread only
    uint32_t channels_;
    uint64_t published_key_ = 0;
    uint32_t published_channels_ = 0;
    uint64_t failed_key_ = 0;
    uint32_t failed_channels_ = 0;
    vsk_status last_status_ = VSK_OK;

    // audio thread only
    Slot *cur_ = nullptr;
    Slot *old_ = nullptr;
    bool started_ = false;
    bool fading_ = false;
    uint32_t warm_left_ = 0;
    uint32_t fade_pos_ = 0;
    uint32_t seen_cache_ = 0;
    uint32_t applied_tier_ = 0;
    float applied_mix_ = 1.0f;
    bool applied_bypass_ = false;
    uint32_t warmup_extra_ = 0;
    std::vector<float> scratch_;  // max_block_frames * kMaxChannels
    std::vector<float> fade_;     // crossfade gains 0 -> 1
};

}  // namespace voiceskin
