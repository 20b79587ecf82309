// VoiceSkinStream — the audio-thread side of an engine audio callback, with
// game-thread hand-off. No Unity dependency (VoiceSkinFilter is thin glue
// around it; tests/test_unity_mono.py runs it under Mono).

using System;
using System.Collections.Generic;
using System.Threading;
using VoiceSkin.Interop;

namespace VoiceSkin
{
    /// <summary>
    /// Runs voices on an engine's audio callback and takes changes from the
    /// game thread without locks, allocation or clicks. The switching is the
    /// library's voice switcher (vsk_switcher, voiceskin.h), the one
    /// implementation every engine adapter runs.
    ///
    /// Game thread: <see cref="SetVoice"/> (lends a voice the caller just
    /// created to the switcher), <see cref="SetTier"/>, <see cref="Mix"/>,
    /// <see cref="Bypass"/>, <see cref="CollectGarbage"/> (call once per
    /// frame), <see cref="Dispose"/>.
    ///
    /// Audio thread: <see cref="Process"/>. A new tier goes to every voice
    /// (the library warms it up and crossfades, no click). A new voice runs
    /// beside the old one for <see cref="SwitchWarmupSeconds"/> plus its
    /// latency (its state settles), then an equal-power crossfade of
    /// <see cref="SwitchFadeSeconds"/> hands over. Old voices are handed back
    /// by the switcher once the audio thread provably stopped using them and
    /// disposed by the game thread in CollectGarbage.
    /// </summary>
    public sealed class VoiceSkinStream : IDisposable
    {
        // ---- shared (game writes, audio reads)
        volatile SwitcherHandle _sw;    // created with the first voice (its rate)
        volatile float _mix = 1f;
        volatile bool _bypass;
        volatile float _cpuBudget;
        volatile int _observedChannels;
        // ---- game thread only
        VoiceSkinVoice _target;
        int _tier = -1;
        readonly List<VoiceSkinVoice> _lent = new List<VoiceSkinVoice>();
        readonly int _scratchFrames;
        bool _disposed;

        /// <summary>Time a new voice runs silently beside the old one before the crossfade (plus its latency); set before the first voice.</summary>
        public double SwitchWarmupSeconds { get; set; }
        /// <summary>Length of the voice-switch crossfade (VSK_SWITCH_FADE_MS, the same in every engine).</summary>
        public double SwitchFadeSeconds { get { return Native.VSK_SWITCH_FADE_MS * 1e-3; } }

        /// <param name="scratchFrames">frames per internal piece during a voice switch (any buffer size works)</param>
        public VoiceSkinStream(int scratchFrames = 4096)
        {
            if (scratchFrames < 1) throw new ArgumentOutOfRangeException("scratchFrames");
            _scratchFrames = Math.Min(scratchFrames, 65536);
            SwitchWarmupSeconds = Native.VSK_SWITCH_WARMUP_MS * 1e-3;
            VoiceSkinVoice.PrepareAudioPath(typeof(VoiceSkinStream));   // JIT here, not on the audio thread
        }

        // =============================================================== game thread

        /// <summary>
        /// Lends <paramref name="voice"/> (now owned by the stream) to the audio
        /// thread, running tier <paramref name="tier"/>; null fades back to the
        /// unprocessed input. Every voice of a stream has the same sample rate.
        /// </summary>
        public void SetVoice(VoiceSkinVoice voice, int tier)
        {
            ThrowIfDisposed();
            if (voice != null) voice.Bundle.GetTier(tier);   // range check on the game thread
            SwitcherHandle sw = _sw;
            if (sw == null)
            {
                if (voice == null) { _target = null; _tier = -1; return; }
                sw = Create(voice.SampleRate);
            }
            IntPtr v = IntPtr.Zero;
            if (voice != null)
            {
                if (!_lent.Contains(voice))
                {
                    bool added = false;
                    voice.Handle.DangerousAddRef(ref added);   // kept alive while lent
                    _lent.Add(voice);
                }
                v = voice.Handle.DangerousGetHandle();
            }
            VoiceSkinException.Check(Native.vsk_switcher_publish(sw.DangerousGetHandle(), v, 0), "lending a voice");
            _target = voice;
            _tier = voice == null ? -1 : tier;
            if (voice != null) Native.vsk_switcher_set_tier(sw.DangerousGetHandle(), (uint)tier);
        }

