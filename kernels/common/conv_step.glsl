// One token of the Gated DeltaNet's causal depthwise conv + SiLU on one
// channel, shared by gdn_conv_f32 and the qkv matvec's conv epilogue
// (matvec.comp CONV_EPILOGUE) so both compute it with the same operations.
//   win[0 .. K1-1]: the previous K1 = K-1 pre-conv rows, oldest first;
//   wc[0 .. K1]: the channel's weights, wc[K1] multiplies the current row x.
// Returns silu(sum) and shifts x into the window.  K <= MAX_CONV_K.
#ifndef MLXMTP_CONV_STEP_GLSL
#define MLXMTP_CONV_STEP_GLSL
#define MAX_CONV_K 8

float conv_step(inout float win[MAX_CONV_K], float wc[MAX_CONV_K], uint K1, float x) {
    float acc = wc[K1] * x;
    for (uint j = 0; j < MAX_CONV_K - 1; ++j)
        if (j < K1) acc += wc[j] * win[j];
    for (uint j = 0; j < MAX_CONV_K - 1; ++j)
        if (j + 1u < K1) win[j] = win[j + 1u];
    if (K1 > 0u) {
        for (uint j = 0; j < MAX_CONV_K - 1; ++j)
            if (j + 1u == K1) win[j] = x;
    }
    return silu(acc);
}

#endif
