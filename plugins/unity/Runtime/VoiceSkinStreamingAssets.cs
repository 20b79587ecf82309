// VoiceSkinStreamingAssets — the shared registry of the voices a game ships
// in StreamingAssets/VoiceSkins (Unity glue; the registry itself is
// VoiceSkinRegistry). Also tells the native mixer effect where that folder is.

using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.InteropServices;
using UnityEngine;

namespace VoiceSkin
{
    /// <summary>
    /// One registry for the whole game, scanned on first use (main thread)
    /// from StreamingAssets/VoiceSkins and persistentDataPath/VoiceSkins.
    /// On Android, StreamingAssets lives inside the APK and cannot be listed:
    /// copy the .vskin files to persistentDataPath/VoiceSkins at first launch,
    /// or read them with UnityWebRequest and call Registry.AddBytes.
    /// </summary>
    public static class VoiceSkinStreamingAssets
    {
        public const string FolderName = "VoiceSkins";

        static VoiceSkinRegistry s_registry;
        static readonly object s_lock = new object();

        /// <summary>StreamingAssets/VoiceSkins.</summary>
        public static string Folder { get { return Path.Combine(Application.streamingAssetsPath, FolderName); } }

        /// <summary>persistentDataPath/VoiceSkins (downloaded or copied voices).</summary>
        public static string PersistentFolder { get { return Path.Combine(Application.persistentDataPath, FolderName); } }

        /// <summary>The shared registry (created and scanned on first use; main thread).</summary>
        public static VoiceSkinRegistry Registry
        {
            get
            {
                lock (s_lock)
                {
                    if (s_registry == null) s_registry = Scan();
                    return s_registry;
                }
            }
        }

        /// <summary>Scans the folders again (e.g. after copying new voices). Existing voices keep working.</summary>
        public static void Rescan()
        {
            lock (s_lock)
            {
                var old = s_registry;
                s_registry = Scan();
                if (old != null) old.Dispose();   // bundles in use are reference counted
            }
        }

        /// <summary>Identity and tiers of every registered voice (for menus and the inspector).</summary>
        public static List<VoiceInfo> ListVoices() { return Registry.ListVoices(); }

        static VoiceSkinRegistry Scan()
        {
            var reg = new VoiceSkinRegistry();
            foreach (var folder in new[] { Folder, PersistentFolder })
            {
                if (!Directory.Exists(folder)) continue;   // jar:file:// on Android: not a folder
                try
                {
                    var r = reg.ScanFolder(folder);
                    if (r.Skipped > 0)
                        Debug.LogWarning("VoiceSkin: " + r.Skipped + " file(s) in " + folder +
                                         " were not added (invalid, or an older/equal version of a voice already present)");
                }
                catch (VoiceSkinException e)
                {
                    Debug.LogWarning("VoiceSkin: cannot scan " + folder + ": " + e.Message);
                }
            }
            return reg;
        }

        // ------------------------------------------------ native mixer effect

#if (UNITY_IOS || UNITY_TVOS || UNITY_VISIONOS) && !UNITY_EDITOR
        const string EffectLibrary = "__Internal";
#else
        const string EffectLibrary = "audioplugin_voiceskin";
#endif

        [DllImport(EffectLibrary, CallingConvention = CallingConvention.Cdecl)]
        static extern int audioplugin_voiceskin_set_bundle_folder(byte[] folder);

        /// <summary>
        /// Points the VoiceSkin mixer effect at StreamingAssets/VoiceSkins before
        /// the first scene (and its mixers) load. Without the effect library
        /// (only the component is used) this does nothing.
        /// </summary>
        [RuntimeInitializeOnLoadMethod(RuntimeInitializeLoadType.BeforeSceneLoad)]
        static void ConfigureMixerEffect()
        {
            string folder = Directory.Exists(Folder) ? Folder : PersistentFolder;
            try
            {
                audioplugin_voiceskin_set_bundle_folder(VoiceSkin.Interop.Utf8.ToNative(folder));
            }
            catch (DllNotFoundException) { }
            catch (EntryPointNotFoundException) { }
        }
    }
}
