// Attribute access and Python methods of strings, lists and dicts.
#include "chat/builtins.h"

#include "tok/utf8.h"
#include "util/error.h"

#include <algorithm>
#include <cctype>

namespace mlxmtp::detail::jinja {

[[noreturn]] static void merr(const std::string &msg) { fail(MLXMTP_ERR_TEMPLATE, "%s", msg.c_str()); }

static value method(const std::string &name, std::function<value(const call_args &)> fn) {
    auto c = std::make_shared<callable>();
    c->name = name;
    c->fn = std::move(fn);
    return value::function(c);
}

static const std::string &str_arg(const call_args &a, size_t i, const char *kw, const char *m) {
    const value *v = a.get(i, kw);
    if (!v || !v->is_string()) merr(std::string(m) + "() argument must be str");
    return v->sv();
}

static std::vector<std::string> py_split(const std::string &s, const value *sep, int64_t maxsplit, bool right) {
    std::vector<std::string> out;
    if (!sep || sep->is_none() || sep->is_undefined()) {
        // Whitespace split: runs of whitespace, no empty strings.
        std::u32string u = to_u32(s);
        std::vector<std::pair<size_t, size_t>> words;
        size_t i = 0;
        while (i < u.size()) {
            while (i < u.size() && py_isspace(u[i])) ++i;
            if (i >= u.size()) break;
            size_t b = i;
            while (i < u.size() && !py_isspace(u[i])) ++i;
            words.emplace_back(b, i);
        }
        if (maxsplit >= 0 && static_cast<int64_t>(words.size()) > maxsplit + 1) {
            if (!right) {
                size_t keep = static_cast<size_t>(maxsplit);
                for (size_t k = 0; k < keep; ++k) out.push_back(from_u32(u.substr(words[k].first, words[k].second - words[k].first)));
                std::u32string rest = u.substr(words[keep].first);
                size_t e = rest.size();
                while (e > 0 && py_isspace(rest[e - 1])) --e;
                out.push_back(from_u32(rest.substr(0, e)));
            } else {
                size_t skip = words.size() - static_cast<size_t>(maxsplit);
                std::u32string head = u.substr(0, words[skip - 1].second);
                size_t b = 0;
                while (b < head.size() && py_isspace(head[b])) ++b;
                out.push_back(from_u32(head.substr(b)));
                for (size_t k = skip; k < words.size(); ++k)
                    out.push_back(from_u32(u.substr(words[k].first, words[k].second - words[k].first)));
            }
            return out;
        }
        for (auto [b, e] : words) out.push_back(from_u32(u.substr(b, e - b)));
        return out;
    }
    if (!sep->is_string()) merr("must be str or None");
    const std::string &d = sep->sv();
    if (d.empty()) merr("empty separator");
    if (!right) {
        size_t p = 0;
        int64_t n = 0;
        while (true) {
            size_t q = (maxsplit >= 0 && n >= maxsplit) ? std::string::npos : s.find(d, p);
            if (q == std::string::npos) { out.push_back(s.substr(p)); break; }
            out.push_back(s.substr(p, q - p));
            p = q + d.size();
            ++n;
        }
    } else {
        size_t end = s.size();
        int64_t n = 0;
        std::vector<std::string> rev;
        while (true) {
            size_t q = (maxsplit >= 0 && n >= maxsplit) || end < d.size() ? std::string::npos : s.rfind(d, end - d.size());
            if (q == std::string::npos) { rev.push_back(s.substr(0, end)); break; }
            rev.push_back(s.substr(q + d.size(), end - q - d.size()));
            end = q;
            ++n;
        }
        out.assign(rev.rbegin(), rev.rend());
    }
    return out;
}

static bool affix_match(const std::string &s, const value &arg, bool prefix) {
    auto one = [&](const std::string &a) {
        if (a.size() > s.size()) return false;
        return prefix ? s.compare(0, a.size(), a) == 0 : s.compare(s.size() - a.size(), a.size(), a) == 0;
    };
    if (arg.is_string()) return one(arg.sv());
    if (arg.is_list()) {
        for (const value &x : *arg.l) {
            if (!x.is_string()) merr("tuple for startswith/endswith must only contain str");
            if (one(x.sv())) return true;
        }
        return false;
    }
    merr("startswith/endswith first arg must be str or a tuple of str");
}

static value string_method(const value &self, const std::string &name) {
    std::shared_ptr<const std::string> s = self.s;
    if (name == "startswith" || name == "endswith") {
        bool prefix = name == "startswith";
        return method(name, [s, prefix](const call_args &a) {
            if (a.pos.empty()) merr("startswith/endswith takes at least 1 argument");
            return value::boolean(affix_match(*s, a.pos[0], prefix));
        });
    }
    if (name == "strip" || name == "lstrip" || name == "rstrip") {
        bool l = name != "rstrip", r = name != "lstrip";
        return method(name, [s, l, r](const call_args &a) { return value::str(py_strip(*s, a.get(0, "chars"), l, r)); });
    }
    if (name == "split" || name == "rsplit") {
        bool right = name == "rsplit";
        return method(name, [s, right](const call_args &a) {
            const value *m = a.get(1, "maxsplit");
            std::vector<std::string> parts = py_split(*s, a.get(0, "sep"), m && m->k == kind::integer ? m->i : -1, right);
            value out = value::new_list();
            for (auto &p : parts) out.l->push_back(value::str(p));
            return out;
        });
    }
    if (name == "splitlines") {
        return method(name, [s](const call_args &a) {
            const value *keep = a.get(0, "keepends");
            value out = value::new_list();
            size_t b = 0;
            const std::string &t = *s;
            while (b < t.size()) {
                size_t e = t.find_first_of("\r\n", b);
                if (e == std::string::npos) { out.l->push_back(value::str(t.substr(b))); break; }
                size_t nl = (t[e] == '\r' && e + 1 < t.size() && t[e + 1] == '\n') ? 2 : 1;
                out.l->push_back(value::str(t.substr(b, keep && keep->truthy() ? e - b + nl : e - b)));
                b = e + nl;
            }
            return out;
        });
    }
    if (name == "replace") {
        return method(name, [s](const call_args &a) {
            std::string old = str_arg(a, 0, "old", "replace"), nw = str_arg(a, 1, "new", "replace");
            const value *c = a.get(2, "count");
            int64_t count = c && c->k == kind::integer ? c->i : -1;
            if (old.empty()) merr("replace() with an empty pattern is not supported");
            std::string out;
            size_t p = 0;
            int64_t done = 0;
            while (true) {
                size_t q = s->find(old, p);
                if (q == std::string::npos || (count >= 0 && done >= count)) break;
                out.append(*s, p, q - p);
                out += nw;
                p = q + old.size();
                ++done;
            }
            out.append(*s, p, std::string::npos);
            return value::str(out);
        });
    }
    if (name == "lower" || name == "upper" || name == "title" || name == "capitalize" || name == "swapcase") {
        return method(name, [s, name](const call_args &) {
            std::string out = *s;
            if (name == "lower") for (char &c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            else if (name == "upper") for (char &c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
            else if (name == "swapcase")
                for (char &c : out) {
                    unsigned char u = static_cast<unsigned char>(c);
                    c = static_cast<char>(std::isupper(u) ? std::tolower(u) : std::toupper(u));
                }
            else if (name == "capitalize") {
                for (char &c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
                if (!out.empty()) out[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(out[0])));
            } else {
                bool start = true;
                for (char &c : out) {
                    unsigned char u = static_cast<unsigned char>(c);
                    if (std::isalpha(u)) { c = static_cast<char>(start ? std::toupper(u) : std::tolower(u)); start = false; }
                    else start = u < 0x80;
                }
            }
            return value::str(out);
        });
    }
    if (name == "find" || name == "rfind" || name == "index" || name == "rindex" || name == "count") {
        return method(name, [s, name](const call_args &a) {
            const std::string &sub = str_arg(a, 0, "sub", name.c_str());
            if (name == "count") {
                if (sub.empty()) return value::integer(length(value::str(*s)) + 1);
                int64_t n = 0;
                for (size_t p = s->find(sub); p != std::string::npos; p = s->find(sub, p + sub.size())) ++n;
                return value::integer(n);
            }
            size_t p = (name == "find" || name == "index") ? s->find(sub) : s->rfind(sub);
            if (p == std::string::npos) {
                if (name == "index" || name == "rindex") merr("substring not found");
                return value::integer(-1);
            }
            // Byte offset -> code point offset.
            return value::integer(static_cast<int64_t>(to_u32(s->substr(0, p)).size()));
        });
    }
    if (name == "join") {
        return method(name, [s](const call_args &a) {
            if (a.pos.empty()) merr("join() takes exactly one argument");
            std::string out;
            bool first = true;
            for (const value &x : iterate(a.pos[0])) {
                if (!x.is_string()) merr("sequence item: expected str instance");
                if (!first) out += *s;
                first = false;
                out += x.sv();
            }
            return value::str(out);
        });
    }
    if (name == "isdigit" || name == "isalpha" || name == "isalnum" || name == "isspace" || name == "isupper" ||
        name == "islower" || name == "isnumeric" || name == "isdecimal") {
        return method(name, [s, name](const call_args &) {
            if (s->empty()) return value::boolean(false);
            std::u32string u = to_u32(*s);
            bool cased = false;
            for (char32_t c : u) {
                bool ascii = c < 0x80;
                unsigned char b = ascii ? static_cast<unsigned char>(c) : 0;
                if (name == "isspace") { if (!py_isspace(c)) return value::boolean(false); continue; }
                if (name == "isdigit" || name == "isnumeric" || name == "isdecimal") { if (!ascii || !std::isdigit(b)) return value::boolean(false); continue; }
                if (name == "isalpha") { if (ascii && !std::isalpha(b)) return value::boolean(false); continue; }
                if (name == "isalnum") { if (ascii && !std::isalnum(b)) return value::boolean(false); continue; }
                if (ascii && std::isalpha(b)) {
                    cased = true;
                    if (name == "isupper" && std::islower(b)) return value::boolean(false);
                    if (name == "islower" && std::isupper(b)) return value::boolean(false);
                }
            }
            if (name == "isupper" || name == "islower") return value::boolean(cased);
            return value::boolean(true);
        });
    }
    if (name == "format") {
        return method(name, [s](const call_args &a) {
            std::string out;
            size_t auto_idx = 0;
            const std::string &t = *s;
            for (size_t i = 0; i < t.size(); ++i) {
                if (t[i] == '{' && i + 1 < t.size() && t[i + 1] == '{') { out.push_back('{'); ++i; continue; }
                if (t[i] == '}' && i + 1 < t.size() && t[i + 1] == '}') { out.push_back('}'); ++i; continue; }
                if (t[i] == '{') {
                    size_t e = t.find('}', i);
                    if (e == std::string::npos) merr("Single '{' encountered in format string");
                    std::string field = t.substr(i + 1, e - i - 1);
                    const value *v = nullptr;
                    if (field.empty()) v = a.get(auto_idx++, nullptr);
                    else if (std::isdigit(static_cast<unsigned char>(field[0]))) v = a.get(static_cast<size_t>(std::atoi(field.c_str())), nullptr);
                    else v = a.get(9999, field.c_str());
                    if (!v) merr("format: missing argument '" + field + "'");
                    out += to_str(*v);
                    i = e;
                    continue;
                }
                out.push_back(t[i]);
            }
            return value::str(out);
        });
    }
    return value::undef(name);
}

static value list_method(const value &self, const std::string &name) {
    std::shared_ptr<list> l = self.l;
    if (name == "append") return method(name, [l](const call_args &a) {
        if (a.pos.size() != 1) merr("append() takes exactly one argument");
        if (l->size() > 10000000) merr("list too long");
        l->push_back(a.pos[0]);
        return value::none();
    });
    if (name == "extend") return method(name, [l](const call_args &a) {
        if (a.pos.size() != 1) merr("extend() takes exactly one argument");
        for (const value &x : iterate(a.pos[0])) l->push_back(x);
        return value::none();
    });
    if (name == "pop") return method(name, [l](const call_args &a) {
        if (l->empty()) merr("pop from empty list");
        int64_t n = static_cast<int64_t>(l->size());
        int64_t i = a.pos.empty() ? n - 1 : (a.pos[0].k == kind::integer ? a.pos[0].i : 0);
        if (i < 0) i += n;
        if (i < 0 || i >= n) merr("pop index out of range");
        value v = (*l)[static_cast<size_t>(i)];
        l->erase(l->begin() + i);
        return v;
    });
    if (name == "insert") return method(name, [l](const call_args &a) {
        if (a.pos.size() != 2 || a.pos[0].k != kind::integer) merr("insert(index, object)");
        int64_t n = static_cast<int64_t>(l->size()), i = a.pos[0].i;
        if (i < 0) i = std::max<int64_t>(0, i + n);
        if (i > n) i = n;
        l->insert(l->begin() + i, a.pos[1]);
        return value::none();
    });
    if (name == "index" || name == "count") return method(name, [l, name](const call_args &a) {
        if (a.pos.empty()) merr(name + "() takes exactly one argument");
        int64_t n = 0;
        for (size_t i = 0; i < l->size(); ++i)
            if (equals((*l)[i], a.pos[0])) {
                if (name == "index") return value::integer(static_cast<int64_t>(i));
                ++n;
            }
        if (name == "index") merr("value is not in list");
        return value::integer(n);
    });
    if (name == "copy") return method(name, [l](const call_args &) { return value::new_list(*l); });
    if (name == "reverse") return method(name, [l](const call_args &) {
        std::reverse(l->begin(), l->end());
        return value::none();
    });
    return value::undef(name);
}

static value dict_method(const value &self, const std::string &name) {
    std::shared_ptr<dict> d = self.d;
    if (name == "items") return method(name, [d](const call_args &) {
        value out = value::new_list();
        for (const auto &kv : d->items) out.l->push_back(value::new_list({value::str(kv.first), kv.second}));
        return out;
    });
    if (name == "keys") return method(name, [d](const call_args &) {
        value out = value::new_list();
        for (const auto &kv : d->items) out.l->push_back(value::str(kv.first));
        return out;
    });
    if (name == "values") return method(name, [d](const call_args &) {
        value out = value::new_list();
        for (const auto &kv : d->items) out.l->push_back(kv.second);
        return out;
    });
    if (name == "get") return method(name, [d](const call_args &a) {
        if (a.pos.empty()) merr("get expected at least 1 argument");
        const value *v = a.pos[0].is_string() ? d->find(a.pos[0].sv()) : nullptr;
        if (v) return *v;
        return a.pos.size() > 1 ? a.pos[1] : value::none();
    });
    if (name == "copy") return method(name, [d](const call_args &) {
        value out = value::new_dict();
        out.d->items = d->items;
        return out;
    });
    if (name == "update") return method(name, [d](const call_args &a) {
        if (!a.pos.empty() && a.pos[0].is_dict())
            for (const auto &kv : a.pos[0].d->items) d->set(kv.first, kv.second);
        for (const auto &kv : a.kw) d->set(kv.first, kv.second);
        return value::none();
    });
    if (name == "pop") return method(name, [d](const call_args &a) {
        if (a.pos.empty() || !a.pos[0].is_string()) merr("pop expected a key");
        const value *v = d->find(a.pos[0].sv());
        if (!v) {
            if (a.pos.size() > 1) return a.pos[1];
            merr("KeyError: " + a.pos[0].sv());
        }
        value out = *v;
        d->erase(a.pos[0].sv());
        return out;
    });
    if (name == "setdefault") return method(name, [d](const call_args &a) {
        if (a.pos.empty() || !a.pos[0].is_string()) merr("setdefault expected a key");
        if (const value *v = d->find(a.pos[0].sv())) return *v;
        value def = a.pos.size() > 1 ? a.pos[1] : value::none();
        d->set(a.pos[0].sv(), def);
        return def;
    });
    return value::undef(name);
}

value get_attr(const value &obj, const std::string &name) {
    switch (obj.k) {
    case kind::dict: {
        // Python getattr first: dict methods shadow keys of the same name.
        value m = dict_method(obj, name);
        if (!m.is_undefined()) return m;
        if (const value *v = obj.d->find(name)) return *v;
        return value::undef(name);
    }
    case kind::ns:
        if (const value *v = obj.d->find(name)) return *v;
        return value::undef(name);
    case kind::string: return string_method(obj, name);
    case kind::list: return list_method(obj, name);
    default: return value::undef(name);
    }
}

}  // namespace mlxmtp::detail::jinja
