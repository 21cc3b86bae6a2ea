#version 450
// Gated DeltaNet delta-rule recurrence, fused with the q/k L2 norms and the
// beta / decay gates.  The columns j of a head's state S[dk, dv] evolve
// independently, so the grid is (value head, block of BV columns) and each
// thread owns one column: its DK state values live in registers for all T
// tokens (DK is a compile-time define, loops unroll).  Per token the
// workgroup stages the key head's q and k in shared memory and reduces their
// squared norms; every thread then does 3*DK FMAs.
//   u [T, C] (q | k | v), a, b [T, Hv], A_log, dt_bias [Hv], state [Hv, dk, dv],
//   o [T, Hv*dv], snap [T, Hv, dk, dv] (when pc.snap != 0; else a dummy binding)
#ifndef DK
#define DK 128
#endif
#ifndef BV
#define BV 32
#endif
#define WG_SIZE BV
layout(local_size_x = WG_SIZE) in;
#include "common/types.glsl"
#include "common/wg_reduce.glsl"
layout(std430, binding = 0) readonly buffer Ub { float u[]; };
layout(std430, binding = 1) readonly buffer Ab { float a_in[]; };
layout(std430, binding = 2) readonly buffer Bb { float b_in[]; };
layout(std430, binding = 3) readonly buffer Al { float A_log[]; };
layout(std430, binding = 4) readonly buffer Dt { float dt_bias[]; };
layout(std430, binding = 5) buffer St { float state[]; };
layout(std430, binding = 6) writeonly buffer Ob { float o[]; };
layout(std430, binding = 7) writeonly buffer Sn { float snap[]; };
layout(push_constant) uniform P { uint T; uint Hk; uint Hv; uint dv; uint nblk; uint snap; } pc;

shared float qs[DK];
shared float ks[DK];

float softplus_f(float x) { return x > 20.0 ? x : log(1.0 + exp(x)); }

void main() {
    uint h = gl_WorkGroupID.x / pc.nblk;
    uint blk = gl_WorkGroupID.x % pc.nblk;
    uint tid = gl_LocalInvocationID.x;
    uint j = blk * BV + tid;
    bool live = j < pc.dv;
    uint kh = h / (pc.Hv / pc.Hk);
    uint Kd = pc.Hk * DK;
    uint C = 2u * Kd + pc.Hv * pc.dv;
    float qscale = inversesqrt(float(DK));
    float A = -exp(A_log[h]);
    float dtb = dt_bias[h];

    float s[DK];
    for (uint i = 0; i < DK; ++i) s[i] = live ? state[(h * DK + i) * pc.dv + j] : 0.0;

    for (uint t = 0; t < pc.T; ++t) {
        uint row = t * C;
        vec2 ss = vec2(0.0);
        for (uint i = tid; i < DK; i += WG_SIZE) {
            float qv = u[row + kh * DK + i];
            float kv = u[row + Kd + kh * DK + i];
            qs[i] = qv;
            ks[i] = kv;
            ss += vec2(qv * qv, kv * kv);
        }
        ss = wg_sum2(ss);  // also makes qs / ks visible
        float rq = inversesqrt(ss.x + 1e-6) * qscale;
        float rk = inversesqrt(ss.y + 1e-6);
        float beta = sigmoid_f(b_in[t * pc.Hv + h]);
        float decay = exp(A * softplus_f(a_in[t * pc.Hv + h] + dtb));
        float vj = live ? u[row + 2u * Kd + h * pc.dv + j] : 0.0;

        float kvm = 0.0;
        for (uint i = 0; i < DK; ++i) {
            s[i] *= decay;
            kvm += s[i] * ks[i];
        }
        float delta = beta * (vj - kvm * rk) * rk;  // k = ks * rk
        float acc = 0.0;
        for (uint i = 0; i < DK; ++i) {
            s[i] += ks[i] * delta;
            acc += s[i] * qs[i];
        }
        if (live) {
            o[t * pc.Hv * pc.dv + h * pc.dv + j] = acc * rq;
            if (pc.snap != 0u) {
                uint sb = (t * pc.Hv + h) * DK;
                for (uint i = 0; i < DK; ++i) snap[(sb + i) * pc.dv + j] = s[i];
            }
        }
        barrier();  // qs / ks are rewritten by the next token
    }
    if (live)
        for (uint i = 0; i < DK; ++i) state[(h * DK + i) * pc.dv + j] = s[i];
}
