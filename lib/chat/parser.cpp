#include "chat/parser.h"

#include "util/error.h"

#include <cstring>

namespace mlxmtp::detail::jinja {

namespace {

class parser {
public:
    explicit parser(const std::vector<token> &t) : t_(t) {}

    body parse_all() {
        std::vector<const char *> none;
        body b = parse_body(none);
        if (cur().type != tok::eof) error("unexpected tag");
        return b;
    }

private:
    const std::vector<token> &t_;
    size_t p_ = 0;
    int depth_ = 0;

    const token &cur() const { return t_[p_]; }
    const token &peek(size_t k = 1) const { return t_[std::min(p_ + k, t_.size() - 1)]; }
    void next() { if (p_ + 1 < t_.size()) ++p_; }

    [[noreturn]] void error(const std::string &msg) const {
        fail(MLXMTP_ERR_TEMPLATE, "template syntax error at line %d: %s", cur().line, msg.c_str());
    }
    bool is_op(const char *o) const { return cur().type == tok::op && cur().text == o; }
    bool is_name(const char *n) const { return cur().type == tok::name && cur().text == n; }
    void expect_op(const char *o) {
        if (!is_op(o)) error(std::string("expected '") + o + "', got '" + cur().text + "'");
        next();
    }
    std::string expect_name() {
        if (cur().type != tok::name) error("expected a name, got '" + cur().text + "'");
        std::string n = cur().text;
        next();
        return n;
    }
    void expect_block_end() {
        if (cur().type != tok::block_end) error("expected '%}', got '" + cur().text + "'");
        next();
    }

    // Parses statements until a block tag whose name is in `stops` (left unconsumed,
    // positioned at the name) or eof.
    body parse_body(const std::vector<const char *> &stops) {
        if (++depth_ > 200) error("template nested too deeply");
        body b;
        while (true) {
            const token &k = cur();
            if (k.type == tok::eof) break;
            if (k.type == tok::text) {
                auto s = std::make_unique<stmt>();
                s->type = st::text;
                s->line = k.line;
                s->text = k.text;
                b.push_back(std::move(s));
                next();
                continue;
            }
            if (k.type == tok::var_begin) {
                next();
                auto s = std::make_unique<stmt>();
                s->type = st::output;
                s->line = k.line;
                s->e = parse_expr();
                if (cur().type != tok::var_end) error("expected '}}', got '" + cur().text + "'");
                next();
                b.push_back(std::move(s));
                continue;
            }
            if (k.type == tok::block_begin) {
                const token &n = peek();
                if (n.type != tok::name) { next(); error("expected a statement name"); }
                for (const char *stop : stops)
                    if (n.text == stop) { next(); --depth_; return b; }
                next();
                b.push_back(parse_statement());
                continue;
            }
            error("unexpected '" + k.text + "'");
        }
        if (!stops.empty()) error(std::string("unexpected end of template, expected '") + stops.back() + "'");
        --depth_;
        return b;
    }

