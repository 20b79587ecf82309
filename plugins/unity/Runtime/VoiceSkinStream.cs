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
    /// Runs a <see cref="VoiceSkinVoice"/> on an engine's audio callback and takes
    /// changes from the game thread without locks, allocation or clicks.
    ///
    /// Game thread: <see cref="SetVoice"/> (hands over a voice the caller just
    /// created, with the tier it should run), <see cref="SetTier"/>,
    /// <see cref="Mix"/>, <see cref="Bypass"/>, <see cref="CollectGarbage"/>
    /// (call once per frame), <see cref="Dispose"/>. Each change is one
    /// immutable "target" published with Volatile.Write (voice + tier together,
    /// so a tier index never reaches the wrong bundle) or a volatile field.
    ///
    /// Audio thread: <see cref="Process"/> reads the target once per buffer.
    /// A new tier goes to vsk_voice_set_tier (the library warms it up and
    /// crossfades, no click). A new voice runs beside the old one for
    /// <see cref="SwitchWarmupSeconds"/> plus its latency (its state settles),
    /// then a raised-cosine crossfade of <see cref="SwitchFadeSeconds"/> hands
    /// over. Old voices are disposed by the game thread in CollectGarbage once
    /// the audio thread has provably stopped using them (an epoch counter).
    /// </summary>
    public sealed class VoiceSkinStream : IDisposable
    {
        sealed class Target
        {
            public readonly VoiceSkinVoice Voice;
            public readonly int Tier;
            public Target(VoiceSkinVoice voice, int tier) { Voice = voice; Tier = tier; }
        }

        struct Retiring
        {
            public VoiceSkinVoice Voice;
            public long Epoch;
        }

        // ---- shared (game writes, audio reads)
        Target _target;
        volatile float _mix = 1f;
        volatile bool _bypass;
        // ---- shared (audio writes, game reads)
        VoiceSkinVoice _pubCur, _pubNext;
        long _epoch;
        volatile int _observedChannels;
        volatile int _errors;
        // ---- audio thread only
        Target _seen;
        VoiceSkinVoice _cur, _next;
        float _curMix = -1f, _nextMix = -1f;
        int _curBypass = -1, _nextBypass = -1;
        long _nextFrames;
        int _fadePos, _fadeLen, _warmup;
        readonly float[] _scratch;
        readonly int _scratchSamples;
        // ---- game thread only
        readonly List<Retiring> _retiring = new List<Retiring>();
        bool _disposed;

        /// <summary>Time a new voice runs silently beside the old one before the crossfade (plus its latency).</summary>
        public double SwitchWarmupSeconds { get; set; }
        /// <summary>Length of the voice-switch crossfade.</summary>
        public double SwitchFadeSeconds { get; set; }

        /// <param name="scratchFrames">frames per internal piece during a voice switch (any buffer size works)</param>
        public VoiceSkinStream(int scratchFrames = 4096)
        {
            if (scratchFrames < 1) throw new ArgumentOutOfRangeException("scratchFrames");
            _scratchSamples = scratchFrames * 8;
            _scratch = new float[_scratchSamples];
            SwitchWarmupSeconds = 0.1;
            SwitchFadeSeconds = 0.02;
            VoiceSkinVoice.PrepareAudioPath(typeof(VoiceSkinStream));   // JIT here, not on the audio thread
        }

        // =============================================================== game thread

        /// <summary>
        /// Hands <paramref name="voice"/> (now owned by the stream) to the audio
        /// thread, running tier <paramref name="tier"/>; null stops processing
        /// (audio passes through unchanged from the next buffer).
        /// </summary>
        public void SetVoice(VoiceSkinVoice voice, int tier)
        {
            ThrowIfDisposed();
            if (voice != null) voice.Bundle.GetTier(tier);   // range check on the game thread
            Target old = Volatile.Read(ref _target);
            Volatile.Write(ref _target, voice == null ? null : new Target(voice, tier));
            if (old != null && old.Voice != voice) Retire(old.Voice);
            for (int i = _retiring.Count - 1; i >= 0; i--)   // re-targeted: keep it
                if (_retiring[i].Voice == voice) _retiring.RemoveAt(i);
        }

        /// <summary>Requests a tier of the current voice (index into its bundle's tiers).</summary>
        public void SetTier(int tier)
        {
            ThrowIfDisposed();
            Target t = Volatile.Read(ref _target);
            if (t == null) throw new InvalidOperationException("no voice set");
            t.Voice.Bundle.GetTier(tier);
            if (t.Tier != tier) Volatile.Write(ref _target, new Target(t.Voice, tier));
        }

        /// <summary>The voice most recently set (it may still be warming up), or null.</summary>
        public VoiceSkinVoice Voice { get { Target t = Volatile.Read(ref _target); return t == null ? null : t.Voice; } }
        /// <summary>The tier most recently requested, or -1 without a voice.</summary>
        public int Tier { get { Target t = Volatile.Read(ref _target); return t == null ? -1 : t.Tier; } }

        /// <summary>Wet amount 0..1 for every voice of the stream (smoothed by the library).</summary>
        public float Mix
        {
            get { return _mix; }
            set
            {
                if (!(value >= 0f && value <= 1f)) throw new ArgumentOutOfRangeException("value", value, "0..1");
                _mix = value;
            }
        }

        /// <summary>Bypass: delayed dry signal, same latency; toggling crossfades.</summary>
        public bool Bypass { get { return _bypass; } set { _bypass = value; } }

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

        /// <summary>Native errors seen on the audio thread (buffers then pass through).</summary>
        public int ErrorCount { get { return _errors; } }

        /// <summary>Buffers processed so far.</summary>
        public long Epoch { get { return Interlocked.Read(ref _epoch); } }

        /// <summary>True while a voice switch is warming up or crossfading.</summary>
        public bool IsSwitching { get { return Volatile.Read(ref _pubNext) != null; } }

        /// <summary>
        /// Disposes voices the audio thread no longer uses. Call once per game
        /// frame; returns how many were disposed.
        /// </summary>
        public int CollectGarbage()
        {
            if (_retiring.Count == 0) return 0;
            long epoch = Interlocked.Read(ref _epoch);       // read before the published voices
            VoiceSkinVoice cur = Volatile.Read(ref _pubCur), next = Volatile.Read(ref _pubNext);
            VoiceSkinVoice target = Voice;
            int n = 0;
            for (int i = _retiring.Count - 1; i >= 0; i--)
            {
                Retiring r = _retiring[i];
                // Two buffers after the hand-over every buffer started after it,
                // so it read the new target; the published voices then tell
                // whether the old voice is still fading out.
                if (epoch >= r.Epoch + 2 && r.Voice != cur && r.Voice != next && r.Voice != target)
                {
                    r.Voice.Dispose();
                    _retiring.RemoveAt(i);
                    n++;
                }
            }
            return n;
        }

        /// <summary>Voices waiting for CollectGarbage.</summary>
        public int PendingDisposals { get { return _retiring.Count; } }

        void Retire(VoiceSkinVoice v)
        {
            for (int i = 0; i < _retiring.Count; i++) if (_retiring[i].Voice == v) return;
            _retiring.Add(new Retiring { Voice = v, Epoch = Interlocked.Read(ref _epoch) });
        }

        void ThrowIfDisposed() { if (_disposed) throw new ObjectDisposedException("VoiceSkinStream"); }

        /// <summary>
        /// Disposes every voice (memory-safe even while the audio thread is in
        /// Process: the native destroy then waits for that call to return).
        /// </summary>
        public void Dispose()
        {
            if (_disposed) return;
            _disposed = true;
            Target t = Volatile.Read(ref _target);
            Volatile.Write(ref _target, null);
            if (t != null) t.Voice.Dispose();
            foreach (var r in _retiring) r.Voice.Dispose();
            _retiring.Clear();
            var c = Volatile.Read(ref _pubCur);
            var n = Volatile.Read(ref _pubNext);
            if (c != null) c.Dispose();
            if (n != null) n.Dispose();
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
            Target t = Volatile.Read(ref _target);
            if (!ReferenceEquals(t, _seen)) Adopt(t);
            if (_cur != null && _cur.Channels != channels && _next != null && _next.Channels == channels)
            {
                // The current voice cannot run these buffers (the layout
                // changed): the replacement takes over at once.
                FinishSwitch();
            }
            ApplyControls();
            int frames = data.Length / channels;
            if (_cur != null && _cur.Channels == channels && frames > 0)
            {
                if (_next != null && _next.Channels != channels) DropNext();
                fixed (float* p = data)
                {
                    for (int f0 = 0; f0 < frames;)
                    {
                        float* q = p + f0 * channels;
                        int n;
                        if (_next != null)
                        {
                            n = Math.Min(_scratchSamples / channels, frames - f0);
                            Switch(q, n, channels);
                        }
                        else
                        {
                            n = frames - f0;
                            if (_cur.ProcessUnsafe(q, q, n) != VskStatus.VSK_OK) _errors++;
                        }
                        f0 += n;
                    }
                }
            }
            Volatile.Write(ref _pubCur, _cur);
            Volatile.Write(ref _pubNext, _next);
            Interlocked.Increment(ref _epoch);
        }

        unsafe void Switch(float* p, int frames, int channels)
        {
            int n = frames * channels;
            fixed (float* s = _scratch)
            {
                for (int i = 0; i < n; i++) s[i] = p[i];
                if (_cur.ProcessUnsafe(p, p, frames) != VskStatus.VSK_OK) _errors++;
                if (_next.ProcessUnsafe(s, s, frames) != VskStatus.VSK_OK) { _errors++; DropNext(); return; }
                for (int f = 0; f < frames; f++)
                {
                    if (_nextFrames < _warmup) { _nextFrames++; continue; }
                    float g;
                    if (_fadePos < _fadeLen)
                    {
                        g = (float)(0.5 - 0.5 * Math.Cos(Math.PI * (_fadePos + 1) / (_fadeLen + 1)));
                        _fadePos++;
                    }
                    else g = 1f;
                    float h = 1f - g;
                    for (int c = 0; c < channels; c++)
                    {
                        int k = f * channels + c;
                        p[k] = h * p[k] + g * s[k];
                    }
                    if (g == 1f && _fadePos >= _fadeLen)
                    {
                        // Finished: the new voice takes over from the next frame.
                        for (int k = (f + 1) * channels; k < n; k++) p[k] = s[k];
                        FinishSwitch();
                        return;
                    }
                }
            }
        }

        void FinishSwitch()
        {
            _cur = _next;
            _curMix = _nextMix;
            _curBypass = _nextBypass;
            _next = null;
            _nextMix = -1f;
            _nextBypass = -1;
        }

        void DropNext()
        {
            _next = null;
            _nextMix = -1f;
            _nextBypass = -1;
        }

        void Adopt(Target t)
        {
            _seen = t;
            if (t == null) { _cur = null; DropNext(); return; }
            VoiceSkinVoice v = t.Voice;
            if (v == _cur)
            {
                DropNext();                  // cancels a switch away from the current voice
                _cur.TrySetTier(t.Tier);
            }
            else if (v == _next)
            {
                _next.TrySetTier(t.Tier);
            }
            else if (_cur == null)
            {
                _cur = v;
                _curMix = -1f; _curBypass = -1;
                _cur.TrySetTier(t.Tier);
            }
            else
            {
                _next = v;
                _nextMix = -1f; _nextBypass = -1;
                _next.TrySetTier(t.Tier);
                _nextFrames = 0;
                _fadePos = 0;
                _fadeLen = Math.Max(1, (int)(SwitchFadeSeconds * v.SampleRate));
                _warmup = v.LatencyFrames + Math.Max(0, (int)(SwitchWarmupSeconds * v.SampleRate));
            }
        }

        void ApplyControls()
        {
            float m = _mix;
            int b = _bypass ? 1 : 0;
            if (_cur != null)
            {
                if (m != _curMix && _cur.TrySetMix(m) == VskStatus.VSK_OK) _curMix = m;
                if (b != _curBypass && _cur.TrySetBypass(b != 0) == VskStatus.VSK_OK) _curBypass = b;
            }
            if (_next != null)
            {
                if (m != _nextMix && _next.TrySetMix(m) == VskStatus.VSK_OK) _nextMix = m;
                if (b != _nextBypass && _next.TrySetBypass(b != 0) == VskStatus.VSK_OK) _nextBypass = b;
            }
        }
    }
}
