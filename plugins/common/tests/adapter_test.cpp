// adapter_test.cpp — drives plugins/common (VoiceSkinAdapter + AdapterHost)
// against the real libvoiceskin the way Unreal and Godot call it.
// tests/test_engine_adapters.py builds it and checks its output against the
// Python SDK.
//
//   adapter_test schedule --folder DIR --in IN.f32 --out OUT.f32 --rate R
//                         --schedule FILE [--godot] [--inplace] [--max-block N]
//                         [--even]
//       One thread. Before each block of the schedule it makes the control
//       calls of that line (set_tier/set_mix/set_bypass, request_voice, then
//       AdapterHost::service, as the game thread does once per tick), then
//       processes the block: `frames` frames of `channels` interleaved floats
//       read from IN (Godot: StereoFrame buffers through process_stereo).
//       Schedule line: frames channels tier mix bypass voice   (voice: an ID,
//       "none", or "-" for no change). Allocations inside process() are
//       counted. --even: voices on VSK_SCHEDULE_EVEN. Prints one JSON
//       object.
//
//   adapter_test threads --folder DIR --rate R --channels C --blocks N [--godot]
//       An "audio thread" processes N blocks of random size while a "game
//       thread" switches tiers, mix, bypass and voices and services the
//       adapter. Checks the output stays finite; counts allocations on the
//       audio thread. Built once more with -fsanitize=thread.
//
//   adapter_test host --folder DIR --rate R
//       Registry scan, voice/tier listing, latency, attach/service lifetime.
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "alloc_counter.hpp"
#include "voiceskin/adapter.hpp"
#include "voiceskin/host.hpp"

using voiceskin::AdapterConfig;
using voiceskin::AdapterHost;
using voiceskin::StereoFrame;
using voiceskin::VoiceSkinAdapter;

namespace {

[[noreturn]] void die(const std::string &msg) {
    std::fprintf(stderr, "adapter_test: %s\n", msg.c_str());
    std::exit(2);
}

struct Args {
    std::map<std::string, std::string> kv;
    bool has(const std::string &k) const { return kv.count(k) != 0; }
    std::string str(const std::string &k) const {
        auto it = kv.find(k);
        if (it == kv.end()) die("missing --" + k);
        return it->second;
    }
    long num(const std::string &k, long def) const {
        auto it = kv.find(k);
        return it == kv.end() ? def : std::strtol(it->second.c_str(), nullptr, 10);
    }
};

Args parse(int argc, char **argv) {
    Args a;
    for (int i = 2; i < argc; ++i) {
        std::string k = argv[i];
        if (k.rfind("--", 0) != 0) die("bad argument " + k);
        k = k.substr(2);
        if (k == "godot" || k == "inplace" || k == "even") {
            a.kv[k] = "1";
        } else {
            if (i + 1 >= argc) die("--" + k + " needs a value");
            a.kv[k] = argv[++i];
        }
    }
    return a;
}

void scan(AdapterHost &host, const std::string &folder) {
    if (host.status() != VSK_OK) die("registry: " + voiceskin::status_text(host.status()));
    uint32_t added = 0, skipped = 0;
    vsk_status st = host.scan_folder(folder.c_str(), &added, &skipped);
    if (st != VSK_OK) die("scan " + folder + ": " + voiceskin::status_text(st));
    if (added == 0) die("no bundles in " + folder);
}

std::string json_str(const std::string &s) {
    std::string o = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') o += '\\';
        o += c;
    }
    return o + "\"";
}

// ------------------------------------------------------------------ schedule
struct Step {
    uint32_t frames, channels, tier;
    float mix;
    int bypass;
    std::string voice;
};

