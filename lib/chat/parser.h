// Parser of the Jinja subset used by chat templates.
#pragma once
#include "chat/ast.h"
#include "chat/lexer.h"

namespace mlxmtp::detail::jinja {

// Throws detail::error(MLXMTP_ERR_TEMPLATE, "template syntax error at line N: ...").
body parse(const std::vector<token> &tokens);

}  // namespace mlxmtp::detail::jinja
