// host.hpp — the engine-independent core of a plugin's "subsystem": owns the
// registry of bundles, lists voices and tiers for the engine's UI, and
// services adapters on the control (game) thread: when an adapter's audio
// thread asked for another voice (VoiceSkinAdapter::request_voice) or saw a
// new channel count, service() creates the voice and publishes it.
//
// Every method takes a lock and may allocate: call them from the game thread
// or at effect creation, never from process(). C++17, no engine headers, no
// exceptions.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "adapter.hpp"
#include "voiceskin.hpp"

namespace voiceskin {

struct VoiceEntry {
    std::string voice_id;
    std::string display_name;
    std::string version;
    uint64_t key = 0;
    std::vector<TierInfo> tiers;  ///< lowest quality first
};

class AdapterHost {
public:
    /// Maps a UTF-8 voice ID to the key adapters carry (never 0 for a real ID).
    using KeyFn = uint64_t (*)(const char *voice_id);

    explicit AdapterHost(KeyFn key_fn = &voice_key, uint32_t max_voices = 0)
        : key_fn_(key_fn ? key_fn : &voice_key), reg_(Registry::create(max_voices, &create_status_)) {}

    /// VSK_OK unless the registry could not be created.
    vsk_status status() const { return create_status_; }

    // ------------------------------------------------------------- bundles
    /// Adds every *.vskin directly inside `folder` (see vsk_registry_scan_folder).
    vsk_status scan_folder(const char *utf8_folder, uint32_t *added = nullptr, uint32_t *skipped = nullptr) {
        std::lock_guard<std::mutex> g(reg_mu_);
        if (!reg_) return create_status_;
        uint32_t a = 0;
        vsk_status st = reg_.scan_folder(utf8_folder, &a, skipped);
        if (added) *added = a;
        if (a) ++generation_;
        return st;
    }
    vsk_status add_file(const char *utf8_path) {
        std::lock_guard<std::mutex> g(reg_mu_);
        if (!reg_) return create_status_;
        return changed(reg_.add_file(utf8_path));
    }
    /// Adds a bundle from bytes (copied), e.g. read through an engine's
    /// virtual file system (Godot's res:// inside a .pck).
    vsk_status add_memory(const void *data, size_t size) {
        std::lock_guard<std::mutex> g(reg_mu_);
        if (!reg_) return create_status_;
        uint32_t index = 0;
        return changed(vsk_registry_add_memory(reg_.get(), data, size, &index));
    }
    vsk_status add_bundle(const Bundle &b) {
        std::lock_guard<std::mutex> g(reg_mu_);
        if (!reg_) return create_status_;
        return changed(reg_.add_bundle(b));
    }
    /// Every registered voice, in registry order (for menus).
    std::vector<VoiceEntry> voices() const {
        std::lock_guard<std::mutex> g(reg_mu_);
        std::vector<VoiceEntry> out;
        for (uint32_t i = 0, n = reg_.count(); i < n; ++i) {
            Bundle b = reg_.at(i);
            if (!b) continue;
            VoiceEntry e;
            e.voice_id = b.voice_id();
            e.display_name = b.display_name();
            e.version = b.version();
            e.key = key_fn_(e.voice_id.c_str());
            e.tiers = b.tiers();
            out.push_back(std::move(e));
        }
        return out;
    }
    uint64_t key_of(const char *voice_id) const { return key_fn_(voice_id); }
    /// One CPU budget, in cores (0 = off, the default), for every voice this
    /// host loads: the registry's (vsk_registry_get_cpu_budget). Each voice
    /// governs its tier against its share, by need (voiceskin.h
    /// vsk_cpu_budget); an adapter's own set_cpu_budget still caps its voice.
    vsk_status set_cpu_budget(float cores) {
        std::lock_guard<std::mutex> g(reg_mu_);
        if (!reg_) return create_status_;
        return reg_.set_cpu_budget(cores);
    }
    /// The registry's budget: members and their summed load
    /// (vsk_cpu_budget_get). Any out-pointer may be null.
    vsk_status cpu_budget(float *cores, uint32_t *members, float *load) const {
        std::lock_guard<std::mutex> g(reg_mu_);
        if (!reg_) return create_status_;
        return vsk_cpu_budget_get(reg_.cpu_budget(), cores, members, load);
    }
    /// The registered bundle whose ID has this key (empty if none).
    Bundle find(uint64_t key) const {
        std::lock_guard<std::mutex> g(reg_mu_);
        return find_locked(key);
    }
    Bundle find(const char *voice_id) const {
        std::lock_guard<std::mutex> g(reg_mu_);
        return reg_.find(voice_id);
    }
    /// Latency in host frames of `voice_id` at this rate (same for every
    /// tier): builds a throwaway voice. Control thread.
    vsk_status latency_frames(const char *voice_id, uint32_t sample_rate, uint32_t *out_frames) const {
        Bundle b = find(voice_id);
        if (!b) return VSK_ERR_NOT_FOUND;
        vsk_voice_config c;
        vsk_voice_config_init(&c);
        c.sample_rate = sample_rate;
        vsk_status st = VSK_OK;
        Voice v = Voice::create(b, c, &st);
        if (st == VSK_OK && out_frames) *out_frames = v.latency();
        return st;
    }

