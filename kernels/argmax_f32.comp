#version 450
// out[t] = argmax_v logits[t, v] over v < V (lowest index wins ties, NaN never
// wins; a row of NaNs gives 0), in two dispatches so that a large vocabulary
// is read by many workgroups:
//   PARTIAL (grid G x T): workgroup g reduces slice [g*span, (g+1)*span) of
//     row t to part[t * G + g] = (value bits, index; 0xffffffff = none);
//   otherwise (grid T): one workgroup reduces row t's G partials.
#define WG_SIZE 256
layout(local_size_x = WG_SIZE) in;
#if defined(PARTIAL)
layout(std430, binding = 0) readonly buffer L { float logits[]; };
layout(std430, binding = 1) writeonly buffer Part { uvec2 part[]; };
#else
layout(std430, binding = 0) readonly buffer Part { uvec2 part[]; };
layout(std430, binding = 1) writeonly buffer O { int out_ids[]; };
#endif
layout(push_constant) uniform P { uint V; uint stride; uint G; uint span; } pc;
shared float best_v[WG_SIZE];
shared uint best_i[WG_SIZE];
const uint NONE = 0xffffffffu;

// Is (v, i) better than (bv, bi)?  Indices break ties: lower wins.
bool better(float v, uint i, float bv, uint bi) {
    return i != NONE && (bi == NONE || v > bv || (v == bv && i < bi));
}

void main() {
    uint tid = gl_LocalInvocationID.x;
    float bv = 0.0;
    uint bi = NONE;
#if defined(PARTIAL)
    uint g = gl_WorkGroupID.x, t = gl_WorkGroupID.y;
    uint end = min(pc.V, (g + 1u) * pc.span);
    for (uint v = g * pc.span + tid; v < end; v += WG_SIZE) {
        float x = logits[t * pc.stride + v];
        if (!isnan(x) && better(x, v, bv, bi)) { bv = x; bi = v; }
    }
#else
    uint t = gl_WorkGroupID.x;
    for (uint g = tid; g < pc.G; g += WG_SIZE) {
        uvec2 p = part[t * pc.G + g];
        if (better(uintBitsToFloat(p.x), p.y, bv, bi)) { bv = uintBitsToFloat(p.x); bi = p.y; }
    }
#endif
    best_v[tid] = bv;
    best_i[tid] = bi;
    barrier();
    for (uint s = WG_SIZE / 2; s > 0; s >>= 1) {
        if (tid < s && better(best_v[tid + s], best_i[tid + s], best_v[tid], best_i[tid])) {
            best_v[tid] = best_v[tid + s];
            best_i[tid] = best_i[tid + s];
        }
        barrier();
    }
    if (tid == 0u) {
#if defined(PARTIAL)
        part[t * pc.G + g] = uvec2(floatBitsToUint(best_v[0]), best_i[0]);
#else
        out_ids[t] = int(best_i[0] == NONE ? 0u : best_i[0]);
#endif
    }
}
