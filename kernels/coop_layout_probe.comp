#version 450
// EXPERIMENT (bench only): which matrix element each lane of a subgroup holds
// in the VK_NV_cooperative_matrix types a tensor-core matvec would use (fp16
// 16 x 16 and 16 x 8 operands, fp32 16 x 16 and 16 x 8 accumulators).  The
// extension leaves the layout to the implementation but allows per-lane
// element access (M[i], i < M.length()), so loading a tile whose element
// (r, c) holds r * 16 + c and reading each lane's elements back gives the
// layout.  A kernel could then decode MX codes straight into the operand
// fragments (no shared-memory round trip: docs/perf-matvec.md).
// Output: [lenA16x16, lenB16x8, lenC16x16, lenC16x8], then for each type in
// that order and each lane l < 32, its elements' indices r * 16 + c.
#extension GL_NV_cooperative_matrix : require
#extension GL_KHR_memory_scope_semantics : require
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
#extension GL_KHR_shader_subgroup_basic : require
layout(local_size_x = 32) in;
layout(std430, binding = 0) writeonly buffer O { float o[]; };
shared float16_t sh[256];
shared float shf[256];

void main() {
    const uint l = gl_SubgroupInvocationID;
    for (uint i = l; i < 256u; i += 32u) {
        sh[i] = float16_t(float(i));
        shf[i] = float(i);
    }
    memoryBarrierShared();
    barrier();
    // Row strides: 16 elements, so that index r * 16 + c names (r, c) for
    // both widths.
    fcoopmatNV<16, gl_ScopeSubgroup, 16, 16> a;
    fcoopmatNV<16, gl_ScopeSubgroup, 16, 8> b;
    fcoopmatNV<32, gl_ScopeSubgroup, 16, 16> c;
    fcoopmatNV<32, gl_ScopeSubgroup, 16, 8> d;
    coopMatLoadNV(a, sh, 0, 16, false);
    coopMatLoadNV(b, sh, 0, 16, false);
    coopMatLoadNV(c, shf, 0, 16, false);
    coopMatLoadNV(d, shf, 0, 16, false);
    const uint na = uint(a.length()), nb = uint(b.length()), nc = uint(c.length()), nd = uint(d.length());
    if (l == 0u) {
        o[0] = float(na);
        o[1] = float(nb);
        o[2] = float(nc);
        o[3] = float(nd);
    }
    uint base = 4u;
    for (uint i = 0u; i < na; ++i) o[base + l * na + i] = float(a[i]);
    base += 32u * na;
    for (uint i = 0u; i < nb; ++i) o[base + l * nb + i] = float(b[i]);
    base += 32u * nb;
    for (uint i = 0u; i < nc; ++i) o[base + l * nc + i] = c[i];
    base += 32u * nc;
    for (uint i = 0u; i < nd; ++i) o[base + l * nd + i] = d[i];
}
