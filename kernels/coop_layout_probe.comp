#version 450
// EXPERIMENT (bench and the fragment matvec only): which tile element each
// lane of a subgroup holds in the VK_NV_cooperative_matrix operands of a
// 16 x 8 x 16 multiply-add (fp16 A 16 x 16 and B 16 x 8, fp32 accumulator
// 16 x 8).  The extension leaves the layout to the implementation (which
// may pick it by how a matrix is used, so the probe uses each one in the
// role the kernel gives it) but allows per-lane element access (M[i],
// i < M.length()): loading tiles whose element (r, c) holds r * 16 + c and
// reading each lane's elements back gives the layout.  The multiply-add's
// result R = A B + D is read back too, so the host can check the whole
// chain (ops::frag_layout_probe).
// Output: [lenA, lenB, lenD, lenR], then for each of A, B, D, R and each
// lane l < 32, its elements (A, B, D: the indices r * 16 + c; R: values).
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
    // Row strides of 16 elements: index r * 16 + c names (r, c) for both widths.
    fcoopmatNV<16, gl_ScopeSubgroup, 16, 16> a;
    fcoopmatNV<16, gl_ScopeSubgroup, 16, 8> b;
    fcoopmatNV<32, gl_ScopeSubgroup, 16, 8> d;
    coopMatLoadNV(a, sh, 0, 16, false);
    coopMatLoadNV(b, sh, 0, 16, false);
    coopMatLoadNV(d, shf, 0, 16, false);
    fcoopmatNV<32, gl_ScopeSubgroup, 16, 8> r = coopMatMulAddNV(a, b, d);
    const uint na = uint(a.length()), nb = uint(b.length()), nd = uint(d.length()), nr = uint(r.length());
    if (l == 0u) {
        o[0] = float(na);
        o[1] = float(nb);
        o[2] = float(nd);
        o[3] = float(nr);
    }
    uint base = 4u;
    for (uint i = 0u; i < na; ++i) o[base + l * na + i] = float(a[i]);
    base += 32u * na;
    for (uint i = 0u; i < nb; ++i) o[base + l * nb + i] = float(b[i]);
    base += 32u * nb;
    for (uint i = 0u; i < nd; ++i) o[base + l * nd + i] = d[i];
    base += 32u * nd;
    for (uint i = 0u; i < nr; ++i) o[base + l * nr + i] = r[i];
}
