// Tree-walking renderer of a parsed template.
#include "chat/builtins.h"
#include "chat/lexer.h"
#include "chat/parser.h"
#include "chat/template.h"
#include "util/error.h"

#include <cmath>
#include <cstring>
#include <ctime>

namespace mlxmtp::detail {

using namespace jinja;

namespace {

constexpr size_t kMaxOutput = 256u << 20;
constexpr int kMaxCallDepth = 128;

enum class flow { normal, brk, cont };

struct frame {
    std::vector<std::pair<std::string, value>> vars;
    value *find(const std::string &n) {
        for (auto &kv : vars)
            if (kv.first == n) return &kv.second;
        return nullptr;
    }
    void set(const std::string &n, value v) {
        if (value *p = find(n)) *p = std::move(v);
        else vars.emplace_back(n, std::move(v));
    }
};

class renderer {
public:
    explicit renderer(const std::vector<std::pair<std::string, value>> &vars) {
        frames_.emplace_back();  // globals
        for (const auto &kv : vars) frames_[0].set(kv.first, kv.second);
        install_globals();
        frames_.emplace_back();  // template top level
        env_.filter = [this](const std::string &f, const value &in, const call_args &a) {
            return apply_filter(f, in, a, env_);
        };
        env_.test = [this](const std::string &t, const value &in, const call_args &a) {
            return apply_test(t, in, a, env_);
        };
    }

    void run(const body &b, std::string &out) {
        out_ = &out;
        exec_body(b);
    }

    int line() const { return line_; }

private:
    std::vector<frame> frames_;
    size_t floor_ = 2;  // lookups go from the top frame down to floor_, then to frames 1 and 0
    std::string *out_ = nullptr;
    int line_ = 0;
    int call_depth_ = 0;
    builtin_env env_;

    [[noreturn]] void error(const std::string &msg) { fail(MLXMTP_ERR_TEMPLATE, "%s", msg.c_str()); }

    void install_globals() {
        frame &g = frames_[0];
        auto def = [&](const char *name, std::function<value(const call_args &)> fn) {
            if (g.find(name)) return;  // a caller variable of the same name wins
            auto c = std::make_shared<callable>();
            c->name = name;
            c->fn = std::move(fn);
            g.set(name, value::function(c));
        };
        def("raise_exception", [](const call_args &a) -> value {
            const value *m = a.get(0, "message");
            fail(MLXMTP_ERR_TEMPLATE, "%s", m ? to_str(*m).c_str() : "raise_exception called");
        });
        def("namespace", [](const call_args &a) {
            value ns = value::new_namespace();
            if (!a.pos.empty() && a.pos[0].k == kind::dict)
                for (const auto &kv : a.pos[0].d->items) ns.d->set(kv.first, kv.second);
            for (const auto &kv : a.kw) ns.d->set(kv.first, kv.second);
            return ns;
        });
        def("dict", [](const call_args &a) {
            value d = value::new_dict();
            if (!a.pos.empty() && a.pos[0].k == kind::dict)
                for (const auto &kv : a.pos[0].d->items) d.d->set(kv.first, kv.second);
            for (const auto &kv : a.kw) d.d->set(kv.first, kv.second);
            return d;
        });
        def("range", [](const call_args &a) {
            int64_t start = 0, stop = 0, step = 1;
            auto num = [](const value &v) {
                if (v.k != kind::integer && v.k != kind::boolean)
                    fail(MLXMTP_ERR_TEMPLATE, "range() arguments must be integers");
                return v.k == kind::boolean ? static_cast<int64_t>(v.b) : v.i;
            };
            if (a.pos.size() == 1) stop = num(a.pos[0]);
            else if (a.pos.size() >= 2) {
                start = num(a.pos[0]);
                stop = num(a.pos[1]);
                if (a.pos.size() >= 3) step = num(a.pos[2]);
            } else fail(MLXMTP_ERR_TEMPLATE, "range expected at least 1 argument");
            if (step == 0) fail(MLXMTP_ERR_TEMPLATE, "range() arg 3 must not be zero");
            value l = value::new_list();
            for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) {
                if (l.l->size() >= 10000000) fail(MLXMTP_ERR_TEMPLATE, "range() too large");
                l.l->push_back(value::integer(i));
            }
            return l;
        });
        def("strftime_now", [](const call_args &a) {
            const value *f = a.get(0, "format");
            std::string fmt = f && f->is_string() ? f->sv() : "%Y-%m-%d";
            std::time_t t = std::time(nullptr);
            std::tm tm{};
            localtime_r(&t, &tm);
            char buf[256];
            size_t n = std::strftime(buf, sizeof buf, fmt.c_str(), &tm);
            return value::str(std::string(buf, n));
        });
    }

