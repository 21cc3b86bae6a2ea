#include "ref/embedding.h"

#include "util/error.h"

namespace mlxmtp::detail::ref {

void embed(const weight_view &table, const int32_t *ids, int64_t T, float *out) {
    for (int64_t t = 0; t < T; ++t) {
        if (ids[t] < 0 || ids[t] >= table.rows)
            fail(MLXMTP_ERR_INVALID_ARG, "ref: token id %d outside [0, %lld)", ids[t],
                 static_cast<long long>(table.rows));
        dequantize_row(table, ids[t], out + t * table.cols);
    }
}

}  // namespace mlxmtp::detail::ref
