#version 450
// Benchmark only (mlxmtp-kernel-bench COOP 4; no library path uses it): how
// many 16 x 8 x 16 fp16 multiply-adds with fp32 accumulators the driver's
// VK_NV_cooperative_matrix runs per second, and what the ways of getting the
// operands cost.  The prefill products measured ~0.15 multiply-adds per
// cycle and SM (docs/performance.md, thirtieth session); this separates the
// multiply-add itself from the fragments' construction.
//
// Every warp runs `iters` steps; each step does ACC independent multiply-adds
// (one per accumulator, so ACC chains run side by side) on:
//  FORM=0: A and B fixed in registers (the multiply-add alone);
//  FORM=1: B rebuilt element by element every step from integer work, as
//          matvec_frag.comp builds its B fragments from x's words (A fixed);
//  FORM=2: A and B loaded every step with coopMatLoadNV from shared memory
//          (the driver's own load path; two tiles alternating so the loads
//          cannot leave the loop).
// The accumulators' sum is written per warp so that nothing is dead.
#extension GL_NV_cooperative_matrix : require
#extension GL_KHR_memory_scope_semantics : require
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_EXT_control_flow_attributes : enable
#ifndef FORM
#define FORM 0
#endif
#ifndef ACC
#define ACC 4  // independent accumulators per warp
#endif
#define NSG 8
layout(local_size_x = NSG * 32) in;
layout(std430, binding = 0) writeonly buffer Y { float y[]; };
layout(push_constant) uniform P { uint iters; uint seed; } pc;

#define afrag fcoopmatNV<16, gl_ScopeSubgroup, 16, 16>
#define bfrag fcoopmatNV<16, gl_ScopeSubgroup, 16, 8>
#define cfrag fcoopmatNV<32, gl_ScopeSubgroup, 16, 8>

#if FORM == 2
// Per warp two A tiles (16 x 16) and two B tiles (16 x 8), fp16, row-major.
shared float16_t sh[NSG * 2 * (256 + 128)];
#endif

void main() {
    const uint sg = gl_SubgroupID, l = gl_SubgroupInvocationID;
    afrag a = afrag(float16_t(0.0));
    bfrag b = bfrag(float16_t(0.0));
    // Values from the push constant, so that nothing folds at compile time.
    for (int i = 0; i < a.length(); ++i) a[i] = float16_t(float((l + uint(i) + pc.seed) & 7u) * 0.0009765625);
    for (int i = 0; i < b.length(); ++i) b[i] = float16_t(float((l * 3u + uint(i) + pc.seed) & 7u) * 0.0009765625);
#if FORM == 2
    const uint base = sg * 2u * (256u + 128u);
    for (uint i = l; i < 2u * (256u + 128u); i += 32u) sh[base + i] = float16_t(float((i + pc.seed) & 15u) * 0.0009765625);
    barrier();
#endif
    cfrag c[ACC];
    [[unroll]] for (uint j = 0u; j < ACC; ++j) c[j] = cfrag(0.0);
    for (uint it = 0u; it < pc.iters; ++it) {
#if FORM == 1
        const uint v = (it * 0x9E3779B9u + l * 0x85EBCA6Bu + pc.seed) & 0x3BFF3BFFu;  // two finite fp16 halves
        const f16vec2 v0 = unpackFloat2x16(v), v1 = unpackFloat2x16(v ^ 0x00010001u);
        b[0] = v0.x;
        b[1] = v0.y;
        b[2] = v1.x;
        b[3] = v1.y;
#elif FORM == 2
        const uint t = it & 1u;
        coopMatLoadNV(a, sh, base + t * 256u, 16u, false);
        coopMatLoadNV(b, sh, base + 512u + t * 128u, 8u, false);
#endif
        [[unroll]] for (uint j = 0u; j < ACC; ++j) c[j] = coopMatMulAddNV(a, b, c[j]);
    }
    float s = 0.0;
    [[unroll]] for (uint j = 0u; j < ACC; ++j)
        for (int i = 0; i < c[j].length(); ++i) s += c[j][i];
    y[(gl_WorkGroupID.x * NSG + sg) * 32u + l] = s;
}
