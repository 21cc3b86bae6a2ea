// Scalar reference: embedding gather (no scaling).
#pragma once
#include "ref/linear.h"

namespace mlxmtp::detail::ref {

// out[t, :] = table[ids[t], :] for t < T; table is a [vocab, H] weight in any wformat;
// out: [T, H] fp32.  An id outside [0, vocab) is MLXMTP_ERR_INVALID_ARG.
void embed(const weight_view &table, const int32_t *ids, int64_t T, float *out);

}  // namespace mlxmtp::detail::ref
