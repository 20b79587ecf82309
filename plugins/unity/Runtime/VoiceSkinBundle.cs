// VoiceSkinBundle — an opened, validated .vskin file. No Unity dependency.

using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using VoiceSkin.Interop;

namespace VoiceSkin
{
    /// <summary>
    /// An immutable voice bundle (vsk_bundle): identity and quality tiers.
    /// Voices and registries hold their own native reference, so disposing a
    /// bundle that voices still use is safe. Thread-safe for reading.
    /// </summary>
    public sealed class VoiceSkinBundle : IDisposable
    {
        readonly BundleHandle _handle;
        readonly ReadOnlyCollection<QualityTier> _tiers;

        public string VoiceId { get; private set; }
        public string DisplayName { get; private set; }
        /// <summary>"MAJOR.MINOR.PATCH".</summary>
        public string Version { get; private set; }
        public int FormatVersion { get; private set; }
        /// <summary>Tiers, lowest quality first.</summary>
        public IList<QualityTier> Tiers { get { return _tiers; } }
        public BundleHandle Handle { get { return _handle; } }
        public bool IsDisposed { get { return _handle.IsClosed; } }

        VoiceSkinBundle(BundleHandle handle)
        {
            _handle = handle;
            bool added = false;
            try
            {
                handle.DangerousAddRef(ref added);
                IntPtr p = handle.DangerousGetHandle();
                var info = new vsk_bundle_info { struct_size = vsk_bundle_info.SizeOf };
                VoiceSkinException.Check(Native.vsk_bundle_get_info(p, ref info), "reading bundle info");
                VoiceId = Utf8.FromNative(info.voice_id);
                DisplayName = Utf8.FromNative(info.display_name);
                Version = Utf8.FromNative(info.version);
                FormatVersion = (int)info.format_version;
                var tiers = new List<QualityTier>((int)info.tier_count);
                for (uint i = 0; i < info.tier_count; i++)
                {
                    var ti = new vsk_tier_info { struct_size = vsk_tier_info.SizeOf };
                    VoiceSkinException.Check(Native.vsk_bundle_get_tier_info(p, i, ref ti),
                                             "reading tier " + i + " of " + VoiceId);
                    tiers.Add(new QualityTier((int)i, Utf8.FromNative(ti.name), (int)ti.model_sample_rate,
                                              (int)ti.hop_samples, (int)ti.latency_samples,
                                              (long)ti.parameter_count, (long)ti.flops_per_second));
                }
                _tiers = tiers.AsReadOnly();
            }
            catch
            {
                if (added) { handle.DangerousRelease(); added = false; }
                handle.Dispose();
                throw;
            }
            finally
            {
                if (added) handle.DangerousRelease();
            }
        }

        /// <summary>Opens and validates a .vskin file (UTF-8 path). [control]</summary>
        public static VoiceSkinBundle OpenFile(string path)
        {
            IntPtr p;
            VoiceSkinException.Check(Native.vsk_bundle_open_file(Utf8.ToNative(path), out p), "opening " + path);
            return new VoiceSkinBundle(new BundleHandle(p));
        }

        /// <summary>Validates and copies a bundle held in memory. [control]</summary>
        public static unsafe VoiceSkinBundle FromBytes(byte[] data)
        {
            if (data == null) throw new ArgumentNullException("data");
            IntPtr p;
            fixed (byte* d = data)
                VoiceSkinException.Check(Native.vsk_bundle_open_memory(d, (UIntPtr)data.Length, out p),
                                         "opening a bundle from " + data.Length + " bytes");
            return new VoiceSkinBundle(new BundleHandle(p));
        }

        /// <summary>Wraps a borrowed vsk_bundle* (e.g. from a registry), adding a reference.</summary>
        internal static VoiceSkinBundle FromBorrowed(IntPtr borrowed)
        {
            Native.vsk_bundle_retain(borrowed);
            return new VoiceSkinBundle(new BundleHandle(borrowed));
        }

        /// <summary>The tier called <paramref name="name"/>; VoiceSkinException (VSK_ERR_NOT_FOUND) if absent.</summary>
        public QualityTier FindTier(string name)
        {
            byte[] raw = Utf8.ToNative(name);
            uint index = 0;
            VskStatus st = WithHandle(p => Native.vsk_bundle_find_tier(p, raw, out index));
            if (st != VskStatus.VSK_OK || index >= (uint)_tiers.Count)
            {
                var names = new string[_tiers.Count];
                for (int i = 0; i < names.Length; i++) names[i] = _tiers[i].Name;
                throw new VoiceSkinException(st == VskStatus.VSK_OK ? VskStatus.VSK_ERR_NOT_FOUND : st,
                    "tier '" + name + "' in " + VoiceId + "; available: " + string.Join(", ", names));
            }
            return _tiers[(int)index];
        }

        /// <summary>The tier at <paramref name="index"/>; VoiceSkinException (VSK_ERR_NOT_FOUND) if out of range.</summary>
        public QualityTier GetTier(int index)
        {
            if (index < 0 || index >= _tiers.Count)
                throw new VoiceSkinException(VskStatus.VSK_ERR_NOT_FOUND,
                    "tier index " + index + " in " + VoiceId + " (tiers 0.." + (_tiers.Count - 1) + ")");
            return _tiers[index];
        }

        internal T WithHandle<T>(Func<IntPtr, T> f)
        {
            bool added = false;
            try
            {
                _handle.DangerousAddRef(ref added);
                return f(_handle.DangerousGetHandle());
            }
            catch (ObjectDisposedException)
            {
                throw new ObjectDisposedException("VoiceSkinBundle " + VoiceId);
            }
            finally
            {
                if (added) _handle.DangerousRelease();
            }
        }

        /// <summary>Drops this object's reference.</summary>
        public void Dispose() { _handle.Dispose(); }

        public override string ToString() { return VoiceId + " " + Version + " (" + DisplayName + ")"; }
    }
}
