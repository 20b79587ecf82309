// VoiceSkin.Native.cs — P/Invoke binding of the whole libvoiceskin ABI
// (native/include/voiceskin.h, ABI version 1). No Unity dependency.
//
// One declaration per C function, with the C names, so the header and this
// file can be compared line by line (tests/test_unity_package.py does that).
// Pointers are IntPtr (or float* on the audio path); strings going in are
// NUL-terminated UTF-8 byte arrays (see Utf8), strings coming out are IntPtr
// owned by the library (see Utf8.FromNative). size_t is UIntPtr.
//
// The library is "voiceskin": libvoiceskin.so / libvoiceskin.dylib /
// voiceskin.dll, found by the runtime's native library search (Unity: the
// package's Plugins folders). On iOS the library is linked statically into
// the player, so the import name is "__Internal".

using System;
using System.Runtime.InteropServices;
using System.Text;

namespace VoiceSkin.Interop
{
    /// <summary>vsk_status: 0 or a negative error code (int32 on the wire).</summary>
    public enum VskStatus : int
    {
        VSK_OK = 0,
        VSK_ERR_INVALID_ARGUMENT = -1,
        VSK_ERR_NO_MEMORY = -2,
        VSK_ERR_IO = -3,
        VSK_ERR_BAD_MAGIC = -4,
        VSK_ERR_UNSUPPORTED_VERSION = -5,
        VSK_ERR_TRUNCATED = -6,
        VSK_ERR_CHECKSUM = -7,
        VSK_ERR_CORRUPT = -8,
        VSK_ERR_TOO_LARGE = -9,
        VSK_ERR_UNSUPPORTED_OP = -10,
        VSK_ERR_ABI_MISMATCH = -11,
        VSK_ERR_UNSUPPORTED_RATE = -12,
        VSK_ERR_NOT_FOUND = -13,
        VSK_ERR_DUPLICATE = -14,
        VSK_ERR_BUFFER_TOO_SMALL = -15,
        VSK_ERR_BAD_STATE = -16,
        VSK_ERR_STRUCT_TOO_NEW = -17,
        VSK_ERR_TOO_COSTLY = -18,
    }

    /// <summary>vsk_allocator (all zero = the C heap). Function pointers
    /// from Marshal.GetFunctionPointerForDelegate; keep the delegates alive.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct vsk_allocator
    {
        public IntPtr alloc;          // void *(*)(void *user, size_t size, size_t alignment)
        public IntPtr free;           // void (*)(void *user, void *ptr, size_t size)
        public IntPtr user;
    }

    /// <summary>vsk_bundle_info. Set struct_size = SizeOf before the call.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct vsk_bundle_info
    {
        public uint struct_size;
        public IntPtr voice_id;       // const char*, owned by the bundle
        public IntPtr display_name;   // const char*
        public IntPtr version;        // const char*, "major.minor.patch"
        public uint tier_count;
        public uint format_version;

        public static uint SizeOf { get { return (uint)Marshal.SizeOf(typeof(vsk_bundle_info)); } }
    }

    /// <summary>vsk_tier_info. Set struct_size = SizeOf before the call.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct vsk_tier_info
    {
        public uint struct_size;
        public IntPtr name;           // const char*, owned by the bundle
        public uint model_sample_rate;
        public uint hop_samples;
        public uint latency_samples;
        public ulong parameter_count;
        public ulong flops_per_second;   // the manifest's estimate (informative)
        public ulong cost_per_second;    // since 0.4: worst case computed by the library

        public static uint SizeOf { get { return (uint)Marshal.SizeOf(typeof(vsk_tier_info)); } }
    }

