/* layers_peer.h — what a peer of the layer race (native/bench/layers.c)
 * exports from its shared object. Weights come in PyTorch's layout:
 *   "gru":   w[0] = W_ih [3N, N], w[1] = W_hh [3N, N], w[2] = b_ih [3N],
 *            w[3] = b_hh [3N], gate order (r, z, n), row-major;
 *   "dense": w[0] = W [N, N], w[1] = b [N].
 * create returns NULL for a kind or size the peer does not build. */
#ifndef VSK_LAYERS_PEER_H
#define VSK_LAYERS_PEER_H

#ifdef __cplusplus
extern "C" {
#endif

void *peer_layer_create(const char *kind, int n, const float *const *w);
void peer_layer_step(void *layer, const float *x, float *y);
void peer_layer_destroy(void *layer);

#ifdef __cplusplus
}
#endif

#endif
