#version 450
// out[t] = argmax_v logits[t, v] over v < V (lowest index wins ties, NaN never
// wins).  One workgroup per row.
#define WG_SIZE 256
layout(local_size_x = WG_SIZE) in;
layout(std430, binding = 0) readonly buffer L { float logits[]; };
layout(std430, binding = 1) writeonly buffer O { int out_ids[]; };
layout(push_constant) uniform P { uint V; uint stride; } pc;
shared float best_v[WG_SIZE];
shared uint best_i[WG_SIZE];
void main() {
    uint t = gl_WorkGroupID.x, tid = gl_LocalInvocationID.x;
    float bv = -1.0 / 0.0;
    uint bi = 0xffffffffu;
    for (uint v = tid; v < pc.V; v += WG_SIZE) {
        float x = logits[t * pc.stride + v];
        if (x > bv || (bi == 0xffffffffu && !isnan(x))) { bv = x; bi = v; }
    }
    best_v[tid] = bv;
    best_i[tid] = bi;
    barrier();
    for (uint s = WG_SIZE / 2; s > 0; s >>= 1) {
        if (tid < s) {
            float ov = best_v[tid + s];
            uint oi = best_i[tid + s];
            if (oi != 0xffffffffu && (best_i[tid] == 0xffffffffu || ov > best_v[tid] ||
                                      (ov == best_v[tid] && oi < best_i[tid]))) {
                best_v[tid] = ov;
                best_i[tid] = oi;
            }
        }
        barrier();
    }
    if (tid == 0u) out_ids[t] = int(best_i[0] == 0xffffffffu ? 0u : best_i[0]);
}