    /// <summary>vsk_voice_config. Fill with vsk_voice_config_init_size(ref c, SizeOf)
    /// first (the 0.3 entry point vsk_voice_config_init fills only 0.3's 32 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct vsk_voice_config
    {
        public uint struct_size;
        public uint abi_version;
        public uint sample_rate;
        public uint channels;
        public uint max_block_frames;
        public uint initial_tier;
        public float mix;
        public uint bypass;
        // since 0.4
        public uint max_isa;                 // VSK_ISA_LEVEL_*, 0 = best
        public uint reserved0;
        public ulong max_cost_per_second;    // 0 = VSK_DEFAULT_MAX_COST_PER_SECOND
        public vsk_allocator allocator;
        public IntPtr log;                   // vsk_log_fn, or zero
        public IntPtr log_user;
        // since 0.5: the CPU governor
        public float cpu_budget;             // fraction of one core, 0 = off
        public uint reserved1;
        public IntPtr clock;                 // vsk_clock_fn, or zero = the system's
        public IntPtr clock_user;
        public IntPtr shared_budget;         // vsk_cpu_budget*, or zero
        // since 0.6
        public uint schedule;                // VSK_SCHEDULE_*, 0 = low latency
        public uint reserved2;

        public static uint SizeOf { get { return (uint)Marshal.SizeOf(typeof(vsk_voice_config)); } }
    }

    /// <summary>vsk_registry_config. Fill with vsk_registry_config_init_size(ref c, SizeOf) first.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct vsk_registry_config
    {
        public uint struct_size;
        public uint abi_version;
        public uint max_voices;
        // since 0.4
        public uint reserved0;
        public ulong max_cost_per_second;
        public vsk_allocator allocator;
        public IntPtr log;
        public IntPtr log_user;

        public static uint SizeOf { get { return (uint)Marshal.SizeOf(typeof(vsk_registry_config)); } }
    }

    /// <summary>vsk_tier_state. Set struct_size = SizeOf before the call.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct vsk_tier_state
    {
        public uint struct_size;
        public uint requested;
        public uint audible;
        public uint incoming;                // VSK_NO_TIER when none
        public uint switching;
        // since 0.5: the CPU governor
        public uint governed_tier;           // highest tier it allows
        public float cpu_load;               // last measurement, fraction of one core
        public uint governor_steps;

        public static uint SizeOf { get { return (uint)Marshal.SizeOf(typeof(vsk_tier_state)); } }
    }

    /// <summary>vsk_switcher_config. Fill with vsk_switcher_config_init_size(ref c, SizeOf) first.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct vsk_switcher_config
    {
        public uint struct_size;
        public uint abi_version;
        public uint sample_rate;
        public uint max_channels;
        public uint max_block_frames;
        public uint warmup_ms;
        public uint align_latency_frames;
        public uint reserved0;
        public vsk_allocator allocator;

        public static uint SizeOf { get { return (uint)Marshal.SizeOf(typeof(vsk_switcher_config)); } }
    }

    /// <summary>vsk_switcher_state. Set struct_size = SizeOf before the call.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct vsk_switcher_state
    {
        public uint struct_size;
        public uint switching;
        public ulong tag;
        public ulong heard_tag;
        public uint latency_frames;
        public uint errors;
        public uint channels;
        public uint reserved0;

        public static uint SizeOf { get { return (uint)Marshal.SizeOf(typeof(vsk_switcher_state)); } }
    }

    /// <summary>The C functions, one to one. Threading classes as in docs/abi.md.</summary>
    public static unsafe class Native
    {
#if (UNITY_IOS || UNITY_TVOS || UNITY_VISIONOS) && !UNITY_EDITOR
        public const string Library = "__Internal";
#else
        public const string Library = "voiceskin";
#endif
        /// <summary>VSK_ABI_VERSION this binding was written for.</summary>
        public const uint VSK_ABI_VERSION = 1;
        public const uint VSK_VERSION_MAJOR = 0;
        public const uint VSK_VERSION_MINOR = 7;
        public const uint VSK_VERSION_PATCH = 0;
        public const ulong VSK_DEFAULT_MAX_COST_PER_SECOND = 500000000;
        public const uint VSK_NO_TIER = 0xFFFFFFFF;
        public const uint VSK_SWITCH_FADE_MS = 20, VSK_SWITCH_WARMUP_MS = 100;
        public const uint VSK_ISA_LEVEL_BEST = 0, VSK_ISA_LEVEL_SCALAR = 1,
                          VSK_ISA_LEVEL_SIMD128 = 2, VSK_ISA_LEVEL_AVX2 = 3;
        public const uint VSK_SCHEDULE_LOW_LATENCY = 0, VSK_SCHEDULE_EVEN = 1;

