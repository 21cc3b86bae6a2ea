#include "parse/output_parser.h"

#include "tok/json_util.h"
#include "tok/utf8.h"
#include "util/error.h"

#include <json-c/json.h>

namespace mlxmtp::detail {

namespace {
constexpr std::string_view kThinkOpen = "<think>", kThinkClose = "</think>";
constexpr std::string_view kToolOpen = "<tool_call>", kToolClose = "</tool_call>";

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Length of the longest suffix of `s` that is a proper prefix of `tag`.
size_t partial_tag(std::string_view s, std::string_view tag) {
    size_t max = std::min(s.size(), tag.size() - 1);
    for (size_t n = max; n > 0; --n)
        if (s.substr(s.size() - n) == tag.substr(0, n)) return n;
    return 0;
}
}  // namespace

bool prompt_opens_reasoning(std::string_view prompt) {
    size_t open = prompt.rfind(kThinkOpen);
    if (open == std::string_view::npos) return false;
    size_t close = prompt.rfind(kThinkClose);
    return close == std::string_view::npos || close < open;
}

struct output_parser::impl {};

output_parser::output_parser(const output_parser_options &opt) : opt_(opt) {
    if (!opt_.tools_json.empty()) {
        json_ptr t = json_parse(opt_.tools_json, "tools");
        if (!json_object_is_type(t.get(), json_type_array)) fail(MLXMTP_ERR_INVALID_ARG, "tools must be a JSON array");
    }
    reset();
}

output_parser::~output_parser() = default;

void output_parser::reset() {
    mode_ = opt_.start_in_reasoning ? mode::reasoning : mode::content;
    saw_reasoning_ = opt_.start_in_reasoning;
    pending_.clear();
    tool_buf_.clear();
    held_ws_.clear();
    field_started_ = false;
    content_nonempty_ = false;
    finished_ = false;
    invalid_calls_ = 0;
    reasoning_delta_.clear();
    content_delta_.clear();
    reasoning_.clear();
    content_.clear();
    calls_.clear();
}

void output_parser::emit(mode m, std::string_view text) {
    if (text.empty()) return;
    auto out = [&](std::string_view s) {
        if (s.empty()) return;
        if (m == mode::reasoning) {
            reasoning_delta_.append(s);
            reasoning_.append(s);
        } else {
            content_delta_.append(s);
            content_.append(s);
        }
    };
    if (m == mode::content)
        for (char c : text)
            if (!is_space(c)) { content_nonempty_ = true; break; }
    if (opt_.keep_whitespace) {
        out(text);
        return;
    }
    if (!field_started_) {
        size_t k = 0;
        while (k < text.size() && is_space(text[k])) ++k;
        text.remove_prefix(k);
        if (text.empty()) return;
        field_started_ = true;
    }
    size_t e = text.size();
    while (e > 0 && is_space(text[e - 1])) --e;
    if (e == 0) {
        held_ws_.append(text);
        return;
    }
    out(held_ws_);
    held_ws_.clear();
    out(text.substr(0, e));
    held_ws_.assign(text.substr(e));
}

void output_parser::flush_ws(mode, bool drop) {
    if (drop) held_ws_.clear();
    field_started_ = false;
}

void output_parser::close_tool(bool at_end) {
    parsed_tool_call c;
    std::string raw = std::string(kToolOpen) + tool_buf_ + (at_end ? "" : std::string(kToolClose));
    if (parse_tool_call_body(tool_buf_, opt_.tools_json, &c)) {
        c.raw = raw;
        calls_.push_back(std::move(c));
        content_nonempty_ = true;
    } else {
        // Never lose text: an unparseable block is content.
        ++invalid_calls_;
        emit(mode::content, raw);
    }
    tool_buf_.clear();
}

void output_parser::process(bool at_end) {
    while (!pending_.empty()) {
        std::string_view p = pending_;
        if (mode_ == mode::reasoning) {
            size_t pos = p.find(kThinkClose);
            if (pos != std::string_view::npos) {
                emit(mode::reasoning, p.substr(0, pos));
                flush_ws(mode::reasoning, true);
                pending_.erase(0, pos + kThinkClose.size());
                mode_ = mode::content;
                continue;
            }
            size_t keep = at_end ? 0 : std::max(partial_tag(p, kThinkClose), p.size() - utf8_complete_prefix(p));
            emit(mode::reasoning, p.substr(0, p.size() - keep));
            pending_.erase(0, p.size() - keep);
            break;
        }
        if (mode_ == mode::content) {
            bool look_think = !saw_reasoning_ && !content_nonempty_;
            size_t tpos = p.find(kToolOpen);
            size_t hpos = look_think ? p.find(kThinkOpen) : std::string_view::npos;
            if (hpos != std::string_view::npos && (tpos == std::string_view::npos || hpos < tpos)) {
                bool only_ws = true;
                for (size_t k = 0; k < hpos; ++k) only_ws &= is_space(p[k]);
                if (only_ws) {
                    pending_.erase(0, hpos + kThinkOpen.size());
                    mode_ = mode::reasoning;
                    saw_reasoning_ = true;
                    flush_ws(mode::content, true);
                    continue;
                }
                // <think> after real content: it is content; stop looking.
                emit(mode::content, p.substr(0, hpos));
                pending_.erase(0, hpos);
                content_nonempty_ = true;
                continue;
            }
            if (tpos != std::string_view::npos) {
                emit(mode::content, p.substr(0, tpos));
                flush_ws(mode::content, true);
                pending_.erase(0, tpos + kToolOpen.size());
                mode_ = mode::tool;
                tool_buf_.clear();
                continue;
            }
            size_t keep = 0;
            if (!at_end) {
                keep = std::max(partial_tag(p, kToolOpen), p.size() - utf8_complete_prefix(p));
                if (look_think) keep = std::max(keep, partial_tag(p, kThinkOpen));
            }
            emit(mode::content, p.substr(0, p.size() - keep));
            pending_.erase(0, p.size() - keep);
            break;
        }
        // Inside a tool call.
        size_t pos = p.find(kToolClose);
        if (pos != std::string_view::npos) {
            tool_buf_.append(p.substr(0, pos));
            pending_.erase(0, pos + kToolClose.size());
            close_tool(false);
            mode_ = mode::content;
            flush_ws(mode::content, true);
            continue;
        }
        size_t keep = at_end ? 0 : partial_tag(p, kToolClose);
        tool_buf_.append(p.substr(0, p.size() - keep));
        pending_.erase(0, p.size() - keep);
        break;
    }
}

void output_parser::feed(std::string_view text) {
    if (finished_) fail(MLXMTP_ERR_BAD_STATE, "the parser is finished: reset it before feeding more text");
    reasoning_delta_.clear();
    content_delta_.clear();
    pending_.append(text);
    process(false);
}

void output_parser::finish() {
    reasoning_delta_.clear();
    content_delta_.clear();
    if (finished_) return;
    process(true);
    if (mode_ == mode::tool) {
        close_tool(true);
        mode_ = mode::content;
    }
    held_ws_.clear();
    finished_ = true;
}

std::string output_parser::result_json() const {
    json_ptr o(json_object_new_object());
    auto str_or_null = [](const std::string &s) {
        return s.empty() ? nullptr : json_object_new_string_len(s.data(), static_cast<int>(s.size()));
    };
    json_object_object_add(o.get(), "reasoning_content", str_or_null(reasoning_));
    json_object_object_add(o.get(), "content", str_or_null(content_));
    json_object *arr = json_object_new_array();
    for (const auto &c : calls_) {
        json_object *call = json_object_new_object();
        json_object_object_add(call, "type", json_object_new_string("function"));
        json_object *fn = json_object_new_object();
        json_object_object_add(fn, "name", json_object_new_string_len(c.name.data(), static_cast<int>(c.name.size())));
        json_object_object_add(fn, "arguments",
                               json_object_new_string_len(c.arguments.data(), static_cast<int>(c.arguments.size())));
        json_object_object_add(call, "function", fn);
        json_object_array_add(arr, call);
    }
    json_object_object_add(o.get(), "tool_calls", arr);
    return json_object_to_json_string_ext(o.get(), JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
}

}  // namespace mlxmtp::detail