        SwitcherHandle Create(int sampleRate)
        {
            var c = new vsk_switcher_config();
            Native.vsk_switcher_config_init_size(ref c, vsk_switcher_config.SizeOf);
            c.sample_rate = (uint)sampleRate;
            c.max_channels = 8;
            c.max_block_frames = (uint)_scratchFrames;
            c.warmup_ms = (uint)Math.Round(Math.Max(0.0, SwitchWarmupSeconds) * 1000.0);
            IntPtr p;
            VoiceSkinException.Check(Native.vsk_switcher_create(ref c, out p), "creating the voice switcher");
            var sw = new SwitcherHandle(p);
            Native.vsk_switcher_set_mix(sw.DangerousGetHandle(), _mix);
            Native.vsk_switcher_set_bypass(sw.DangerousGetHandle(), _bypass ? 1u : 0u);
            Native.vsk_switcher_set_cpu_budget(sw.DangerousGetHandle(), _cpuBudget);
            _sw = sw;
            return sw;
        }

        /// <summary>Requests a tier of the current voice (index into its bundle's tiers).</summary>
        public void SetTier(int tier)
        {
            ThrowIfDisposed();
            if (_target == null) throw new InvalidOperationException("no voice set");
            _target.Bundle.GetTier(tier);
            _tier = tier;
            Native.vsk_switcher_set_tier(_sw.DangerousGetHandle(), (uint)tier);
        }

        /// <summary>The voice most recently set (it may still be warming up), or null.</summary>
        public VoiceSkinVoice Voice { get { return _target; } }
        /// <summary>The tier most recently requested, or -1 without a voice.</summary>
        public int Tier { get { return _tier; } }

        /// <summary>Wet amount 0..1 for every voice of the stream (smoothed by the library).</summary>
        public float Mix
        {
            get { return _mix; }
            set
            {
                if (!(value >= 0f && value <= 1f)) throw new ArgumentOutOfRangeException("value", value, "0..1");
                _mix = value;
                var sw = _sw;
                if (sw != null) Native.vsk_switcher_set_mix(sw.DangerousGetHandle(), value);
            }
        }

        /// <summary>Bypass: delayed dry signal, same latency; toggling crossfades.</summary>
        public bool Bypass
        {
            get { return _bypass; }
            set
            {
                _bypass = value;
                var sw = _sw;
                if (sw != null) Native.vsk_switcher_set_bypass(sw.DangerousGetHandle(), value ? 1u : 0u);
            }
        }

        /// <summary>CPU budget per voice, fraction of one core (0 = off): each voice times
        /// its own processing and steps its tier down (or back up, never above
        /// <see cref="Tier"/>) with the usual crossfade ("dynamic quality").</summary>
        public float CpuBudget
        {
            get { return _cpuBudget; }
            set
            {
                if (!(value >= 0f && value <= 1f)) throw new ArgumentOutOfRangeException("value", value, "0..1");
                _cpuBudget = value;
                var sw = _sw;
                if (sw != null) Native.vsk_switcher_set_cpu_budget(sw.DangerousGetHandle(), value);
            }
        }

        /// <summary>The tier the CPU governor allows the heard voice now (the highest it
        /// may play), or -1 without a voice; see <see cref="CpuBudget"/>.</summary>
        public int GovernedTier
        {
            get
            {
                var sw = _sw;
                if (sw == null) return -1;
                var s = new vsk_tier_state();
                s.struct_size = vsk_tier_state.SizeOf;
                if (Native.vsk_switcher_get_tier_state(sw.DangerousGetHandle(), ref s) != VskStatus.VSK_OK) return -1;
                return (int)s.governed_tier;
            }
        }

