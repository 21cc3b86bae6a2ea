// Jinja lexer with the transformers environment's whitespace rules
// (trim_blocks, lstrip_blocks, `-` / `+` modifiers).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace mlxmtp::detail::jinja {

enum class tok : uint8_t {
    text,         // raw template text
    var_begin,    // {{
    var_end,      // }}
    block_begin,  // {%
    block_end,    // %}
    name,
    integer,
    floating,
    string,
    op,           // operators and punctuation
    eof
};

struct token {
    tok type;
    std::string text;  // text, name, string value, operator
    int64_t i = 0;
    double f = 0;
    int line = 1;
};

struct lexer_options {
    bool trim_blocks = true;
    bool lstrip_blocks = true;
};

// Throws detail::error(MLXMTP_ERR_TEMPLATE, "... line N ...").
std::vector<token> lex(const std::string &src, const lexer_options &opt = {});

}  // namespace mlxmtp::detail::jinja
