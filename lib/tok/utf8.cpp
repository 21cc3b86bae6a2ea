#include "tok/utf8.h"

namespace mlxmtp::detail {

void utf8_append(std::string &out, uint32_t cp) {
    if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
        out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
}

// Expected sequence length for a lead byte, 0 if it cannot start a sequence.
static inline int lead_len(unsigned char c) {
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) return 2;
    if (c >= 0xE0 && c <= 0xEF) return 3;
    if (c >= 0xF0 && c <= 0xF4) return 4;
    return 0;
}

// Valid range of the second byte given the lead byte (Unicode table 3-7).
static inline bool second_ok(unsigned char lead, unsigned char c) {
    switch (lead) {
    case 0xE0: return c >= 0xA0 && c <= 0xBF;
    case 0xED: return c >= 0x80 && c <= 0x9F;
    case 0xF0: return c >= 0x90 && c <= 0xBF;
    case 0xF4: return c >= 0x80 && c <= 0x8F;
    default: return c >= 0x80 && c <= 0xBF;
    }
}

size_t utf8_decode(std::string_view s, size_t i, uint32_t *cp) {
    if (i >= s.size()) return 0;
    unsigned char c = static_cast<unsigned char>(s[i]);
    int n = lead_len(c);
    if (n == 0 || i + n > s.size()) return 0;
    if (n == 1) { *cp = c; return 1; }
    unsigned char c1 = static_cast<unsigned char>(s[i + 1]);
    if (!second_ok(c, c1)) return 0;
    uint32_t v = c & (0x7F >> n);
    v = (v << 6) | (c1 & 0x3F);
    for (int k = 2; k < n; ++k) {
        unsigned char ck = static_cast<unsigned char>(s[i + k]);
        if ((ck & 0xC0) != 0x80) return 0;
        v = (v << 6) | (ck & 0x3F);
    }
    *cp = v;
    return static_cast<size_t>(n);
}

bool utf8_valid(std::string_view s) {
    size_t i = 0;
    while (i < s.size()) {
        if (static_cast<unsigned char>(s[i]) < 0x80) { ++i; continue; }
        uint32_t cp;
        size_t n = utf8_decode(s, i, &cp);
        if (!n) return false;
        i += n;
    }
    return true;
}

static const char kReplacement[] = "\xEF\xBF\xBD";

void utf8_lossy_decoder::push(std::string_view bytes, std::string &out) {
    for (char ch : bytes) {
        unsigned char c = static_cast<unsigned char>(ch);
        if (n_pending_ == 0) {
            if (c < 0x80) { out.push_back(ch); continue; }
            if (lead_len(c) == 0) { out += kReplacement; continue; }
            pending_[0] = c;
            n_pending_ = 1;
            continue;
        }
        // Inside a sequence: is c a valid continuation here?
        bool ok = (n_pending_ == 1) ? second_ok(pending_[0], c) : (c & 0xC0) == 0x80;
        if (!ok) {
            // The maximal subpart so far is invalid: one U+FFFD, then c restarts.
            out += kReplacement;
            n_pending_ = 0;
            if (c < 0x80) { out.push_back(ch); continue; }
            if (lead_len(c) == 0) { out += kReplacement; continue; }
            pending_[0] = c;
            n_pending_ = 1;
            continue;
        }
        pending_[n_pending_++] = c;
        if (static_cast<int>(n_pending_) == lead_len(pending_[0])) {
            out.append(reinterpret_cast<const char *>(pending_), n_pending_);
            n_pending_ = 0;
        }
    }
}

void utf8_lossy_decoder::flush(std::string &out) {
    if (n_pending_) out += kReplacement;
    n_pending_ = 0;
}

std::string utf8_lossy(std::string_view bytes) {
    std::string out;
    out.reserve(bytes.size());
    utf8_lossy_decoder d;
    d.push(bytes, out);
    d.flush(out);
    return out;
}

size_t utf8_complete_prefix(std::string_view s) {
    // Look back at most 3 bytes for a lead byte whose sequence is unfinished.
    size_t n = s.size();
    for (size_t back = 1; back <= 3 && back <= n; ++back) {
        unsigned char c = static_cast<unsigned char>(s[n - back]);
        if ((c & 0xC0) == 0x80) continue;  // continuation byte: keep looking
        int len = lead_len(c);
        if (len > static_cast<int>(back)) return n - back;  // unfinished
        return n;
    }
    return n;
}

}  // namespace mlxmtp::detail
