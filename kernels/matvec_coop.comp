#version 450
// EXPERIMENT (bench only, no library path uses it): the MXFP4 matrix-vector
// product Y[n, row0 + m] = sum_k W[m, k] * X[n, k] for n < N_COLS <= 8 on
// tensor cores through VK_NV_cooperative_matrix (fp16 x fp16 -> fp32 tiles
// of 16 x 16 x 16), to measure what issue 6's verify-of-k+1-tokens costs
// when its columns ride on one matrix multiply instead of one fp32 fma per
// element and column (docs/perf-matvec.md).
//
// Work split: a workgroup of NSG = 8 subgroups (subgroup size 32) owns 16
// rows; subgroup s takes the s-th of 8 contiguous parts of K, in steps of 64
// elements (two MX groups).  Per step each lane loads one group of one row
// (16 bytes, 32 FP4 codes) and its scale byte, decodes the codes into fp16
// pairs scaled by the group's E8M0 scale times 2^wexp (exact while that
// stays inside fp16's range: the prototype clamps), and writes them to the
// subgroup's 16 x 64 fp16 A tile in shared memory.  The k order inside a
// step is permuted (column 32g + 8w + 2j + h holds element 32g + 8w + j + 4h,
// the order fp4_pair produces); the B tile uses the same permutation.
// B (64 x NB fp16) holds each x column split into hi = fp16(x*2^xexp) and
// lo = fp16((x*2^xexp - hi) * 2^12) (columns n and NB/2 + n), so the
// products are formed from 22 bits of x.  Four 16 x 16 x 16 multiply-adds per step
// accumulate in fp32; at the end the 8 subgroups' tiles are summed in part
// order and y = (hi + lo) * 2^-(xexp + wexp).
//
// Every output column is computed by the same tile arithmetic whatever
// N_COLS is (the matrix unit computes each column of D on its own), which is
// what batch invariance needs; rounding differs from matvec.comp's fp32
// fma chain (the tensor core's own accumulation), so this kernel could only
// replace matvec.comp for decode and verify together.
//
// Measured (H200, docs/results/h200-2026-12-04e/coop3, 4096 x 14336, n =
// 1 / 2 / 4 / 8): 32 / 33 / 39 / 68 us against matvec.comp's 18.9 / 21.8 /
// 35.9 / 62.4 in the same call; largest difference 1.8e-4 of max |y|.  The
// columns are nearly free up to 4, but one step's fixed work (decode, shared
// stores, tile loads, four chained multiply-adds) costs more than the fp32
// kernel's whole word: not a replacement in this form.
#extension GL_NV_cooperative_matrix : require
#extension GL_KHR_memory_scope_semantics : require
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
#extension GL_EXT_shader_8bit_storage : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_EXT_control_flow_attributes : enable
#define NSG 8
#define WG_SIZE (NSG * 32)
#ifndef N_COLS
#define N_COLS 1
#endif
#define NB (2 * N_COLS <= 8 ? 8 : 16)  // B / C tile columns: hi at n, lo at NB/2 + n
layout(local_size_x = WG_SIZE) in;
#include "common/mx.glsl"
layout(std430, binding = 0) readonly buffer Wt { uvec4 w4[]; };   // one MX group (32 codes) per uvec4
layout(std430, binding = 1) readonly buffer Sc { uint8_t sc8[]; };
layout(std430, binding = 2) readonly buffer X { float x[]; };
layout(std430, binding = 3) writeonly buffer Y { float y[]; };
layout(push_constant) uniform P { uint M; uint K; uint ystride; uint row0; int xexp; int wexp; } pc;

// Per subgroup: the A tile (16 rows x 64 fp16, rows padded to 9 uvec4 so
// that the 16 rows start in different banks: an unpadded 128-byte row stride
// put every row's store and tile load on the same banks) and the B tile
// (64 rows x NB fp16 = 8 * NB uvec4); at the end the A tiles hold the C
// tiles (16 x NB fp32 = 4 * NB uvec4 <= 144).
#define A_ROW 9u
#define A_VEC 144
#define B_VEC (8 * NB)
shared uvec4 smem[NSG * (A_VEC + B_VEC)];

#ifndef PF
#define PF 4  // steps of global loads in flight per subgroup
#endif

// One step's global inputs of this lane: its group's 32 codes and scale,
// and x at its two B rows for every column.
struct step_in {
    uvec4 q;
    uint s;
    float xv[2 * N_COLS];
};
uint gbase, xbase;  // this lane's first group and x element (step 0)
step_in load_step(uint i) {
    step_in d;
    d.q = w4[gbase + 2u * i];
    d.s = uint(sc8[gbase + 2u * i]);
    [[unroll]] for (uint n = 0u; n < N_COLS; ++n) {
        d.xv[2u * n] = x[n * pc.K + xbase + 64u * i];
        d.xv[2u * n + 1u] = x[n * pc.K + xbase + 64u * i + 4u];
    }
    return d;
}

