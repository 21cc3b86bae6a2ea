#version 450
// Synthetic weights: fills n uint words with hash-based random data.
//   MODE 0: two bf16 per word, uniform in [offset - scale, offset + scale]
//   MODE 1: one f32 per word, uniform in [offset - scale, offset + scale]
//   MODE 2: random bits (MX packed elements)
//   MODE 3: four bytes per word, uniform integers in [lo, hi] (E8M0 scales)
#define WG_SIZE 256
layout(local_size_x = WG_SIZE) in;
layout(std430, binding = 0) writeonly buffer O { uint o[]; };
layout(push_constant) uniform P { uint n; uint seed; uint mode; float scale; float offset; uint lo; uint hi; } pc;

uint hash(uint x) {  // lowbias32
    x ^= x >> 16; x *= 0x7feb352du; x ^= x >> 15; x *= 0x846ca68bu; x ^= x >> 16;
    return x;
}
float unit(uint h) { return float(h >> 8) * (1.0 / 16777216.0) * 2.0 - 1.0; }  // [-1, 1)
uint bf16_of(float f) { uint u = floatBitsToUint(f); return (u + 0x7fffu + ((u >> 16) & 1u)) >> 16; }

void main() {
    uint i = gl_GlobalInvocationID.x + gl_GlobalInvocationID.y * gl_NumWorkGroups.x * WG_SIZE;
    if (i >= pc.n) return;
    uint h0 = hash(i * 2u + hash(pc.seed)), h1 = hash(h0 ^ 0x9e3779b9u);
    if (pc.mode == 0u) {
        o[i] = bf16_of(pc.offset + pc.scale * unit(h0)) | (bf16_of(pc.offset + pc.scale * unit(h1)) << 16);
    } else if (pc.mode == 1u) {
        o[i] = floatBitsToUint(pc.offset + pc.scale * unit(h0));
    } else if (pc.mode == 2u) {
        o[i] = h0;
    } else {
        uint span = pc.hi - pc.lo + 1u, w = 0u;
        for (uint b = 0u; b < 4u; ++b) w |= (pc.lo + (hash(h0 + b) % span)) << (8u * b);
        o[i] = w;
    }
}
