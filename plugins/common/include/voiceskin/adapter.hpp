// adapter.hpp — the engine-independent part of every voiceskin engine plugin.
//
// One VoiceSkinAdapter sits behind one engine effect instance (an Unreal
// submix/source effect, a Godot AudioEffectInstance). It owns the voices
// that convert that effect's audio; the switching itself is the library's
// voice switcher (vsk_switcher in voiceskin.h, the one implementation every
// engine adapter runs):
//
//   game / control thread                      audio thread
//   ---------------------                      ------------
//   set_tier / set_mix / set_bypass  --atomics-->  applied to every voice
//   set_cpu_budget (dynamic quality)
//   request_voice(key)                             at the next process()
//   load_voice(bundle) creates a vsk_voice
//     and lends it (vsk_switcher_publish) ---->  taken at a buffer start;
//                                                 warm-up + equal-power
//   collect() destroys what the switcher          crossfade (VSK_SWITCH_FADE_MS)
//     hands back (vsk_switcher_collect) <-----    from the old voice, which
//                                                 is then retired (never
//                                                 freed on the audio thread)
//
// process() never allocates, locks or frees: the switcher's memory is
// allocated in the constructor, voices are created and destroyed on the
// control thread. Buffers are interleaved float, any frame count (longer
// than max_block_frames is fine), 1..8 channels, in place allowed; a Godot
// AudioFrame buffer ({float left, right} pairs) is stereo interleaved float.
//
// A buffer whose channel count differs from the voice's (a submix whose
// layout changed) passes through unchanged, and the count is reported to the
// control thread, which rebuilds the voice for it (AdapterHost::service); the
// rebuilt voice is taken at once. Without a voice the adapter passes audio
// through unchanged.
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
    float voice_warmup_ms = 100.0f;   ///< a new voice runs this long (plus its
                                      ///< latency) before it is faded in
                                      ///< (whole ms, at most 4000)
    uint32_t schedule = VSK_SCHEDULE_LOW_LATENCY; ///< every voice's
                                      ///< vsk_voice_config.schedule:
                                      ///< VSK_SCHEDULE_EVEN = buffers of
                                      ///< equal cost, one model hop (~4 ms)
                                      ///< more latency (docs/abi.md)
};

class VoiceSkinAdapter {
public:
    static constexpr uint32_t kMaxChannels = 8;

    /// [control] Creates the switcher (all memory the audio path will use).
    explicit VoiceSkinAdapter(const AdapterConfig &cfg = AdapterConfig())
        : cfg_(sanitize(cfg)), channels_(cfg_.channels) {
        vsk_switcher_config c;
        vsk_switcher_config_init(&c);
        c.sample_rate = cfg_.sample_rate;
        c.max_channels = kMaxChannels;
        c.max_block_frames = cfg_.max_block_frames;
        c.warmup_ms = uint32_t(std::lround(cfg_.voice_warmup_ms));
        if (vsk_switcher_create(&c, &sw_) != VSK_OK) sw_ = nullptr;  // then audio passes through
        set_tier(0);
        set_mix(1.0f);
        set_bypass(false);
    }
    /// [control] The engine must have stopped calling process().
    ~VoiceSkinAdapter() {
        if (sw_) vsk_switcher_retire_all(sw_);
        collect();
        vsk_switcher_destroy(sw_);
    }
    VoiceSkinAdapter(const VoiceSkinAdapter &) = delete;
    VoiceSkinAdapter &operator=(const VoiceSkinAdapter &) = delete;

    const AdapterConfig &config() const { return cfg_; }
    /// Length of the voice-change crossfade, in host frames (VSK_SWITCH_FADE_MS).
    uint32_t fade_frames() const {
        return std::max<uint32_t>(1, uint32_t(std::lround(VSK_SWITCH_FADE_MS * 1e-3 * cfg_.sample_rate)));
    }
    /// Warm-up a new voice gets on top of its latency before the crossfade.
    uint32_t warmup_extra_frames() const {
        return uint32_t(std::lround(std::lround(cfg_.voice_warmup_ms) * 1e-3 * cfg_.sample_rate));
    }

