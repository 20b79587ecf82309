// Test program for the Unity package's managed layer, run under Mono by
// tests/test_unity_mono.py against the real libvoiceskin. Not compiled by
// Unity (no assembly definition covers this folder).
//
//   mono VoiceSkinMonoTest.exe abi
//   mono VoiceSkinMonoTest.exe process FOLDER VOICE_ID IN.f32 OUT_VOICE.f32 OUT_STREAM.f32 SCHEDULE
//   mono VoiceSkinMonoTest.exe switch FOLDER ID_A ID_B IN.f32 OUT.f32 SWITCH_BLOCK
//   mono VoiceSkinMonoTest.exe samples FOLDER ID_A ID_B IN.f32 OUT.f32 CHANNELS SWITCH_BLOCK
//   mono VoiceSkinMonoTest.exe errors FOLDER CORRUPT_FILE
//   mono VoiceSkinMonoTest.exe api FOLDER IN.f32        (every other ABI call)
//   mono VoiceSkinMonoTest.exe threads FOLDER SECONDS   (game thread vs audio thread)
//
// Audio files are raw little-endian float32, stereo interleaved, 48 kHz, a
// whole number of 1024-frame buffers. SCHEDULE is "block:tier,block:tier"
// where tier is an index or a name: before processing buffer `block` the
// tier is requested. Output lines are "key value..." for pytest to parse.

using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.InteropServices;
using VoiceSkin;
using VoiceSkin.Interop;

static class VoiceSkinMonoTest
{
    const int Rate = 48000, Channels = 2, Block = 1024;

