// Syntax tree of a parsed template.
#pragma once
#include "chat/value.h"

#include <memory>
#include <string>
#include <vector>

namespace mlxmtp::detail::jinja {

struct expr;
struct stmt;
using expr_ptr = std::unique_ptr<expr>;
using stmt_ptr = std::unique_ptr<stmt>;
using body = std::vector<stmt_ptr>;

enum class ex : uint8_t {
    literal, name, list, dict, getattr, getitem, slice, call, filter, test, unary, binary, cond
};

struct expr {
    ex type;
    int line = 0;
    value lit;                      // literal
    std::string name;               // name / attribute / filter / test / operator
    std::vector<expr_ptr> items;    // list items, dict keys+values interleaved, call args
    std::vector<std::pair<std::string, expr_ptr>> kwargs;
    expr_ptr a, b, c;               // operands; slice: a=obj, b=start, c=stop, items[0]=step
    bool negated = false;           // `is not`
};

enum class st : uint8_t { text, output, if_, for_, set, set_block, macro, break_, continue_, filter_block, do_, call_block };

struct stmt {
    st type;
    int line = 0;
    std::string text;                         // text; set target name; macro name
    expr_ptr e;                               // output / set value / for iterable / do
    expr_ptr target_obj;                      // set ns.attr: the namespace expression
    std::string target_attr;
    std::vector<std::string> targets;         // for / set tuple unpacking
    std::vector<std::pair<expr_ptr, body>> branches;  // if / elif
    body main, else_body;                     // for body / else; set block / macro body
    expr_ptr filter_cond;                     // for ... if cond
    std::vector<std::pair<std::string, expr_ptr>> params;  // macro parameters (default may be null)
    expr_ptr filter_expr;                     // filter block: the filter applied to a placeholder
};

}  // namespace mlxmtp::detail::jinja