    // ------------------------------------------------ [any thread] parameters
    /// Requested tier index (clamped to each voice's tier count when applied).
    void set_tier(uint32_t tier) {
        tier_.store(tier, std::memory_order_relaxed);
        if (sw_) vsk_switcher_set_tier(sw_, std::min<uint32_t>(tier, 0xFFFFu));
    }
    uint32_t tier() const { return tier_.load(std::memory_order_relaxed); }
    /// Wet amount 0..1; false (and no change) for anything else or NaN.
    bool set_mix(float wet) {
        if (!(wet >= 0.0f && wet <= 1.0f)) return false;
        mix_.store(wet, std::memory_order_relaxed);
        if (sw_) vsk_switcher_set_mix(sw_, wet);
        return true;
    }
    float mix() const { return mix_.load(std::memory_order_relaxed); }
    void set_bypass(bool on) {
        bypass_.store(on, std::memory_order_relaxed);
        if (sw_) vsk_switcher_set_bypass(sw_, on ? 1u : 0u);
    }
    bool bypass() const { return bypass_.load(std::memory_order_relaxed); }
    /// CPU budget per voice, fraction of one core (0 = off): each voice
    /// times its own processing and steps its tier down (or back up, never
    /// above tier()) through the usual crossfade ("dynamic quality",
    /// vsk_voice_set_cpu_budget). false (and no change) for NaN, < 0 or > 1.
    bool set_cpu_budget(float fraction) {
        if (!(fraction >= 0.0f && fraction <= 1.0f)) return false;
        cpu_budget_.store(fraction, std::memory_order_relaxed);
        if (sw_) vsk_switcher_set_cpu_budget(sw_, fraction);
        return true;
    }
    float cpu_budget() const { return cpu_budget_.load(std::memory_order_relaxed); }
    /// The heard voice's tiers and the governor's decision (governed_tier,
    /// cpu_load) as of the last buffer; false without a voice.
    bool tier_state(vsk_tier_state *out) const {
        out->struct_size = sizeof *out;
        return sw_ && vsk_switcher_get_tier_state(sw_, out) == VSK_OK;
    }
    /// Asks the control thread (AdapterHost::service) for the voice with this
    /// key (voice_key(id) by default; 0 = no voice). Real-time safe.
    void request_voice(uint64_t key) { requested_.store(key, std::memory_order_relaxed); }
    uint64_t requested_voice() const { return requested_.load(std::memory_order_relaxed); }
    /// Latency in host frames of the voice the audio thread uses now (0
    /// without one). Constant per voice; same for every tier.
    uint32_t latency_frames() const { return state().latency_frames; }
    /// Key of the voice the audio thread uses now (0 = none yet).
    uint64_t active_voice() const { return state().tag; }
    /// True while a new voice warms up or crossfades in.
    bool switching() const { return state().switching != 0; }
    /// Channel count of the latest buffer (0 before the first).
    uint32_t seen_channels() const { return seen_channels_.load(std::memory_order_relaxed); }

    // ------------------------------------------------------------- [control]
    // Calls in this group must not overlap each other (one control thread, or
    // AdapterHost's lock); they may overlap process().

