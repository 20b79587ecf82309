// VoiceSkinVoice — one audio stream through one bundle. No Unity dependency.

using System;
using System.Runtime.CompilerServices;
using VoiceSkin.Interop;

namespace VoiceSkin
{
    /// <summary>
    /// One voice (vsk_voice): converts interleaved float audio in place, with
    /// a quality tier, a wet/dry mix and a bypass. Create and dispose on a
    /// control thread (the game thread); <see cref="Process(float[])"/> is for
    /// the audio thread and allocates nothing; <see cref="SetTier(int)"/>,
    /// <see cref="Mix"/> and <see cref="Bypass"/> only store atomics in the
    /// library and may be called from any thread while the audio thread
    /// processes. Output is delayed by <see cref="LatencyFrames"/>.
    /// </summary>
    public sealed class VoiceSkinVoice : IDisposable
    {
        readonly VoiceHandle _handle;
        readonly VoiceSkinBundle _bundle;
        volatile float _mix;
        volatile bool _bypass;

        public VoiceSkinBundle Bundle { get { return _bundle; } }
        public int SampleRate { get; private set; }
        public int Channels { get; private set; }
        public int MaxBlockFrames { get; private set; }
        /// <summary>Total latency in host frames (vsk_voice_get_latency): constant, equal for every tier.</summary>
        public int LatencyFrames { get; private set; }
        public double LatencySeconds { get { return (double)LatencyFrames / SampleRate; } }
        public VoiceHandle Handle { get { return _handle; } }
        public bool IsDisposed { get { return _handle.IsClosed; } }

        /// <summary>Creates a voice. [control]</summary>
        /// <param name="bundle">the voice's bundle (the voice keeps its own reference)</param>
        /// <param name="sampleRate">host rate, 8000..192000 Hz</param>
        /// <param name="channels">interleaved channels, 1..8</param>
        /// <param name="maxBlockFrames">usual largest buffer (longer ones are split, never refused)</param>
        /// <param name="tier">initial tier index</param>
        /// <param name="mix">wet amount 0..1</param>
        /// <param name="bypass">start bypassed</param>
        /// <param name="sharedBudgetOf">a registry whose CPU budget the voice joins
        /// (<see cref="VoiceSkinRegistry.CpuBudget"/>), or null</param>
        public VoiceSkinVoice(VoiceSkinBundle bundle, int sampleRate, int channels,
                              int maxBlockFrames = 1024, int tier = 0, float mix = 1f, bool bypass = false,
                              VoiceSkinRegistry sharedBudgetOf = null)
        {
            if (bundle == null) throw new ArgumentNullException("bundle");
            if (channels < 1 || channels > 8) throw new ArgumentOutOfRangeException("channels", channels, "1..8");
            if (maxBlockFrames < 1 || maxBlockFrames > 65536)
                throw new ArgumentOutOfRangeException("maxBlockFrames", maxBlockFrames, "1..65536");
            if (sampleRate <= 0) throw new VoiceSkinException(VskStatus.VSK_ERR_UNSUPPORTED_RATE, "sample rate " + sampleRate);
            bundle.GetTier(tier);   // range check with a readable message
            var cfg = new vsk_voice_config();
            Native.vsk_voice_config_init_size(ref cfg, vsk_voice_config.SizeOf);
            cfg.sample_rate = (uint)sampleRate;
            cfg.channels = (uint)channels;
            cfg.max_block_frames = (uint)maxBlockFrames;
            cfg.initial_tier = (uint)tier;
            cfg.mix = mix;
            cfg.bypass = bypass ? 1u : 0u;
            if (sharedBudgetOf != null) cfg.shared_budget = sharedBudgetOf.BudgetPointer();
            IntPtr v = IntPtr.Zero;
            VskStatus st = bundle.WithHandle(b => Native.vsk_voice_create(b, ref cfg, out v));
            VoiceSkinException.Check(st, "creating a voice for " + bundle.VoiceId + " at " + sampleRate +
                                         " Hz, " + channels + " channels");
            _handle = new VoiceHandle(v);
            _bundle = bundle;
            SampleRate = sampleRate;
            Channels = channels;
            MaxBlockFrames = maxBlockFrames;
            _mix = mix;
            _bypass = bypass;
            uint lat;
            VoiceSkinException.Check(Native.vsk_voice_get_latency(v, out lat), "reading latency");
            LatencyFrames = (int)lat;
            WarmUpStubs(v, tier, mix, bypass);
        }

        // The runtime builds each P/Invoke stub on its first call (Mono: a few
        // hundred bytes of managed allocation). Make those first calls here,
        // on the control thread, with values that change nothing, so the
        // audio thread's first buffer and first tier switch allocate nothing.
        static unsafe void WarmUpStubs(IntPtr v, int tier, float mix, bool bypass)
        {
            PrepareAudioPath(typeof(VoiceSkinVoice));
            uint t;
            Native.vsk_voice_process(v, null, null, 0);   // frames == 0: a no-op
            Native.vsk_voice_get_tier(v, out t);
            Native.vsk_voice_set_tier(v, (uint)tier);
            Native.vsk_voice_set_mix(v, mix);
            Native.vsk_voice_set_bypass(v, bypass ? 1u : 0u);
        }

