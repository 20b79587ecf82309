// VoiceSkinException — a failed libvoiceskin call as a .NET exception.
// No Unity dependency.

using System;
using VoiceSkin.Interop;

namespace VoiceSkin
{
    /// <summary>
    /// Thrown when a libvoiceskin call returns an error status. <see cref="StatusName"/>
    /// is the library's symbol (e.g. "VSK_ERR_CHECKSUM"); the message is
    /// "VSK_ERR_CHECKSUM: integrity checksum mismatch (opening Aria.vskin)".
    /// </summary>
    public class VoiceSkinException : Exception
    {
        public VskStatus Status { get; private set; }
        public string StatusName { get; private set; }
        /// <summary>The library's sentence for the status (vsk_status_string).</summary>
        public string Description { get; private set; }
        /// <summary>What the binding was doing, e.g. "opening voices/aria.vskin".</summary>
        public string Context { get; private set; }

        public VoiceSkinException(VskStatus status, string context)
            : this(status, context, Utf8.FromNative(Native.vsk_status_name(status)),
                   Utf8.FromNative(Native.vsk_status_string(status))) { }

        VoiceSkinException(VskStatus status, string context, string name, string description)
            : base(Format(name, description, context))
        {
            Status = status;
            StatusName = name;
            Description = description;
            Context = context ?? string.Empty;
        }

        static string Format(string name, string description, string context)
        {
            return string.IsNullOrEmpty(context)
                ? name + ": " + description
                : name + ": " + description + " (" + context + ")";
        }

        /// <summary>Throws unless <paramref name="status"/> is VSK_OK.</summary>
        public static void Check(VskStatus status, string context)
        {
            if (status != VskStatus.VSK_OK) throw new VoiceSkinException(status, context);
        }
    }
}
