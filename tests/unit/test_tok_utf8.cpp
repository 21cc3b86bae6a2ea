// Lossy UTF-8 decoding against Python's bytes.decode('utf-8', 'replace')
// results (maximal-subpart policy, Unicode 15 section 3.9 / WHATWG examples).
#include "tok/utf8.h"

#include <gtest/gtest.h>

using namespace mlxmtp::detail;

namespace {
const std::string R = "\xEF\xBF\xBD";

std::string lossy_split(const std::string &in, size_t split) {
    utf8_lossy_decoder d;
    std::string out;
    d.push(std::string_view(in).substr(0, split), out);
    d.push(std::string_view(in).substr(split), out);
    d.flush(out);
    return out;
}
}  // namespace

TEST(TokUtf8, MaximalSubpartReplacement) {
    struct { std::string in, want; } cases[] = {
        {"abc", "abc"},
        {"\xC3\xA9", "\xC3\xA9"},
        {"\xC3", R},
        {"\xE2\x82", R},                       // truncated 3-byte: one U+FFFD
        {"\xE2\x82" "a", R + "a"},
        {"\xF0\x9F\x99", R},
        {"\xF0\x9F\x99\x82", "\xF0\x9F\x99\x82"},
        {"\x80", R},
        {"\x80\x80", R + R},
        {"\xC0\xAF", R + R},                   // overlong lead bytes are invalid alone
        {"\xED\xA0\x80", R + R + R},           // surrogate: ED then A0 is not a valid second byte
        {"\xF4\x90\x80\x80", R + R + R + R},   // > U+10FFFF
        {"\xE0\x80\x80", R + R + R},
        {"\xF1\x80\x80\xE1\x80\xC0", R + R + R},  // Unicode table 3-8 example
        {"a\xFF" "b", "a" + R + "b"},
    };
    for (auto &c : cases) {
        EXPECT_EQ(utf8_lossy(c.in), c.want);
        for (size_t s = 0; s <= c.in.size(); ++s) EXPECT_EQ(lossy_split(c.in, s), c.want) << "split " << s;
    }
}

TEST(TokUtf8, ValidityAndCompletePrefix) {
    EXPECT_TRUE(utf8_valid("h\xC3\xA9llo \xF0\x9F\x99\x82"));
    EXPECT_FALSE(utf8_valid("\xED\xA0\x80"));
    EXPECT_FALSE(utf8_valid("\xC3"));
    EXPECT_EQ(utf8_complete_prefix("ab\xF0\x9F\x99"), 2u);
    EXPECT_EQ(utf8_complete_prefix("ab\xF0\x9F\x99\x82"), 6u);
    EXPECT_EQ(utf8_complete_prefix("ab\xC3"), 2u);
    EXPECT_EQ(utf8_complete_prefix("ab"), 2u);
}
