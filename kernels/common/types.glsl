// Shared helpers for every kernel.  Device defines (set by the registry):
//   SUBGROUP_SIZE, HAS_SUBGROUP_ARITH, HAS_FP16, HAS_INT8, HAS_STORAGE8
//   (8-bit storage buffer access).
#ifndef MLXMTP_TYPES_GLSL
#define MLXMTP_TYPES_GLSL

// bf16 is stored as raw 16-bit halves packed two per uint (little endian:
// element 2i in the low half, 2i+1 in the high half).
float bf16_lo(uint w) { return uintBitsToFloat(w << 16); }
float bf16_hi(uint w) { return uintBitsToFloat(w & 0xffff0000u); }

float silu(float x) { return x / (1.0 + exp(-x)); }
// silu(g) * u, the MLP's activation.  `precise`: the same operations in
// every shader that uses it (swiglu_f32, matvec's GLU epilogue), so their
// results match bit for bit.
float swiglu(float g, float u) {
    precise float r = g / (1.0 + exp(-g)) * u;
    return r;
}
float sigmoid_f(float x) { return 1.0 / (1.0 + exp(-x)); }

#endif
