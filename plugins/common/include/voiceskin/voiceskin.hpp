// voiceskin.hpp — RAII wrappers of the libvoiceskin C ABI (native/include/voiceskin.h)
// for engine adapters. C++17, header-only, no engine headers, no exceptions
// (Unreal and godot-cpp build with exceptions off): every fallible call
// returns a vsk_status, and objects are empty (`!obj`) when creation failed.
//
// Threading follows docs/abi.md: opening, creating and destroying are
// [control]; Bundle info getters are [any].
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "voiceskin.h"

namespace voiceskin {

/// "VSK_ERR_CHECKSUM: integrity checksum mismatch" for log lines.
inline std::string status_text(vsk_status s) {
    std::string t = vsk_status_name(s);
    t += ": ";
    t += vsk_status_string(s);
    return t;
}

/// FNV-1a 64-bit of a UTF-8 voice ID: the default key the adapter uses to
/// name a voice across threads (a plain integer fits in an atomic). Never 0,
/// which means "no voice".
inline uint64_t voice_key(const char *voice_id) {
    uint64_t h = 1469598103934665603ull;
    for (const unsigned char *p = reinterpret_cast<const unsigned char *>(voice_id); p && *p; ++p) {
        h ^= *p;
        h *= 1099511628211ull;
    }
    return h ? h : 1;
}

struct TierInfo {
    uint32_t index = 0;
    std::string name;
    uint32_t model_sample_rate = 0;
    uint32_t hop_samples = 0;
    uint32_t latency_samples = 0;
    uint64_t parameter_count = 0;
    uint64_t flops_per_second = 0;   ///< the manifest's estimate (informative)
    uint64_t cost_per_second = 0;    ///< worst case computed by the library
};

/// A shared reference to an immutable bundle (copy = vsk_bundle_retain).
class Bundle {
public:
    Bundle() = default;
    /// Adopts one reference the caller owns (e.g. from vsk_bundle_open_*).
    static Bundle adopt(vsk_bundle *b) { Bundle r; r.b_ = b; return r; }
    /// Adds a reference to a borrowed pointer (e.g. from vsk_registry_get).
    static Bundle retain(vsk_bundle *b) {
        if (b) vsk_bundle_retain(b);
        return adopt(b);
    }
    static Bundle open_file(const char *utf8_path, vsk_status *status = nullptr) {
        vsk_bundle *b = nullptr;
        vsk_status s = vsk_bundle_open_file(utf8_path, &b);
        if (status) *status = s;
        return adopt(s == VSK_OK ? b : nullptr);
    }
    static Bundle open_memory(const void *data, size_t size, vsk_status *status = nullptr) {
        vsk_bundle *b = nullptr;
        vsk_status s = vsk_bundle_open_memory(data, size, &b);
        if (status) *status = s;
        return adopt(s == VSK_OK ? b : nullptr);
    }

    Bundle(const Bundle &o) : b_(o.b_) { if (b_) vsk_bundle_retain(b_); }
    Bundle(Bundle &&o) noexcept : b_(std::exchange(o.b_, nullptr)) {}
    Bundle &operator=(Bundle o) noexcept { std::swap(b_, o.b_); return *this; }
    ~Bundle() {
        if (b_) vsk_bundle_release(b_);  // no library call for an empty handle
    }

    explicit operator bool() const { return b_ != nullptr; }
    vsk_bundle *get() const { return b_; }

    std::string voice_id() const { return info_string(&vsk_bundle_info::voice_id); }
    std::string display_name() const { return info_string(&vsk_bundle_info::display_name); }
    std::string version() const { return info_string(&vsk_bundle_info::version); }
    uint32_t tier_count() const {
        vsk_bundle_info i{};
        i.struct_size = sizeof i;
        return b_ && vsk_bundle_get_info(b_, &i) == VSK_OK ? i.tier_count : 0;
    }
    std::vector<TierInfo> tiers() const {
        std::vector<TierInfo> out;
        for (uint32_t k = 0, n = tier_count(); k < n; ++k) {
            vsk_tier_info t{};
            t.struct_size = sizeof t;
            if (vsk_bundle_get_tier_info(b_, k, &t) != VSK_OK) break;
            out.push_back(TierInfo{k, t.name ? t.name : "", t.model_sample_rate, t.hop_samples,
                                   t.latency_samples, t.parameter_count, t.flops_per_second,
                                   t.cost_per_second});
        }
        return out;
    }
    /// Tier index by name, or VSK_ERR_NOT_FOUND.
    vsk_status find_tier(const char *name, uint32_t *out_index) const {
        return vsk_bundle_find_tier(b_, name, out_index);
    }

private:
    std::string info_string(const char *vsk_bundle_info::*field) const {
        vsk_bundle_info i{};
        i.struct_size = sizeof i;
        if (!b_ || vsk_bundle_get_info(b_, &i) != VSK_OK || !(i.*field)) return {};
        return i.*field;
    }
    vsk_bundle *b_ = nullptr;
};

/// Sole owner of one vsk_voice (move-only). Use it on the control thread;
/// the adapter hands the raw pointer to the audio thread.
class Voice {
public:
    Voice() = default;
    static Voice create(const Bundle &bundle, const vsk_voice_config &cfg,
                        vsk_status *status = nullptr) {
        vsk_voice *v = nullptr;
        vsk_status s = bundle ? vsk_voice_create(bundle.get(), &cfg, &v) : VSK_ERR_INVALID_ARGUMENT;
        if (status) *status = s;
        Voice r;
        r.v_ = s == VSK_OK ? v : nullptr;
        return r;
    }
    Voice(Voice &&o) noexcept : v_(std::exchange(o.v_, nullptr)) {}
    Voice &operator=(Voice &&o) noexcept { std::swap(v_, o.v_); return *this; }
    Voice(const Voice &) = delete;
    Voice &operator=(const Voice &) = delete;
    ~Voice() {
        if (v_) vsk_voice_destroy(v_);
    }

