// Output parsing of generated text, batch and incremental: reasoning between
// <think> and </think> (also when <think> was part of the prompt), content,
// and tool calls in both Qwen formats:
//   <tool_call>{"name": ..., "arguments": {...}}</tool_call>
//   <tool_call><function=NAME><parameter=P>VALUE</parameter>...</function></tool_call>
// XML parameter values are typed by the tool's JSON schema when known.
// Feeding the text in any split gives the same result as one feed.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace mlxmtp::detail {

struct parsed_tool_call {
    std::string name;
    std::string arguments;  // JSON object text
    std::string raw;        // the whole <tool_call>...</tool_call> text
};

struct output_parser_options {
    bool start_in_reasoning = false;  // the prompt ended inside <think>
    bool keep_whitespace = false;     // do not trim whitespace at field boundaries
    std::string tools_json;           // JSON array of tools (schemas), may be empty
};

// True when `prompt` leaves a <think> block open (the model continues reasoning).
bool prompt_opens_reasoning(std::string_view prompt);

class output_parser {
public:
    explicit output_parser(const output_parser_options &opt);
    ~output_parser();
    output_parser(const output_parser &) = delete;
    output_parser &operator=(const output_parser &) = delete;

    // Feeds generated text (any split, even inside a UTF-8 sequence).  The
    // new reasoning / content text goes to the deltas (cleared first), new
    // tool calls are appended to tool_calls().
    void feed(std::string_view text);
    // End of generation: flushes held-back text; an unclosed <tool_call> that
    // still parses becomes a call, otherwise its text becomes content.
    void finish();
    void reset();

    const std::string &reasoning_delta() const { return reasoning_delta_; }
    const std::string &content_delta() const { return content_delta_; }
    const std::string &reasoning() const { return reasoning_; }
    const std::string &content() const { return content_; }
    const std::vector<parsed_tool_call> &tool_calls() const { return calls_; }
    size_t invalid_tool_calls() const { return invalid_calls_; }
    bool finished() const { return finished_; }
    // {"reasoning_content": s|null, "content": s|null, "tool_calls": [...]} (OpenAI message shape).
    std::string result_json() const;

private:
    enum class mode { reasoning, content, tool };
    struct impl;

    void process(bool at_end);
    void emit(mode m, std::string_view text);
    void flush_ws(mode m, bool drop);
    void close_tool(bool at_end);

    output_parser_options opt_;
    impl *schemas_ = nullptr;
    mode mode_;
    std::string pending_;     // unprocessed input
    std::string tool_buf_;    // text inside <tool_call>
    std::string held_ws_;     // trailing whitespace held back from the current field
    bool field_started_ = false;  // non-whitespace emitted in the current field segment
    bool saw_reasoning_ = false;
    bool content_nonempty_ = false;
    bool finished_ = false;
    size_t invalid_calls_ = 0;
    std::string reasoning_delta_, content_delta_, reasoning_, content_;
    std::vector<parsed_tool_call> calls_;
};

// Parses the inside of one <tool_call> block; `tools_json` may be empty.
// Returns false when it is neither format.
bool parse_tool_call_body(std::string_view inner, const std::string &tools_json, parsed_tool_call *out);

}  // namespace mlxmtp::detail
