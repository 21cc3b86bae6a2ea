#include "chat/lexer.h"

#include "tok/utf8.h"
#include "util/error.h"

#include <cstring>

namespace mlxmtp::detail::jinja {

namespace {

struct lexer {
    const std::string &s;
    lexer_options opt;
    size_t pos = 0;
    int line = 1;
    std::vector<token> out;

    [[noreturn]] void error(const char *msg, int at_line) {
        fail(MLXMTP_ERR_TEMPLATE, "template syntax error at line %d: %s", at_line, msg);
    }

    void advance_to(size_t p) {
        for (size_t k = pos; k < p && k < s.size(); ++k)
            if (s[k] == '\n') ++line;
        pos = p;
    }

    void push(tok t, std::string text, int at_line) {
        token k;
        k.type = t;
        k.text = std::move(text);
        k.line = at_line;
        out.push_back(std::move(k));
    }

    static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

    // Lexes expression tokens until the closing delimiter `close` ("}}" or "%}").
    // Returns the right modifier ('-', '+' or 0).
    char lex_expr(const char *close) {
        size_t cl = std::strlen(close);
        int depth = 0;  // brackets: "}}" inside a dict literal is not the end
        while (true) {
            while (pos < s.size() && is_space(s[pos])) advance_to(pos + 1);
            if (pos >= s.size()) error("unexpected end of template inside a tag", line);
            char c = s[pos];
            if (depth == 0) {
                if ((c == '-' || c == '+') && s.compare(pos + 1, cl, close) == 0) {
                    advance_to(pos + 1 + cl);
                    return c;
                }
                if (s.compare(pos, cl, close) == 0) {
                    advance_to(pos + cl);
                    return 0;
                }
            }
            int at = line;
            if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
                size_t b = pos;
                while (pos < s.size() && (std::isalnum(static_cast<unsigned char>(s[pos])) || s[pos] == '_')) ++pos;
                push(tok::name, s.substr(b, pos - b), at);
                continue;
            }
            if (std::isdigit(static_cast<unsigned char>(c))) {
                size_t b = pos;
                bool is_float = false;
                while (pos < s.size() && (std::isdigit(static_cast<unsigned char>(s[pos])) || s[pos] == '_')) ++pos;
                if (pos + 1 < s.size() && s[pos] == '.' && std::isdigit(static_cast<unsigned char>(s[pos + 1]))) {
                    is_float = true;
                    ++pos;
                    while (pos < s.size() && (std::isdigit(static_cast<unsigned char>(s[pos])) || s[pos] == '_')) ++pos;
                }
                if (pos < s.size() && (s[pos] == 'e' || s[pos] == 'E')) {
                    size_t q = pos + 1;
                    if (q < s.size() && (s[q] == '+' || s[q] == '-')) ++q;
                    if (q < s.size() && std::isdigit(static_cast<unsigned char>(s[q]))) {
                        is_float = true;
                        pos = q;
                        while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) ++pos;
                    }
                }
                std::string num;
                for (size_t k = b; k < pos; ++k)
                    if (s[k] != '_') num.push_back(s[k]);
                token t;
                t.line = at;
                t.text = num;
                if (is_float) {
                    t.type = tok::floating;
                    t.f = std::strtod(num.c_str(), nullptr);
                } else {
                    t.type = tok::integer;
                    errno = 0;
                    t.i = std::strtoll(num.c_str(), nullptr, 10);
                    if (errno) error("integer literal out of range", at);
                }
                out.push_back(std::move(t));
                continue;
            }
            if (c == '\'' || c == '"') {
                lex_string(c);
                continue;
            }
            static const char *const ops[] = {"==", "!=", "<=", ">=", "//", "**", "<", ">", "+", "-", "*", "/",
                                              "%", "~", "|", ".", ",", ":", "(", ")", "[", "]", "{", "}", "="};
            bool matched = false;
            for (const char *o : ops) {
                size_t n = std::strlen(o);
                if (s.compare(pos, n, o) == 0) {
                    if (*o == '(' || *o == '[' || *o == '{') ++depth;
                    if ((*o == ')' || *o == ']' || *o == '}') && depth > 0) --depth;
                    push(tok::op, o, at);
                    pos += n;
                    matched = true;
                    break;
                }
            }
            if (!matched) error((std::string("unexpected character '") + c + "'").c_str(), at);
        }
    }