    stmt_ptr parse_statement() {
        int line = cur().line;
        std::string kw = expect_name();
        auto s = std::make_unique<stmt>();
        s->line = line;
        if (kw == "if") {
            s->type = st::if_;
            expr_ptr cond = parse_expr();
            expect_block_end();
            while (true) {
                body b = parse_body({"elif", "else", "endif"});
                s->branches.emplace_back(std::move(cond), std::move(b));
                std::string which = expect_name();
                if (which == "elif") {
                    cond = parse_expr();
                    expect_block_end();
                    continue;
                }
                if (which == "else") {
                    expect_block_end();
                    s->else_body = parse_body({"endif"});
                    expect_name();
                }
                expect_block_end();
                break;
            }
        } else if (kw == "for") {
            s->type = st::for_;
            s->targets.push_back(expect_name());
            while (is_op(",")) {
                next();
                s->targets.push_back(expect_name());
            }
            if (!is_name("in")) error("expected 'in' in for loop");
            next();
            s->e = parse_expr(false);
            if (is_name("if")) {
                next();
                s->filter_cond = parse_expr(false);
            }
            if (is_name("recursive")) error("recursive loops are not supported");
            expect_block_end();
            s->main = parse_body({"else", "endfor"});
            if (expect_name() == "else") {
                expect_block_end();
                s->else_body = parse_body({"endfor"});
                expect_name();
            }
            expect_block_end();
        } else if (kw == "set") {
            std::string first = expect_name();
            if (is_op(".")) {
                next();
                auto obj = std::make_unique<expr>();
                obj->type = ex::name;
                obj->name = first;
                obj->line = line;
                s->target_obj = std::move(obj);
                s->target_attr = expect_name();
                s->type = st::set;
                expect_op("=");
                s->e = parse_expr();
                expect_block_end();
            } else {
                s->targets.push_back(first);
                while (is_op(",")) {
                    next();
                    s->targets.push_back(expect_name());
                }
                if (is_op("=")) {
                    next();
                    s->type = st::set;
                    s->e = parse_expr();
                    expect_block_end();
                } else {
                    s->type = st::set_block;
                    if (is_op("|")) s->filter_expr = parse_filter_chain();
                    expect_block_end();
                    s->main = parse_body({"endset"});
                    expect_name();
                    expect_block_end();
                }
            }
        } else if (kw == "macro") {
            s->type = st::macro;
            s->text = expect_name();
            expect_op("(");
            while (!is_op(")")) {
                std::string pn = expect_name();
                expr_ptr def;
                if (is_op("=")) {
                    next();
                    def = parse_expr();
                }
                s->params.emplace_back(pn, std::move(def));
                if (!is_op(",")) break;
                next();
            }
            expect_op(")");
            expect_block_end();
            s->main = parse_body({"endmacro"});
            expect_name();
            if (cur().type == tok::name) next();  // {% endmacro name %}
            expect_block_end();
        } else if (kw == "break" || kw == "continue") {
            s->type = kw == "break" ? st::break_ : st::continue_;
            expect_block_end();
        } else if (kw == "filter") {
            s->type = st::filter_block;
            s->filter_expr = parse_filter_chain(false);
            expect_block_end();
            s->main = parse_body({"endfilter"});
            expect_name();
            expect_block_end();
        } else if (kw == "do") {
            s->type = st::do_;
            s->e = parse_expr();
            expect_block_end();
        } else if (kw == "generation") {
            // transformers' assistant-mask marker: render the body as is.
            s->type = st::if_;
            auto t = std::make_unique<expr>();
            t->type = ex::literal;
            t->lit = value::boolean(true);
            expect_block_end();
            body b = parse_body({"endgeneration"});
            expect_name();
            expect_block_end();
            s->branches.emplace_back(std::move(t), std::move(b));
        } else {
            --p_;
            error("unknown statement '" + kw + "'");
        }
        return s;
    }

    // A chain of filters applied to a placeholder (name "__filter_input__").
    expr_ptr parse_filter_chain(bool leading_pipe = true) {
        auto base = std::make_unique<expr>();
        base->type = ex::name;
        base->name = "__filter_input__";
        base->line = cur().line;
        if (!leading_pipe) {
            // "filter upper" form: the first filter has no pipe.
            expr_ptr f = parse_one_filter(std::move(base));
            return parse_postfix_filters(std::move(f));
        }
        return parse_postfix_filters(std::move(base));
    }

    // ---- expressions ---------------------------------------------------------

    expr_ptr node(ex type, int line) {
        auto e = std::make_unique<expr>();
        e->type = type;
        e->line = line;
        return e;
    }

    expr_ptr parse_expr(bool with_cond = true) {
        if (++depth_ > 200) error("expression nested too deeply");
        expr_ptr e = parse_or();
        if (with_cond) {
            while (is_name("if")) {
                int line = cur().line;
                next();
                auto c = node(ex::cond, line);
                c->b = parse_or();
                if (is_name("else")) {
                    next();
                    c->c = parse_expr();
                }
                c->a = std::move(e);
                e = std::move(c);
            }
        }
        --depth_;
        return e;
    }

    expr_ptr binary(const std::string &op, expr_ptr l, expr_ptr r, int line) {
        auto e = node(ex::binary, line);
        e->name = op;
        e->a = std::move(l);
        e->b = std::move(r);
        return e;
    }

