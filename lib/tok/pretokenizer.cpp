#define PCRE2_CODE_UNIT_WIDTH 8
#include "tok/pretokenizer.h"

#include "util/error.h"

#include <pcre2.h>

namespace mlxmtp::detail {

const char *const kGpt2Pattern =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

std::string regex_escape(std::string_view literal) {
    std::string out;
    for (char c : literal) {
        if (std::string_view("\\^$.|?*+()[]{}").find(c) != std::string_view::npos) out.push_back('\\');
        out.push_back(c);
    }
    return out;
}

struct regex_splitter::impl {
    pcre2_code *code = nullptr;
    ~impl() {
        if (code) pcre2_code_free(code);
    }
};

regex_splitter::regex_splitter(const std::string &pattern, behavior b, bool invert)
    : p_(new impl), behavior_(b), invert_(invert) {
    int err = 0;
    PCRE2_SIZE off = 0;
    p_->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                             PCRE2_UTF | PCRE2_UCP, &err, &off, nullptr);
    if (!p_->code) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(err, msg, sizeof msg);
        fail(MLXMTP_ERR_FORMAT, "pre-tokenizer regex does not compile at offset %zu: %s", static_cast<size_t>(off),
             reinterpret_cast<const char *>(msg));
    }
    // JIT is an optimisation: fall back to the interpreter when unavailable.
    (void)pcre2_jit_compile(p_->code, PCRE2_JIT_COMPLETE);
}

regex_splitter::~regex_splitter() = default;

void regex_splitter::split(std::string_view text, std::vector<std::pair<size_t, size_t>> &out) const {
    // Collect (begin, end, is_match) spans covering the text.
    struct span { size_t b, e; bool m; };
    std::vector<span> spans;
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(p_->code, nullptr);
    if (!md) fail(MLXMTP_ERR_OUT_OF_MEMORY, "out of host memory");
    size_t pos = 0, last = 0;
    const auto *subject = reinterpret_cast<PCRE2_SPTR>(text.data());
    while (pos <= text.size()) {
        int rc = pcre2_match(p_->code, subject, text.size(), pos, PCRE2_NO_UTF_CHECK, md, nullptr);
        if (rc == PCRE2_ERROR_NOMATCH) break;
        if (rc < 0) {
            pcre2_match_data_free(md);
            // A tokenizer.json pattern that backtracks without bound hits
            // PCRE2's match / depth / heap limits on this text.
            const bool limit = rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT || rc == PCRE2_ERROR_HEAPLIMIT;
            fail(limit ? MLXMTP_ERR_INVALID_ARG : MLXMTP_ERR_INTERNAL, "pre-tokenizer regex match failed (%d%s)", rc,
                 limit ? ": the pattern exceeded PCRE2's match limits on this text" : "");
        }
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        size_t b = ov[0], e = ov[1];
        if (e == b) {
            // Empty match: advance one code point.
            size_t step = 1;
            while (pos + step < text.size() && (static_cast<unsigned char>(text[pos + step]) & 0xC0) == 0x80) ++step;
            pos += step;
            continue;
        }
        if (b > last) spans.push_back({last, b, false});
        spans.push_back({b, e, true});
        last = pos = e;
    }
    pcre2_match_data_free(md);
    if (last < text.size()) spans.push_back({last, text.size(), false});
    if (invert_)
        for (auto &s : spans) s.m = !s.m;

    switch (behavior_) {
    case behavior::isolated:
        for (auto &s : spans) out.emplace_back(s.b, s.e);
        break;
    case behavior::removed:
        for (auto &s : spans)
            if (!s.m) out.emplace_back(s.b, s.e);
        break;
    case behavior::merged_with_previous: {
        bool prev_match = false;
        for (auto &s : spans) {
            if (s.m && !prev_match && !out.empty()) out.back().second = s.e;
            else out.emplace_back(s.b, s.e);
            prev_match = s.m;
        }
        break;
    }
    case behavior::merged_with_next: {
        bool pending = false;
        size_t pb = 0;
        for (auto &s : spans) {
            if (s.m) {
                if (pending) { out.emplace_back(pb, s.b); }
                pb = s.b;
                pending = true;
            } else if (pending) {
                out.emplace_back(pb, s.e);
                pending = false;
            } else {
                out.emplace_back(s.b, s.e);
            }
        }
        if (pending) out.emplace_back(pb, text.size());
        break;
    }
    case behavior::contiguous: {
        bool prev_match = false;
        bool have = false;
        for (auto &s : spans) {
            if (have && s.m && prev_match) out.back().second = s.e;
            else out.emplace_back(s.b, s.e);
            prev_match = s.m;
            have = true;
        }
        break;
    }
    }
}

}  // namespace mlxmtp::detail
