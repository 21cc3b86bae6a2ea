#version 450
// Gated DeltaNet causal depthwise conv over time + SiLU, continuing from a
// carried state of the last K-1 pre-conv rows.  One thread per channel c,
// walking the T tokens sequentially with the window in registers (reads and
// writes are coalesced across channels).  K <= MAX_CONV_K.  For T <= 16 the
// session runs the same step in the qkv matvec's epilogue instead.
//   qkv [T, C], w [C, K], state_in [K-1, C] (read), u [T, C];
//   pc.snap != 0: snap [T, K-1, C] gets the window after every token (the
//   last one is the new state); else state_out [K-1, C] gets the final
//   window (state_out may alias state_in: a thread reads its channel first).
#define WG_SIZE 128
layout(local_size_x = WG_SIZE) in;
#include "common/types.glsl"
#include "common/conv_step.glsl"
layout(std430, binding = 0) readonly buffer QKV { float qkv[]; };
layout(std430, binding = 1) readonly buffer Wt { float w[]; };
layout(std430, binding = 2) readonly buffer Si { float state_in[]; };
layout(std430, binding = 3) writeonly buffer U { float u[]; };
layout(std430, binding = 4) writeonly buffer Sn { float snap[]; };
layout(std430, binding = 5) writeonly buffer So { float state_out[]; };
layout(push_constant) uniform P { uint T; uint C; uint K; uint snap; } pc;
void main() {
    uint c = gl_GlobalInvocationID.x;
    if (c >= pc.C) return;
    uint K1 = pc.K - 1u;
    float win[MAX_CONV_K];   // win[0..K-2]: oldest .. newest previous rows
    float wc[MAX_CONV_K];
    for (uint j = 0; j < MAX_CONV_K; ++j) {
        win[j] = j < K1 ? state_in[j * pc.C + c] : 0.0;
        wc[j] = j < pc.K ? w[c * pc.K + j] : 0.0;
    }
    for (uint t = 0; t < pc.T; ++t) {
        u[t * pc.C + c] = conv_step(win, wc, K1, qkv[t * pc.C + c]);
        if (pc.snap != 0u)
            for (uint j = 0; j < MAX_CONV_K - 1; ++j)
                if (j < K1) snap[(t * K1 + j) * pc.C + c] = win[j];
    }
    if (pc.snap == 0u)
        for (uint j = 0; j < MAX_CONV_K - 1; ++j)
            if (j < K1) state_out[j * pc.C + c] = win[j];
}
