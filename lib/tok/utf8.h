// UTF-8 helpers shared by the tokenizer, the detokenizer, the template engine
// and the output parser.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace mlxmtp::detail {

// Appends the UTF-8 encoding of code point `cp` (must be <= 0x10FFFF).
void utf8_append(std::string &out, uint32_t cp);

// Decodes one code point at s[i]; on success returns its length (1..4) and
// sets *cp; returns 0 for an invalid or truncated sequence.
size_t utf8_decode(std::string_view s, size_t i, uint32_t *cp);

// True when `s` is well-formed UTF-8 (no surrogates, no overlongs).
bool utf8_valid(std::string_view s);

// Streaming, lossy UTF-8 decoding with the "maximal subpart" policy (WHATWG,
// Python errors='replace', Rust from_utf8_lossy): every maximal invalid
// subsequence becomes one U+FFFD.  Feeding bytes in any split gives the same
// text as one call on the whole input.
class utf8_lossy_decoder {
public:
    // Appends the text of `bytes` to `out`; an incomplete trailing sequence
    // that may still become valid is held back.
    void push(std::string_view bytes, std::string &out);
    // Emits U+FFFD for a held incomplete sequence; the decoder is then empty.
    void flush(std::string &out);
    void reset() { n_pending_ = 0; }
    size_t pending() const { return n_pending_; }

private:
    unsigned char pending_[4] = {0, 0, 0, 0};
    size_t n_pending_ = 0;
};

// Whole-buffer lossy conversion.
std::string utf8_lossy(std::string_view bytes);

// Length of the longest prefix of `s` that does not end inside a (possibly
// still valid) incomplete UTF-8 sequence: s.substr(0, n) never splits a code point.
size_t utf8_complete_prefix(std::string_view s);

}  // namespace mlxmtp::detail
