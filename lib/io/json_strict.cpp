#include "io/json_strict.h"

#include <cmath>
#include <cstdlib>
#include <unordered_set>

namespace mlxmtp::detail {

const jvalue *jvalue::get(std::string_view key) const {
    if (kind != obj_v) return nullptr;
    for (const auto &kv : obj)
        if (kv.first == key) return &kv.second;
    return nullptr;
}

bool valid_utf8(std::string_view s) {
    const auto *p = reinterpret_cast<const unsigned char *>(s.data());
    size_t n = s.size(), i = 0;
    while (i < n) {
        unsigned c = p[i];
        if (c < 0x80) { ++i; continue; }
        size_t len;
        uint32_t cp;
        if ((c & 0xE0) == 0xC0) { len = 2; cp = c & 0x1F; }
        else if ((c & 0xF0) == 0xE0) { len = 3; cp = c & 0x0F; }
        else if ((c & 0xF8) == 0xF0) { len = 4; cp = c & 0x07; }
        else return false;
        if (i + len > n) return false;
        for (size_t k = 1; k < len; ++k) {
            if ((p[i + k] & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (p[i + k] & 0x3F);
        }
        if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000)) return false;
        if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
        i += len;
    }
    return true;
}

namespace {

struct parser {
    std::string_view t;
    size_t i = 0;
    const std::string &where;
    int max_depth;

    [[noreturn]] void err(const char *what) const {
        fail(MLXMTP_ERR_FORMAT, "%s: invalid JSON at byte %zu: %s", where.c_str(), i, what);
    }
    static bool ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
    void skip() { while (i < t.size() && ws(t[i])) ++i; }
    bool eat(char c) {
        skip();
        if (i < t.size() && t[i] == c) { ++i; return true; }
        return false;
    }
    void expect(char c, const char *what) { if (!eat(c)) err(what); }

