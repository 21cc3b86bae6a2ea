// Pre-tokenization for byte-level BPE: regex splits (PCRE2, UTF + UCP, JIT)
// with the `tokenizers` Split behaviours, and the ByteLevel prefix space.
#pragma once
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace mlxmtp::detail {

class regex_splitter {
public:
    enum class behavior { isolated, removed, merged_with_previous, merged_with_next, contiguous };
    regex_splitter(const std::string &pattern, behavior b, bool invert);
    ~regex_splitter();
    regex_splitter(const regex_splitter &) = delete;
    regex_splitter &operator=(const regex_splitter &) = delete;
    // Splits `text`; appends [begin, end) byte ranges relative to text.
    void split(std::string_view text, std::vector<std::pair<size_t, size_t>> &out) const;

private:
    struct impl;
    std::unique_ptr<impl> p_;
    behavior behavior_;
    bool invert_;
};

// The GPT-2 pattern used by ByteLevel(use_regex=true).
extern const char *const kGpt2Pattern;

// Escapes a literal for use as a PCRE2 pattern.
std::string regex_escape(std::string_view literal);

}  // namespace mlxmtp::detail
