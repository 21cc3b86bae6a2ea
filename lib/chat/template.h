// A compiled chat template (Jinja subset, transformers' environment:
// trim_blocks, lstrip_blocks, no autoescape) and its renderer.
#pragma once
#include "chat/ast.h"
#include "chat/value.h"

#include <string>
#include <utility>
#include <vector>

namespace mlxmtp::detail {

class chat_template {
public:
    // Parses `source`; throws error(MLXMTP_ERR_TEMPLATE) with the line.
    explicit chat_template(const std::string &source);
    ~chat_template();
    chat_template(const chat_template &) = delete;
    chat_template &operator=(const chat_template &) = delete;

    // Renders with `vars` as the global variables (messages, tools,
    // add_generation_prompt, ...).  Throws error(MLXMTP_ERR_TEMPLATE) with the
    // template line for every failure, including raise_exception().
    std::string render(const std::vector<std::pair<std::string, jinja::value>> &vars) const;

private:
    jinja::body body_;
};

}  // namespace mlxmtp::detail