    void lex_string(char q) {
        int at = line;
        std::string v;
        size_t p = pos + 1;
        while (true) {
            if (p >= s.size()) error("unterminated string literal", at);
            char c = s[p];
            if (c == q) break;
            if (c == '\\' && p + 1 < s.size()) {
                char e = s[p + 1];
                p += 2;
                switch (e) {
                case 'n': v.push_back('\n'); break;
                case 't': v.push_back('\t'); break;
                case 'r': v.push_back('\r'); break;
                case '0': v.push_back('\0'); break;
                case 'b': v.push_back('\b'); break;
                case 'f': v.push_back('\f'); break;
                case 'v': v.push_back('\v'); break;
                case 'a': v.push_back('\a'); break;
                case '\\': v.push_back('\\'); break;
                case '\'': v.push_back('\''); break;
                case '"': v.push_back('"'); break;
                case '\n': break;
                case 'x': case 'u': case 'U': {
                    size_t n = e == 'x' ? 2 : e == 'u' ? 4 : 8;
                    if (p + n > s.size()) error("truncated escape in string literal", at);
                    uint32_t cp = 0;
                    for (size_t k = 0; k < n; ++k) {
                        char h = s[p + k];
                        if (!std::isxdigit(static_cast<unsigned char>(h))) error("bad escape in string literal", at);
                        cp = cp * 16 + static_cast<uint32_t>(std::isdigit(static_cast<unsigned char>(h)) ? h - '0' : (std::tolower(h) - 'a' + 10));
                    }
                    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) error("bad code point in string literal", at);
                    utf8_append(v, cp);
                    p += n;
                    break;
                }
                default: v.push_back('\\'); v.push_back(e); break;
                }
                continue;
            }
            v.push_back(c);
            ++p;
        }
        push(tok::string, v, at);
        advance_to(p + 1);
    }

    void run() {
        bool strip_next = false;   // previous tag ended with '-'
        bool line_start = true;    // the next text starts at the beginning of a line
        while (pos <= s.size()) {
            if (strip_next) {
                while (pos < s.size() && is_space(s[pos])) advance_to(pos + 1);
                strip_next = false;
            }
            line_start = pos == 0 || s[pos - 1] == '\n';
            // Find the next tag start.
            size_t t = pos;
            while (true) {
                t = s.find('{', t);
                if (t == std::string::npos || t + 1 >= s.size()) { t = std::string::npos; break; }
                char n = s[t + 1];
                if (n == '{' || n == '%' || n == '#') break;
                ++t;
            }
            size_t text_end = t == std::string::npos ? s.size() : t;
            std::string text = s.substr(pos, text_end - pos);
            int text_line = line;
            if (t != std::string::npos) {
                char kindc = s[t + 1];
                char mod = t + 2 < s.size() ? s[t + 2] : 0;
                if (mod == '-') {
                    size_t k = text.size();
                    while (k > 0 && is_space(text[k - 1])) --k;
                    text.resize(k);
                } else if (mod != '+' && opt.lstrip_blocks && (kindc == '%' || kindc == '#')) {
                    size_t nl = text.rfind('\n');
                    size_t from = nl == std::string::npos ? 0 : nl + 1;
                    if (nl != std::string::npos || line_start) {
                        bool ws = true;
                        for (size_t k = from; k < text.size(); ++k)
                            if (text[k] != ' ' && text[k] != '\t') { ws = false; break; }
                        if (ws) text.resize(from);
                    }
                }
            }
            if (!text.empty()) push(tok::text, text, text_line);
            if (t == std::string::npos) { advance_to(s.size()); break; }
            advance_to(t);
            char kindc = s[t + 1];
            size_t skip = 2;
            if (t + 2 < s.size() && (s[t + 2] == '-' || s[t + 2] == '+')) skip = 3;
            int tag_line = line;
            char right = 0;
            if (kindc == '#') {
                size_t e = s.find("#}", t + skip);
                if (e == std::string::npos) error("unterminated comment", tag_line);
                right = (e > t + skip - 1 && (s[e - 1] == '-' || s[e - 1] == '+')) ? s[e - 1] : 0;
                advance_to(e + 2);
            } else if (kindc == '{') {
                advance_to(t + skip);
                push(tok::var_begin, "{{", tag_line);
                right = lex_expr("}}");
                push(tok::var_end, "}}", line);
            } else {
                advance_to(t + skip);
                push(tok::block_begin, "{%", tag_line);
                size_t first_tok = out.size();
                right = lex_expr("%}");
                push(tok::block_end, "%}", line);
                if (out.size() > first_tok && out[first_tok].type == tok::name && out[first_tok].text == "raw") {
                    lex_raw(right);
                    right = last_raw_right_;
                }
            }
            strip_next = right == '-';
            if (right != '+' && right != '-' && opt.trim_blocks && kindc != '{' && pos < s.size() && s[pos] == '\n')
                advance_to(pos + 1);
        }
        token e;
        e.type = tok::eof;
        e.line = line;
        out.push_back(e);
    }

    char last_raw_right_ = 0;

    // After {% raw %}: everything up to {% endraw %} is text.
    void lex_raw(char right_of_raw) {
        if (right_of_raw == '-') while (pos < s.size() && is_space(s[pos])) advance_to(pos + 1);
        else if (opt.trim_blocks && pos < s.size() && s[pos] == '\n') advance_to(pos + 1);
        size_t p = pos;
        while (true) {
            size_t t = s.find("{%", p);
            if (t == std::string::npos) error("missing {% endraw %}", line);
            size_t q = t + 2;
            bool lmod = q < s.size() && s[q] == '-';
            if (q < s.size() && (s[q] == '-' || s[q] == '+')) ++q;
            while (q < s.size() && is_space(s[q])) ++q;
            if (s.compare(q, 6, "endraw") == 0) {
                q += 6;
                while (q < s.size() && is_space(s[q])) ++q;
                char rmod = 0;
                if (q < s.size() && (s[q] == '-' || s[q] == '+')) rmod = s[q++];
                if (s.compare(q, 2, "%}") == 0) {
                    std::string text = s.substr(pos, t - pos);
                    if (lmod) {
                        size_t k = text.size();
                        while (k > 0 && is_space(text[k - 1])) --k;
                        text.resize(k);
                    }
                    int at = line;
                    if (!text.empty()) push(tok::text, text, at);
                    advance_to(q + 2);
                    last_raw_right_ = rmod;
                    // Drop the raw block tokens: {% raw %} became text already.
                    return;
                }
            }
            p = t + 2;
        }
    }
};

}  // namespace

std::vector<token> lex(const std::string &src, const lexer_options &opt) {
    lexer l{src, opt};
    l.run();
    // Remove the `{% raw %}` tag tokens (their content was emitted as text).
    std::vector<token> out;
    out.reserve(l.out.size());
    for (size_t i = 0; i < l.out.size(); ++i) {
        if (l.out[i].type == tok::block_begin && i + 2 < l.out.size() && l.out[i + 1].type == tok::name &&
            l.out[i + 1].text == "raw" && l.out[i + 2].type == tok::block_end) {
            i += 2;
            continue;
        }
        out.push_back(std::move(l.out[i]));
    }
    return out;
}

}  // namespace mlxmtp::detail::jinja
