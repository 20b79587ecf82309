// Declarations of the few UnityEngine / UnityEditor members the package's
// Unity glue uses, with Unity's signatures, so tests/test_unity_package.py can
// type-check VoiceSkinFilter, VoiceSkinStreamingAssets and the inspector
// with Mono's mcs. Bodies do nothing: this is a compile check, not Unity.
// Not compiled by Unity (no assembly definition covers this folder).

#pragma warning disable 67, 414, 649
using System;

namespace UnityEngine
{
    public class Object { }
    public class Component : Object { }
    public class Behaviour : Component { }
    public class MonoBehaviour : Behaviour { }

    [AttributeUsage(AttributeTargets.Class)] public sealed class AddComponentMenu : Attribute { public AddComponentMenu(string menuName) { } }
    [AttributeUsage(AttributeTargets.Class)] public sealed class DisallowMultipleComponent : Attribute { }
    [AttributeUsage(AttributeTargets.Field)] public sealed class SerializeField : Attribute { }
    public class PropertyAttribute : Attribute { }
    [AttributeUsage(AttributeTargets.Field)] public sealed class TooltipAttribute : PropertyAttribute { public TooltipAttribute(string tooltip) { } }
    [AttributeUsage(AttributeTargets.Field)] public sealed class RangeAttribute : PropertyAttribute { public RangeAttribute(float min, float max) { } }

    public enum RuntimeInitializeLoadType { AfterSceneLoad, BeforeSceneLoad, AfterAssembliesLoaded, BeforeSplashScreen, SubsystemRegistration }
    [AttributeUsage(AttributeTargets.Method)]
    public sealed class RuntimeInitializeOnLoadMethodAttribute : Attribute
    {
        public RuntimeInitializeOnLoadMethodAttribute(RuntimeInitializeLoadType loadType) { }
    }

    public enum AudioSpeakerMode { Raw = 0, Mono = 1, Stereo = 2, Quad = 3, Surround = 4, Mode5point1 = 5, Mode7point1 = 6, Prologic = 7 }

    public sealed class AudioSettings
    {
        public delegate void AudioConfigurationChangeHandler(bool deviceWasChanged);
        public static event AudioConfigurationChangeHandler OnAudioConfigurationChanged;
        public static int outputSampleRate { get { return 48000; } }
        public static AudioSpeakerMode speakerMode { get { return AudioSpeakerMode.Stereo; } }
        public static void GetDSPBufferSize(out int bufferLength, out int numBuffers) { bufferLength = 1024; numBuffers = 4; }
    }

    public static class Mathf
    {
        public static float Clamp01(float value) { return value < 0f ? 0f : value > 1f ? 1f : value; }
        public static int Clamp(int value, int min, int max) { return value < min ? min : value > max ? max : value; }
    }

    public static class Debug
    {
        public static void LogWarning(object message) { }
        public static void LogWarning(object message, Object context) { }
    }

    public static class Application
    {
        public static string streamingAssetsPath { get { return ""; } }
        public static string persistentDataPath { get { return ""; } }
        public static bool isPlaying { get { return false; } }
    }

    public class GUIContent { public GUIContent(string text) { } }
    public sealed class GUILayoutOption { }
    public class GUILayout
    {
        public static bool Button(string text, params GUILayoutOption[] options) { return false; }
    }
}

namespace UnityEditor
{
    public sealed class SerializedProperty { public string stringValue { get; set; } }
    public sealed class SerializedObject
    {
        public void Update() { }
        public SerializedProperty FindProperty(string propertyPath) { return null; }
        public bool ApplyModifiedProperties() { return false; }
    }

    public class Editor : UnityEngine.Object
    {
        public SerializedObject serializedObject { get { return null; } }
        public UnityEngine.Object target { get { return null; } }
        public virtual void OnInspectorGUI() { }
    }

    [AttributeUsage(AttributeTargets.Class)]
    public sealed class CustomEditor : Attribute { public CustomEditor(Type inspectedType) { } }

    public enum MessageType { None, Info, Warning, Error }

    public class EditorGUILayout
    {
        public static void HelpBox(string message, MessageType type) { }
        public static bool PropertyField(SerializedProperty property, params UnityEngine.GUILayoutOption[] options) { return false; }
        public static bool PropertyField(SerializedProperty property, UnityEngine.GUIContent label,
                                         params UnityEngine.GUILayoutOption[] options) { return false; }
        public static int Popup(string label, int selectedIndex, string[] displayedOptions,
                                params UnityEngine.GUILayoutOption[] options) { return selectedIndex; }
    }
}
