// QualityTier — one quality tier of a bundle, read from the library.
// No Unity dependency.

namespace VoiceSkin
{
    /// <summary>
    /// A quality tier as the bundle declares it (vsk_tier_info). Tiers are
    /// ordered lowest to highest quality; <see cref="Index"/> is what
    /// vsk_voice_set_tier takes. An enum-like, immutable record: bundles list
    /// their own tiers ("low", "medium", "high", "ultra", or custom names).
    /// </summary>
    public sealed class QualityTier
    {
        public int Index { get; private set; }
        public string Name { get; private set; }
        public int ModelSampleRate { get; private set; }
        public int HopSamples { get; private set; }
        /// <summary>Algorithmic latency at the model rate (without host resampling).</summary>
        public int LatencySamples { get; private set; }
        public long ParameterCount { get; private set; }
        /// <summary>Estimated floating-point operations per second of audio (the cost).</summary>
        public long FlopsPerSecond { get; private set; }

        /// <summary>Cost in millions of operations per second of audio.</summary>
        public double CostMflops { get { return FlopsPerSecond / 1e6; } }

        public QualityTier(int index, string name, int modelSampleRate, int hopSamples,
                           int latencySamples, long parameterCount, long flopsPerSecond)
        {
            Index = index;
            Name = name;
            ModelSampleRate = modelSampleRate;
            HopSamples = hopSamples;
            LatencySamples = latencySamples;
            ParameterCount = parameterCount;
            FlopsPerSecond = flopsPerSecond;
        }

        public override string ToString()
        {
            return Index + ":" + Name + " (" + ModelSampleRate + " Hz, " +
                   CostMflops.ToString("0.#", System.Globalization.CultureInfo.InvariantCulture) + " Mflop/s)";
        }
    }
}