int run_schedule(const Args &a) {
    const uint32_t rate = uint32_t(a.num("rate", 48000));
    const bool godot = a.has("godot");
    const bool inplace = a.has("inplace");
    AdapterHost host;
    scan(host, a.str("folder"));

    std::vector<Step> steps;
    {
        std::ifstream f(a.str("schedule"));
        if (!f) die("cannot read schedule");
        std::string line;
        while (std::getline(f, line)) {
            if (line.empty()) continue;
            std::istringstream ls(line);
            Step s{};
            if (!(ls >> s.frames >> s.channels >> s.tier >> s.mix >> s.bypass >> s.voice)) die("bad schedule line: " + line);
            steps.push_back(s);
        }
    }
    std::vector<float> input;
    {
        std::ifstream f(a.str("in"), std::ios::binary | std::ios::ate);
        if (!f) die("cannot read input");
        const std::streamsize n = f.tellg();
        input.resize(size_t(n) / sizeof(float));
        f.seekg(0);
        f.read(reinterpret_cast<char *>(input.data()), n);
    }
    size_t need = 0, maxblock = 0;
    for (const Step &s : steps) {
        need += size_t(s.frames) * s.channels;
        maxblock = std::max(maxblock, size_t(s.frames) * s.channels);
    }
    if (need != input.size()) die("input has " + std::to_string(input.size()) + " floats, schedule needs " + std::to_string(need));

    AdapterConfig cfg;
    cfg.sample_rate = rate;
    cfg.channels = steps.empty() ? 2 : steps[0].channels;
    cfg.max_block_frames = uint32_t(a.num("max-block", 1024));
    if (a.has("even")) cfg.schedule = VSK_SCHEDULE_EVEN;
    VoiceSkinAdapter adapter(cfg);

    std::vector<float> output(input.size());
    std::vector<float> inbuf(maxblock), outbuf(maxblock);
    std::vector<StereoFrame> gin(maxblock / 2 + 1), gout(maxblock / 2 + 1);
    long allocs = 0, control_allocs = 0;
    std::string loaded_log;
    size_t pos = 0;
    for (const Step &s : steps) {
        // --- game thread's tick
        adapter.set_tier(s.tier);
        if (!adapter.set_mix(s.mix)) die("set_mix refused");
        adapter.set_bypass(s.bypass != 0);
        if (s.voice == "none") adapter.request_voice(0);
        else if (s.voice != "-") adapter.request_voice(host.key_of(s.voice.c_str()));
        bool loaded = false;
        vsk_status st;
        alloc_counter::calls().store(0);
        {
            alloc_counter::Arm arm;  // control side: allocates (shows the counter works)
            st = host.service(adapter, &loaded);
        }
        control_allocs += alloc_counter::calls().load();
        if (st != VSK_OK) die("service: " + voiceskin::status_text(st));
        // --- audio thread's buffer
        const size_t n = size_t(s.frames) * s.channels;
        const float *src = input.data() + pos;
        alloc_counter::calls().store(0);
        if (godot) {
            if (s.channels != 2) die("godot buffers are stereo");
            std::memcpy(gin.data(), src, n * sizeof(float));
            {
                alloc_counter::Arm arm;
                if (inplace) adapter.process_stereo(gin.data(), gin.data(), s.frames);
                else adapter.process_stereo(gin.data(), gout.data(), s.frames);
            }
            std::memcpy(output.data() + pos, inplace ? gin.data() : gout.data(), n * sizeof(float));
        } else {
            std::memcpy(inbuf.data(), src, n * sizeof(float));
            {
                alloc_counter::Arm arm;
                if (inplace) adapter.process(inbuf.data(), inbuf.data(), s.frames, s.channels);
                else adapter.process(inbuf.data(), outbuf.data(), s.frames, s.channels);
            }
            std::memcpy(output.data() + pos, inplace ? inbuf.data() : outbuf.data(), n * sizeof(float));
        }
        allocs += alloc_counter::calls().load();
        pos += n;
        if (loaded) loaded_log += (loaded_log.empty() ? "" : ",") + std::to_string(&s - steps.data());
    }
    std::ofstream o(a.str("out"), std::ios::binary);
    o.write(reinterpret_cast<const char *>(output.data()), std::streamsize(output.size() * sizeof(float)));
    if (!o) die("cannot write output");
    std::printf("{\"allocs\": %ld, \"control_allocs\": %ld, \"blocks\": %zu, \"loaded_before_block\": [%s], "
                "\"latency\": %u, \"fade_frames\": %u, \"warmup_extra_frames\": %u}\n",
                allocs, control_allocs, steps.size(), loaded_log.c_str(), adapter.latency_frames(), adapter.fade_frames(),
                adapter.warmup_extra_frames());
    return 0;
}

// ------------------------------------------------------------------- threads
struct Lcg {
    uint64_t s;
    uint32_t next() {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        return uint32_t(s >> 33);
    }
    uint32_t below(uint32_t n) { return next() % n; }
    float unit() { return float(next() & 0xFFFFFF) / float(0x1000000); }
};