    value lookup(const std::string &n) {
        for (size_t i = frames_.size(); i-- > floor_;)
            if (value *v = frames_[i].find(n)) return *v;
        if (value *v = frames_[1].find(n)) return *v;
        if (value *v = frames_[0].find(n)) return *v;
        return value::undef(n);
    }

    void assign(const std::string &n, value v) { frames_.back().set(n, std::move(v)); }

    void emit(const std::string &s) {
        if (out_->size() + s.size() > kMaxOutput) error("rendered output exceeds 256 MiB");
        out_->append(s);
    }

    // ---- statements ------------------------------------------------------------

    flow exec_body(const body &b) {
        for (const auto &s : b) {
            flow f = exec(*s);
            if (f != flow::normal) return f;
        }
        return flow::normal;
    }

    flow exec(const stmt &s) {
        line_ = s.line;
        switch (s.type) {
        case st::text: emit(s.text); break;
        case st::output: {
            value v = eval(*s.e);
            line_ = s.line;
            emit(to_str(v));
            break;
        }
        case st::if_:
            for (const auto &br : s.branches) {
                line_ = br.first->line;
                if (eval(*br.first).truthy()) return exec_body(br.second);
            }
            return exec_body(s.else_body);
        case st::for_: return exec_for(s);
        case st::set: {
            value v = eval(*s.e);
            line_ = s.line;
            if (s.target_obj) {
                value ns = eval(*s.target_obj);
                if (ns.k != kind::ns) error("cannot assign attribute on non-namespace object");
                ns.d->set(s.target_attr, std::move(v));
            } else {
                set_targets(s.targets, v);
            }
            break;
        }
        case st::set_block: {
            std::string buf = capture(s.main);
            value v = value::str(buf);
            if (s.filter_expr) v = apply_filter_chain(*s.filter_expr, v);
            assign(s.targets[0], v);
            break;
        }
        case st::macro: {
            const stmt *def = &s;
            auto c = std::make_shared<callable>();
            c->name = s.text;
            c->fn = [this, def](const call_args &a) { return call_macro(*def, a); };
            assign(s.text, value::function(c));
            break;
        }
        case st::break_: return flow::brk;
        case st::continue_: return flow::cont;
        case st::filter_block: {
            std::string buf = capture(s.main);
            emit(to_str(apply_filter_chain(*s.filter_expr, value::str(buf))));
            break;
        }
        case st::do_: eval(*s.e); break;
        case st::call_block: break;
        }
        return flow::normal;
    }

    std::string capture(const body &b) {
        std::string buf;
        std::string *saved = out_;
        out_ = &buf;
        try {
            exec_body(b);
        } catch (...) {
            out_ = saved;
            throw;
        }
        out_ = saved;
        return buf;
    }

    value apply_filter_chain(const expr &chain, const value &input) {
        frames_.emplace_back();
        frames_.back().set("__filter_input__", input);
        value v;
        try {
            v = eval(chain);
        } catch (...) {
            frames_.pop_back();
            throw;
        }
        frames_.pop_back();
        return v;
    }

    void set_targets(const std::vector<std::string> &targets, const value &v) {
        if (targets.size() == 1) {
            assign(targets[0], v);
            return;
        }
        list items = iterate(v);
        if (items.size() != targets.size())
            error("cannot unpack " + std::to_string(items.size()) + " values into " + std::to_string(targets.size()));
        for (size_t i = 0; i < targets.size(); ++i) assign(targets[i], items[i]);
    }

