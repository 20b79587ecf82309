// layers_rtneural.cpp — RTNeural as a peer of the layer race
// (native/bench/layers.c, layers_peer.h; benchmarks only). RTNeural is not a
// dependency: benchmarks/bench_layers.py compiles this file against the
// source folder named by RTNEURAL_DIR (and Eigen), into a shared object.
//
// Used the way RTNeural's best users use it: its compile-time layers
// (GRULayerT, DenseT) with the Eigen backend, one instantiation per size.
// The input is copied into an aligned Eigen vector and the output out of
// the layer's `outs`, as voiceskin's side copies its value slots.
#include <cstring>
#include <memory>
#include <vector>

#include <RTNeural/RTNeural.h>

#include "layers_peer.h"

namespace {

struct Layer {
    virtual ~Layer() = default;
    virtual void step(const float *x, float *y) noexcept = 0;
};

template <int N>
struct Gru final : Layer {
    RTNEURAL_NAMESPACE::GRULayerT<float, N, N> layer;
    Eigen::Matrix<float, N, 1> in;

    // PyTorch: rows (r, z, n) of W [3N, N]; RTNeural: wVals[input][k], k in (z, r, n)
    static std::vector<std::vector<float>> columns(const float *W, int cols)
    {
        std::vector<std::vector<float>> v((size_t)cols, std::vector<float>(3 * N));
        const int from[3] = {N, 0, 2 * N};   // RTNeural's z, r, n ← PyTorch's rows
        for (int g = 0; g < 3; ++g)
            for (int u = 0; u < N; ++u)
                for (int c = 0; c < cols; ++c)
                    v[(size_t)c][(size_t)(g * N + u)] = W[(size_t)(from[g] + u) * cols + c];
        return v;
    }
    explicit Gru(const float *const *w)
    {
        layer.setWVals(columns(w[0], N));
        layer.setUVals(columns(w[1], N));
        std::vector<std::vector<float>> b(2, std::vector<float>(3 * N));
        const int from[3] = {N, 0, 2 * N};
        for (int k = 0; k < 2; ++k)
            for (int g = 0; g < 3; ++g)
                for (int u = 0; u < N; ++u) b[(size_t)k][(size_t)(g * N + u)] = w[2 + k][from[g] + u];
        layer.setBVals(b);
        layer.reset();
    }
    void step(const float *x, float *y) noexcept override
    {
        std::memcpy(in.data(), x, N * sizeof(float));
        layer.forward(in);
        std::memcpy(y, layer.outs.data(), N * sizeof(float));
    }
};

template <int N>
struct Dense final : Layer {
    RTNEURAL_NAMESPACE::DenseT<float, N, N> layer;
    Eigen::Matrix<float, N, 1> in;

    explicit Dense(const float *const *w)
    {
        std::vector<std::vector<float>> W((size_t)N, std::vector<float>(N));
        for (int i = 0; i < N; ++i)
            for (int k = 0; k < N; ++k) W[(size_t)i][(size_t)k] = w[0][(size_t)i * N + k];
        layer.setWeights(W);
        layer.setBias(w[1]);
    }
    void step(const float *x, float *y) noexcept override
    {
        std::memcpy(in.data(), x, N * sizeof(float));
        layer.forward(in);
        std::memcpy(y, layer.outs.data(), N * sizeof(float));
    }
};

template <template <int> class L>
Layer *make(int n, const float *const *w)
{
    switch (n) {
    case 48: return new L<48>(w);
    case 64: return new L<64>(w);
    case 96: return new L<96>(w);
    case 128: return new L<128>(w);
    case 256: return new L<256>(w);
    default: return nullptr;
    }
}

} // namespace

extern "C" __attribute__((visibility("default"))) void *peer_layer_create(const char *kind, int n,
                                                                          const float *const *w)
{
    if (std::strcmp(kind, "gru") == 0) return make<Gru>(n, w);
    if (std::strcmp(kind, "dense") == 0) return make<Dense>(n, w);
    return nullptr;
}
extern "C" __attribute__((visibility("default"))) void peer_layer_step(void *layer, const float *x, float *y)
{
    static_cast<Layer *>(layer)->step(x, y);
}
extern "C" __attribute__((visibility("default"))) void peer_layer_destroy(void *layer)
{
    delete static_cast<Layer *>(layer);
}
