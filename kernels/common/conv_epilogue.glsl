// The qkv projection's conv epilogue for one channel (matvec.comp
// CONV_EPILOGUE, matvec_frag.comp CONV): the window from conv_state, then
// token by token conv_step (common/conv_step.glsl, the operations of
// gdn_conv_f32) and the window after token t to snapshot slot
// (slot0 + t) % ring for t >= snap_from.  The including shader declares
// conv_w [C, ck], conv_state [ck-1, C], conv_snap [ring, ck-1, C] and the
// push constants ck, snap_from, slot0, ring.  (With the tokens in parallel,
// conv_channel_token_alone, no snapshot written may be conv_state: T < ring.)
#ifndef MLXMTP_CONV_EPILOGUE_GLSL
#define MLXMTP_CONV_EPILOGUE_GLSL
#include "common/conv_step.glsl"

// Channel c's weights.
void conv_channel_weights(uint c, out float wc[MAX_CONV_K]) {
    for (uint j = 0u; j < MAX_CONV_K; ++j) wc[j] = j < pc.ck ? conv_w[c * pc.ck + j] : 0.0;
}

// Channel c's window (the previous ck-1 rows) and weights.
void conv_channel_begin(uint c, uint C, out float win[MAX_CONV_K], out float wc[MAX_CONV_K]) {
    const uint K1 = pc.ck - 1u;
    for (uint j = 0u; j < MAX_CONV_K; ++j) win[j] = j < K1 ? conv_state[j * C + c] : 0.0;
    conv_channel_weights(c, wc);
}

// The window after token t to its snapshot slot (tokens from snap_from).
void conv_channel_snapshot(uint t, uint c, uint C, float win[MAX_CONV_K]) {
    const uint K1 = pc.ck - 1u;
    if (t >= pc.snap_from) {
        const uint slot = (pc.slot0 + t) % pc.ring;
        for (uint j = 0u; j < MAX_CONV_K - 1u; ++j)
            if (j < K1) conv_snap[(slot * K1 + j) * C + c] = win[j];
    }
}

// Token t's output from its sum v; the window moves on (and is snapshotted).
float conv_channel_token(uint t, uint c, uint C, inout float win[MAX_CONV_K], float wc[MAX_CONV_K], float v) {
    const float u = conv_step(win, wc, pc.ck - 1u, v);
    conv_channel_snapshot(t, c, C, win);
    return u;
}

// matvec_frag.comp EPI_ALL: token t of channel c on its own, win the ck-1
// rows before it (oldest first: earlier tokens' sums, or conv_state's rows
// before the first token), x its own sum; the same conv_step as the walk
// above, then the window after t to its snapshot slot.
float conv_channel_token_alone(uint t, uint c, uint C, float win[MAX_CONV_K], float x) {
    float wc[MAX_CONV_K];
    conv_channel_weights(c, wc);
    return conv_channel_token(t, c, C, win, wc, x);
}
#endif