        const CallingConvention CC = CallingConvention.Cdecl;

        // ------------------------------------------------------------ versions [any]
        [DllImport(Library, CallingConvention = CC)] public static extern uint vsk_version();
        [DllImport(Library, CallingConvention = CC)] public static extern IntPtr vsk_version_string();
        [DllImport(Library, CallingConvention = CC)] public static extern uint vsk_abi_version();

        // ------------------------------------------------------------ statuses [any]
        [DllImport(Library, CallingConvention = CC)] public static extern IntPtr vsk_status_name(VskStatus status);
        [DllImport(Library, CallingConvention = CC)] public static extern IntPtr vsk_status_string(VskStatus status);

        // ------------------------------------------------------------ bundle
        /// <summary>[control] Copies and validates `size` bytes.</summary>
        [DllImport(Library, CallingConvention = CC)]
        public static extern VskStatus vsk_bundle_open_memory(void* data, UIntPtr size, out IntPtr out_bundle);
        /// <summary>[control] `path`: NUL-terminated UTF-8 (Utf8.ToNative).</summary>
        [DllImport(Library, CallingConvention = CC)]
        public static extern VskStatus vsk_bundle_open_file(byte[] path, out IntPtr out_bundle);
        /// <summary>[any]</summary>
        [DllImport(Library, CallingConvention = CC)] public static extern void vsk_bundle_retain(IntPtr bundle);
        /// <summary>[control] The last release frees the bundle.</summary>
        [DllImport(Library, CallingConvention = CC)] public static extern void vsk_bundle_release(IntPtr bundle);
        /// <summary>[any]</summary>
        [DllImport(Library, CallingConvention = CC)]
        public static extern VskStatus vsk_bundle_get_info(IntPtr bundle, ref vsk_bundle_info info);
        /// <summary>[any]</summary>
        [DllImport(Library, CallingConvention = CC)]
        public static extern VskStatus vsk_bundle_get_tier_info(IntPtr bundle, uint index, ref vsk_tier_info info);
        /// <summary>[any] `name`: NUL-terminated UTF-8.</summary>
        [DllImport(Library, CallingConvention = CC)]
        public static extern VskStatus vsk_bundle_find_tier(IntPtr bundle, byte[] name, out uint out_index);

