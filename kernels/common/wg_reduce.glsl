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

// wg_sum1_fast: the same sum with subgroupAdd and one shared slot per
// subgroup when HAS_SUBGROUP_ARITH and the includer opts in with
// WG_REDUCE_SUBGROUPS (after enabling GL_KHR_shader_subgroup_basic and
// _arithmetic); else wg_sum1.  Deterministic:
// the partials are added in subgroup order.
#if defined(HAS_SUBGROUP_ARITH) && defined(WG_REDUCE_SUBGROUPS)
shared float wgr_part[WG_SIZE];
float wg_sum1_fast(float v) {
    float s = subgroupAdd(v);
    if (subgroupElect()) wgr_part[gl_SubgroupID] = s;
    barrier();
    float r = 0.0;
    for (uint i = 0; i < gl_NumSubgroups; ++i) r += wgr_part[i];
    barrier();
    return r;
}
// wg_sum2_fast: two such sums at once, each component in wg_sum1_fast's
// order (subgroupAdd works per component), one pair of barriers.
shared vec2 wgr_part2[WG_SIZE];
vec2 wg_sum2_fast(vec2 v) {
    vec2 s = subgroupAdd(v);
    if (subgroupElect()) wgr_part2[gl_SubgroupID] = s;
    barrier();
    vec2 r = vec2(0.0);
    for (uint i = 0; i < gl_NumSubgroups; ++i) r += wgr_part2[i];
    barrier();
    return r;
}
#else
float wg_sum1_fast(float v) { return wg_sum1(v); }
// Per component as wg_sum1 (the tree adds each component on its own).
vec2 wg_sum2_fast(vec2 v) { return wg_sum2(v); }
#endif

#endif
