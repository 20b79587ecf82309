// SafeHandles owning the three libvoiceskin objects. No Unity dependency.
//
// A SafeHandle is reference counted by the runtime: a call in progress on
// another thread (DangerousAddRef) defers the native destroy until it returns,
// and a handle that is never disposed is still released by its finalizer.

using System;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using VoiceSkin.Interop;

namespace VoiceSkin
{
    /// <summary>Owns one reference to a vsk_bundle (vsk_bundle_release).</summary>
    public sealed class BundleHandle : SafeHandleZeroOrMinusOneIsInvalid
    {
        public BundleHandle() : base(true) { }
        internal BundleHandle(IntPtr owned) : base(true) { SetHandle(owned); }
        protected override bool ReleaseHandle() { Native.vsk_bundle_release(handle); return true; }
    }

    /// <summary>Owns a vsk_voice created by vsk_voice_create (vsk_voice_destroy).</summary>
    public sealed class VoiceHandle : SafeHandleZeroOrMinusOneIsInvalid
    {
        public VoiceHandle() : base(true) { }
        internal VoiceHandle(IntPtr owned) : base(true) { SetHandle(owned); }
        protected override bool ReleaseHandle() { Native.vsk_voice_destroy(handle); return true; }
    }

    /// <summary>
    /// Owns a vsk_switcher (vsk_switcher_destroy). Voices still lent to it at
    /// Dispose are passed in <see cref="Lent"/> with one reference each
    /// (DangerousAddRef); they are released after the switcher is destroyed,
    /// i.e. after a Process in progress on another thread has returned.
    /// </summary>
    public sealed class SwitcherHandle : SafeHandleZeroOrMinusOneIsInvalid
    {
        public SwitcherHandle() : base(true) { }
        internal SwitcherHandle(IntPtr owned) : base(true) { SetHandle(owned); }
        internal VoiceHandle[] Lent;
        protected override bool ReleaseHandle()
        {
            Native.vsk_switcher_destroy(handle);
            if (Lent != null) foreach (var h in Lent) h.DangerousRelease();
            return true;
        }
    }

    /// <summary>Owns a vsk_registry (vsk_registry_destroy).</summary>
    public sealed class RegistryHandle : SafeHandleZeroOrMinusOneIsInvalid
    {
        public RegistryHandle() : base(true) { }
        internal RegistryHandle(IntPtr owned) : base(true) { SetHandle(owned); }
        protected override bool ReleaseHandle() { Native.vsk_registry_destroy(handle); return true; }
    }
}