    flow exec_for(const stmt &s) {
        value seq = eval(*s.e);
        if (seq.k != kind::list && seq.k != kind::dict && seq.k != kind::string && seq.k != kind::undefined)
            error(std::string("'") + kind_name(seq.k) + "' object is not iterable");
        list items = iterate(seq);
        if (s.filter_cond) {
            list kept;
            for (const value &it : items) {
                frames_.emplace_back();
                try {
                    set_targets(s.targets, it);
                    bool ok = eval(*s.filter_cond).truthy();
                    frames_.pop_back();
                    if (ok) kept.push_back(it);
                } catch (...) {
                    frames_.pop_back();
                    throw;
                }
            }
            items.swap(kept);
        }
        if (items.empty()) return exec_body(s.else_body);
        const int64_t n = static_cast<int64_t>(items.size());
        value loop = value::new_dict();
        for (int64_t i = 0; i < n; ++i) {
            dict &L = *loop.d;
            L.items.clear();
            L.set("index", value::integer(i + 1));
            L.set("index0", value::integer(i));
            L.set("revindex", value::integer(n - i));
            L.set("revindex0", value::integer(n - i - 1));
            L.set("first", value::boolean(i == 0));
            L.set("last", value::boolean(i == n - 1));
            L.set("length", value::integer(n));
            L.set("depth", value::integer(1));
            L.set("depth0", value::integer(0));
            L.set("previtem", i > 0 ? items[static_cast<size_t>(i - 1)] : value::undef("previtem"));
            L.set("nextitem", i + 1 < n ? items[static_cast<size_t>(i + 1)] : value::undef("nextitem"));
            auto cyc = std::make_shared<callable>();
            cyc->name = "cycle";
            cyc->fn = [i](const call_args &a) {
                if (a.pos.empty()) fail(MLXMTP_ERR_TEMPLATE, "no items for cycling given");
                return a.pos[static_cast<size_t>(i) % a.pos.size()];
            };
            L.set("cycle", value::function(cyc));
            frames_.emplace_back();
            flow f;
            try {
                frames_.back().set("loop", loop);
                set_targets(s.targets, items[static_cast<size_t>(i)]);
                f = exec_body(s.main);
            } catch (...) {
                frames_.pop_back();
                throw;
            }
            frames_.pop_back();
            if (f == flow::brk) break;
            loop = value::new_dict();  // a fresh object: a captured `loop` keeps its values
        }
        return flow::normal;
    }

    value call_macro(const stmt &def, const call_args &a) {
        if (++call_depth_ > kMaxCallDepth) {
            --call_depth_;
            error("maximum macro recursion depth exceeded");
        }
        size_t saved_floor = floor_;
        int saved_line = line_;
        frames_.emplace_back();
        floor_ = frames_.size() - 1;
        std::string buf;
        try {
            frame &f = frames_.back();
            for (size_t i = 0; i < def.params.size(); ++i) {
                const value *v = a.get(i, def.params[i].first.c_str());
                if (v) f.set(def.params[i].first, *v);
                else if (def.params[i].second) f.set(def.params[i].first, eval(*def.params[i].second));
                else f.set(def.params[i].first, value::undef(def.params[i].first));
            }
            if (a.pos.size() > def.params.size())
                error("macro '" + def.text + "' takes not more than " + std::to_string(def.params.size()) + " argument(s)");
            buf = capture(def.main);
        } catch (...) {
            frames_.pop_back();
            floor_ = saved_floor;
            --call_depth_;
            throw;
        }
        frames_.pop_back();
        floor_ = saved_floor;
        --call_depth_;
        line_ = saved_line;
        return value::str(buf);
    }

    // ---- expressions -------------------------------------------------------------

    call_args eval_args(const expr &e) {
        call_args a;
        for (const auto &x : e.items) a.pos.push_back(eval(*x));
        for (const auto &kv : e.kwargs) a.kw.emplace_back(kv.first, eval(*kv.second));
        return a;
    }

