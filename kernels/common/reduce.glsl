// Workgroup sum reduction over WG_SIZE threads, correct for any subgroup size.
// Requires: #define WG_SIZE before including; call from all invocations.
#ifndef MLXMTP_REDUCE_GLSL
#define MLXMTP_REDUCE_GLSL

shared float red_scratch[WG_SIZE];

float workgroup_sum(float v) {
    uint t = gl_LocalInvocationID.x;
    red_scratch[t] = v;
    barrier();
    for (uint s = WG_SIZE / 2; s > 0; s >>= 1) {
        if (t < s) red_scratch[t] += red_scratch[t + s];
        barrier();
    }
    float r = red_scratch[0];
    barrier();
    return r;
}

#endif