    // ------------------------------------------------------------ adapters
    /// Keeps a weak reference; service() looks after the adapter until it dies.
    void attach(const std::shared_ptr<VoiceSkinAdapter> &a) {
        std::lock_guard<std::mutex> g(list_mu_);
        adapters_.push_back(a);
    }
    /// Collects retired voices and loads requested ones for every attached
    /// adapter; drops dead ones. After the registry changed, voices that
    /// failed to load are tried again. Returns how many adapters got a new voice.
    size_t service() {
        std::vector<std::shared_ptr<VoiceSkinAdapter>> live;
        {
            std::lock_guard<std::mutex> g(list_mu_);
            size_t k = 0;
            for (auto &w : adapters_) {
                if (auto a = w.lock()) {
                    live.push_back(std::move(a));
                    adapters_[k++] = w;
                }
            }
            adapters_.resize(k);
        }
        uint64_t gen;
        {
            std::lock_guard<std::mutex> g(reg_mu_);
            gen = generation_;
        }
        const bool retry = gen != serviced_generation_;
        serviced_generation_ = gen;
        size_t loaded = 0;
        for (auto &a : live) {
            if (retry) a->forget_failure();
            bool now = false;
            service(*a, &now);
            loaded += now ? 1 : 0;
        }
        return loaded;
    }
    /// Services one adapter (also usable without attach()).
    vsk_status service(VoiceSkinAdapter &a, bool *loaded = nullptr) {
        if (loaded) *loaded = false;
        std::lock_guard<std::mutex> g(reg_mu_);
        a.collect();
        if (!a.needs_service()) return VSK_OK;
        const uint64_t key = a.requested_voice();
        if (key == 0) {
            a.unload_voice();
            return VSK_OK;
        }
        Bundle b = find_locked(key);
        if (!b) {
            // Remember the failure so the adapter is not retried every tick.
            return a.load_voice(Bundle(), key);
        }
        vsk_status st = a.load_voice(b, key, reg_.cpu_budget());
        if (loaded) *loaded = st == VSK_OK;
        return st;
    }
    size_t attached() const {
        std::lock_guard<std::mutex> g(list_mu_);
        return adapters_.size();
    }

private:
    vsk_status changed(vsk_status st) {  // reg_mu_ held
        if (st == VSK_OK) ++generation_;
        return st;
    }
    Bundle find_locked(uint64_t key) const {
        for (uint32_t i = 0, n = reg_.count(); i < n; ++i) {
            Bundle b = reg_.at(i);
            if (b && key_fn_(b.voice_id().c_str()) == key) return b;
        }
        return Bundle();
    }

    KeyFn key_fn_;
    vsk_status create_status_ = VSK_OK;
    mutable std::mutex reg_mu_;
    Registry reg_;
    mutable std::mutex list_mu_;
    std::vector<std::weak_ptr<VoiceSkinAdapter>> adapters_;
    uint64_t generation_ = 0;           // registry changes (reg_mu_)
    uint64_t serviced_generation_ = 0;  // seen by service() (control thread)
};

}  // namespace voiceskin
