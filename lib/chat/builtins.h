// Filters, tests, global functions and Python methods of template values.
#pragma once
#include "chat/value.h"

#include <functional>
#include <string>

namespace mlxmtp::detail::jinja {

// Hooks the builtins need from the renderer (for map / select with a named
// filter or test).
struct builtin_env {
    std::function<value(const std::string &filter, const value &input, const call_args &args)> filter;
    std::function<bool(const std::string &test, const value &input, const call_args &args)> test;
};

value apply_filter(const std::string &name, const value &input, const call_args &args, const builtin_env &env);
bool apply_test(const std::string &name, const value &input, const call_args &args, const builtin_env &env);

// Attribute of a value: dict key or method, string / list method, namespace
// attribute; undefined when absent.
value get_attr(const value &obj, const std::string &name);
// obj[key] (Python indexing, negative indices); undefined when absent.
value get_item(const value &obj, const value &key);
// obj[start:stop:step] on strings and lists.
value get_slice(const value &obj, const value &start, const value &stop, const value &step);
// `needle in haystack`.
bool contains(const value &haystack, const value &needle);
// Items of an iterable for `for` loops (dict -> keys, string -> characters).
list iterate(const value &v);
// Python len().
int64_t length(const value &v);

// Python string helpers on code points.
std::u32string to_u32(const std::string &s);
std::string from_u32(const std::u32string &s);
bool py_isspace(char32_t c);
std::string py_strip(const std::string &s, const value *chars, bool left, bool right);

}  // namespace mlxmtp::detail::jinja