        // ------------------------------------------------------------ voice
        /// <summary>[any] Defaults for the first `struct_size` bytes (pass vsk_voice_config.SizeOf).</summary>
        [DllImport(Library, CallingConvention = CC)]
        public static extern void vsk_voice_config_init_size(ref vsk_voice_config config, uint struct_size);
        /// <summary>[any] The 0.3 entry point: fills only 0.3's 32 bytes (struct_size = 32).</summary>
        [DllImport(Library, CallingConvention = CC)] public static extern void vsk_voice_config_init(ref vsk_voice_config config);
        /// <summary>[any]</summary>
        [DllImport(Library, CallingConvention = CC)]
        public static extern VskStatus vsk_voice_get_size(IntPtr bundle, ref vsk_voice_config config, out UIntPtr out_bytes);
        /// <summary>[control] `memory` 64-byte aligned, at least vsk_voice_get_size bytes.</summary>
        [DllImport(Library, CallingConvention = CC)]
        public static extern VskStatus vsk_voice_init(IntPtr memory, UIntPtr bytes, IntPtr bundle,
                                                      ref vsk_voice_config config, out IntPtr out_voice);
        /// <summary>[control]</summary>
        [DllImport(Library, CallingConvention = CC)]
        public static extern VskStatus vsk_voice_create(IntPtr bundle, ref vsk_voice_config config, out IntPtr out_voice);
        /// <summary>[control]</summary>
        [DllImport(Library, CallingConvention = CC)] public static extern void vsk_voice_destroy(IntPtr voice);
        /// <summary>[audio] Interleaved frames; in == out allowed.</summary>
        [DllImport(Library, CallingConvention = CC)]
        public static extern VskStatus vsk_voice_process(IntPtr voice, float* @in, float* @out, uint frames);
        /// <summary>[any-rt]</summary>
        [DllImport(Library, CallingConvention = CC)] public static extern VskStatus vsk_voice_set_tier(IntPtr voice, uint tier);
        /// <summary>[any-rt]</summary>
        [DllImport(Library, CallingConvention = CC)] public static extern VskStatus vsk_voice_get_tier(IntPtr voice, out uint out_tier);
        /// <summary>[any-rt] Audible tier and switch in progress (set struct_size).</summary>
        [DllImport(Library, CallingConvention = CC)]
        public static extern VskStatus vsk_voice_get_tier_state(IntPtr voice, ref vsk_tier_state state);
        /// <summary>[any-rt] 0..1.</summary>
        [DllImport(Library, CallingConvention = CC)] public static extern VskStatus vsk_voice_set_mix(IntPtr voice, float wet);
        /// <summary>[any-rt]</summary>
        [DllImport(Library, CallingConvention = CC)] public static extern VskStatus vsk_voice_set_bypass(IntPtr voice, uint bypass);
        /// <summary>[any-rt] CPU budget, fraction of one core (0 = off).</summary>
        [DllImport(Library, CallingConvention = CC)] public static extern VskStatus vsk_voice_set_cpu_budget(IntPtr voice, float fraction_of_one_core);
        /// <summary>[any-rt]</summary>
        [DllImport(Library, CallingConvention = CC)] public static extern VskStatus vsk_voice_get_cpu_budget(IntPtr voice, out float out_fraction);
        /// <summary>[control] A CPU budget several voices share (vsk_voice_config.shared_budget); allocator may be zero.</summary>
        [DllImport(Library, CallingConvention = CC)]
        public static extern VskStatus vsk_cpu_budget_create(float fraction_of_cores, IntPtr allocator, out IntPtr out_budget);
        /// <summary>[control] After every member voice is destroyed.</summary>
        [DllImport(Library, CallingConvention = CC)] public static extern void vsk_cpu_budget_destroy(IntPtr budget);
        /// <summary>[any-rt]</summary>
        [DllImport(Library, CallingConvention = CC)] public static extern VskStatus vsk_cpu_budget_set(IntPtr budget, float fraction_of_cores);
        /// <summary>[any-rt]</summary>
        [DllImport(Library, CallingConvention = CC)]
        public static extern VskStatus vsk_cpu_budget_get(IntPtr budget, out float out_fraction, out uint out_members, out float out_load);
        /// <summary>[audio]</summary>
        [DllImport(Library, CallingConvention = CC)] public static extern VskStatus vsk_voice_reset(IntPtr voice);
        /// <summary>[any] Host frames, constant.</summary>
        [DllImport(Library, CallingConvention = CC)] public static extern VskStatus vsk_voice_get_latency(IntPtr voice, out uint out_frames);
        /// <summary>[any] VSK_ISA_LEVEL_* in use (chosen once at init).</summary>
        [DllImport(Library, CallingConvention = CC)] public static extern VskStatus vsk_voice_get_isa(IntPtr voice, out uint out_level);

