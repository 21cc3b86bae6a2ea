// Filters, tests and item access (Jinja2 / Python semantics).
#include "chat/builtins.h"

#include "tok/utf8.h"
#include "util/error.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>

namespace mlxmtp::detail::jinja {

[[noreturn]] static void terr(const std::string &msg) { fail(MLXMTP_ERR_TEMPLATE, "%s", msg.c_str()); }

std::u32string to_u32(const std::string &s) {
    std::u32string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size();) {
        uint32_t cp;
        size_t n = utf8_decode(s, i, &cp);
        if (!n) { cp = 0xFFFD; n = 1; }
        out.push_back(static_cast<char32_t>(cp));
        i += n;
    }
    return out;
}

std::string from_u32(const std::u32string &s) {
    std::string out;
    out.reserve(s.size());
    for (char32_t c : s) utf8_append(out, static_cast<uint32_t>(c));
    return out;
}

static bool is_ascii(const std::string &s) {
    for (char c : s)
        if (static_cast<unsigned char>(c) >= 0x80) return false;
    return true;
}

bool py_isspace(char32_t c) {
    return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

std::string py_strip(const std::string &s, const value *chars, bool left, bool right) {
    std::u32string u = to_u32(s);
    std::u32string set;
    bool use_set = chars && chars->is_string();
    if (chars && !chars->is_string() && !chars->is_none() && !chars->is_undefined())
        terr("strip arg must be None or str");
    if (use_set) set = to_u32(chars->sv());
    auto strip_it = [&](char32_t c) { return use_set ? set.find(c) != std::u32string::npos : py_isspace(c); };
    size_t b = 0, e = u.size();
    if (left) while (b < e && strip_it(u[b])) ++b;
    if (right) while (e > b && strip_it(u[e - 1])) --e;
    return from_u32(u.substr(b, e - b));
}

int64_t length(const value &v) {
    switch (v.k) {
    case kind::undefined: return 0;
    case kind::string: return is_ascii(v.sv()) ? static_cast<int64_t>(v.sv().size()) : static_cast<int64_t>(to_u32(v.sv()).size());
    case kind::list: return static_cast<int64_t>(v.l->size());
    case kind::dict: return static_cast<int64_t>(v.d->items.size());
    default: terr(std::string("object of type '") + kind_name(v.k) + "' has no len()");
    }
}

list iterate(const value &v) {
    switch (v.k) {
    case kind::undefined: case kind::none: return {};
    case kind::list: return *v.l;
    case kind::dict: {
        list out;
        for (const auto &kv : v.d->items) out.push_back(value::str(kv.first));
        return out;
    }
    case kind::string: {
        list out;
        for (char32_t c : to_u32(v.sv())) {
            std::string s;
            utf8_append(s, static_cast<uint32_t>(c));
            out.push_back(value::str(s));
        }
        return out;
    }
    default: terr(std::string("'") + kind_name(v.k) + "' object is not iterable");
    }
}

bool contains(const value &h, const value &n) {
    switch (h.k) {
    case kind::string:
        if (!n.is_string()) terr("'in <string>' requires string as left operand");
        return h.sv().find(n.sv()) != std::string::npos;
    case kind::list:
        for (const value &x : *h.l)
            if (equals(x, n)) return true;
        return false;
    case kind::dict: return n.is_string() && h.d->find(n.sv()) != nullptr;
    case kind::undefined: return false;
    default: terr(std::string("argument of type '") + kind_name(h.k) + "' is not iterable");
    }
}

static int64_t norm_index(int64_t i, int64_t n) { return i < 0 ? i + n : i; }

value get_item(const value &obj, const value &key) {
    switch (obj.k) {
    case kind::dict: case kind::ns: {
        if (!key.is_string()) return value::undef(to_str(key));
        const value *v = obj.d->find(key.sv());
        if (v) return *v;
        if (obj.k == kind::dict) return value::undef(key.sv());
        return value::undef(key.sv());
    }
    case kind::list: {
        if (key.k != kind::integer) {
            if (key.is_string()) return get_attr(obj, key.sv());
            terr("list indices must be integers");
        }
        int64_t n = static_cast<int64_t>(obj.l->size()), i = norm_index(key.i, n);
        if (i < 0 || i >= n) return value::undef("list index out of range");
        return (*obj.l)[static_cast<size_t>(i)];
    }
    case kind::string: {
        if (key.k != kind::integer) {
            if (key.is_string()) return get_attr(obj, key.sv());
            terr("string indices must be integers");
        }
        std::u32string u = to_u32(obj.sv());
        int64_t n = static_cast<int64_t>(u.size()), i = norm_index(key.i, n);
        if (i < 0 || i >= n) return value::undef("string index out of range");
        std::string s;
        utf8_append(s, static_cast<uint32_t>(u[static_cast<size_t>(i)]));
        return value::str(s);
    }
    default:
        if (key.is_string()) return get_attr(obj, key.sv());
        return value::undef();
    }
}

template <class Seq>
static Seq slice_seq(const Seq &s, const value &start, const value &stop, const value &step) {
    auto opt = [](const value &v, bool &has) -> int64_t {
        has = !(v.is_none() || v.is_undefined());
        if (!has) return 0;
        if (v.k != kind::integer && v.k != kind::boolean) terr("slice indices must be integers or None");
        return v.k == kind::boolean ? v.b : v.i;
    };
    int64_t n = static_cast<int64_t>(s.size());
    bool hs, he, hp;
    int64_t st = opt(step, hp);
    if (!hp) st = 1;
    if (st == 0) terr("slice step cannot be zero");
    int64_t b = opt(start, hs), e = opt(stop, he);
    if (st > 0) {
        b = hs ? (b < 0 ? std::max<int64_t>(0, b + n) : std::min(b, n)) : 0;
        e = he ? (e < 0 ? std::max<int64_t>(0, e + n) : std::min(e, n)) : n;
    } else {
        b = hs ? (b < 0 ? std::max<int64_t>(-1, b + n) : std::min(b, n - 1)) : n - 1;
        e = he ? (e < 0 ? std::max<int64_t>(-1, e + n) : std::min(e, n - 1)) : -1;
    }
    Seq out;
    for (int64_t i = b; st > 0 ? i < e : i > e; i += st) out.push_back(s[static_cast<size_t>(i)]);
    return out;
}

value get_slice(const value &obj, const value &start, const value &stop, const value &step) {
    if (obj.is_list()) return value::new_list(slice_seq(*obj.l, start, stop, step));
    if (obj.is_string()) return value::str(from_u32(slice_seq(to_u32(obj.sv()), start, stop, step)));
    if (obj.is_undefined()) return value::undef();
    terr(std::string("'") + kind_name(obj.k) + "' object is not subscriptable");
}

// ---- tests ---------------------------------------------------------------------

bool apply_test(const std::string &name, const value &v, const call_args &a, const builtin_env &) {
    auto arg = [&](size_t i) -> const value & {
        static const value undef;
        return i < a.pos.size() ? a.pos[i] : (a.kw.size() > i ? a.kw[i].second : undef);
    };
    if (name == "defined") return !v.is_undefined();
    if (name == "undefined") return v.is_undefined();
    if (name == "none") return v.is_none();
    if (name == "string") return v.is_string();
    if (name == "mapping") return v.is_dict();
    if (name == "iterable") return v.is_list() || v.is_dict() || v.is_string() || v.is_undefined();
    if (name == "sequence") return v.is_list() || v.is_dict() || v.is_string() || v.is_undefined();
    if (name == "number") return v.is_number();
    if (name == "integer") return v.k == kind::integer;
    if (name == "float") return v.k == kind::floating;
    if (name == "boolean") return v.k == kind::boolean;
    if (name == "true") return v.k == kind::boolean && v.b;
    if (name == "false") return v.k == kind::boolean && !v.b;
    if (name == "callable") return v.k == kind::callable;
    if (name == "odd" || name == "even") {
        if (v.k != kind::integer) terr("odd/even test needs an integer");
        return (((v.i % 2) + 2) % 2 == 1) == (name == "odd");
    }
    if (name == "divisibleby") {
        const value &d = arg(0);
        if (v.k != kind::integer || d.k != kind::integer || d.i == 0) terr("divisibleby needs non-zero integers");
        return v.i % d.i == 0;
    }
    if (name == "eq" || name == "equalto" || name == "==") return equals(v, arg(0));
    if (name == "ne" || name == "!=") return !equals(v, arg(0));
    if (name == "lt" || name == "lessthan" || name == "<") return less(v, arg(0));
    if (name == "le" || name == "<=") return !less(arg(0), v);
    if (name == "gt" || name == "greaterthan" || name == ">") return less(arg(0), v);
    if (name == "ge" || name == ">=") return !less(v, arg(0));
    if (name == "in") return contains(arg(0), v);
    if (name == "sameas") {
        const value &o = arg(0);
        if (v.k != o.k) return false;
        switch (v.k) {
        case kind::none: case kind::undefined: return true;
        case kind::boolean: return v.b == o.b;
        case kind::integer: return v.i == o.i;
        case kind::list: return v.l == o.l;
        case kind::dict: case kind::ns: return v.d == o.d;
        case kind::string: return v.s == o.s || *v.s == *o.s;
        default: return false;
        }
    }
    if (name == "lower" || name == "upper") {
        if (!v.is_string()) return false;
        bool any = false;
        for (char c : v.sv()) {
            if (std::isalpha(static_cast<unsigned char>(c))) {
                any = true;
                if (name == "lower" ? std::isupper(static_cast<unsigned char>(c)) : std::islower(static_cast<unsigned char>(c)))
                    return false;
            }
        }
        return any;
    }
    if (name == "escaped") return false;
    terr("no test named '" + name + "'");
}

// ---- filters -------------------------------------------------------------------

static std::string lower_ascii(std::string s) {
    for (char &c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}
static std::string upper_ascii(std::string s) {
    for (char &c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s;
}
static std::string title_ascii(const std::string &s) {
    std::string out = s;
    bool start = true;
    for (char &c : out) {
        unsigned char u = static_cast<unsigned char>(c);
        if (std::isalpha(u)) {
            c = static_cast<char>(start ? std::toupper(u) : std::tolower(u));
            start = false;
        } else {
            start = !(u >= 0x80 || std::isdigit(u) || c == '\'');
            if (u >= 0x80) start = false;
        }
    }
    return out;
}

static value attr_path(const value &v, const std::string &path) {
    value cur = v;
    size_t b = 0;
    while (b <= path.size()) {
        size_t e = path.find('.', b);
        if (e == std::string::npos) e = path.size();
        std::string part = path.substr(b, e - b);
        char *end = nullptr;
        long idx = std::strtol(part.c_str(), &end, 10);
        if (!part.empty() && end && !*end && cur.is_list()) cur = get_item(cur, value::integer(idx));
        else cur = get_item(cur, value::str(part));
        b = e + 1;
    }
    return cur;
}

static list sorted(list items, bool reverse, bool case_sensitive, const std::string &attribute) {
    auto key = [&](const value &v) {
        value k = attribute.empty() ? v : attr_path(v, attribute);
        if (!case_sensitive && k.is_string()) return value::str(lower_ascii(k.sv()));
        return k;
    };
    std::stable_sort(items.begin(), items.end(), [&](const value &x, const value &y) {
        return reverse ? less(key(y), key(x)) : less(key(x), key(y));
    });
    return items;
}

value apply_filter(const std::string &name, const value &v, const call_args &a, const builtin_env &env) {
    auto arg = [&](size_t i, const char *kw) -> const value * { return a.get(i, kw); };
    auto truthy_arg = [&](size_t i, const char *kw, bool def) {
        const value *x = arg(i, kw);
        return x ? x->truthy() : def;
    };
    auto need_str = [&](const char *f) -> std::string {
        if (v.is_undefined()) return "";
        if (!v.is_string()) return to_str(v);
        (void)f;
        return v.sv();
    };
    if (name == "safe" || name == "e" || name == "escape" || name == "forceescape") {
        if (name == "safe") return v;
        std::string s = to_str(v), out;
        for (char c : s) {
            switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&#34;"; break;
            case '\'': out += "&#39;"; break;
            default: out.push_back(c);
            }
        }
        return value::str(out);
    }
    if (name == "tojson") {
        const value *ind = arg(0, "indent");
        int indent = ind && ind->k == kind::integer ? static_cast<int>(ind->i) : -1;
        const value *sk = a.get(99, "sort_keys");
        return value::str(to_json(v, indent, sk && sk->truthy()));
    }
    if (name == "string") return v.is_string() ? v : value::str(to_str(v));
    if (name == "trim") return value::str(py_strip(need_str("trim"), arg(0, "chars"), true, true));
    if (name == "length" || name == "count") return value::integer(length(v));
    if (name == "lower") return value::str(lower_ascii(need_str("lower")));
    if (name == "upper") return value::str(upper_ascii(need_str("upper")));
    if (name == "capitalize") {
        std::string s = lower_ascii(need_str("capitalize"));
        if (!s.empty()) s[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(s[0])));
        return value::str(s);
    }
    if (name == "title") return value::str(title_ascii(need_str("title")));
    if (name == "items") {
        if (v.is_undefined()) return value::new_list();
        if (!v.is_dict()) terr("Can only get item pairs from a mapping.");
        value out = value::new_list();
        for (const auto &kv : v.d->items) out.l->push_back(value::new_list({value::str(kv.first), kv.second}));
        return out;
    }
    if (name == "list") return value::new_list(iterate(v));
    if (name == "first") {
        list l = iterate(v);
        return l.empty() ? value::undef("first") : l.front();
    }
    if (name == "last") {
        list l = iterate(v);
        return l.empty() ? value::undef("last") : l.back();
    }
    if (name == "reverse") {
        if (v.is_string()) {
            std::u32string u = to_u32(v.sv());
            std::reverse(u.begin(), u.end());
            return value::str(from_u32(u));
        }
        list l = iterate(v);
        std::reverse(l.begin(), l.end());
        return value::new_list(l);
    }
    if (name == "join") {
        const value *sep = arg(0, "d");
        const value *attr = arg(1, "attribute");
        std::string s, d = sep ? to_str(*sep) : "";
        bool first = true;
        for (const value &x : iterate(v)) {
            if (!first) s += d;
            first = false;
            s += to_str(attr && attr->is_string() ? attr_path(x, attr->sv()) : x);
        }
        return value::str(s);
    }
    if (name == "default" || name == "d") {
        const value *def = arg(0, "default_value");
        bool boolean = truthy_arg(1, "boolean", false);
        if (v.is_undefined() || (boolean && !v.truthy())) return def ? *def : value::str("");
        return v;
    }
    if (name == "replace") {
        std::string s = need_str("replace");
        const value *o = arg(0, "old"), *n = arg(1, "new"), *c = arg(2, "count");
        if (!o || !n) terr("replace needs old and new");
        std::string old = to_str(*o), nw = to_str(*n), out;
        int64_t count = c && c->k == kind::integer ? c->i : -1;
        if (old.empty()) {
            // Python inserts `new` between characters.
            std::u32string u = to_u32(s);
            int64_t done = 0;
            for (size_t i = 0; i <= u.size(); ++i) {
                if (count < 0 || done < count) { out += nw; ++done; }
                if (i < u.size()) utf8_append(out, static_cast<uint32_t>(u[i]));
            }
            return value::str(out);
        }
        size_t p = 0;
        int64_t done = 0;
        while (true) {
            size_t q = s.find(old, p);
            if (q == std::string::npos || (count >= 0 && done >= count)) break;
            out.append(s, p, q - p);
            out += nw;
            p = q + old.size();
            ++done;
        }
        out.append(s, p, std::string::npos);
        return value::str(out);
    }
    if (name == "int") {
        const value *def = arg(0, "default");
        if (v.k == kind::integer) return v;
        if (v.k == kind::boolean) return value::integer(v.b);
        if (v.k == kind::floating) return value::integer(static_cast<int64_t>(v.f));
        if (v.is_string()) {
            std::string s = py_strip(v.sv(), nullptr, true, true);
            char *end = nullptr;
            long long x = std::strtoll(s.c_str(), &end, 10);
            if (!s.empty() && end && !*end) return value::integer(x);
            double d = std::strtod(s.c_str(), &end);
            if (!s.empty() && end && !*end) return value::integer(static_cast<int64_t>(d));
        }
        return def ? *def : value::integer(0);
    }
    if (name == "float") {
        const value *def = arg(0, "default");
        if (v.is_number()) return value::floating(v.as_double());
        if (v.is_string()) {
            std::string s = py_strip(v.sv(), nullptr, true, true);
            char *end = nullptr;
            double d = std::strtod(s.c_str(), &end);
            if (!s.empty() && end && !*end) return value::floating(d);
        }
        return def ? *def : value::floating(0.0);
    }
    if (name == "abs") {
        if (v.k == kind::integer) return value::integer(v.i < 0 ? -v.i : v.i);
        if (v.is_number()) return value::floating(std::fabs(v.as_double()));
        terr("bad operand type for abs()");
    }
    if (name == "round") {
        const value *p = arg(0, "precision"), *m = arg(1, "method");
        int prec = p && p->k == kind::integer ? static_cast<int>(p->i) : 0;
        std::string method = m && m->is_string() ? m->sv() : "common";
        if (!v.is_number()) terr("round needs a number");
        double x = v.as_double(), f = std::pow(10.0, prec);
        double r = method == "ceil" ? std::ceil(x * f) / f : method == "floor" ? std::floor(x * f) / f : std::round(x * f) / f;
        return value::floating(r);
    }
    if (name == "unique") {
        value out = value::new_list();
        for (const value &x : iterate(v)) {
            bool seen = false;
            for (const value &y : *out.l) seen |= equals(x, y);
            if (!seen) out.l->push_back(x);
        }
        return out;
    }
    if (name == "sort") {
        const value *attr = arg(2, "attribute");
        return value::new_list(sorted(iterate(v), truthy_arg(0, "reverse", false), truthy_arg(1, "case_sensitive", false),
                                      attr && attr->is_string() ? attr->sv() : ""));
    }
    if (name == "dictsort") {
        if (!v.is_dict()) terr("dictsort needs a mapping");
        list pairs;
        for (const auto &kv : v.d->items) pairs.push_back(value::new_list({value::str(kv.first), kv.second}));
        const value *by = arg(1, "by");
        bool by_value = by && by->is_string() && by->sv() == "value";
        return value::new_list(sorted(pairs, truthy_arg(2, "reverse", false), truthy_arg(0, "case_sensitive", false),
                                      by_value ? "1" : "0"));
    }
    if (name == "min" || name == "max") {
        list l = iterate(v);
        if (l.empty()) return value::undef(name);
        const value *attr = arg(1, "attribute");
        list s = sorted(l, false, truthy_arg(0, "case_sensitive", false), attr && attr->is_string() ? attr->sv() : "");
        return name == "min" ? s.front() : s.back();
    }
    if (name == "sum") {
        const value *attr = arg(0, "attribute"), *start = arg(1, "start");
        value acc = start ? *start : value::integer(0);
        for (const value &x0 : iterate(v)) {
            value x = attr && attr->is_string() ? attr_path(x0, attr->sv()) : x0;
            if (!x.is_number() || !acc.is_number()) terr("sum needs numbers");
            if (acc.k != kind::floating && x.k != kind::floating)
                acc = value::integer((acc.k == kind::boolean ? acc.b : acc.i) + (x.k == kind::boolean ? x.b : x.i));
            else
                acc = value::floating(acc.as_double() + x.as_double());
        }
        return acc;
    }
    if (name == "map") {
        value out = value::new_list();
        const value *attr = a.get(99, "attribute");
        if (attr && attr->is_string()) {
            const value *def = a.get(99, "default");
            for (const value &x : iterate(v)) {
                value y = attr_path(x, attr->sv());
                out.l->push_back(y.is_undefined() && def ? *def : y);
            }
            return out;
        }
        if (a.pos.empty() || !a.pos[0].is_string()) terr("map needs a filter name or attribute=");
        call_args rest;
        rest.pos.assign(a.pos.begin() + 1, a.pos.end());
        rest.kw = a.kw;
        for (const value &x : iterate(v)) out.l->push_back(env.filter(a.pos[0].sv(), x, rest));
        return out;
    }
    if (name == "select" || name == "reject" || name == "selectattr" || name == "rejectattr") {
        bool attr_form = name == "selectattr" || name == "rejectattr";
        bool want = name == "select" || name == "selectattr";
        size_t ti = attr_form ? 1 : 0;
        std::string attr;
        if (attr_form) {
            if (a.pos.empty() || !a.pos[0].is_string()) terr(name + " needs an attribute name");
            attr = a.pos[0].sv();
        }
        std::string test = a.pos.size() > ti && a.pos[ti].is_string() ? a.pos[ti].sv() : "";
        call_args rest;
        if (a.pos.size() > ti + 1) rest.pos.assign(a.pos.begin() + static_cast<long>(ti) + 1, a.pos.end());
        value out = value::new_list();
        for (const value &x : iterate(v)) {
            value subject = attr_form ? attr_path(x, attr) : x;
            bool r = test.empty() ? subject.truthy() : env.test(test, subject, rest);
            if (r == want) out.l->push_back(x);
        }
        return out;
    }
    if (name == "indent") {
        const value *w = arg(0, "width");
        std::string pad = w && w->is_string() ? w->sv() : std::string(w && w->k == kind::integer ? static_cast<size_t>(std::max<int64_t>(0, w->i)) : 4, ' ');
        bool first = truthy_arg(1, "first", false), blank = truthy_arg(2, "blank", false);
        std::string s = to_str(v), out;
        size_t b = 0;
        bool is_first = true;
        while (b <= s.size()) {
            size_t e = s.find('\n', b);
            bool last = e == std::string::npos;
            if (last) e = s.size();
            std::string ln = s.substr(b, e - b);
            bool empty = py_strip(ln, nullptr, true, true).empty();
            if ((is_first ? first : true) && (blank || !empty)) out += pad;
            out += ln;
            if (!last) out += "\n";
            is_first = false;
            if (last) break;
            b = e + 1;
        }
        return value::str(out);
    }
    if (name == "wordcount") {
        std::string s = to_str(v);
        int64_t n = 0;
        bool in = false;
        for (char c : s) {
            bool w = std::isalnum(static_cast<unsigned char>(c)) || c == '_' || static_cast<unsigned char>(c) >= 0x80;
            if (w && !in) ++n;
            in = w;
        }
        return value::integer(n);
    }
    if (name == "attr") {
        const value *n = arg(0, "name");
        if (!n || !n->is_string()) terr("attr needs a name");
        return get_attr(v, n->sv());
    }
    if (name == "batch") {
        const value *n = arg(0, "linecount");
        if (!n || n->k != kind::integer || n->i <= 0) terr("batch needs a positive count");
        value out = value::new_list();
        for (const value &x : iterate(v)) {
            if (out.l->empty() || static_cast<int64_t>(out.l->back().l->size()) >= n->i) out.l->push_back(value::new_list());
            out.l->back().l->push_back(x);
        }
        return out;
    }
    if (name == "center") {
        const value *w = arg(0, "width");
        std::string s = to_str(v);
        int64_t width = w && w->k == kind::integer ? w->i : 80, len = length(value::str(s));
        if (width <= len) return value::str(s);
        int64_t left = (width - len) / 2;
        return value::str(std::string(static_cast<size_t>(left), ' ') + s + std::string(static_cast<size_t>(width - len - left), ' '));
    }
    terr("no filter named '" + name + "'");
}

}  // namespace mlxmtp::detail::jinja