    expr_ptr parse_or() {
        expr_ptr l = parse_and();
        while (is_name("or")) {
            int line = cur().line;
            next();
            l = binary("or", std::move(l), parse_and(), line);
        }
        return l;
    }
    expr_ptr parse_and() {
        expr_ptr l = parse_not();
        while (is_name("and")) {
            int line = cur().line;
            next();
            l = binary("and", std::move(l), parse_not(), line);
        }
        return l;
    }
    expr_ptr parse_not() {
        if (is_name("not")) {
            int line = cur().line;
            next();
            auto e = node(ex::unary, line);
            e->name = "not";
            e->a = parse_not();
            return e;
        }
        return parse_compare();
    }
    expr_ptr parse_compare() {
        expr_ptr l = parse_math1();
        while (true) {
            int line = cur().line;
            if (cur().type == tok::op &&
                (cur().text == "==" || cur().text == "!=" || cur().text == "<" || cur().text == ">" ||
                 cur().text == "<=" || cur().text == ">=")) {
                std::string op = cur().text;
                next();
                l = binary(op, std::move(l), parse_math1(), line);
            } else if (is_name("in")) {
                next();
                l = binary("in", std::move(l), parse_math1(), line);
            } else if (is_name("not") && peek().type == tok::name && peek().text == "in") {
                next();
                next();
                l = binary("not in", std::move(l), parse_math1(), line);
            } else {
                return l;
            }
        }
    }
    expr_ptr parse_math1() {
        expr_ptr l = parse_concat();
        while (is_op("+") || is_op("-")) {
            std::string op = cur().text;
            int line = cur().line;
            next();
            l = binary(op, std::move(l), parse_concat(), line);
        }
        return l;
    }
    expr_ptr parse_concat() {
        expr_ptr l = parse_math2();
        while (is_op("~")) {
            int line = cur().line;
            next();
            l = binary("~", std::move(l), parse_math2(), line);
        }
        return l;
    }
    expr_ptr parse_math2() {
        expr_ptr l = parse_pow();
        while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
            std::string op = cur().text;
            int line = cur().line;
            next();
            l = binary(op, std::move(l), parse_pow(), line);
        }
        return l;
    }
    expr_ptr parse_pow() {
        expr_ptr l = parse_unary();
        while (is_op("**")) {
            int line = cur().line;
            next();
            l = binary("**", std::move(l), parse_unary(), line);
        }
        return l;
    }
    // As Jinja2: `-x|f` is `(-x)|f`; filters bind to the whole unary expression.
    expr_ptr parse_unary(bool with_filter = true) {
        expr_ptr e;
        if (is_op("-") || is_op("+")) {
            int line = cur().line;
            std::string op = cur().text;
            next();
            e = node(ex::unary, line);
            e->name = op;
            e->a = parse_unary(false);
        } else {
            e = parse_postfix(parse_primary());
        }
        return with_filter ? parse_postfix_filters(std::move(e)) : std::move(e);
    }

    expr_ptr parse_primary() {
        const token &k = cur();
        int line = k.line;
        switch (k.type) {
        case tok::name: {
            std::string n = k.text;
            next();
            auto e = node(ex::literal, line);
            if (n == "true" || n == "True") e->lit = value::boolean(true);
            else if (n == "false" || n == "False") e->lit = value::boolean(false);
            else if (n == "none" || n == "None") e->lit = value::none();
            else {
                e->type = ex::name;
                e->name = n;
            }
            return e;
        }
        case tok::string: {
            std::string v = k.text;
            next();
            while (cur().type == tok::string) {  // adjacent literals concatenate
                v += cur().text;
                next();
            }
            auto e = node(ex::literal, line);
            e->lit = value::str(v);
            return e;
        }
        case tok::integer: {
            auto e = node(ex::literal, line);
            e->lit = value::integer(k.i);
            next();
            return e;
        }
        case tok::floating: {
            auto e = node(ex::literal, line);
            e->lit = value::floating(k.f);
            next();
            return e;
        }
        case tok::op:
            if (k.text == "(") {
                next();
                if (is_op(")")) {
                    next();
                    return node(ex::list, line);  // empty tuple
                }
                expr_ptr e = parse_expr();
                if (is_op(",")) {
                    auto t = node(ex::list, line);
                    t->items.push_back(std::move(e));
                    while (is_op(",")) {
                        next();
                        if (is_op(")")) break;
                        t->items.push_back(parse_expr());
                    }
                    e = std::move(t);
                }
                expect_op(")");
                return e;
            }
            if (k.text == "[") {
                next();
                auto e = node(ex::list, line);
                while (!is_op("]")) {
                    e->items.push_back(parse_expr());
                    if (!is_op(",")) break;
                    next();
                }
                expect_op("]");
                return e;
            }
            if (k.text == "{") {
                next();
                auto e = node(ex::dict, line);
                while (!is_op("}")) {
                    e->items.push_back(parse_expr());
                    expect_op(":");
                    e->items.push_back(parse_expr());
                    if (!is_op(",")) break;
                    next();
                }
                expect_op("}");
                return e;
            }
            break;
        default: break;
        }
        error("unexpected '" + k.text + "'");
    }