    static void put_utf8(std::string &o, uint32_t cp) {
        if (cp < 0x80) o += char(cp);
        else if (cp < 0x800) { o += char(0xC0 | (cp >> 6)); o += char(0x80 | (cp & 0x3F)); }
        else if (cp < 0x10000) {
            o += char(0xE0 | (cp >> 12)); o += char(0x80 | ((cp >> 6) & 0x3F)); o += char(0x80 | (cp & 0x3F));
        } else {
            o += char(0xF0 | (cp >> 18)); o += char(0x80 | ((cp >> 12) & 0x3F));
            o += char(0x80 | ((cp >> 6) & 0x3F)); o += char(0x80 | (cp & 0x3F));
        }
    }
    uint32_t hex4() {
        if (i + 4 > t.size()) err("truncated \\u escape");
        uint32_t v = 0;
        for (int k = 0; k < 4; ++k) {
            char c = t[i++];
            v <<= 4;
            if (c >= '0' && c <= '9') v |= uint32_t(c - '0');
            else if (c >= 'a' && c <= 'f') v |= uint32_t(c - 'a' + 10);
            else if (c >= 'A' && c <= 'F') v |= uint32_t(c - 'A' + 10);
            else err("bad \\u escape");
        }
        return v;
    }
    std::string str() {
        skip();
        if (i >= t.size() || t[i] != '"') err("expected a string");
        ++i;
        std::string o;
        for (;;) {
            if (i >= t.size()) err("unterminated string");
            char c = t[i++];
            if (c == '"') break;
            if (static_cast<unsigned char>(c) < 0x20) err("control character in string");
            if (c != '\\') { o += c; continue; }
            if (i >= t.size()) err("unterminated escape");
            char e = t[i++];
            switch (e) {
            case '"': o += '"'; break;
            case '\\': o += '\\'; break;
            case '/': o += '/'; break;
            case 'b': o += '\b'; break;
            case 'f': o += '\f'; break;
            case 'n': o += '\n'; break;
            case 'r': o += '\r'; break;
            case 't': o += '\t'; break;
            case 'u': {
                uint32_t cp = hex4();
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    if (i + 2 > t.size() || t[i] != '\\' || t[i + 1] != 'u') err("lone surrogate");
                    i += 2;
                    uint32_t lo = hex4();
                    if (lo < 0xDC00 || lo > 0xDFFF) err("lone surrogate");
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                    err("lone surrogate");
                }
                put_utf8(o, cp);
                break;
            }
            default: err("bad escape");
            }
        }
        return o;
    }
    jvalue number() {
        jvalue v;
        size_t start = i;
        bool neg = false;
        if (t[i] == '-') { neg = true; ++i; }
        if (i >= t.size() || !(t[i] >= '0' && t[i] <= '9')) err("bad number");
        if (t[i] == '0' && i + 1 < t.size() && t[i + 1] >= '0' && t[i + 1] <= '9') err("leading zero");
        uint64_t u = 0;
        bool overflow = false;
        while (i < t.size() && t[i] >= '0' && t[i] <= '9') {
            uint64_t dgt = uint64_t(t[i] - '0');
            if (u > (UINT64_MAX - dgt) / 10) overflow = true;
            else u = u * 10 + dgt;
            ++i;
        }
        bool is_int = true;
        if (i < t.size() && t[i] == '.') {
            is_int = false;
            ++i;
            if (i >= t.size() || !(t[i] >= '0' && t[i] <= '9')) err("bad fraction");
            while (i < t.size() && t[i] >= '0' && t[i] <= '9') ++i;
        }
        if (i < t.size() && (t[i] == 'e' || t[i] == 'E')) {
            is_int = false;
            ++i;
            if (i < t.size() && (t[i] == '+' || t[i] == '-')) ++i;
            if (i >= t.size() || !(t[i] >= '0' && t[i] <= '9')) err("bad exponent");
            while (i < t.size() && t[i] >= '0' && t[i] <= '9') ++i;
        }
        std::string lit(t.substr(start, i - start));
        v.d = std::strtod(lit.c_str(), nullptr);
        if (is_int && !overflow) {
            v.kind = jvalue::int_v;
            v.u = u;
            v.negative = neg && u != 0;
        } else {
            v.kind = jvalue::num_v;  // non-integers and integers beyond 2^64-1
        }
        return v;
    }
    jvalue value(int depth) {
        if (depth > max_depth) err("nesting too deep");
        skip();
        if (i >= t.size()) err("unexpected end");
        char c = t[i];
        jvalue v;
        if (c == '{') {
            ++i;
            v.kind = jvalue::obj_v;
            std::unordered_set<std::string> seen;
            if (eat('}')) return v;
            for (;;) {
                std::string k = str();
                if (!seen.insert(k).second)
                    fail(MLXMTP_ERR_FORMAT, "%s: duplicate key \"%s\"", where.c_str(), k.c_str());
                expect(':', "expected ':'");
                v.obj.emplace_back(std::move(k), value(depth + 1));
                if (eat(',')) continue;
                expect('}', "expected ',' or '}'");
                break;
            }
        } else if (c == '[') {
            ++i;
            v.kind = jvalue::arr_v;
            if (eat(']')) return v;
            for (;;) {
                v.arr.push_back(value(depth + 1));
                if (eat(',')) continue;
                expect(']', "expected ',' or ']'");
                break;
            }
        } else if (c == '"') {
            v.kind = jvalue::str_v;
            v.s = str();
        } else if (c == '-' || (c >= '0' && c <= '9')) {
            v = number();
        } else if (t.substr(i, 4) == "true") {
            i += 4; v.kind = jvalue::bool_v; v.b = true;
        } else if (t.substr(i, 5) == "false") {
            i += 5; v.kind = jvalue::bool_v; v.b = false;
        } else if (t.substr(i, 4) == "null") {
            i += 4; v.kind = jvalue::null_v;
        } else {
            err("unexpected character");
        }
        return v;
    }
};

}  // namespace

jvalue parse_json_strict(std::string_view text, const std::string &where, int max_depth) {
    if (!valid_utf8(text)) fail(MLXMTP_ERR_FORMAT, "%s: JSON text is not valid UTF-8", where.c_str());
    parser p{text, 0, where, max_depth};
    jvalue v = p.value(0);
    p.skip();
    if (p.i != text.size()) p.err("trailing characters after the JSON value");
    return v;
}

}  // namespace mlxmtp::detail