    static int Main(string[] args)
    {
        try
        {
            switch (args.Length > 0 ? args[0] : "")
            {
                case "abi": return Abi();
                case "process": return ProcessCmd(args[1], args[2], args[3], args[4], args[5], args[6]);
                case "switch": return SwitchCmd(args[1], args[2], args[3], args[4], args[5], int.Parse(args[6]));
                case "samples": return SamplesCmd(args[1], args[2], args[3], args[4], args[5], int.Parse(args[6]), int.Parse(args[7]));
                case "errors": return Errors(args[1], args[2]);
                case "api": return Api(args[1], args[2]);
                case "threads": return Threads(args[1], double.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture));
                default:
                    Console.Error.WriteLine("usage: abi | process ... | switch ... | errors ...");
                    return 2;
            }
        }
        catch (Exception e)
        {
            Console.Error.WriteLine("FAILED: " + e);
            return 1;
        }
    }

    // ------------------------------------------------------------------- abi
    static void Layout(Type t)
    {
        Console.WriteLine("sizeof " + t.Name + " " + Marshal.SizeOf(t));
        foreach (var f in t.GetFields())
            if (!f.IsStatic)
                Console.WriteLine("offset " + t.Name + "." + f.Name + " " + Marshal.OffsetOf(t, f.Name));
    }

    static int Abi()
    {
        Console.WriteLine("version " + Native.vsk_version() + " " + Utf8.FromNative(Native.vsk_version_string()));
        Console.WriteLine("abi " + Native.vsk_abi_version() + " " + Native.VSK_ABI_VERSION);
        Layout(typeof(vsk_bundle_info));
        Layout(typeof(vsk_tier_info));
        Layout(typeof(vsk_voice_config));
        Layout(typeof(vsk_registry_config));
        Layout(typeof(vsk_tier_state));
        Layout(typeof(vsk_allocator));
        foreach (VskStatus s in Enum.GetValues(typeof(VskStatus)))
            Console.WriteLine("status " + (int)s + " " + s + " " + Utf8.FromNative(Native.vsk_status_name(s)));
        Console.WriteLine("status -99 unknown " + Utf8.FromNative(Native.vsk_status_name((VskStatus)(-99))));
        var vc = new vsk_voice_config();
        Native.vsk_voice_config_init_size(ref vc, vsk_voice_config.SizeOf);
        Console.WriteLine("voice_config_init " + vc.struct_size + " " + vc.abi_version + " " + vc.sample_rate + " " +
                          vc.channels + " " + vc.max_block_frames + " " + vc.initial_tier + " " + vc.mix + " " + vc.bypass +
                          " " + vc.max_isa + " " + vc.max_cost_per_second);
        var rc = new vsk_registry_config();
        Native.vsk_registry_config_init_size(ref rc, vsk_registry_config.SizeOf);
        Console.WriteLine("registry_config_init " + rc.struct_size + " " + rc.abi_version + " " + rc.max_voices +
                          " " + rc.max_cost_per_second);
        // the 0.3 entry points: only 0.3's fields are written
        var vc3 = new vsk_voice_config();
        Native.vsk_voice_config_init(ref vc3);
        Console.WriteLine("voice_config_init_03 " + vc3.struct_size + " " + vc3.abi_version + " " + vc3.sample_rate +
                          " " + vc3.max_cost_per_second);
        var rc3 = new vsk_registry_config();
        Native.vsk_registry_config_init(ref rc3);
        Console.WriteLine("registry_config_init_03 " + rc3.struct_size + " " + rc3.abi_version + " " + rc3.max_cost_per_second);
        return 0;
    }

    // --------------------------------------------------------------- helpers
    static float[] ReadF32(string path)
    {
        byte[] b = File.ReadAllBytes(path);
        var f = new float[b.Length / 4];
        Buffer.BlockCopy(b, 0, f, 0, f.Length * 4);
        return f;
    }

    static void WriteF32(string path, float[] f)
    {
        var b = new byte[f.Length * 4];
        Buffer.BlockCopy(f, 0, b, 0, b.Length);
        File.WriteAllBytes(path, b);
    }

    static Dictionary<int, string> ParseSchedule(string s)
    {
        var d = new Dictionary<int, string>();
        foreach (var item in s.Split(new[] { ',' }, StringSplitOptions.RemoveEmptyEntries))
        {
            var kv = item.Split(':');
            d[int.Parse(kv[0])] = kv[1];
        }
        return d;
    }

    static int TierIndex(VoiceSkinBundle b, string tier)
    {
        int i;
        return int.TryParse(tier, out i) ? b.GetTier(i).Index : b.FindTier(tier).Index;
    }

    static void Require(bool ok, string what)
    {
        if (!ok) throw new Exception("check failed: " + what);
    }

    // --------------------------------------------------------------- process
    static int ProcessCmd(string folder, string voiceId, string inPath, string outVoice, string outStream, string sched)
    {
        float[] input = ReadF32(inPath);
        Require(input.Length % (Block * Channels) == 0, "input is whole buffers");
        int blocks = input.Length / (Block * Channels);
        var schedule = ParseSchedule(sched);

        using (var reg = VoiceSkinRegistry.FromFolder(folder))
        using (var bundle = reg.Find(voiceId))
        {
            Console.WriteLine("voices " + reg.Count);
            foreach (var b in reg.GetAll()) { Console.WriteLine("voice " + b.VoiceId + " " + b.Version); b.Dispose(); }
            foreach (var t in bundle.Tiers) Console.WriteLine("tier " + t.Index + " " + t.Name + " " + t.FlopsPerSecond);

            // 1. VoiceSkinVoice directly: one reusable Unity-sized buffer, in place.
            var output = new float[input.Length];
            var buf = new float[Block * Channels];
            long alloc;
            using (var voice = new VoiceSkinVoice(bundle, Rate, Channels, Block))
            {
                Console.WriteLine("latency " + voice.LatencyFrames);
                // Tier switches by name look the name up (control path): resolve first.
                var tiers = new Dictionary<int, int>();
                foreach (var kv in schedule) tiers[kv.Key] = TierIndex(bundle, kv.Value);
                // Counted from the first buffer (the constructor warmed up the
                // P/Invoke stubs, which Mono builds on first call).
                long before = GC.GetAllocatedBytesForCurrentThread();
                for (int k = 0; k < blocks; k++)
                {
                    int tier;
                    if (tiers.TryGetValue(k, out tier)) voice.SetTier(tier);
                    Array.Copy(input, k * buf.Length, buf, 0, buf.Length);
                    voice.Process(buf);
                    Array.Copy(buf, 0, output, k * buf.Length, buf.Length);
                }
                alloc = GC.GetAllocatedBytesForCurrentThread() - before;
                Console.WriteLine("tier_after " + voice.Tier + " " + voice.CurrentTier.Name);
            }
            Console.WriteLine("alloc_voice " + alloc);
            WriteF32(outVoice, output);

            // 2. The same through VoiceSkinStream (what VoiceSkinFilter runs),
            //    by tier name where the schedule says a name.
            var output2 = new float[input.Length];
            using (var stream = new VoiceSkinStream())
            {
                stream.SetVoice(new VoiceSkinVoice(bundle, Rate, Channels, Block), 0);
                long allocAudio = 0;
                for (int k = 0; k < blocks; k++)
                {
                    string tier;
                    if (schedule.TryGetValue(k, out tier)) stream.SetTier(TierIndex(bundle, tier));   // game thread
                    Array.Copy(input, k * buf.Length, buf, 0, buf.Length);
                    long b0 = GC.GetAllocatedBytesForCurrentThread();
                    stream.Process(buf, Channels);                                              // audio thread
                    allocAudio += GC.GetAllocatedBytesForCurrentThread() - b0;
                    Array.Copy(buf, 0, output2, k * buf.Length, buf.Length);
                }
                Console.WriteLine("alloc_stream " + allocAudio);
                Console.WriteLine("stream_errors " + stream.ErrorCount);
            }
            WriteF32(outStream, output2);
        }
        return 0;
    }

    // ---------------------------------------------------------------- switch
    static int SwitchCmd(string folder, string idA, string idB, string inPath, string outPath, int switchBlock)
    {
        float[] input = ReadF32(inPath);
        int blocks = input.Length / (Block * Channels);
        var output = new float[input.Length];
        var buf = new float[Block * Channels];
        using (var reg = VoiceSkinRegistry.FromFolder(folder))
        using (var a = reg.Find(idA))
        using (var b = reg.Find(idB))
        using (var stream = new VoiceSkinStream(256))   // small scratch: the switch spans pieces
        {
            var va = new VoiceSkinVoice(a, Rate, Channels, Block);
            stream.SetVoice(va, 0);
            Console.WriteLine("latency_a " + va.LatencyFrames);
            int disposed = 0;
            long allocAudio = 0;
            int switchingBlocks = 0;
            for (int k = 0; k < blocks; k++)
            {
                if (k == switchBlock)
                {
                    var vb = new VoiceSkinVoice(b, Rate, Channels, Block, b.Tiers.Count - 1);
                    Console.WriteLine("latency_b " + vb.LatencyFrames);
                    stream.SetVoice(vb, b.Tiers.Count - 1);
                }
                Array.Copy(input, k * buf.Length, buf, 0, buf.Length);
                long b0 = GC.GetAllocatedBytesForCurrentThread();
                stream.Process(buf, Channels);
                allocAudio += GC.GetAllocatedBytesForCurrentThread() - b0;
                if (stream.IsSwitching) switchingBlocks++;
                Array.Copy(buf, 0, output, k * buf.Length, buf.Length);
                int d = stream.CollectGarbage();
                if (d > 0) Console.WriteLine("disposed_at " + k + " " + d);
                disposed += d;
            }
            Require(va.IsDisposed, "the old voice was disposed after the switch");
            Console.WriteLine("switching_blocks " + switchingBlocks);
            Console.WriteLine("disposed " + disposed);
            Console.WriteLine("alloc_stream " + allocAudio);
            Console.WriteLine("stream_errors " + stream.ErrorCount);
        }
        WriteF32(outPath, output);
        return 0;
    }

    // --------------------------------------------------------------- samples
    // The cross-adapter switch (tests/test_switch_same_samples.py): voice A,
    // then voice B lent before buffer SWITCH_BLOCK; tier 0, mix 1, CHANNELS
    // interleaved channels (not the fixed stereo of the other commands),
    // 1024-frame buffers, the game thread collecting after every buffer.
    static int SamplesCmd(string folder, string idA, string idB, string inPath, string outPath, int channels, int switchBlock)
    {
        float[] input = ReadF32(inPath);
        int n = Block * channels;
        Require(input.Length % n == 0, "input is whole buffers");
        var output = new float[input.Length];
        var buf = new float[n];
        using (var reg = VoiceSkinRegistry.FromFolder(folder))
        using (var a = reg.Find(idA))
        using (var b = reg.Find(idB))
        using (var stream = new VoiceSkinStream())
        {
            stream.SetVoice(new VoiceSkinVoice(a, Rate, channels, Block), 0);
            for (int k = 0; k < input.Length / n; k++)
            {
                if (k == switchBlock) stream.SetVoice(new VoiceSkinVoice(b, Rate, channels, Block), 0);
                Array.Copy(input, k * n, buf, 0, n);
                stream.Process(buf, channels);
                Array.Copy(buf, 0, output, k * n, n);
                stream.CollectGarbage();
            }
            Console.WriteLine("stream_errors " + stream.ErrorCount);
            Console.WriteLine("lent_after " + stream.LentVoices);
        }
        WriteF32(outPath, output);
        return 0;
    }

    // ------------------------------------------------------------------- api
    static void Ok(string name, bool ok, string detail = "")
    {
        Console.WriteLine((ok ? "ok " : "bad ") + name + (ok ? "" : " " + detail));
    }

    static float MaxDiff(float[] a, float[] b)
    {
        float m = 0f;
        for (int i = 0; i < a.Length; i++) m = Math.Max(m, Math.Abs(a[i] - b[i]));
        return m;
    }

    static float[] Run(VoiceSkinVoice v, float[] input)
    {
        var output = (float[])input.Clone();
        var buf = new float[Block * Channels];
        for (int k = 0; k < input.Length / buf.Length; k++)
        {
            Array.Copy(output, k * buf.Length, buf, 0, buf.Length);
            v.Process(buf);
            Array.Copy(buf, 0, output, k * buf.Length, buf.Length);
        }
        return output;
    }

    static unsafe int Api(string folder, string inPath)
    {
        float[] input = ReadF32(inPath);
        string[] files = Directory.GetFiles(folder, "*.vskin");
        Array.Sort(files, StringComparer.Ordinal);
        using (var reg = new VoiceSkinRegistry())
        {
            int i0 = reg.AddFile(files[0]);
            int i1 = reg.AddBytes(File.ReadAllBytes(files[1]));
            Ok("add_file_memory", i0 == 0 && i1 == 1 && reg.Count == 2, i0 + " " + i1);
            var infos = reg.ListVoices();
            Ok("list_voices", infos.Count == 2 && infos[1].Index == 1 && infos[0].Tiers.Count == 2 &&
               infos[0].Tiers[1].Name == "medium", infos.Count.ToString());
            using (var b = reg.Get(0))
            using (var again = VoiceSkinBundle.OpenFile(files[0]))
            {
                Ok("find_tier", b.FindTier("medium").Index == 1 && b.Tiers[0].ModelSampleRate == 16000);
                Ok("reg_add_bundle_dup", Throws(() => reg.AddBundle(again)) == VskStatus.VSK_ERR_DUPLICATE);
                Ok("index_of", reg.IndexOf(b.VoiceId) == 0);

                // the registry's CPU budget, shared by the voices that join it: a
                // budget far below any tier's cost takes a voice asked for tier 1
                // to tier 0 within 3 s of audio
                reg.CpuBudget = 1e-7f;
                using (var gv = new VoiceSkinVoice(b, Rate, Channels, Block, 1, 1f, false, reg))
                {
                    var buf = new float[Block * Channels];
                    for (int k = 0; k < 3 * Rate / Block; k++) gv.Process(buf);
                    var ts = new vsk_tier_state();
                    ts.struct_size = vsk_tier_state.SizeOf;
                    VskStatus tst = gv.Handle.DangerousGetHandle() == IntPtr.Zero ? VskStatus.VSK_ERR_INVALID_ARGUMENT
                        : Native.vsk_voice_get_tier_state(gv.Handle.DangerousGetHandle(), ref ts);
                    Ok("registry_budget", tst == VskStatus.VSK_OK && ts.governed_tier == 0 && ts.audible == 0 &&
                       reg.CpuBudgetMembers == 1 && reg.CpuLoad > 0f && Math.Abs(reg.CpuBudget - 1e-7f) < 1e-12f,
                       tst + " governed " + ts.governed_tier + " audible " + ts.audible + " members " +
                       reg.CpuBudgetMembers + " load " + reg.CpuLoad);
                }
                reg.CpuBudget = 0f;

                // vsk_voice_get_size + vsk_voice_init in caller memory == vsk_voice_create
                var cfg = new vsk_voice_config();
                Native.vsk_voice_config_init(ref cfg);   // a 0.3-sized config (32 bytes) still works
                cfg.sample_rate = Rate; cfg.channels = Channels; cfg.max_block_frames = Block; cfg.initial_tier = 1;
                UIntPtr size;
                IntPtr bh = b.Handle.DangerousGetHandle();
                Ok("get_size", Native.vsk_voice_get_size(bh, ref cfg, out size) == VskStatus.VSK_OK && (ulong)size > 0);
                IntPtr raw = Marshal.AllocHGlobal((IntPtr)((long)size + 64));
                IntPtr aligned = (IntPtr)(((long)raw + 63) & ~63L);
                IntPtr v;
                Ok("init_unaligned", Native.vsk_voice_init((IntPtr)((long)aligned + 4), size, bh, ref cfg, out v) ==
                   VskStatus.VSK_ERR_INVALID_ARGUMENT);
                Ok("init_small", Native.vsk_voice_init(aligned, (UIntPtr)((ulong)size - 64), bh, ref cfg, out v) ==
                   VskStatus.VSK_ERR_BUFFER_TOO_SMALL);
                Ok("init", Native.vsk_voice_init(aligned, size, bh, ref cfg, out v) == VskStatus.VSK_OK);
                var outInit = (float[])input.Clone();
                fixed (float* p = outInit)
                    for (int k = 0; k < input.Length / (Block * Channels); k++)
                        Native.vsk_voice_process(v, p + k * Block * Channels, p + k * Block * Channels, Block);
                uint tier;
                Ok("get_tier_raw", Native.vsk_voice_get_tier(v, out tier) == VskStatus.VSK_OK && tier == 1);
                Native.vsk_voice_destroy(v);
                Marshal.FreeHGlobal(raw);
                using (var created = new VoiceSkinVoice(b, Rate, Channels, Block, "medium"))
                {
                    float d = MaxDiff(Run(created, input), outInit);
                    Ok("init_equals_create", d == 0f, d.ToString());
                }

                // Bypass: the dry input delayed by the latency, bit for bit.
                using (var by = new VoiceSkinVoice(b, Rate, Channels, Block, 0, 1f, true))
                {
                    float[] y = Run(by, input);
                    int lat = by.LatencyFrames * Channels;
                    var exp = new float[input.Length];
                    Array.Copy(input, 0, exp, lat, input.Length - lat);
                    Ok("bypass_is_delayed_dry", MaxDiff(y, exp) == 0f, MaxDiff(y, exp).ToString());
                    Ok("bypass_flag", by.Bypass);
                }
                // Mix 0 set at run time: after the 5 ms ramp, the delayed dry.
                using (var m = new VoiceSkinVoice(b, Rate, Channels, Block))
                {
                    var buf = new float[Block * Channels];
                    Array.Copy(input, buf, buf.Length);
                    m.Process(buf);
                    m.Mix = 0f;
                    Ok("mix_value", m.Mix == 0f);
                    bool ok = true;
                    int lat = m.LatencyFrames;
                    for (int k = 1; k < input.Length / buf.Length; k++)
                    {
                        Array.Copy(input, k * buf.Length, buf, 0, buf.Length);
                        m.Process(buf);
                        if (k < 2) continue;
                        for (int i = 0; i < buf.Length; i++)
                            ok &= buf[i] == input[k * buf.Length + i - lat * Channels];
                    }
                    Ok("mix0_is_delayed_dry", ok);
                    Ok("mix_range", Throws(() => m.Mix = 1.5f) == VskStatus.VSK_ERR_INVALID_ARGUMENT);
                }
                // Reset == a fresh voice.
                using (var r = new VoiceSkinVoice(b, Rate, Channels, Block))
                using (var fresh = new VoiceSkinVoice(b, Rate, Channels, Block))
                {
                    Run(r, input);
                    r.Reset();
                    float d = MaxDiff(Run(r, input), Run(fresh, input));
                    Ok("reset_equals_fresh", d == 0f, d.ToString());
                }
                // Separate in/out arrays == in place.
                using (var a1 = new VoiceSkinVoice(b, Rate, Channels, Block))
                using (var a2 = new VoiceSkinVoice(b, Rate, Channels, Block))
                {
                    var x = new float[Block * Channels];
                    Array.Copy(input, x, x.Length);
                    var y = new float[x.Length];
                    a1.Process(x, y, Block);
                    a2.Process(x);
                    Ok("in_out_equals_in_place", MaxDiff(x, y) == 0f);
                }
            }
            Ok("version", Native.vsk_version() == ((Native.VSK_VERSION_MAJOR << 16) | (Native.VSK_VERSION_MINOR << 8) |
                                                   Native.VSK_VERSION_PATCH));
        }
        return 0;
    }

    // --------------------------------------------------------------- threads
    // A real audio thread processes 1024-frame stereo buffers in a loop while
    // the main thread, like VoiceSkinFilter.Update, switches voices, tiers,
    // mix and bypass at random and collects old voices; then a channel-layout
    // change. Checks: no exception, no native error, finite output, every
    // retired voice disposed, 0 bytes allocated on the audio thread.
    static volatile bool s_stop;

    static int Threads(string folder, double seconds)
    {
        using (var reg = VoiceSkinRegistry.FromFolder(folder))
        {
            var bundles = reg.GetAll();
            var stream = new VoiceSkinStream(512);
            var created = new List<VoiceSkinVoice>();
            Func<int, int, int, VoiceSkinVoice> make = (bi, ch, tier) =>
            {
                var v = new VoiceSkinVoice(bundles[bi], Rate, ch, Block, tier);
                created.Add(v);
                return v;
            };
            stream.SetVoice(make(0, Channels, 0), 0);
            s_stop = false;
            long buffers = 0, audioAlloc = 0;
            bool finite = true;
            Exception audioError = null;
            var audio = new System.Threading.Thread(() =>
            {
                try
                {
                    var buf = new float[Block * Channels];
                    var rng = new Random(1);
                    long before = GC.GetAllocatedBytesForCurrentThread();
                    while (!s_stop)
                    {
                        for (int i = 0; i < buf.Length; i++) buf[i] = (float)(rng.NextDouble() - 0.5) * 0.5f;
                        stream.Process(buf, Channels);
                        for (int i = 0; i < buf.Length; i++) finite &= !float.IsNaN(buf[i]) && !float.IsInfinity(buf[i]);
                        buffers++;
                    }
                    audioAlloc = GC.GetAllocatedBytesForCurrentThread() - before;
                }
                catch (Exception e) { audioError = e; }
            });
            audio.Start();
            var r = new Random(2);
            var end = DateTime.UtcNow.AddSeconds(seconds);
            int switches = 0;
            while (DateTime.UtcNow < end)
            {
                System.Threading.Thread.Sleep(r.Next(1, 15));
                switch (r.Next(5))
                {
                    case 0:
                        int bi = r.Next(bundles.Count);
                        stream.SetVoice(make(bi, Channels, r.Next(bundles[bi].Tiers.Count)), 0);
                        switches++;
                        break;
                    case 1: stream.SetTier(r.Next(stream.Voice.Bundle.Tiers.Count)); break;
                    case 2: stream.Mix = (float)r.NextDouble(); break;
                    case 3: stream.Bypass = r.Next(4) == 0; break;
                    default: break;
                }
                stream.CollectGarbage();
            }
            s_stop = true;
            audio.Join();
            Ok("audio_thread_ran", buffers > 100 && audioError == null,
               buffers + " " + (audioError == null ? "" : audioError.ToString()));
            Ok("finite", finite);
            Ok("no_native_errors", stream.ErrorCount == 0, stream.ErrorCount.ToString());
            Console.WriteLine("buffers " + buffers + " voice_switches " + switches);
            Console.WriteLine("alloc_audio_thread " + audioAlloc);
            // More buffers on this thread until the last switch is over: the
            // switcher then hands back every voice but the heard one.
            var b2 = new float[Block * Channels];
            for (int i = 0; i < 400 && (i < 2 || stream.IsSwitching || stream.LentVoices > 1); i++)
            {
                stream.Process(b2, Channels);
                stream.CollectGarbage();
            }
            int alive = 0;
            foreach (var v in created) if (!v.IsDisposed) alive++;
            Ok("old_voices_disposed", alive == 1 && stream.LentVoices == 1 && !stream.IsSwitching,
               alive + " alive, " + stream.LentVoices + " lent");

            // Layout change: mono buffers pass through until the game thread
            // hands over a mono voice, which then runs at once.
            var mono = new float[Block];
            for (int i = 0; i < mono.Length; i++) mono[i] = 0.25f;
            var copy = (float[])mono.Clone();
            stream.Process(mono, 1);
            Ok("mismatch_passes_through", MaxDiff(mono, copy) == 0f && stream.ChannelMismatch);
            var mv = make(0, 1, 0);
            stream.SetVoice(mv, 0);
            stream.Process(mono, 1);
            Ok("mismatch_replaced_at_once", !stream.ChannelMismatch && !stream.IsSwitching && MaxDiff(mono, copy) > 0f);
            stream.Dispose();
            alive = 0;
            foreach (var v in created) if (!v.IsDisposed) alive++;
            Ok("dispose_frees_all", alive == 0, alive.ToString());
            foreach (var b in bundles) b.Dispose();
        }
        return 0;
    }

    static VskStatus Throws(Action a)
    {
        try { a(); return VskStatus.VSK_OK; }
        catch (VoiceSkinException e) { return e.Status; }
        catch (ArgumentOutOfRangeException) { return VskStatus.VSK_ERR_INVALID_ARGUMENT; }
    }

    // ---------------------------------------------------------------- errors
    static void Expect(string what, Action a)
    {
        try
        {
            a();
            Console.WriteLine("noerror " + what);
        }
        catch (VoiceSkinException e)
        {
            Console.WriteLine("error " + what + " " + e.StatusName + " " + (int)e.Status + " | " + e.Message);
        }
    }

    static int Errors(string folder, string corrupt)
    {
        Expect("open_corrupt", () => VoiceSkinBundle.OpenFile(corrupt).Dispose());
        Expect("open_missing", () => VoiceSkinBundle.OpenFile(Path.Combine(folder, "missing.vskin")).Dispose());
        Expect("bytes_garbage", () => VoiceSkinBundle.FromBytes(new byte[100]).Dispose());
        Expect("scan_missing", () => VoiceSkinRegistry.FromFolder(Path.Combine(folder, "no-such-folder")).Dispose());
        using (var reg = new VoiceSkinRegistry())
        {
            var r = reg.ScanFolder(folder);
            Console.WriteLine("scan " + r.Added + " " + r.Skipped);
            Console.WriteLine("indexof_missing " + reg.IndexOf("no.such.voice"));
            Expect("find_missing", () => reg.Find("no.such.voice").Dispose());
            using (var b = reg.Get(0))
            {
                Expect("tier_name", () => b.FindTier("no-such-tier"));
                Expect("tier_index", () => b.GetTier(99));
                Expect("rate", () => new VoiceSkinVoice(b, 4000, 2).Dispose());
                Expect("duplicate", () => reg.AddBundle(b));
                using (var v = new VoiceSkinVoice(b, Rate, Channels, Block))
                {
                    Expect("set_tier_name", () => v.SetTier("no-such-tier"));
                    Console.WriteLine("trysettier " + v.TrySetTier(99));
                    v.Dispose();
                    try { v.Process(new float[Block * Channels]); Console.WriteLine("noerror disposed"); }
                    catch (ObjectDisposedException) { Console.WriteLine("error disposed ObjectDisposedException"); }
                }
            }
        }
        return 0;
    }
}
