#include "chat/value.h"

#include "tok/utf8.h"
#include "util/error.h"

#include <json-c/json.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace mlxmtp::detail::jinja {

value value::new_dict() { value v; v.k = kind::dict; v.d = std::make_shared<dict>(); return v; }
value value::new_namespace() { value v; v.k = kind::ns; v.d = std::make_shared<dict>(); return v; }

const value *dict::find(const std::string &key) const {
    for (const auto &kv : items)
        if (kv.first == key) return &kv.second;
    return nullptr;
}
value *dict::find(const std::string &key) {
    for (auto &kv : items)
        if (kv.first == key) return &kv.second;
    return nullptr;
}
void dict::set(const std::string &key, value v) {
    if (value *p = find(key)) *p = std::move(v);
    else items.emplace_back(key, std::move(v));
}
bool dict::erase(const std::string &key) {
    for (auto it = items.begin(); it != items.end(); ++it)
        if (it->first == key) { items.erase(it); return true; }
    return false;
}

const value *call_args::get(size_t idx, const char *name) const {
    if (idx < pos.size()) return &pos[idx];
    if (name)
        for (const auto &kv : kw)
            if (kv.first == name) return &kv.second;
    return nullptr;
}

const char *kind_name(kind k) {
    switch (k) {
    case kind::undefined: return "undefined";
    case kind::none: return "NoneType";
    case kind::boolean: return "bool";
    case kind::integer: return "int";
    case kind::floating: return "float";
    case kind::string: return "str";
    case kind::list: return "list";
    case kind::dict: return "dict";
    case kind::ns: return "Namespace";
    case kind::callable: return "function";
    }
    return "?";
}

bool value::truthy() const {
    switch (k) {
    case kind::undefined: case kind::none: return false;
    case kind::boolean: return b;
    case kind::integer: return i != 0;
    case kind::floating: return f != 0;
    case kind::string: return !s->empty();
    case kind::list: return !l->empty();
    case kind::dict: return !d->items.empty();
    case kind::ns: case kind::callable: return true;
    }
    return false;
}

