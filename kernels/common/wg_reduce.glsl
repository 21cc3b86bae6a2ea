// Workgroup reductions (sum of a vec2, max of a float) over WG_SIZE threads,
// correct for any subgroup size: a shared-memory tree (WG_SIZE a power of
// two).  Requires: #define WG_SIZE before including; call from all
// invocations (uniform control flow).  The result is returned to every thread.
#ifndef MLXMTP_WG_REDUCE_GLSL
#define MLXMTP_WG_REDUCE_GLSL

shared vec2 wgr_scratch2[WG_SIZE];
shared float wgr_scratch1[WG_SIZE];

vec2 wg_sum2(vec2 v) {
    uint t = gl_LocalInvocationID.x;
    wgr_scratch2[t] = v;
    barrier();
    for (uint s = WG_SIZE / 2; s > 0; s >>= 1) {
        if (t < s) wgr_scratch2[t] += wgr_scratch2[t + s];
        barrier();
    }
    vec2 r = wgr_scratch2[0];
    barrier();
    return r;
}

float wg_sum1(float v) {
    uint t = gl_LocalInvocationID.x;
    wgr_scratch1[t] = v;
    barrier();
    for (uint s = WG_SIZE / 2; s > 0; s >>= 1) {
        if (t < s) wgr_scratch1[t] += wgr_scratch1[t + s];
        barrier();
    }
    float r = wgr_scratch1[0];
    barrier();
    return r;
}

float wg_max1(float v) {
    uint t = gl_LocalInvocationID.x;
    wgr_scratch1[t] = v;
    barrier();
    for (uint s = WG_SIZE / 2; s > 0; s >>= 1) {
        if (t < s) wgr_scratch1[t] = max(wgr_scratch1[t], wgr_scratch1[t + s]);
        barrier();
    }
    float r = wgr_scratch1[0];
    barrier();
    return r;
}

#endif
