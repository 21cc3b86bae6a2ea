// Values of the Jinja-subset template engine, with Python semantics where the
// reference (Jinja2 in transformers) shows them: truthiness, str()/repr(),
// equality, ordering, and json.dumps for `tojson`.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

struct json_object;

namespace mlxmtp::detail::jinja {

struct value;
struct dict;
struct callable;
using list = std::vector<value>;

enum class kind : uint8_t { undefined, none, boolean, integer, floating, string, list, dict, ns, callable };

struct value {
    kind k = kind::undefined;
    bool b = false;
    int64_t i = 0;
    double f = 0;
    std::shared_ptr<const std::string> s;  // string (immutable, shared)
    std::shared_ptr<list> l;               // list (mutable, shared like Python)
    std::shared_ptr<dict> d;               // dict or namespace
    std::shared_ptr<callable> fn;
    std::string undefined_name;            // for error messages

    value() = default;
    static value undef(std::string name = "") { value v; v.undefined_name = std::move(name); return v; }
    static value none() { value v; v.k = kind::none; return v; }
    static value boolean(bool x) { value v; v.k = kind::boolean; v.b = x; return v; }
    static value integer(int64_t x) { value v; v.k = kind::integer; v.i = x; return v; }
    static value floating(double x) { value v; v.k = kind::floating; v.f = x; return v; }
    static value str(std::string x) { value v; v.k = kind::string; v.s = std::make_shared<const std::string>(std::move(x)); return v; }
    static value new_list(list x = {}) { value v; v.k = kind::list; v.l = std::make_shared<list>(std::move(x)); return v; }
    static value new_dict();
    static value new_namespace();
    static value function(std::shared_ptr<callable> f) { value v; v.k = kind::callable; v.fn = std::move(f); return v; }

    bool is_undefined() const { return k == kind::undefined; }
    bool is_none() const { return k == kind::none; }
    bool is_string() const { return k == kind::string; }
    bool is_number() const { return k == kind::integer || k == kind::floating || k == kind::boolean; }
    bool is_list() const { return k == kind::list; }
    bool is_dict() const { return k == kind::dict; }
    const std::string &sv() const { return *s; }
    double as_double() const { return k == kind::floating ? f : k == kind::boolean ? (b ? 1 : 0) : static_cast<double>(i); }

    bool truthy() const;
};

struct dict {
    std::vector<std::pair<std::string, value>> items;
    const value *find(const std::string &key) const;
    value *find(const std::string &key);
    void set(const std::string &key, value v);
    bool erase(const std::string &key);
};

// Arguments of a call: positional then keyword.
struct call_args {
    std::vector<value> pos;
    std::vector<std::pair<std::string, value>> kw;
    // Positional i or keyword `name`, else undefined.
    const value *get(size_t i, const char *name) const;
};

struct callable {
    std::string name;
    std::function<value(const call_args &)> fn;
};

// Python str(): strings verbatim, None -> "None", True -> "True", lists and
// dicts as their repr, floats in shortest repr.
std::string to_str(const value &v);
// Python repr().
std::string to_repr(const value &v);
// Python float repr ("1.0", "1e-05", "inf").
std::string float_repr(double d);
// json.dumps(v, ensure_ascii=False, indent=indent) (indent < 0: none);
// throws on values JSON cannot hold.
std::string to_json(const value &v, int indent = -1, bool sort_keys = false);
// Python ==.
bool equals(const value &a, const value &b);
// Python <; throws a template error for unorderable operands.
bool less(const value &a, const value &b);

// JSON (json-c) -> value, keeping key order and int/float distinction.
value from_json(json_object *o);

const char *kind_name(kind k);

}  // namespace mlxmtp::detail::jinja
