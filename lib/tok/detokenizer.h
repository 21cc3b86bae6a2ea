// Incremental detokenizer for streaming: push ids, get only complete UTF-8.
// The concatenation of every push() and the final flush() equals
// tokenizer::decode() of all ids (invalid sequences become U+FFFD the moment
// they are known to be invalid; an incomplete tail is held back).
#pragma once
#include "tok/tokenizer.h"
#include "tok/utf8.h"

#include <string>

namespace mlxmtp::detail {

class detokenizer {
public:
    detokenizer(const tokenizer &tok, bool skip_special) : tok_(tok), skip_special_(skip_special) {}
    // Appends the newly completed text to `out`.  Unknown ids throw
    // MLXMTP_ERR_INVALID_ARG (the state is unchanged for that id).
    void push(const int32_t *ids, size_t n, std::string &out);
    // Appends what is held back (an incomplete sequence becomes U+FFFD) and
    // resets the stream, as if nothing had been pushed.
    void flush(std::string &out);
    void reset();
    size_t pending_bytes() const { return utf8_.pending(); }

private:
    const tokenizer &tok_;
    bool skip_special_;
    bool first_ = true;
    utf8_lossy_decoder utf8_;
    std::string scratch_;
};

}  // namespace mlxmtp::detail
