// VoiceSkinFilter — a voice skin on an AudioSource (or the AudioListener)
// through OnAudioFilterRead. Thin Unity glue around VoiceSkinStream.
//
// Threads: Unity calls OnEnable/OnDisable/Update/OnValidate on the main
// (game) thread and OnAudioFilterRead on its audio thread. Voices are created
// and disposed on the main thread only; the audio thread gets them, and the
// tier, mix and bypass, through VoiceSkinStream's lock-free hand-off.

using System;
using System.Collections.Generic;
using UnityEngine;

namespace VoiceSkin
{
    [AddComponentMenu("Audio/VoiceSkin Filter")]
    [DisallowMultipleComponent]
    public sealed class VoiceSkinFilter : MonoBehaviour
    {
        [Tooltip("Voice ID of a .vskin bundle in StreamingAssets/VoiceSkins (e.g. demo.aria)")]
        [SerializeField] string voiceId = "";
        [Tooltip("Quality tier name (empty = the lowest tier). Switching crossfades, no click.")]
        [SerializeField] string tierName = "";
        [Tooltip("Converted voice amount: 0 = dry, 1 = fully converted")]
        [Range(0f, 1f)] [SerializeField] float mix = 1f;
        [Tooltip("Dry signal, delayed by the same latency (toggling crossfades)")]
        [SerializeField] bool bypass;

        volatile VoiceSkinStream _stream;   // read by the audio thread
        VoiceSkinVoice _voice;              // newest voice handed to the stream
        string _appliedVoice, _appliedTier;
        int _sampleRate, _channels, _bufferFrames;
        bool _configChanged;

        /// <summary>Voice ID to use; setting it switches voices with a crossfade.</summary>
        public string VoiceId { get { return voiceId; } set { voiceId = value ?? ""; Apply(false); } }
        /// <summary>Tier name to use (empty = lowest); the library crossfades.</summary>
        public string TierName { get { return tierName; } set { tierName = value ?? ""; Apply(false); } }
        /// <summary>Requests a tier by index of the current voice's tiers.</summary>
        public void SetTier(int index)
        {
            if (_voice == null) throw new InvalidOperationException("no voice loaded");
            TierName = _voice.Bundle.GetTier(index).Name;
        }
        public float Mix { get { return mix; } set { mix = Mathf.Clamp01(value); if (_stream != null) _stream.Mix = mix; } }
        public bool Bypass { get { return bypass; } set { bypass = value; if (_stream != null) _stream.Bypass = value; } }
        /// <summary>The tiers of the current voice (empty without one).</summary>
        public IList<QualityTier> Tiers { get { return _voice != null ? _voice.Bundle.Tiers : new QualityTier[0]; } }
        /// <summary>Latency of the current voice in output frames (0 without one).</summary>
        public int LatencyFrames { get { return _voice != null ? _voice.LatencyFrames : 0; } }
        public double LatencySeconds { get { return _voice != null ? _voice.LatencySeconds : 0.0; } }
        /// <summary>True while a voice is loaded and running.</summary>
        public bool IsActive { get { return _stream != null && _voice != null; } }

        void OnEnable()
        {
            ReadAudioConfiguration();
            _stream = new VoiceSkinStream(Math.Max(_bufferFrames, 1024));
            _stream.Mix = mix;
            _stream.Bypass = bypass;
            AudioSettings.OnAudioConfigurationChanged += OnAudioConfigurationChanged;
            Apply(true);
        }

        void OnDisable()
        {
            AudioSettings.OnAudioConfigurationChanged -= OnAudioConfigurationChanged;
            var s = _stream;
            _stream = null;
            _voice = null;
            _appliedVoice = _appliedTier = null;
            if (s != null) s.Dispose();   // safe while the audio thread is inside Process
        }

        void Update()
        {
            var s = _stream;
            if (s == null) return;
            s.Mix = mix;
            s.Bypass = bypass;
            if (s.ChannelMismatch)
            {
                _channels = s.ObservedChannels;   // the voice is rebuilt for the real channel count
                Apply(true);
            }
            else if (_configChanged)
            {
                _configChanged = false;
                ReadAudioConfiguration();
                Apply(true);
            }
            else if (voiceId != _appliedVoice || tierName != _appliedTier)
            {
                Apply(false);
            }
            s.CollectGarbage();
        }

        void OnValidate() { mix = Mathf.Clamp01(mix); }

        // Audio thread: converts the buffer in place. No allocation, no locks.
        void OnAudioFilterRead(float[] data, int channels)
        {
            var s = _stream;
            if (s != null) s.Process(data, channels);
        }

        void OnAudioConfigurationChanged(bool deviceWasChanged) { _configChanged = true; }

        void ReadAudioConfiguration()
        {
            _sampleRate = AudioSettings.outputSampleRate;
            int length, count;
            AudioSettings.GetDSPBufferSize(out length, out count);
            _bufferFrames = Mathf.Clamp(length, 64, 65536);
            if (_channels == 0) _channels = ChannelsOf(AudioSettings.speakerMode);
        }

        static int ChannelsOf(AudioSpeakerMode mode)
        {
            switch (mode)
            {
                case AudioSpeakerMode.Mono: return 1;
                case AudioSpeakerMode.Quad: return 4;
                case AudioSpeakerMode.Surround: return 5;
                case AudioSpeakerMode.Mode5point1: return 6;
                case AudioSpeakerMode.Mode7point1: return 8;
                case AudioSpeakerMode.Prologic: return 2;
                default: return 2;
            }
        }

        // Main thread: (re)creates the voice when the voice ID, the audio
        // configuration or the channel count changed, else forwards the tier.
        void Apply(bool rebuild)
        {
            var s = _stream;
            if (s == null) return;
            try
            {
                if (rebuild || voiceId != _appliedVoice || _voice == null)
                {
                    _appliedVoice = voiceId;
                    _appliedTier = tierName;
                    if (string.IsNullOrEmpty(voiceId))
                    {
                        s.SetVoice(null, 0);
                        _voice = null;
                        return;
                    }
                    using (var bundle = VoiceSkinStreamingAssets.Registry.Find(voiceId))
                    {
                        int tier = ResolveTier(bundle);
                        var voice = new VoiceSkinVoice(bundle, _sampleRate, _channels, _bufferFrames, tier, mix, bypass,
                                                       VoiceSkinStreamingAssets.Registry);   // the game-wide CPU budget
                        s.SetVoice(voice, tier);   // the stream owns it now; crossfades from the previous voice
                        _voice = voice;
                    }
                }
                else if (tierName != _appliedTier)
                {
                    _appliedTier = tierName;
                    s.SetTier(ResolveTier(_voice.Bundle));
                }
            }
            catch (VoiceSkinException e)
            {
                Debug.LogWarning("VoiceSkin: " + e.Message, this);
            }
        }

        int ResolveTier(VoiceSkinBundle bundle)
        {
            if (string.IsNullOrEmpty(tierName)) return 0;
            foreach (var t in bundle.Tiers)
                if (t.Name == tierName) return t.Index;
            Debug.LogWarning("VoiceSkin: voice " + bundle.VoiceId + " has no tier '" + tierName +
                             "'; using '" + bundle.Tiers[0].Name + "'", this);
            return 0;
        }
    }
}
