#version 450
// Gated DeltaNet causal depthwise conv over time + SiLU, continuing from a
// carried state of the last K-1 pre-conv rows.  One thread per channel c,
// walking the T tokens sequentially with the window in registers (reads and
// writes are coalesced across channels).  K <= MAX_K.
//   qkv [T, C], w [C, K], state [K-1, C] (in/out), u [T, C],
//   snap [T, K-1, C] (written when pc.snap != 0; otherwise bound to a dummy)
#define WG_SIZE 128
#define MAX_K 8
layout(local_size_x = WG_SIZE) in;
#include "common/types.glsl"
layout(std430, binding = 0) readonly buffer QKV { float qkv[]; };
layout(std430, binding = 1) readonly buffer Wt { float w[]; };
layout(std430, binding = 2) buffer St { float state[]; };
layout(std430, binding = 3) writeonly buffer U { float u[]; };
layout(std430, binding = 4) writeonly buffer Sn { float snap[]; };
layout(push_constant) uniform P { uint T; uint C; uint K; uint snap; } pc;
void main() {
    uint c = gl_GlobalInvocationID.x;
    if (c >= pc.C) return;
    uint K1 = pc.K - 1u;
    float win[MAX_K];   // win[0..K-2]: oldest .. newest previous rows
    float wc[MAX_K];
    for (uint j = 0; j < MAX_K; ++j) {
        win[j] = j < K1 ? state[j * pc.C + c] : 0.0;
        wc[j] = j < pc.K ? w[c * pc.K + j] : 0.0;
    }
    for (uint t = 0; t < pc.T; ++t) {
        float x = qkv[t * pc.C + c];
        float acc = wc[K1] * x;
        for (uint j = 0; j < MAX_K - 1; ++j)
            if (j < K1) acc += wc[j] * win[j];
        u[t * pc.C + c] = silu(acc);
        for (uint j = 0; j < MAX_K - 1; ++j)
            if (j + 1u < K1) win[j] = win[j + 1u];
        if (K1 > 0u) {
            for (uint j = 0; j < MAX_K - 1; ++j)
                if (j + 1u == K1) win[j] = x;
        }
        if (pc.snap != 0u)
            for (uint j = 0; j < MAX_K - 1; ++j)
                if (j < K1) snap[(t * K1 + j) * pc.C + c] = win[j];
    }
    for (uint j = 0; j < MAX_K - 1; ++j)
        if (j < K1) state[j * pc.C + c] = win[j];
}
