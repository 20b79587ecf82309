// VoiceSkinRegistry — the voices a game offers, one bundle per voice ID.
// No Unity dependency.

using System;
using System.Collections.Generic;
using VoiceSkin.Interop;

namespace VoiceSkin
{
    /// <summary>Result of <see cref="VoiceSkinRegistry.ScanFolder"/>.</summary>
    public struct ScanResult
    {
        /// <summary>Files added (replacements by a newer version included).</summary>
        public int Added;
        /// <summary>Files refused (unreadable, invalid, duplicate or older, registry full).</summary>
        public int Skipped;
        public override string ToString() { return "added " + Added + ", skipped " + Skipped; }
    }

    /// <summary>A registry entry as plain data (for inspectors and menus).</summary>
    public sealed class VoiceInfo
    {
        public int Index { get; private set; }
        public string VoiceId { get; private set; }
        public string DisplayName { get; private set; }
        public string Version { get; private set; }
        /// <summary>Tiers, lowest quality first.</summary>
        public IList<QualityTier> Tiers { get; private set; }

        public VoiceInfo(int index, string voiceId, string displayName, string version, IList<QualityTier> tiers)
        {
            Index = index;
            VoiceId = voiceId;
            DisplayName = displayName;
            Version = version;
            Tiers = tiers;
        }

        public override string ToString() { return DisplayName + " (" + VoiceId + " " + Version + ")"; }
    }

    /// <summary>
    /// A registry of voice bundles (vsk_registry): each voice ID at most once,
    /// at its highest version; indexes are stable. All calls are control-thread
    /// calls (they may allocate and do I/O); this class serialises them with a
    /// lock, so it may be shared between threads that are not the audio thread.
    /// </summary>
    public sealed class VoiceSkinRegistry : IDisposable
    {
        readonly RegistryHandle _handle;
        readonly object _lock = new object();

        /// <param name="maxVoices">cap on distinct voices (0 = the library default, 256)</param>
        public VoiceSkinRegistry(int maxVoices = 0)
        {
            if (maxVoices < 0) throw new ArgumentOutOfRangeException("maxVoices");
            var cfg = new vsk_registry_config();
            Native.vsk_registry_config_init_size(ref cfg, vsk_registry_config.SizeOf);
            cfg.max_voices = (uint)maxVoices;
            IntPtr r;
            VoiceSkinException.Check(Native.vsk_registry_create(ref cfg, out r), "creating a registry");
            _handle = new RegistryHandle(r);
        }

        /// <summary>Creates a registry and scans <paramref name="folder"/> (see <see cref="ScanFolder"/>).</summary>
        public static VoiceSkinRegistry FromFolder(string folder)
        {
            var reg = new VoiceSkinRegistry();
            try { reg.ScanFolder(folder); }
            catch { reg.Dispose(); throw; }
            return reg;
        }

        /// <summary>
        /// Adds every "*.vskin" file directly inside <paramref name="folder"/>
        /// (not subfolders), in byte-wise name order. Bad files are skipped and
        /// counted; VoiceSkinException (VSK_ERR_IO) only if the folder cannot be read.
        /// </summary>
        public ScanResult ScanFolder(string folder)
        {
            byte[] raw = Utf8.ToNative(folder);
            uint added = 0, skipped = 0;
            Locked(h => Native.vsk_registry_scan_folder(h, raw, out added, out skipped), "scanning " + folder);
            return new ScanResult { Added = (int)added, Skipped = (int)skipped };
        }

        /// <summary>Opens and adds a file; returns its index.</summary>
        public int AddFile(string path)
        {
            byte[] raw = Utf8.ToNative(path);
            uint index = 0;
            Locked(h => Native.vsk_registry_add_file(h, raw, out index), "adding " + path);
            return (int)index;
        }

        /// <summary>Adds a bundle held in memory (copied), e.g. read from an Android StreamingAssets jar; returns its index.</summary>
        public unsafe int AddBytes(byte[] data)
        {
            if (data == null) throw new ArgumentNullException("data");
            uint index = 0;
            Locked(h =>
            {
                fixed (byte* d = data)
                    return Native.vsk_registry_add_memory(h, d, (UIntPtr)data.Length, out index);
            }, "adding a bundle from " + data.Length + " bytes");
            return (int)index;
        }

        /// <summary>Adds an opened bundle (the registry takes its own reference); returns its index.</summary>
        public int AddBundle(VoiceSkinBundle bundle)
        {
            if (bundle == null) throw new ArgumentNullException("bundle");
            uint index = 0;
            Locked(h => bundle.WithHandle(b => Native.vsk_registry_add_bundle(h, b, out index)),
                   "adding " + bundle.VoiceId);
            return (int)index;
        }

        /// <summary>Number of voices.</summary>
        public int Count
        {
            get
            {
                uint n = 0;
                Locked(h => Native.vsk_registry_count(h, out n), "counting voices");
                return (int)n;
            }
        }