        // ------------------------------------------------------------ registry
        /// <summary>[any] Defaults for the first `struct_size` bytes (pass vsk_registry_config.SizeOf).</summary>
        [DllImport(Library, CallingConvention = CC)]
        public static extern void vsk_registry_config_init_size(ref vsk_registry_config config, uint struct_size);
        /// <summary>[any] The 0.3 entry point: fills only 0.3's 12 bytes.</summary>
        [DllImport(Library, CallingConvention = CC)] public static extern void vsk_registry_config_init(ref vsk_registry_config config);
        /// <summary>[control]</summary>
        [DllImport(Library, CallingConvention = CC)]
        public static extern VskStatus vsk_registry_create(ref vsk_registry_config config, out IntPtr out_registry);
        /// <summary>[control] Releases every bundle reference it holds.</summary>
        [DllImport(Library, CallingConvention = CC)] public static extern void vsk_registry_destroy(IntPtr registry);
        /// <summary>[control] The registry adds its own reference.</summary>
        [DllImport(Library, CallingConvention = CC)]
        public static extern VskStatus vsk_registry_add_bundle(IntPtr registry, IntPtr bundle, out uint out_index);
        /// <summary>[control] `path`: NUL-terminated UTF-8.</summary>
        [DllImport(Library, CallingConvention = CC)]
        public static extern VskStatus vsk_registry_add_file(IntPtr registry, byte[] path, out uint out_index);
        /// <summary>[control] Bytes are copied.</summary>
        [DllImport(Library, CallingConvention = CC)]
        public static extern VskStatus vsk_registry_add_memory(IntPtr registry, void* data, UIntPtr size, out uint out_index);
        /// <summary>[control] `folder`: NUL-terminated UTF-8.</summary>
        [DllImport(Library, CallingConvention = CC)]
        public static extern VskStatus vsk_registry_scan_folder(IntPtr registry, byte[] folder,
                                                                out uint out_added, out uint out_skipped);
        /// <summary>[control]</summary>
        [DllImport(Library, CallingConvention = CC)] public static extern VskStatus vsk_registry_count(IntPtr registry, out uint out_count);
        /// <summary>[control] Borrowed pointer: vsk_bundle_retain to keep it.</summary>
        [DllImport(Library, CallingConvention = CC)]
        public static extern VskStatus vsk_registry_get(IntPtr registry, uint index, out IntPtr out_bundle);
        /// <summary>[control] `voice_id`: NUL-terminated UTF-8.</summary>
        [DllImport(Library, CallingConvention = CC)]
        public static extern VskStatus vsk_registry_find(IntPtr registry, byte[] voice_id, out uint out_index);
        /// <summary>[control] Drops a voice; later indexes move down. `voice_id`: NUL-terminated UTF-8.</summary>
        [DllImport(Library, CallingConvention = CC)]
        public static extern VskStatus vsk_registry_remove(IntPtr registry, byte[] voice_id);
        /// <summary>[control] The registry's CPU budget (borrowed; a vsk_cpu_budget* for vsk_voice_config.shared_budget).</summary>
        [DllImport(Library, CallingConvention = CC)]
        public static extern VskStatus vsk_registry_get_cpu_budget(IntPtr registry, out IntPtr out_budget);
        /// <summary>[any-rt] Sets the registry's CPU budget, in cores (0 = off, up to 64).</summary>
        [DllImport(Library, CallingConvention = CC)]
        public static extern VskStatus vsk_registry_set_cpu_budget(IntPtr registry, float fraction_of_cores);