std::string float_repr(double d) {
    if (std::isnan(d)) return "nan";
    if (std::isinf(d)) return d < 0 ? "-inf" : "inf";
    if (d == 0) return std::signbit(d) ? "-0.0" : "0.0";
    char buf[64];
    int prec = 1;
    for (; prec <= 17; ++prec) {
        std::snprintf(buf, sizeof buf, "%.*e", prec - 1, d);
        if (std::strtod(buf, nullptr) == d) break;
    }
    // buf = [-]D[.DDD]e[+-]XX
    std::string s(buf);
    bool neg = s[0] == '-';
    if (neg) s.erase(0, 1);
    size_t epos = s.find('e');
    int exp = std::atoi(s.c_str() + epos + 1);
    std::string digits;
    for (size_t i = 0; i < epos; ++i)
        if (s[i] != '.') digits.push_back(s[i]);
    while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
    std::string out = neg ? "-" : "";
    if (exp >= -5 + 1 && exp < 16) {  // Python repr: fixed when -4 <= exp < 16
        if (exp >= 0) {
            if (digits.size() <= static_cast<size_t>(exp) + 1) {
                out += digits + std::string(static_cast<size_t>(exp) + 1 - digits.size(), '0') + ".0";
            } else {
                out += digits.substr(0, static_cast<size_t>(exp) + 1) + "." + digits.substr(static_cast<size_t>(exp) + 1);
            }
        } else {
            out += "0." + std::string(static_cast<size_t>(-exp - 1), '0') + digits;
        }
    } else {
        out += digits.substr(0, 1);
        if (digits.size() > 1) out += "." + digits.substr(1);
        char e[16];
        std::snprintf(e, sizeof e, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
        out += e;
    }
    return out;
}

static std::string str_repr(const std::string &s) {
    bool has_sq = s.find('\'') != std::string::npos, has_dq = s.find('"') != std::string::npos;
    char q = (has_sq && !has_dq) ? '"' : '\'';
    std::string out(1, q);
    for (size_t i = 0; i < s.size(); ++i) {
        unsigned char c = static_cast<unsigned char>(s[i]);
        if (c == '\\') out += "\\\\";
        else if (c == static_cast<unsigned char>(q)) { out.push_back('\\'); out.push_back(q); }
        else if (c == '\n') out += "\\n";
        else if (c == '\r') out += "\\r";
        else if (c == '\t') out += "\\t";
        else if (c < 0x20 || c == 0x7f) {
            char b[8];
            std::snprintf(b, sizeof b, "\\x%02x", c);
            out += b;
        } else out.push_back(static_cast<char>(c));
    }
    out.push_back(q);
    return out;
}

std::string to_repr(const value &v) {
    switch (v.k) {
    case kind::string: return str_repr(*v.s);
    case kind::list: {
        std::string out = "[";
        for (size_t i = 0; i < v.l->size(); ++i) {
            if (i) out += ", ";
            out += to_repr((*v.l)[i]);
        }
        return out + "]";
    }
    case kind::dict: {
        std::string out = "{";
        bool first = true;
        for (const auto &kv : v.d->items) {
            if (!first) out += ", ";
            first = false;
            out += str_repr(kv.first) + ": " + to_repr(kv.second);
        }
        return out + "}";
    }
    default: return to_str(v);
    }
}

std::string to_str(const value &v) {
    switch (v.k) {
    case kind::undefined: return "";
    case kind::none: return "None";
    case kind::boolean: return v.b ? "True" : "False";
    case kind::integer: return std::to_string(v.i);
    case kind::floating: return float_repr(v.f);
    case kind::string: return *v.s;
    case kind::list: case kind::dict: return to_repr(v);
    case kind::ns: return "<Namespace>";
    case kind::callable: return "<function " + v.fn->name + ">";
    }
    return "";
}

static void json_str(std::string &out, const std::string &s) {
    out.push_back('"');
    for (unsigned char c : s) {
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        default:
            if (c < 0x20) {
                char b[8];
                std::snprintf(b, sizeof b, "\\u%04x", c);
                out += b;
            } else {
                out.push_back(static_cast<char>(c));
            }
        }
    }
    out.push_back('"');
}

static void json_dump(std::string &out, const value &v, int indent, bool sort_keys, int depth) {
    if (depth > 512) fail(MLXMTP_ERR_TEMPLATE, "tojson: value nested too deeply");
    auto newline = [&](int d) {
        if (indent < 0) return;
        out.push_back('\n');
        out.append(static_cast<size_t>(indent) * static_cast<size_t>(d), ' ');
    };
    switch (v.k) {
    case kind::none: out += "null"; break;
    case kind::boolean: out += v.b ? "true" : "false"; break;
    case kind::integer: out += std::to_string(v.i); break;
    case kind::floating:
        if (std::isnan(v.f)) out += "NaN";
        else if (std::isinf(v.f)) out += v.f < 0 ? "-Infinity" : "Infinity";
        else out += float_repr(v.f);
        break;
    case kind::string: json_str(out, *v.s); break;
    case kind::list: {
        if (v.l->empty()) { out += "[]"; break; }
        out.push_back('[');
        for (size_t i = 0; i < v.l->size(); ++i) {
            if (i) out += indent < 0 ? ", " : ",";
            newline(depth + 1);
            json_dump(out, (*v.l)[i], indent, sort_keys, depth + 1);
        }
        newline(depth);
        out.push_back(']');
        break;
    }
    case kind::dict: {
        if (v.d->items.empty()) { out += "{}"; break; }
        std::vector<const std::pair<std::string, value> *> items;
        for (const auto &kv : v.d->items) items.push_back(&kv);
        if (sort_keys)
            std::stable_sort(items.begin(), items.end(), [](auto *a, auto *b) { return a->first < b->first; });
        out.push_back('{');
        bool first = true;
        for (auto *kv : items) {
            if (!first) out += indent < 0 ? ", " : ",";
            first = false;
            newline(depth + 1);
            json_str(out, kv->first);
            out += ": ";
            json_dump(out, kv->second, indent, sort_keys, depth + 1);
        }
        newline(depth);
        out.push_back('}');
        break;
    }
    case kind::undefined:
        fail(MLXMTP_ERR_TEMPLATE, "Object of type Undefined is not JSON serializable%s%s",
             v.undefined_name.empty() ? "" : ": ", v.undefined_name.c_str());
    default: fail(MLXMTP_ERR_TEMPLATE, "Object of type %s is not JSON serializable", kind_name(v.k));
    }
}