        /// <summary>
        /// The bundle at <paramref name="index"/> as a new VoiceSkinBundle with
        /// its own reference (dispose it when done; it outlives the registry).
        /// </summary>
        public VoiceSkinBundle Get(int index)
        {
            if (index < 0) throw new VoiceSkinException(VskStatus.VSK_ERR_NOT_FOUND, "voice index " + index);
            lock (_lock)
            {
                IntPtr b = IntPtr.Zero;
                Call(h => Native.vsk_registry_get(h, (uint)index, out b), "voice index " + index);
                return VoiceSkinBundle.FromBorrowed(b);   // retains while the registry still holds it
            }
        }

        /// <summary>Index of the voice with this ID, or -1.</summary>
        public int IndexOf(string voiceId)
        {
            byte[] raw = Utf8.ToNative(voiceId);
            uint index = 0;
            VskStatus st = VskStatus.VSK_OK;
            lock (_lock) Call(h => { st = Native.vsk_registry_find(h, raw, out index); return VskStatus.VSK_OK; }, voiceId);
            if (st == VskStatus.VSK_ERR_NOT_FOUND) return -1;
            VoiceSkinException.Check(st, "finding " + voiceId);
            return (int)index;
        }

        /// <summary>The bundle of voice <paramref name="voiceId"/> (own reference), or VoiceSkinException (VSK_ERR_NOT_FOUND).</summary>
        public VoiceSkinBundle Find(string voiceId)
        {
            int i = IndexOf(voiceId);
            if (i < 0) throw new VoiceSkinException(VskStatus.VSK_ERR_NOT_FOUND, "voice '" + voiceId + "'");
            return Get(i);
        }

        /// <summary>Every voice, in index order (each with its own reference: dispose them).</summary>
        public List<VoiceSkinBundle> GetAll()
        {
            lock (_lock)
            {
                int n = Count;
                var list = new List<VoiceSkinBundle>(n);
                for (int i = 0; i < n; i++) list.Add(Get(i));
                return list;
            }
        }

        /// <summary>Identity and tiers of every voice, for menus (no handles to dispose).</summary>
        public List<VoiceInfo> ListVoices()
        {
            lock (_lock)
            {
                var all = GetAll();
                var list = new List<VoiceInfo>(all.Count);
                for (int i = 0; i < all.Count; i++)
                {
                    var b = all[i];
                    list.Add(new VoiceInfo(i, b.VoiceId, b.DisplayName, b.Version, b.Tiers));
                    b.Dispose();
                }
                return list;
            }
        }

        public RegistryHandle Handle { get { return _handle; } }

        /// <summary>The registry's CPU budget, in cores (0 = off, up to 64), shared by need
        /// by every voice created with this registry as its shared budget (see
        /// <see cref="VoiceSkinVoice"/>; <see cref="VoiceSkinFilter"/> voices use the
        /// StreamingAssets registry's): game-wide dynamic quality.</summary>
        public float CpuBudget
        {
            get { float f, load; uint m; ReadBudget(out f, out m, out load); return f; }
            set
            {
                if (!(value >= 0f && value <= 64f)) throw new ArgumentOutOfRangeException("value", value, "0..64");
                Locked(h => Native.vsk_registry_set_cpu_budget(h, value), "setting the CPU budget");
            }
        }

        /// <summary>The summed load of the voices sharing the budget, in cores (their last ~100 ms).</summary>
        public float CpuLoad { get { float f, load; uint m; ReadBudget(out f, out m, out load); return load; } }

        /// <summary>How many voices share the budget now.</summary>
        public int CpuBudgetMembers { get { float f, load; uint m; ReadBudget(out f, out m, out load); return (int)m; } }

        /// <summary>The vsk_cpu_budget* for vsk_voice_config.shared_budget (the voice keeps
        /// its own reference: it may outlive the registry). [control]</summary>
        internal IntPtr BudgetPointer()
        {
            IntPtr b = IntPtr.Zero;
            Locked(h => Native.vsk_registry_get_cpu_budget(h, out b), "reading the CPU budget");
            return b;
        }

        void ReadBudget(out float fraction, out uint members, out float load)
        {
            float f = 0f, l = 0f;
            uint m = 0;
            Locked(h =>
            {
                IntPtr b;
                VskStatus st = Native.vsk_registry_get_cpu_budget(h, out b);
                return st != VskStatus.VSK_OK ? st : Native.vsk_cpu_budget_get(b, out f, out m, out l);
            }, "reading the CPU budget");
            fraction = f; members = m; load = l;
        }

        void Locked(Func<IntPtr, VskStatus> f, string what)
        {
            lock (_lock) Call(f, what);
        }

        void Call(Func<IntPtr, VskStatus> f, string what)
        {
            bool added = false;
            VskStatus st;
            try
            {
                _handle.DangerousAddRef(ref added);
                st = f(_handle.DangerousGetHandle());
            }
            finally
            {
                if (added) _handle.DangerousRelease();
            }
            VoiceSkinException.Check(st, what);
        }

        /// <summary>Releases every bundle reference the registry holds (bundles and voices obtained from it stay valid).</summary>
        public void Dispose() { lock (_lock) _handle.Dispose(); }
    }
}