    void parse_call_args(expr &e) {
        expect_op("(");
        while (!is_op(")")) {
            if (cur().type == tok::name && peek().type == tok::op && peek().text == "=") {
                std::string k = cur().text;
                next();
                next();
                e.kwargs.emplace_back(k, parse_expr());
            } else {
                if (is_op("*") || is_op("**")) error("*args / **kwargs in calls are not supported");
                e.items.push_back(parse_expr());
            }
            if (!is_op(",")) break;
            next();
        }
        expect_op(")");
    }

    expr_ptr parse_postfix(expr_ptr e) {
        while (true) {
            int line = cur().line;
            if (is_op(".")) {
                next();
                auto g = node(ex::getattr, line);
                if (cur().type == tok::integer) {
                    g->type = ex::getitem;
                    auto idx = node(ex::literal, line);
                    idx->lit = value::integer(cur().i);
                    g->b = std::move(idx);
                    next();
                } else {
                    g->name = expect_name();
                }
                g->a = std::move(e);
                e = std::move(g);
            } else if (is_op("[")) {
                next();
                expr_ptr start, stop, step;
                bool is_slice = false;
                if (!is_op(":")) start = parse_expr();
                if (is_op(":")) {
                    is_slice = true;
                    next();
                    if (!is_op("]") && !is_op(":")) stop = parse_expr();
                    if (is_op(":")) {
                        next();
                        if (!is_op("]")) step = parse_expr();
                    }
                }
                expect_op("]");
                if (is_slice) {
                    auto s = node(ex::slice, line);
                    s->a = std::move(e);
                    s->b = std::move(start);
                    s->c = std::move(stop);
                    s->items.push_back(std::move(step));
                    e = std::move(s);
                } else {
                    if (!start) error("empty subscript");
                    auto g = node(ex::getitem, line);
                    g->a = std::move(e);
                    g->b = std::move(start);
                    e = std::move(g);
                }
            } else if (is_op("(")) {
                auto c = node(ex::call, line);
                c->a = std::move(e);
                parse_call_args(*c);
                e = std::move(c);
            } else {
                return e;
            }
        }
    }

    expr_ptr parse_one_filter(expr_ptr input) {
        int line = cur().line;
        std::string name = expect_name();
        while (is_op(".")) {  // dotted filter names
            next();
            name += "." + expect_name();
        }
        auto f = node(ex::filter, line);
        f->name = name;
        f->a = std::move(input);
        if (is_op("(")) parse_call_args(*f);
        return f;
    }

    expr_ptr parse_postfix_filters(expr_ptr e) {
        while (true) {
            if (is_op("|")) {
                next();
                e = parse_one_filter(std::move(e));
                e = parse_postfix(std::move(e));
            } else if (is_name("is")) {
                int line = cur().line;
                next();
                auto t = node(ex::test, line);
                if (is_name("not")) {
                    t->negated = true;
                    next();
                }
                t->name = expect_name();
                t->a = std::move(e);
                if (is_op("(")) {
                    parse_call_args(*t);
                } else if ((cur().type == tok::name && !is_name("else") && !is_name("or") && !is_name("and") &&
                            !is_name("if") && !is_name("in") && !is_name("not") && !is_name("is")) ||
                           cur().type == tok::string || cur().type == tok::integer || cur().type == tok::floating ||
                           is_op("[") || is_op("{")) {
                    // One argument without parentheses: `is divisibleby 3`, `is sameas none`.
                    expr_ptr arg = parse_primary();
                    t->items.push_back(parse_postfix(std::move(arg)));
                }
                e = std::move(t);
            } else {
                return e;
            }
        }
    }
};

}  // namespace

body parse(const std::vector<token> &tokens) {
    parser p(tokens);
    return p.parse_all();
}

}  // namespace mlxmtp::detail::jinja