    explicit operator bool() const { return v_ != nullptr; }
    vsk_voice *get() const { return v_; }
    vsk_voice *release() { return std::exchange(v_, nullptr); }
    uint32_t latency() const {
        uint32_t l = 0;
        return v_ && vsk_voice_get_latency(v_, &l) == VSK_OK ? l : 0;
    }

private:
    vsk_voice *v_ = nullptr;
};

/// Owns a vsk_registry (move-only). All calls are [control] and must not
/// overlap; AdapterHost serialises them.
class Registry {
public:
    static Registry create(uint32_t max_voices = 0, vsk_status *status = nullptr) {
        vsk_registry_config c;
        vsk_registry_config_init(&c);
        c.max_voices = max_voices;
        vsk_registry *r = nullptr;
        vsk_status s = vsk_registry_create(&c, &r);
        if (status) *status = s;
        Registry out;
        out.r_ = s == VSK_OK ? r : nullptr;
        return out;
    }
    Registry() = default;
    Registry(Registry &&o) noexcept : r_(std::exchange(o.r_, nullptr)) {}
    Registry &operator=(Registry &&o) noexcept { std::swap(r_, o.r_); return *this; }
    Registry(const Registry &) = delete;
    Registry &operator=(const Registry &) = delete;
    ~Registry() {
        if (r_) vsk_registry_destroy(r_);
    }

    explicit operator bool() const { return r_ != nullptr; }
    vsk_registry *get() const { return r_; }

    vsk_status scan_folder(const char *utf8_folder, uint32_t *added, uint32_t *skipped) {
        uint32_t a = 0, s = 0;
        vsk_status st = vsk_registry_scan_folder(r_, utf8_folder, &a, &s);
        if (added) *added = st == VSK_OK ? a : 0;
        if (skipped) *skipped = st == VSK_OK ? s : 0;
        return st;
    }
    vsk_status add_file(const char *utf8_path, uint32_t *index = nullptr) {
        uint32_t i = 0;
        vsk_status st = vsk_registry_add_file(r_, utf8_path, &i);
        if (st == VSK_OK && index) *index = i;
        return st;
    }
    vsk_status add_bundle(const Bundle &b, uint32_t *index = nullptr) {
        uint32_t i = 0;
        vsk_status st = vsk_registry_add_bundle(r_, b.get(), &i);
        if (st == VSK_OK && index) *index = i;
        return st;
    }
    /// The registry's CPU budget (vsk_registry_get_cpu_budget): voices made
    /// with vsk_voice_config.shared_budget = cpu_budget() share it by need.
    vsk_cpu_budget *cpu_budget() const {
        vsk_cpu_budget *b = nullptr;
        return r_ && vsk_registry_get_cpu_budget(r_, &b) == VSK_OK ? b : nullptr;
    }
    /// Sets it, in cores (0 = off). [any-rt]
    vsk_status set_cpu_budget(float cores) { return vsk_registry_set_cpu_budget(r_, cores); }
    /// Drops a voice (DLC unload, hot reload); later indexes move down.
    vsk_status remove(const char *voice_id) { return vsk_registry_remove(r_, voice_id); }
    uint32_t count() const {
        uint32_t n = 0;
        return r_ && vsk_registry_count(r_, &n) == VSK_OK ? n : 0;
    }
    /// The bundle at `index`, with its own reference (empty if out of range).
    Bundle at(uint32_t index) const {
        vsk_bundle *b = nullptr;
        return vsk_registry_get(r_, index, &b) == VSK_OK ? Bundle::retain(b) : Bundle();
    }
    Bundle find(const char *voice_id) const {
        uint32_t i = 0;
        return vsk_registry_find(r_, voice_id, &i) == VSK_OK ? at(i) : Bundle();
    }

private:
    vsk_registry *r_ = nullptr;
};

}  // namespace voiceskin