void main() {
    const uint sg = gl_SubgroupID, l = gl_SubgroupInvocationID;
    const uint a_off = sg * A_VEC, b_off = NSG * A_VEC + sg * B_VEC;
    const uint rows0 = gl_WorkGroupID.x * 16u;
    const uint groups = pc.K / 32u;
    const uint steps = pc.K / 64u / NSG;  // the host checks K % (64 * NSG) == 0
    // This lane's A row and group slot, and its two B rows.
    const uint r = l >> 1, g = l & 1u;
    const uint m = min(rows0 + r, pc.M - 1u);
    const uint bw = (l >> 2) & 3u, bj = l & 3u;
    const uint kl0 = 32u * (l >> 4) + 8u * bw + bj;  // element of B row 2l (row 2l + 1: kl0 + 4)
    const float xs = exp2(float(pc.xexp));

    fcoopmatNV<32, gl_ScopeSubgroup, 16, NB> C0 = fcoopmatNV<32, gl_ScopeSubgroup, 16, NB>(0.0);

    // PF steps of global loads in flight: step i + PF's loads are issued
    // before step i is decoded.  (PF 1, 4 and 8 timed the same on the H200:
    // the kernel is not waiting on these loads.)
    gbase = m * groups + sg * steps * 2u + g;  // this lane's group in step 0
    xbase = sg * steps * 64u + kl0;
    step_in buf[PF];
    [[unroll]] for (uint p = 0u; p < PF; ++p) buf[p] = load_step(min(p, steps - 1u));
    for (uint i = 0u; i < steps; i += PF) {
        [[unroll]] for (uint p = 0u; p < PF; ++p) {
            if (i + p < steps) {  // uniform
            step_in d = buf[p];
            buf[p] = load_step(min(i + p + PF, steps - 1u));
            // A: this lane's 32 codes -> 4 uvec4 of fp16 pairs times
            // 2^(s - 127 + 14 + wexp) (normal range only: the prototype
            // clamps; a library path would check the range at load).
            int e = clamp(int(d.s) - 113 + pc.wexp, -14, 15);
            f16vec2 mv = unpackFloat2x16(uint(e + 15) * 0x04000400u);
            [[unroll]] for (uint w = 0u; w < 4u; ++w) {
                uint word = d.q[w];
                uvec4 o;
                [[unroll]] for (uint j = 0u; j < 4u; ++j) o[j] = packFloat2x16(unpackFloat2x16(fp4_pair(word, j)) * mv);
                smem[a_off + r * A_ROW + g * 4u + w] = o;
            }
            // B: rows 2l and 2l + 1 (elements kl0 and kl0 + 4 of the step).
            [[unroll]] for (uint h = 0u; h < 2u; ++h) {
                uint rowv[NB / 2];
                [[unroll]] for (uint c = 0u; c < NB / 2; ++c) rowv[c] = 0u;
                [[unroll]] for (uint n = 0u; n < N_COLS; ++n) {
                    float xv = d.xv[2u * n + h] * xs;
                    float16_t hi = float16_t(xv);
                    // lo times 2^12 stays out of fp16's subnormals (which the
                    // matrix unit may flush); its column is scaled back at the end.
                    uint hl = packFloat2x16(f16vec2(hi, float16_t((xv - float(hi)) * 4096.0)));
                    rowv[n / 2u] |= (hl & 0xffffu) << (16u * (n & 1u));
                    rowv[(NB / 2 + n) / 2u] |= (hl >> 16) << (16u * ((NB / 2 + n) & 1u));
                }
                [[unroll]] for (uint v = 0u; v < NB / 8; ++v)
                    smem[b_off + (2u * l + h) * (NB / 8) + v] =
                        uvec4(rowv[4u * v], rowv[4u * v + 1u], rowv[4u * v + 2u], rowv[4u * v + 3u]);
            }
            subgroupMemoryBarrierShared();
            subgroupBarrier();
            [[unroll]] for (uint kk = 0u; kk < 4u; ++kk) {
                fcoopmatNV<16, gl_ScopeSubgroup, 16, 16> A;
                fcoopmatNV<16, gl_ScopeSubgroup, 16, NB> B;
                coopMatLoadNV(A, smem, a_off + kk * 2u, A_ROW, false);
                coopMatLoadNV(B, smem, b_off + kk * 16u * (NB / 8), NB / 8, false);
                // (Two accumulators alternating here crashed the H200's
                // driver at pipeline creation: one chain.)
                C0 = coopMatMulAddNV(A, B, C0);
            }
            subgroupBarrier();  // the tiles are rewritten next step
            }
        }
    }
    coopMatStoreNV(C0, smem, a_off, NB / 4, false);  // 16 rows of NB floats
    memoryBarrierShared();
    barrier();
    const float ys = exp2(-float(pc.xexp + pc.wexp));
    for (uint t = gl_LocalInvocationID.x; t < 16u * N_COLS; t += WG_SIZE) {
        uint rr = t / N_COLS, n = t % N_COLS;
        float hi = 0.0, lo = 0.0;
        for (uint s = 0u; s < NSG; ++s) {
            uint b = s * A_VEC * 4u + rr * NB;  // float index
            hi += uintBitsToFloat(smem[(b + n) / 4u][(b + n) % 4u]);
            lo += uintBitsToFloat(smem[(b + NB / 2 + n) / 4u][(b + NB / 2 + n) % 4u]);
        }
        if (rows0 + rr < pc.M) y[n * pc.ystride + pc.row0 + rows0 + rr] = (hi + lo * (1.0 / 4096.0)) * ys;
    }
}