        /// <summary>Channel count of the last buffer the audio thread saw (0 before the first).</summary>
        public int ObservedChannels { get { return _observedChannels; } }

        /// <summary>True when the audio thread's buffers have a channel count the voice was not made for (they pass through unchanged).</summary>
        public bool ChannelMismatch
        {
            get
            {
                var v = Voice;
                int c = _observedChannels;
                return v != null && c != 0 && c != v.Channels;
            }
        }

        vsk_switcher_state State()
        {
            var s = new vsk_switcher_state();
            s.struct_size = vsk_switcher_state.SizeOf;
            var sw = _sw;
            if (sw != null && !sw.IsClosed) Native.vsk_switcher_get_state(sw.DangerousGetHandle(), ref s);
            return s;
        }

        /// <summary>Native errors seen on the audio thread (buffers then pass through).</summary>
        public int ErrorCount { get { return (int)State().errors; } }

        /// <summary>True while a voice switch is warming up or crossfading.</summary>
        public bool IsSwitching { get { return State().switching != 0; } }

        /// <summary>
        /// Disposes voices the switcher handed back (the audio thread no longer
        /// uses them). Call once per game frame; returns how many were disposed.
        /// </summary>
        public int CollectGarbage()
        {
            var sw = _sw;
            if (sw == null || _disposed) return 0;
            int n = 0;
            IntPtr v;
            ulong tag;
            while (Native.vsk_switcher_collect(sw.DangerousGetHandle(), out v, out tag) == VskStatus.VSK_OK)
            {
                for (int i = 0; i < _lent.Count; i++)
                {
                    if (_lent[i].Handle.DangerousGetHandle() != v) continue;
                    VoiceSkinVoice old = _lent[i];
                    _lent.RemoveAt(i);
                    old.Handle.DangerousRelease();
                    if (old != _target) { old.Dispose(); n++; }
                    break;
                }
            }
            return n;
        }

        /// <summary>Voices lent to the switcher (heard, incoming, pending or not yet collected).</summary>
        public int LentVoices { get { return _lent.Count; } }

        void ThrowIfDisposed() { if (_disposed) throw new ObjectDisposedException("VoiceSkinStream"); }

        /// <summary>
        /// Disposes every voice (memory-safe even while the audio thread is in
        /// Process: the native destroys then wait for that call to return).
        /// </summary>
        public void Dispose()
        {
            if (_disposed) return;
            _disposed = true;
            var sw = _sw;
            var handles = new VoiceHandle[_lent.Count];
            for (int i = 0; i < _lent.Count; i++) handles[i] = _lent[i].Handle;
            foreach (var v in _lent) v.Dispose();            // destroyed once their lending reference goes
            if (_target != null && !_lent.Contains(_target)) _target.Dispose();
            _lent.Clear();
            _target = null;
            if (sw != null)
            {
                sw.Lent = handles;
                sw.Dispose();                                 // deferred while Process runs
            }
            else
            {
                foreach (var h in handles) h.DangerousRelease();
            }
        }

        // ============================================================== audio thread

        /// <summary>
        /// Converts <paramref name="data"/> (interleaved, <paramref name="channels"/>
        /// per frame) in place. Never allocates, locks or throws. [audio]
        /// </summary>
        public unsafe void Process(float[] data, int channels)
        {
            if (data == null || channels < 1 || channels > 8) return;
            _observedChannels = channels;
            SwitcherHandle sw = _sw;
            int frames = data.Length / channels;
            if (sw == null || frames == 0) return;
            bool added = false;
            try
            {
                sw.DangerousAddRef(ref added);
                fixed (float* p = data)
                    Native.vsk_switcher_process(sw.DangerousGetHandle(), p, p, (uint)frames, (uint)channels);
            }
            catch (ObjectDisposedException) { /* disposed meanwhile: pass through */ }
            finally { if (added) sw.DangerousRelease(); }
        }
    }
}