std::string to_json(const value &v, int indent, bool sort_keys) {
    std::string out;
    json_dump(out, v, indent, sort_keys, 0);
    return out;
}

bool equals(const value &a, const value &b) {
    if (a.is_number() && b.is_number()) {
        if (a.k != kind::floating && b.k != kind::floating)
            return (a.k == kind::boolean ? a.b : a.i) == (b.k == kind::boolean ? b.b : b.i);
        return a.as_double() == b.as_double();
    }
    if (a.k != b.k) return false;
    switch (a.k) {
    case kind::undefined: case kind::none: return true;
    case kind::string: return *a.s == *b.s;
    case kind::list:
        if (a.l->size() != b.l->size()) return false;
        for (size_t i = 0; i < a.l->size(); ++i)
            if (!equals((*a.l)[i], (*b.l)[i])) return false;
        return true;
    case kind::dict:
        if (a.d->items.size() != b.d->items.size()) return false;
        for (const auto &kv : a.d->items) {
            const value *o = b.d->find(kv.first);
            if (!o || !equals(kv.second, *o)) return false;
        }
        return true;
    case kind::ns: return a.d == b.d;
    case kind::callable: return a.fn == b.fn;
    default: return false;
    }
}

bool less(const value &a, const value &b) {
    if (a.is_number() && b.is_number()) {
        if (a.k != kind::floating && b.k != kind::floating)
            return (a.k == kind::boolean ? a.b : a.i) < (b.k == kind::boolean ? b.b : b.i);
        return a.as_double() < b.as_double();
    }
    if (a.is_string() && b.is_string()) return *a.s < *b.s;
    if (a.is_list() && b.is_list()) {
        size_t n = std::min(a.l->size(), b.l->size());
        for (size_t i = 0; i < n; ++i) {
            if (less((*a.l)[i], (*b.l)[i])) return true;
            if (less((*b.l)[i], (*a.l)[i])) return false;
        }
        return a.l->size() < b.l->size();
    }
    fail(MLXMTP_ERR_TEMPLATE, "'<' not supported between instances of '%s' and '%s'", kind_name(a.k), kind_name(b.k));
}

value from_json(json_object *o) {
    if (!o) return value::none();
    switch (json_object_get_type(o)) {
    case json_type_null: return value::none();
    case json_type_boolean: return value::boolean(json_object_get_boolean(o));
    case json_type_int: return value::integer(json_object_get_int64(o));
    case json_type_double: return value::floating(json_object_get_double(o));
    case json_type_string:
        return value::str(std::string(json_object_get_string(o), static_cast<size_t>(json_object_get_string_len(o))));
    case json_type_array: {
        value v = value::new_list();
        size_t n = json_object_array_length(o);
        v.l->reserve(n);
        for (size_t i = 0; i < n; ++i) v.l->push_back(from_json(json_object_array_get_idx(o, i)));
        return v;
    }
    case json_type_object: {
        value v = value::new_dict();
        json_object_object_foreach(o, key, val) v.d->set(key, from_json(val));
        return v;
    }
    }
    return value::none();
}

}  // namespace mlxmtp::detail::jinja