    value eval(const expr &e) {
        line_ = e.line;
        switch (e.type) {
        case ex::literal: return e.lit;
        case ex::name: return lookup(e.name);
        case ex::list: {
            value l = value::new_list();
            for (const auto &x : e.items) l.l->push_back(eval(*x));
            return l;
        }
        case ex::dict: {
            value d = value::new_dict();
            for (size_t i = 0; i + 1 < e.items.size(); i += 2) {
                value k = eval(*e.items[i]);
                if (!k.is_string()) error("dict literal keys must be strings");
                d.d->set(k.sv(), eval(*e.items[i + 1]));
            }
            return d;
        }
        case ex::getattr: {
            value obj = eval(*e.a);
            line_ = e.line;
            if (obj.is_undefined())
                error("'" + (obj.undefined_name.empty() ? std::string("value") : obj.undefined_name) +
                      "' is undefined (reading attribute '" + e.name + "')");
            value v = get_attr(obj, e.name);
            if (v.is_undefined()) v.undefined_name = e.name;
            return v;
        }
        case ex::getitem: {
            value obj = eval(*e.a);
            value key = eval(*e.b);
            line_ = e.line;
            if (obj.is_undefined())
                error("'" + (obj.undefined_name.empty() ? std::string("value") : obj.undefined_name) + "' is undefined");
            return get_item(obj, key);
        }
        case ex::slice: {
            value obj = eval(*e.a);
            value start = e.b ? eval(*e.b) : value::none();
            value stop = e.c ? eval(*e.c) : value::none();
            value step = e.items[0] ? eval(*e.items[0]) : value::none();
            line_ = e.line;
            return get_slice(obj, start, stop, step);
        }
        case ex::call: {
            value f = eval(*e.a);
            call_args a = eval_args(e);
            line_ = e.line;
            if (f.k != kind::callable)
                error("'" + (f.is_undefined() ? f.undefined_name : std::string(kind_name(f.k))) + "' is not callable" +
                      (f.is_undefined() ? " (undefined)" : ""));
            return f.fn->fn(a);
        }
        case ex::filter: {
            value in = eval(*e.a);
            call_args a = eval_args(e);
            line_ = e.line;
            return apply_filter(e.name, in, a, env_);
        }
        case ex::test: {
            value in;
            if (e.name == "defined" || e.name == "undefined") {
                in = eval_soft(*e.a);
            } else {
                in = eval(*e.a);
            }
            call_args a = eval_args(e);
            line_ = e.line;
            bool r = apply_test(e.name, in, a, env_);
            return value::boolean(e.negated ? !r : r);
        }
        case ex::unary: {
            value v = eval(*e.a);
            line_ = e.line;
            if (e.name == "not") return value::boolean(!v.truthy());
            if (v.k == kind::integer) return value::integer(e.name == "-" ? -v.i : v.i);
            if (v.k == kind::boolean) return value::integer(e.name == "-" ? -int64_t(v.b) : int64_t(v.b));
            if (v.k == kind::floating) return value::floating(e.name == "-" ? -v.f : v.f);
            error(std::string("bad operand type for unary ") + e.name + ": '" + kind_name(v.k) + "'");
        }
        case ex::binary: return eval_binary(e);
        case ex::cond: {
            if (eval(*e.b).truthy()) return eval(*e.a);
            if (e.c) return eval(*e.c);
            return value::undef();
        }
        }
        return value::undef();
    }

    // For `is defined`: an attribute chain through undefined values is undefined, not an error.
    value eval_soft(const expr &e) {
        if (e.type == ex::getattr) {
            value obj = eval_soft(*e.a);
            if (obj.is_undefined()) return obj;
            return get_attr(obj, e.name);
        }
        if (e.type == ex::getitem) {
            value obj = eval_soft(*e.a);
            if (obj.is_undefined()) return obj;
            return get_item(obj, eval(*e.b));
        }
        return eval(e);
    }

    static bool is_int(const value &v) { return v.k == kind::integer || v.k == kind::boolean; }
    static int64_t ival(const value &v) { return v.k == kind::boolean ? v.b : v.i; }