        /// <summary>Creates a voice starting at the tier called <paramref name="tierName"/>. [control]</summary>
        public VoiceSkinVoice(VoiceSkinBundle bundle, int sampleRate, int channels, int maxBlockFrames,
                              string tierName, float mix = 1f, bool bypass = false)
            : this(bundle, sampleRate, channels, maxBlockFrames, bundle.FindTier(tierName).Index, mix, bypass) { }

        // ---------------------------------------------------------------- audio

        // The audio-path methods below contain no string literals and no
        // lambdas: Mono creates a method's literals on its first call
        // (managed allocation), so messages are built in the NoInlining
        // Throw* helpers, which only run on errors.

        /// <summary>
        /// Converts <paramref name="data"/> (interleaved, Channels per frame) in
        /// place; every whole frame is processed. [audio] No allocation.
        /// </summary>
        public void Process(float[] data)
        {
            if (data == null) ThrowBuffer(data, 0);
            Process(data, data.Length / Channels);
        }

        /// <summary>Converts the first <paramref name="frames"/> frames of <paramref name="data"/> in place. [audio]</summary>
        public unsafe void Process(float[] data, int frames)
        {
            if (data == null || frames < 0 || (long)frames * Channels > data.Length) ThrowBuffer(data, frames);
            VskStatus st;
            fixed (float* p = data) st = ProcessUnsafe(p, p, frames);
            if (st != VskStatus.VSK_OK) ThrowProcess(st);
        }