        // ------------------------------------------------------ voice switcher
        /// <summary>[any] Defaults for the first `struct_size` bytes (pass vsk_switcher_config.SizeOf).</summary>
        [DllImport(Library, CallingConvention = CC)]
        public static extern void vsk_switcher_config_init_size(ref vsk_switcher_config config, uint struct_size);
        /// <summary>[control]</summary>
        [DllImport(Library, CallingConvention = CC)]
        public static extern VskStatus vsk_switcher_create(ref vsk_switcher_config config, out IntPtr out_switcher);
        /// <summary>[control] Never destroys the voices.</summary>
        [DllImport(Library, CallingConvention = CC)] public static extern void vsk_switcher_destroy(IntPtr switcher);
        /// <summary>[feeder] Lends a voice (zero = no voice).</summary>
        [DllImport(Library, CallingConvention = CC)]
        public static extern VskStatus vsk_switcher_publish(IntPtr switcher, IntPtr voice, ulong tag);
        /// <summary>[feeder] A voice no longer used, or VSK_ERR_NOT_FOUND.</summary>
        [DllImport(Library, CallingConvention = CC)]
        public static extern VskStatus vsk_switcher_collect(IntPtr switcher, out IntPtr out_voice, out ulong out_tag);
        /// <summary>[control] Only while process is not running.</summary>
        [DllImport(Library, CallingConvention = CC)] public static extern VskStatus vsk_switcher_retire_all(IntPtr switcher);
        /// <summary>[any-rt]</summary>
        [DllImport(Library, CallingConvention = CC)] public static extern VskStatus vsk_switcher_set_tier(IntPtr switcher, uint tier);
        /// <summary>[any-rt]</summary>
        [DllImport(Library, CallingConvention = CC)] public static extern VskStatus vsk_switcher_set_mix(IntPtr switcher, float wet);
        /// <summary>[any-rt]</summary>
        [DllImport(Library, CallingConvention = CC)] public static extern VskStatus vsk_switcher_set_bypass(IntPtr switcher, uint bypass);
        /// <summary>[any-rt] CPU budget for every voice, fraction of one core (0 = off).</summary>
        [DllImport(Library, CallingConvention = CC)] public static extern VskStatus vsk_switcher_set_cpu_budget(IntPtr switcher, float fraction_of_one_core);
        /// <summary>[audio] Interleaved; in == out allowed.</summary>
        [DllImport(Library, CallingConvention = CC)]
        public static extern VskStatus vsk_switcher_process(IntPtr switcher, float* @in, float* @out, uint frames, uint channels);
        /// <summary>[audio]</summary>
        [DllImport(Library, CallingConvention = CC)] public static extern VskStatus vsk_switcher_reset(IntPtr switcher);
        /// <summary>[any-rt] (set struct_size)</summary>
        [DllImport(Library, CallingConvention = CC)]
        public static extern VskStatus vsk_switcher_get_state(IntPtr switcher, ref vsk_switcher_state state);
        /// <summary>[any-rt] The heard voice's tier state; VSK_ERR_NOT_FOUND without one (set struct_size).</summary>
        [DllImport(Library, CallingConvention = CC)]
        public static extern VskStatus vsk_switcher_get_tier_state(IntPtr switcher, ref vsk_tier_state state);
    }

    /// <summary>UTF-8 conversions for the binding (control paths only: they allocate).</summary>
    public static unsafe class Utf8
    {
        /// <summary>NUL-terminated UTF-8 bytes of `s` (ArgumentException on an embedded NUL).</summary>
        public static byte[] ToNative(string s)
        {
            if (s == null) throw new ArgumentNullException("s");
            if (s.IndexOf('\0') >= 0) throw new ArgumentException("string contains a NUL character: " + s);
            int n = Encoding.UTF8.GetByteCount(s);
            byte[] b = new byte[n + 1];
            Encoding.UTF8.GetBytes(s, 0, s.Length, b, 0);
            return b;
        }

        /// <summary>A library-owned NUL-terminated UTF-8 string ("" for NULL).</summary>
        public static string FromNative(IntPtr p)
        {
            if (p == IntPtr.Zero) return string.Empty;
            byte* b = (byte*)p;
            int n = 0;
            while (b[n] != 0) n++;
            return Encoding.UTF8.GetString(b, n);
        }
    }
}
