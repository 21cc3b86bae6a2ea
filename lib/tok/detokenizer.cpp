#include "tok/detokenizer.h"

#include "util/error.h"

namespace mlxmtp::detail {

void detokenizer::push(const int32_t *ids, size_t n, std::string &out) {
    for (size_t i = 0; i < n; ++i) {
        scratch_.clear();
        if (!tok_.token_bytes(ids[i], first_, skip_special_, scratch_))
            fail(MLXMTP_ERR_INVALID_ARG, "token id %d is not in the vocabulary (size %zu)", ids[i], tok_.vocab_size());
        if (!scratch_.empty()) first_ = false;
        utf8_.push(scratch_, out);
    }
}

void detokenizer::flush(std::string &out) {
    utf8_.flush(out);
    first_ = true;
}

void detokenizer::reset() {
    utf8_.reset();
    first_ = true;
}

}  // namespace mlxmtp::detail