        /// <summary>Converts <paramref name="input"/> into <paramref name="output"/> (separate arrays). [audio]</summary>
        public unsafe void Process(float[] input, float[] output, int frames)
        {
            long n = (long)frames * Channels;
            if (input == null || frames < 0 || n > input.Length) ThrowBuffer(input, frames);
            if (output == null || n > output.Length) ThrowBuffer(output, frames);
            VskStatus st;
            fixed (float* i = input)
            fixed (float* o = output)
                st = ProcessUnsafe(i, o, frames);
            if (st != VskStatus.VSK_OK) ThrowProcess(st);
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        void ThrowBuffer(float[] data, int frames)
        {
            if (data == null) throw new ArgumentNullException("data");
            throw new ArgumentOutOfRangeException("frames", frames,
                "a buffer of " + data.Length + " samples holds " + data.Length / Channels + " frames of " +
                Channels + " channels");
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        void ThrowProcess(VskStatus st) { Check(st, "processing audio"); }

        /// <summary>
        /// The raw audio call: never throws, never allocates. Returns
        /// VSK_ERR_BAD_STATE once the voice is disposed. [audio]
        /// </summary>
        public unsafe VskStatus ProcessUnsafe(float* input, float* output, int frames)
        {
            if (frames <= 0) return frames == 0 ? VskStatus.VSK_OK : VskStatus.VSK_ERR_INVALID_ARGUMENT;
            bool added = false;
            try
            {
                _handle.DangerousAddRef(ref added);
                return Native.vsk_voice_process(_handle.DangerousGetHandle(), input, output, (uint)frames);
            }
            catch (ObjectDisposedException)
            {
                return VskStatus.VSK_ERR_BAD_STATE;
            }
            finally
            {
                if (added) _handle.DangerousRelease();
            }
        }

        /// <summary>Clears all streaming state; keeps tier, mix and bypass. [audio]</summary>
        public void Reset() { Check(Call(h => Native.vsk_voice_reset(h)), "resetting the voice"); }

        // ------------------------------------------------------------- controls

        /// <summary>Requests tier <paramref name="index"/>: it warms up and crossfades in at the next Process (no click). [any-rt]</summary>
        public void SetTier(int index)
        {
            VskStatus st = index < _bundle.Tiers.Count ? TrySetTier(index) : VskStatus.VSK_ERR_NOT_FOUND;
            if (st != VskStatus.VSK_OK) ThrowTier(st, index);
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        void ThrowTier(VskStatus st, int index)
        {
            if (st == VskStatus.VSK_ERR_NOT_FOUND) _bundle.GetTier(index);   // throws, listing the tiers
            Check(st, "setting tier " + index);
        }

        /// <summary>Requests the tier called <paramref name="name"/>. [control: looks the name up]</summary>
        public void SetTier(string name) { SetTier(_bundle.FindTier(name).Index); }

        /// <summary>Requests <paramref name="tier"/>, which must be one of this voice's bundle tiers. [any-rt]</summary>
        public void SetTier(QualityTier tier)
        {
            if (tier == null) throw new ArgumentNullException("tier");
            SetTier(tier.Index);
        }

        /// <summary>SetTier without exceptions or allocation (for the audio thread). [any-rt]</summary>
        public VskStatus TrySetTier(int index)
        {
            if (index < 0) return VskStatus.VSK_ERR_NOT_FOUND;
            bool added = false;
            try
            {
                _handle.DangerousAddRef(ref added);
                return Native.vsk_voice_set_tier(_handle.DangerousGetHandle(), (uint)index);
            }
            catch (ObjectDisposedException) { return VskStatus.VSK_ERR_BAD_STATE; }
            finally { if (added) _handle.DangerousRelease(); }
        }

        /// <summary>The most recently requested tier index. [any-rt]</summary>
        public int Tier
        {
            get
            {
                uint t = 0;
                Check(Call(h => Native.vsk_voice_get_tier(h, out t)), "reading the tier");
                return (int)t;
            }
            set { SetTier(value); }
        }

        /// <summary>The most recently requested tier.</summary>
        public QualityTier CurrentTier { get { return _bundle.Tiers[Tier]; } }

        /// <summary>Wet amount 0..1 (smoothed over ~5 ms by the library). [any-rt]</summary>
        public float Mix
        {
            get { return _mix; }
            set
            {
                if (!(value >= 0f && value <= 1f))
                    throw new ArgumentOutOfRangeException("value", value, "mix must be in 0..1");
                Check(Call(h => Native.vsk_voice_set_mix(h, value)), "setting mix");
                _mix = value;
            }
        }

        /// <summary>Bypass (delayed dry, same latency; toggling crossfades). [any-rt]</summary>
        public bool Bypass
        {
            get { return _bypass; }
            set
            {
                Check(Call(h => Native.vsk_voice_set_bypass(h, value ? 1u : 0u)), "setting bypass");
                _bypass = value;
            }
        }

        /// <summary>Mix without exceptions or allocation (for the audio thread). [any-rt]</summary>
        public VskStatus TrySetMix(float wet)
        {
            if (!(wet >= 0f && wet <= 1f)) return VskStatus.VSK_ERR_INVALID_ARGUMENT;
            bool added = false;
            try
            {
                _handle.DangerousAddRef(ref added);
                VskStatus st = Native.vsk_voice_set_mix(_handle.DangerousGetHandle(), wet);
                if (st == VskStatus.VSK_OK) _mix = wet;
                return st;
            }
            catch (ObjectDisposedException) { return VskStatus.VSK_ERR_BAD_STATE; }
            finally { if (added) _handle.DangerousRelease(); }
        }

        /// <summary>Bypass without exceptions or allocation (for the audio thread). [any-rt]</summary>
        public VskStatus TrySetBypass(bool on)
        {
            bool added = false;
            try
            {
                _handle.DangerousAddRef(ref added);
                VskStatus st = Native.vsk_voice_set_bypass(_handle.DangerousGetHandle(), on ? 1u : 0u);
                if (st == VskStatus.VSK_OK) _bypass = on;
                return st;
            }
            catch (ObjectDisposedException) { return VskStatus.VSK_ERR_BAD_STATE; }
            finally { if (added) _handle.DangerousRelease(); }
        }

        // -------------------------------------------------------------- helpers

        static readonly System.Collections.Generic.HashSet<Type> s_prepared =
            new System.Collections.Generic.HashSet<Type>();

        /// <summary>
        /// JIT-compiles every method of <paramref name="type"/> now, on the
        /// calling (control) thread, so the audio thread does not compile on
        /// its first buffer. Once per type; a no-op where there is no JIT (IL2CPP).
        /// </summary>
        public static void PrepareAudioPath(Type type)
        {
            lock (s_prepared)
            {
                if (!s_prepared.Add(type)) return;
                const System.Reflection.BindingFlags all = System.Reflection.BindingFlags.Instance |
                    System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.Public |
                    System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.DeclaredOnly;
                foreach (var m in type.GetMethods(all))
                {
                    if (m.IsAbstract || m.ContainsGenericParameters) continue;
                    try { System.Runtime.CompilerServices.RuntimeHelpers.PrepareMethod(m.MethodHandle); }
                    catch (Exception) { /* best effort (e.g. platforms without a JIT) */ }
                }
            }
        }

        // Control-path helper (the lambda may allocate a closure); the Try*
        // and ProcessUnsafe methods above are the allocation-free audio paths.
        VskStatus Call(Func<IntPtr, VskStatus> f)
        {
            bool added = false;
            try
            {
                _handle.DangerousAddRef(ref added);
                return f(_handle.DangerousGetHandle());
            }
            catch (ObjectDisposedException) { return VskStatus.VSK_ERR_BAD_STATE; }
            finally { if (added) _handle.DangerousRelease(); }
        }

        void Check(VskStatus st, string what)
        {
            if (st == VskStatus.VSK_OK) return;
            if (st == VskStatus.VSK_ERR_BAD_STATE && _handle.IsClosed)
                throw new ObjectDisposedException("VoiceSkinVoice " + _bundle.VoiceId);
            VoiceSkinException.Check(st, what + " (" + _bundle.VoiceId + ")");
        }

        /// <summary>Destroys the voice (deferred until a Process in progress on another thread returns).</summary>
        public void Dispose() { _handle.Dispose(); }

        public override string ToString()
        {
            return "VoiceSkinVoice(" + _bundle.VoiceId + ", " + SampleRate + " Hz x" + Channels + ")";
        }
    }
}