int run_threads(const Args &a) {
    const uint32_t rate = uint32_t(a.num("rate", 48000));
    const bool godot = a.has("godot");
    const uint32_t channels = godot ? 2 : uint32_t(a.num("channels", 2));
    const long blocks = a.num("blocks", 2000);
    auto host = std::make_shared<AdapterHost>();
    scan(*host, a.str("folder"));
    const auto voices = host->voices();
    if (voices.size() < 2) die("threads mode wants two voices");

    AdapterConfig cfg;
    cfg.sample_rate = rate;
    cfg.channels = channels;
    cfg.max_block_frames = 512;
    cfg.voice_warmup_ms = 20.0f;
    auto adapter = std::make_shared<VoiceSkinAdapter>(cfg);
    host->attach(adapter);
    adapter->request_voice(voices[0].key);
    host->service();

    const uint32_t maxf = 2048;
    // A voiced-like test signal: harmonics of 150 Hz plus a little noise.
    std::vector<float> src(size_t(rate) * channels);
    {
        Lcg r{7};
        for (uint32_t i = 0; i < rate; ++i)
            for (uint32_t c = 0; c < channels; ++c) {
                double t = double(i) / rate, v = 0;
                for (int h = 1; h <= 8; ++h) v += std::sin(2 * 3.14159265358979 * 150.0 * h * t + c) / h;
                src[size_t(i) * channels + c] = float(0.2 * v + 0.01 * (r.unit() - 0.5));
            }
    }
    std::atomic<bool> done{false};
    std::atomic<long> allocs{0}, nonfinite{0}, swaps{0};
    std::thread audio([&] {
        std::vector<float> buf(size_t(maxf) * channels);
        Lcg r{11};
        size_t pos = 0;
        uint64_t last = adapter->active_voice();
        for (long b = 0; b < blocks; ++b) {
            const uint32_t n = 1 + r.below(maxf);
            for (uint32_t i = 0; i < n * channels; ++i) buf[i] = src[(pos + i) % src.size()];
            pos = (pos + size_t(n) * channels) % src.size();
            alloc_counter::calls().store(0);
            {
                alloc_counter::Arm arm;
                if (godot) {
                    auto *f = reinterpret_cast<StereoFrame *>(buf.data());
                    adapter->process_stereo(f, f, n);
                } else {
                    adapter->process(buf.data(), buf.data(), n, channels);
                }
            }
            allocs += alloc_counter::calls().load();
            for (uint32_t i = 0; i < n * channels; ++i)
                if (!std::isfinite(buf[i])) ++nonfinite;
            const uint64_t now = adapter->active_voice();
            if (now != last) {
                ++swaps;
                last = now;
            }
        }
        done = true;
    });
    long actions = 0, serviced = 0;
    std::thread game([&] {
        Lcg r{23};
        while (!done.load()) {
            switch (r.below(6)) {
            case 0: adapter->set_tier(r.below(4)); break;  // 2..3 are out of range: clamped
            case 1: adapter->set_mix(r.unit()); break;
            case 2: adapter->set_bypass(r.below(4) == 0); break;
            case 3: adapter->request_voice(voices[r.below(uint32_t(voices.size()))].key); break;
            case 4: if (r.below(8) == 0) adapter->request_voice(0); break;
            default: break;
            }
            (void)adapter->latency_frames();
            serviced += long(host->service());
            ++actions;
            std::this_thread::sleep_for(std::chrono::microseconds(300));
        }
    });
    audio.join();
    game.join();
    host->service();
    std::printf("{\"allocs\": %ld, \"blocks\": %ld, \"nonfinite\": %ld, \"swaps\": %ld, "
                "\"game_actions\": %ld, \"voices_loaded\": %ld}\n",
                allocs.load(), blocks, nonfinite.load(), swaps.load(), actions, serviced);
    return 0;
}

// ---------------------------------------------------------------------- race
// A deliberate data race on a plain int: under -fsanitize=thread this must be
// reported, which shows the sanitizer is live in the build the tests use.
int run_race() {
    static int shared = 0;
    std::thread t([] {
        for (int i = 0; i < 1000; ++i) shared = shared + 1;
    });
    for (int i = 0; i < 1000; ++i) shared = shared + 1;
    t.join();
    std::printf("{\"shared\": %d}\n", shared);
    return 0;
}

