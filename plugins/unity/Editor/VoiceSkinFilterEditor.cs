// Inspector for VoiceSkinFilter: voice and quality tier dropdowns filled
// from the bundles in StreamingAssets/VoiceSkins.

using System.Collections.Generic;
using UnityEditor;
using UnityEngine;

namespace VoiceSkin.Editor
{
    [CustomEditor(typeof(VoiceSkinFilter))]
    public sealed class VoiceSkinFilterEditor : UnityEditor.Editor
    {
        SerializedProperty _voiceId, _tierName, _mix, _bypass;
        static List<VoiceInfo> s_voices;
        static string s_error;

        void OnEnable()
        {
            _voiceId = serializedObject.FindProperty("voiceId");
            _tierName = serializedObject.FindProperty("tierName");
            _mix = serializedObject.FindProperty("mix");
            _bypass = serializedObject.FindProperty("bypass");
            if (s_voices == null) Refresh(false);
        }

        static void Refresh(bool rescan)
        {
            try
            {
                if (rescan) VoiceSkinStreamingAssets.Rescan();
                s_voices = VoiceSkinStreamingAssets.ListVoices();
                s_error = null;
            }
            catch (System.Exception e)   // e.g. the native library is missing for this editor platform
            {
                s_voices = new List<VoiceInfo>();
                s_error = e.Message;
            }
        }

        public override void OnInspectorGUI()
        {
            serializedObject.Update();
            if (s_error != null)
                EditorGUILayout.HelpBox("libvoiceskin could not be used: " + s_error, MessageType.Error);
            else if (s_voices.Count == 0)
                EditorGUILayout.HelpBox("No voices: put .vskin files in Assets/StreamingAssets/" +
                                        VoiceSkinStreamingAssets.FolderName + ".", MessageType.Info);

            VoiceInfo current = VoicePopup();
            TierPopup(current);
            EditorGUILayout.PropertyField(_mix, new GUIContent("Dry/Wet"));
            EditorGUILayout.PropertyField(_bypass);
            if (GUILayout.Button("Rescan StreamingAssets/" + VoiceSkinStreamingAssets.FolderName)) Refresh(true);

            var filter = (VoiceSkinFilter)target;
            if (Application.isPlaying && filter.IsActive)
                EditorGUILayout.HelpBox("Latency: " + filter.LatencyFrames + " frames (" +
                                        (filter.LatencySeconds * 1000.0).ToString("0.0") + " ms)", MessageType.None);
            serializedObject.ApplyModifiedProperties();
        }

        VoiceInfo VoicePopup()
        {
            var labels = new List<string> { "(none)" };
            int selected = 0;
            VoiceInfo current = null;
            for (int i = 0; i < s_voices.Count; i++)
            {
                var v = s_voices[i];
                labels.Add(v.DisplayName + "  [" + v.VoiceId + " " + v.Version + "]");
                if (v.VoiceId == _voiceId.stringValue) { selected = i + 1; current = v; }
            }
            if (selected == 0 && !string.IsNullOrEmpty(_voiceId.stringValue))
            {
                labels.Add(_voiceId.stringValue + " (missing)");
                selected = labels.Count - 1;
            }
            int chosen = EditorGUILayout.Popup("Voice", selected, labels.ToArray());
            if (chosen != selected)
            {
                if (chosen == 0) _voiceId.stringValue = "";
                else if (chosen <= s_voices.Count)
                {
                    current = s_voices[chosen - 1];
                    _voiceId.stringValue = current.VoiceId;
                }
            }
            return current;
        }

        void TierPopup(VoiceInfo voice)
        {
            if (voice == null)
            {
                EditorGUILayout.PropertyField(_tierName, new GUIContent("Quality Tier"));
                return;
            }
            var labels = new string[voice.Tiers.Count];
            int selected = 0;
            for (int i = 0; i < labels.Length; i++)
            {
                var t = voice.Tiers[i];
                labels[i] = t.Name + "  (" + t.CostMflops.ToString("0") + " Mflop/s, " + t.ModelSampleRate / 1000 + " kHz)";
                if (t.Name == _tierName.stringValue) selected = i;
            }
            int chosen = EditorGUILayout.Popup("Quality Tier", selected, labels);
            if (chosen != selected) _tierName.stringValue = voice.Tiers[chosen].Name;   // "" = lowest
        }
    }
}
