// Chat rendering: a JSON object of template variables (messages, tools,
// add_generation_prompt, enable_thinking, ...) through a chat template, with
// the tokenizer's special-token strings as the reference passes them.
#pragma once
#include <string>

namespace mlxmtp::detail {

class tokenizer;

struct chat_options {
    // Replace string `tool_calls[].function.arguments` holding a JSON object
    // with the object (OpenAI clients send strings; Qwen templates iterate
    // the mapping).
    bool parse_tool_arguments = false;
};

// Renders `input_json` (a JSON object; "messages" required) with
// `template_source`, or the tokenizer's template when it is empty.
// `tok` may be null (no special-token variables then).
// Throws MLXMTP_ERR_INVALID_ARG (bad input JSON), MLXMTP_ERR_TEMPLATE.
std::string render_chat(const tokenizer *tok, const std::string &template_source, const std::string &input_json,
                        const chat_options &opt = {});

}  // namespace mlxmtp::detail