    /// Creates a voice of `bundle` for this adapter's rate and channel count,
    /// starting at the current tier/mix/bypass, and lends it under `key` to
    /// the switcher. On failure the current voice stays, the failure is
    /// remembered (needs_service() is false for it) and the status is
    /// returned. Does not touch the request: a newer request_voice() made
    /// meanwhile is still served next time. Call request_voice(key) first
    /// when an AdapterHost services this adapter.
    /// `shared` (may be null) is a CPU budget the voice joins (the host's
    /// registry budget, AdapterHost::set_cpu_budget).
    vsk_status load_voice(const Bundle &bundle, uint64_t key, vsk_cpu_budget *shared = nullptr) {
        collect();
        uint32_t ch = wanted_channels();
        vsk_voice_config c;
        vsk_voice_config_init(&c);
        c.sample_rate = cfg_.sample_rate;
        c.channels = ch;
        c.max_block_frames = cfg_.max_block_frames;
        const uint32_t tc = bundle.tier_count();
        c.initial_tier = tc ? std::min(tier(), tc - 1) : 0;
        c.mix = mix();
        c.bypass = bypass() ? 1u : 0u;
        c.cpu_budget = cpu_budget();
        c.shared_budget = shared;
        c.schedule = cfg_.schedule;
        vsk_status st = sw_ ? VSK_ERR_NOT_FOUND : VSK_ERR_BAD_STATE;
        Voice v = bundle && sw_ ? Voice::create(bundle, c, &st) : Voice();
        published_key_ = key;
        if (st == VSK_OK) st = vsk_switcher_publish(sw_, v.get(), key);
        if (st != VSK_OK) {
            failed_key_ = key;
            failed_channels_ = ch;
            last_status_ = st;
            return st;
        }
        lent_.push_back(std::move(v));
        published(ch);
        failed_key_ = 0;
        last_status_ = VSK_OK;
        return VSK_OK;
    }
    /// Lends "no voice": the audio fades back to the dry input.
    void unload_voice() {
        collect();
        published_key_ = 0;
        if (sw_) vsk_switcher_publish(sw_, nullptr, 0);
        published(wanted_channels());
    }
    /// Destroys the voices the switcher handed back, if any.
    void collect() {
        vsk_voice *v = nullptr;
        while (sw_ && vsk_switcher_collect(sw_, &v, nullptr) == VSK_OK)
            for (size_t i = 0; i < lent_.size(); ++i)
                if (lent_[i].get() == v) {
                    lent_.erase(lent_.begin() + std::ptrdiff_t(i));
                    break;
                }
    }
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
        if (sw_) {
            vsk_switcher_process(sw_, in, out, frames, channels);
        } else if (in != out) {
            std::memmove(out, in, size_t(frames) * channels * sizeof(float));
        }
    }
    /// Godot: stereo AudioFrame buffers.
    void process_stereo(const StereoFrame *in, StereoFrame *out, uint32_t frames) noexcept {
        process(reinterpret_cast<const float *>(in), reinterpret_cast<float *>(out), frames, 2);
    }
    /// Ends a voice crossfade at once and clears the streaming state of the
    /// current voice (vsk_switcher_reset). [audio]
    void reset() noexcept {
        if (sw_) vsk_switcher_reset(sw_);
    }

private:
    static AdapterConfig sanitize(AdapterConfig c) {
        c.channels = std::min<uint32_t>(std::max<uint32_t>(c.channels, 1), kMaxChannels);
        c.max_block_frames = std::min<uint32_t>(std::max<uint32_t>(c.max_block_frames, 1), 65536);
        if (!(c.voice_warmup_ms >= 0.0f)) c.voice_warmup_ms = 0.0f;
        if (c.voice_warmup_ms > 4000.0f) c.voice_warmup_ms = 4000.0f;
        if (c.schedule > VSK_SCHEDULE_EVEN) c.schedule = VSK_SCHEDULE_LOW_LATENCY;
        return c;
    }

    vsk_switcher_state state() const {
        vsk_switcher_state s{};
        s.struct_size = sizeof s;
        if (sw_) vsk_switcher_get_state(sw_, &s);
        return s;
    }

    void published(uint32_t ch) {
        published_channels_ = ch;
        channels_ = ch;
    }

    const AdapterConfig cfg_;
    vsk_switcher *sw_ = nullptr;

    // shared between threads
    std::atomic<uint32_t> tier_{0};
    std::atomic<float> mix_{1.0f};
    std::atomic<bool> bypass_{false};
    std::atomic<float> cpu_budget_{0.0f};
    std::atomic<uint64_t> requested_{0};
    std::atomic<uint32_t> seen_channels_{0};

    // control thread only
    std::vector<Voice> lent_;  // voices the switcher holds (until collected)
    uint32_t channels_;
    uint64_t published_key_ = 0;
    uint32_t published_channels_ = 0;
    uint64_t failed_key_ = 0;
    uint32_t failed_channels_ = 0;
    vsk_status last_status_ = VSK_OK;

    // audio thread only
    uint32_t seen_cache_ = 0;
};

}  // namespace voiceskin