    value eval_binary(const expr &e) {
        const std::string &op = e.name;
        if (op == "and") {
            value l = eval(*e.a);
            return l.truthy() ? eval(*e.b) : l;
        }
        if (op == "or") {
            value l = eval(*e.a);
            return l.truthy() ? l : eval(*e.b);
        }
        value l = eval(*e.a);
        value r = eval(*e.b);
        line_ = e.line;
        if (op == "==") return value::boolean(equals(l, r));
        if (op == "!=") return value::boolean(!equals(l, r));
        if (op == "<") return value::boolean(less(l, r));
        if (op == ">") return value::boolean(less(r, l));
        if (op == "<=") return value::boolean(!less(r, l));
        if (op == ">=") return value::boolean(!less(l, r));
        if (op == "in") return value::boolean(contains(r, l));
        if (op == "not in") return value::boolean(!contains(r, l));
        if (op == "~") return value::str(to_str(l) + to_str(r));
        if (l.is_undefined() || r.is_undefined())
            error("'" + (l.is_undefined() ? l.undefined_name : r.undefined_name) + "' is undefined");
        if (op == "+") {
            if (l.is_string() && r.is_string()) {
                if (l.sv().size() + r.sv().size() > kMaxOutput) error("string too long");
                return value::str(l.sv() + r.sv());
            }
            if (l.is_list() && r.is_list()) {
                value out = value::new_list(*l.l);
                out.l->insert(out.l->end(), r.l->begin(), r.l->end());
                return out;
            }
            if (l.is_number() && r.is_number()) {
                if (is_int(l) && is_int(r)) return value::integer(ival(l) + ival(r));
                return value::floating(l.as_double() + r.as_double());
            }
        } else if (op == "-") {
            if (l.is_number() && r.is_number()) {
                if (is_int(l) && is_int(r)) return value::integer(ival(l) - ival(r));
                return value::floating(l.as_double() - r.as_double());
            }
        } else if (op == "*") {
            if (l.is_number() && r.is_number()) {
                if (is_int(l) && is_int(r)) return value::integer(ival(l) * ival(r));
                return value::floating(l.as_double() * r.as_double());
            }
            const value *seq = l.is_string() || l.is_list() ? &l : r.is_string() || r.is_list() ? &r : nullptr;
            const value *cnt = seq == &l ? &r : &l;
            if (seq && is_int(*cnt)) {
                int64_t n = std::max<int64_t>(0, ival(*cnt));
                size_t unit = seq->is_string() ? seq->sv().size() : seq->l->size();
                if (unit && static_cast<uint64_t>(n) > kMaxOutput / unit) error("repetition too large");
                if (seq->is_string()) {
                    std::string s;
                    for (int64_t i = 0; i < n; ++i) s += seq->sv();
                    return value::str(s);
                }
                value out = value::new_list();
                for (int64_t i = 0; i < n; ++i) out.l->insert(out.l->end(), seq->l->begin(), seq->l->end());
                return out;
            }
        } else if (op == "/") {
            if (l.is_number() && r.is_number()) {
                if (r.as_double() == 0) error("division by zero");
                return value::floating(l.as_double() / r.as_double());
            }
        } else if (op == "//" || op == "%") {
            if (l.is_number() && r.is_number()) {
                if (r.as_double() == 0) error("integer division or modulo by zero");
                if (is_int(l) && is_int(r)) {
                    int64_t a = ival(l), b = ival(r);
                    int64_t q = a / b, m = a % b;
                    if (m != 0 && ((m < 0) != (b < 0))) { --q; m += b; }
                    return value::integer(op == "//" ? q : m);
                }
                double a = l.as_double(), b = r.as_double();
                double q = std::floor(a / b);
                return value::floating(op == "//" ? q : a - q * b);
            }
            if (op == "%" && l.is_string()) error("printf-style string formatting is not supported");
        } else if (op == "**") {
            if (l.is_number() && r.is_number()) {
                if (is_int(l) && is_int(r) && ival(r) >= 0) {
                    int64_t base = ival(l), x = 1;
                    for (int64_t i = 0; i < ival(r) && i < 64; ++i) x *= base;
                    return value::integer(x);
                }
                return value::floating(std::pow(l.as_double(), r.as_double()));
            }
        }
        error("unsupported operand type(s) for " + op + ": '" + kind_name(l.k) + "' and '" + kind_name(r.k) + "'");
    }
};

}  // namespace

chat_template::chat_template(const std::string &source) : body_(jinja::parse(jinja::lex(source))) {}

chat_template::~chat_template() = default;

std::string chat_template::render(const std::vector<std::pair<std::string, value>> &vars) const {
    renderer r(vars);
    std::string out;
    try {
        r.run(body_, out);
    } catch (const error &e) {
        if (e.status() == MLXMTP_ERR_TEMPLATE || e.status() == MLXMTP_ERR_INVALID_ARG)
            fail(MLXMTP_ERR_TEMPLATE, "template error at line %d: %s", r.line(), e.what());
        throw;
    }
    return out;
}

}  // namespace mlxmtp::detail
