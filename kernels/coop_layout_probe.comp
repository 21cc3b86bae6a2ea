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
// Output: [8, 4, 4, 4] (the per-lane lengths the kernel assumes: a
// 256-element tile over 32 lanes holds 8, a 128-element one 4), then for
// each of A, B, D, R and each lane l < 32, its elements (A, B, D: the
// indices r * 16 + c; R: values); at 1024 the same layouts found the other
// way, the way the fragment matvec uses them (element writes, then
// coopMatStoreNV): A, B, D tiles (row strides 16, 8, 8) whose element holds
// l * 8 + i (A) or l * 4 + i (B, D) for the lane l and element i that wrote
// it; then 1 (the shader reached its end).  The header is written first
// and as constants, so that zeros mean the shader did not run (as when the
// host once dispatched 0 workgroups).  The lengths are not read with
// length(), which glslang emits as an OpSpecConstantOp: the host's checks
// of every element cover a driver whose lengths differ.
#extension GL_NV_cooperative_matrix : require
#extension GL_KHR_memory_scope_semantics : require
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_EXT_control_flow_attributes : enable
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
    const uint na = 8u, nb = 4u, nd = 4u, nr = 4u;
    if (l == 0u) {
        o[0] = float(na);
        o[1] = float(nb);
        o[2] = float(nd);
        o[3] = float(nr);
    }
    // Row strides of 16 elements: index r * 16 + c names (r, c) for both widths.
    fcoopmatNV<16, gl_ScopeSubgroup, 16, 16> a;
    fcoopmatNV<16, gl_ScopeSubgroup, 16, 8> b;
    fcoopmatNV<32, gl_ScopeSubgroup, 16, 8> d;
    coopMatLoadNV(a, sh, 0, 16, false);
    coopMatLoadNV(b, sh, 0, 16, false);
    coopMatLoadNV(d, shf, 0, 16, false);
    fcoopmatNV<32, gl_ScopeSubgroup, 16, 8> r = coopMatMulAddNV(a, b, d);
    uint base = 4u;
    [[unroll]] for (uint i = 0u; i < na; ++i) o[base + l * na + i] = float(a[i]);
    base += 32u * na;
    [[unroll]] for (uint i = 0u; i < nb; ++i) o[base + l * nb + i] = float(b[i]);
    base += 32u * nb;
    [[unroll]] for (uint i = 0u; i < nd; ++i) o[base + l * nd + i] = d[i];
    base += 32u * nd;
    [[unroll]] for (uint i = 0u; i < nr; ++i) o[base + l * nr + i] = r[i];
    // The other way: element writes, then stores through shared memory.
    fcoopmatNV<16, gl_ScopeSubgroup, 16, 16> a2 = fcoopmatNV<16, gl_ScopeSubgroup, 16, 16>(0.0);
    fcoopmatNV<16, gl_ScopeSubgroup, 16, 8> b2 = fcoopmatNV<16, gl_ScopeSubgroup, 16, 8>(0.0);
    fcoopmatNV<32, gl_ScopeSubgroup, 16, 8> d2 = fcoopmatNV<32, gl_ScopeSubgroup, 16, 8>(0.0);
    [[unroll]] for (uint i = 0u; i < 8u; ++i) a2[i] = float16_t(float(l * 8u + i));
    [[unroll]] for (uint i = 0u; i < 4u; ++i) b2[i] = float16_t(float(l * 4u + i));
    [[unroll]] for (uint i = 0u; i < 4u; ++i) d2[i] = float(l * 4u + i);
    memoryBarrierShared();
    barrier();
    coopMatStoreNV(a2, sh, 0, 16, false);
    coopMatStoreNV(d2, shf, 0, 8, false);
    memoryBarrierShared();
    barrier();
    for (uint i = l; i < 256u; i += 32u) o[1024u + i] = float(sh[i]);
    for (uint i = l; i < 128u; i += 32u) o[1024u + 384u + i] = shf[i];
    memoryBarrierShared();
    barrier();
    coopMatStoreNV(b2, sh, 0, 8, false);
    memoryBarrierShared();
    barrier();
    for (uint i = l; i < 128u; i += 32u) o[1024u + 256u + i] = float(sh[i]);
    if (l == 0u) o[1024u + 512u] = 1.0;
}