// ---------------------------------------------------------------------- host
int run_host(const Args &a) {
    const uint32_t rate = uint32_t(a.num("rate", 48000));
    AdapterHost host;
    scan(host, a.str("folder"));
    std::string out = "{\"voices\": [";
    bool first = true;
    for (const auto &v : host.voices()) {
        uint32_t lat = 0;
        vsk_status st = host.latency_frames(v.voice_id.c_str(), rate, &lat);
        if (st != VSK_OK) die("latency: " + voiceskin::status_text(st));
        out += first ? "" : ", ";
        first = false;
        out += "{\"id\": " + json_str(v.voice_id) + ", \"name\": " + json_str(v.display_name) +
               ", \"version\": " + json_str(v.version) + ", \"latency\": " + std::to_string(lat) + ", \"tiers\": [";
        for (size_t i = 0; i < v.tiers.size(); ++i)
            out += (i ? ", " : "") + json_str(v.tiers[i].name);
        out += "]}";
    }
    // add_memory (Godot reads res:// through FileAccess): a second copy of a
    // registered bundle is refused by the duplicate rule.
    vsk_status dup = VSK_OK;
    {
        std::ifstream f(a.str("folder") + "/" + a.str("memory-file"), std::ios::binary);
        std::vector<char> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
        if (bytes.empty()) die("cannot read --memory-file");
        dup = host.add_memory(bytes.data(), bytes.size());
    }
    // Lifetime: the host keeps weak references only.
    auto a1 = std::make_shared<VoiceSkinAdapter>();
    auto a2 = std::make_shared<VoiceSkinAdapter>();
    host.attach(a1);
    host.attach(a2);
    const auto vs = host.voices();
    a1->request_voice(vs.front().key);
    a2->request_voice(host.key_of("no.such.voice"));
    const size_t loaded = host.service();
    const vsk_status missing = a2->last_status();
    const bool retry = a2->needs_service();  // a failed request is not retried every tick
    // A voice that arrives later (a new bundle added to the registry) is
    // loaded by the next service().
    auto a3 = std::make_shared<VoiceSkinAdapter>();
    host.attach(a3);
    a3->request_voice(host.key_of(a.str("late-id").c_str()));
    host.service();
    const vsk_status late_before = a3->last_status();
    const vsk_status late_add = host.add_file(a.str("late-file").c_str());
    const size_t late_loaded = host.service();
    const bool late_active = a3->last_status() == VSK_OK && !a3->needs_service();
    a2.reset();
    host.service();
    const size_t attached_after_drop = host.attached();
    // The host's CPU budget (the registry's, shared by need) governs the
    // voices it loaded: a budget far below any tier's cost takes a voice
    // asked for its top tier to its lowest within 3 s of audio.
    auto a4 = std::make_shared<VoiceSkinAdapter>();
    host.attach(a4);
    a4->set_tier(1);
    a4->request_voice(host.key_of(a.str("governed-id").c_str()));
    host.service();
    const vsk_status budget_set = host.set_cpu_budget(1e-7f);
    {
        std::vector<float> buf(256 * 2, 0.0f);
        for (int i = 0; i < 3 * int(rate) / 256; ++i) a4->process(buf.data(), buf.data(), 256, 2);
    }
    vsk_tier_state ts{};
    ts.struct_size = sizeof ts;
    const bool have_state = a4->tier_state(&ts);
    uint32_t members = 0;
    float load = 0.0f;
    host.cpu_budget(nullptr, &members, &load);
    out += "], \"budget_set\": " + json_str(vsk_status_name(budget_set)) +
           ", \"budget_governed\": " + std::to_string(have_state ? int(ts.governed_tier) : -1) +
           ", \"budget_audible\": " + std::to_string(have_state ? int(ts.audible) : -1) +
           ", \"budget_members\": " + std::to_string(members) +
           ", \"budget_load_positive\": " + (load > 0.0f ? "true" : "false");
    out += ", \"loaded\": " + std::to_string(loaded) + ", \"missing_status\": " + json_str(vsk_status_name(missing)) +
           ", \"retry_after_failure\": " + (retry ? "true" : "false") +
           ", \"attached_after_drop\": " + std::to_string(attached_after_drop) +
           ", \"add_memory_again\": " + json_str(vsk_status_name(dup)) +
           ", \"late_before\": " + json_str(vsk_status_name(late_before)) +
           ", \"late_add\": " + json_str(vsk_status_name(late_add)) +
           ", \"late_loaded\": " + std::to_string(late_loaded) +
           ", \"late_active\": " + (late_active ? "true" : "false") + "}";
    std::printf("%s\n", out.c_str());
    return 0;
}

}  // namespace

int main(int argc, char **argv) {
    if (argc < 2) die("usage: adapter_test schedule|threads|host ...");
    const std::string mode = argv[1];
    const Args a = parse(argc, argv);
    if (mode == "schedule") return run_schedule(a);
    if (mode == "threads") return run_threads(a);
    if (mode == "host") return run_host(a);
    if (mode == "race") return run_race();
    die("unknown mode " + mode);
}
