// Output parsing: reasoning, content and tool calls (JSON and XML forms),
// batch and streaming.  The round-trip tests parse the assistant turns that
// the *reference* renderer wrote (chat fixtures) and compare with the
// arguments the reference was given.
#include "parse/output_parser.h"
#include "tok/json_util.h"
#include "tok/utf8.h"
#include "tok_test_util.h"
#include "util/error.h"

#include <gtest/gtest.h>

using namespace mlxmtp::detail;
using namespace tok_test;

namespace {

struct result {
    std::string reasoning, content, json;
    std::vector<parsed_tool_call> calls;
    size_t invalid = 0;
};

result parse_chunks(const std::vector<std::string> &chunks, output_parser_options o = {}) {
    output_parser p(o);
    result r;
    std::string rd, cd;
    for (const auto &c : chunks) {
        p.feed(c);
        EXPECT_TRUE(utf8_valid(p.reasoning_delta()) || !utf8_valid(c));
        rd += p.reasoning_delta();
        cd += p.content_delta();
    }
    p.finish();
    rd += p.reasoning_delta();
    cd += p.content_delta();
    r.reasoning = p.reasoning();
    r.content = p.content();
    EXPECT_EQ(rd, r.reasoning) << "reasoning deltas do not add up";
    EXPECT_EQ(cd, r.content) << "content deltas do not add up";
    r.calls = p.tool_calls();
    r.invalid = p.invalid_tool_calls();
    r.json = p.result_json();
    return r;
}

result parse_all(const std::string &text, output_parser_options o = {}) { return parse_chunks({text}, o); }

bool json_equal(const std::string &a, json_object *b) {
    json_ptr pa = json_parse(a, "a");
    return json_object_equal(pa.get(), b) == 1;
}

// Checks every split into two chunks, and one byte at a time, against one feed.
void expect_split_invariant(const std::string &text, const output_parser_options &o) {
    result whole = parse_all(text, o);
    for (size_t s = 0; s <= text.size(); ++s) {
        result r = parse_chunks({text.substr(0, s), text.substr(s)}, o);
        ASSERT_EQ(r.json, whole.json) << "split at byte " << s;
    }
    std::vector<std::string> bytes;
    for (char c : text) bytes.emplace_back(1, c);
    EXPECT_EQ(parse_chunks(bytes, o).json, whole.json);
}

std::string tools_of(json_object *c) {
    json_object *t = get(c, "tools");
    return t ? json_object_to_json_string_ext(t, JSON_C_TO_STRING_PLAIN) : "";
}

// Parses every assistant turn with tool calls in `rendered` and compares with the messages.
void round_trip(json_object *c, const std::string &label) {
    std::string rendered = str(get(c, "rendered"));
    json_object *msgs = get(c, "messages");
    std::vector<json_object *> want;
    for (size_t i = 0; i < json_object_array_length(msgs); ++i) {
        json_object *m = json_object_array_get_idx(msgs, i);
        if (json_object *tc = get(m, "tool_calls"))
            for (size_t k = 0; k < json_object_array_length(tc); ++k) want.push_back(json_object_array_get_idx(tc, k));
    }
    std::vector<parsed_tool_call> got;
    const std::string open = "<|im_start|>assistant\n", close = "<|im_end|>";
    for (size_t p = rendered.find(open); p != std::string::npos; p = rendered.find(open, p + 1)) {
        size_t e = rendered.find(close, p);
        if (e == std::string::npos) break;
        std::string turn = rendered.substr(p + open.size(), e - p - open.size());
        output_parser_options o;
        o.tools_json = tools_of(c);
        result r = parse_all(turn, o);
        EXPECT_EQ(r.invalid, 0u) << label;
        got.insert(got.end(), r.calls.begin(), r.calls.end());
        expect_split_invariant(turn, o);
    }
    ASSERT_EQ(got.size(), want.size()) << label;
    for (size_t i = 0; i < want.size(); ++i) {
        json_object *fn = get(want[i], "function");
        EXPECT_EQ(got[i].name, str(get(fn, "name"))) << label;
        EXPECT_TRUE(json_equal(got[i].arguments, get(fn, "arguments")))
            << label << ": got " << got[i].arguments << " want "
            << json_object_to_json_string(get(fn, "arguments"));
    }
}

}  // namespace

TEST(ParseOutput, ReferenceRenderedJsonToolCallsRoundTrip) {
    auto doc = load_json("qwen3-tokenizer/chat_cases.json");
    size_t n_cases = 0;
    for (size_t i = 0; i < json_object_array_length(doc.get()); ++i) {
        json_object *c = json_object_array_get_idx(doc.get(), i);
        if (str(get(c, "rendered")).find("<tool_call>\n{") == std::string::npos) continue;
        ++n_cases;
        round_trip(c, "qwen3 case " + std::to_string(i));
    }
    EXPECT_GE(n_cases, 1u);
}

TEST(ParseOutput, ReferenceRenderedXmlToolCallsRoundTripWithSchemaTypes) {
    auto doc = load_json("qwen3-tokenizer/chat35_cases.json");
    size_t n_cases = 0;
    for (const char *which : {"qwen3.5", "qwen3.6"}) {
        json_object *cases = get(doc.get(), which);
        for (size_t i = 0; i < json_object_array_length(cases); ++i) {
            json_object *c = json_object_array_get_idx(cases, i);
            if (!get(c, "rendered") || str(get(c, "rendered")).find("<function=") == std::string::npos) continue;
            bool has_calls = false;
            json_object *msgs = get(c, "messages");
            for (size_t k = 0; k < json_object_array_length(msgs); ++k)
                has_calls |= get(json_object_array_get_idx(msgs, k), "tool_calls") != nullptr;
            if (!has_calls) continue;
            ++n_cases;
            round_trip(c, std::string(which) + " case " + std::to_string(i));
        }
    }
    EXPECT_GE(n_cases, 4u);  // both templates: string, boolean ("True" in 3.5) and integer arguments
}

TEST(ParseOutput, ReasoningThenContentWhenPromptOpenedThink) {
    output_parser_options o;
    o.start_in_reasoning = true;
    result r = parse_all("Let me think.\nStep 2.\n</think>\n\nThe answer is 4.", o);
    EXPECT_EQ(r.reasoning, "Let me think.\nStep 2.");
    EXPECT_EQ(r.content, "The answer is 4.");
    expect_split_invariant("Let me think.\n</think>\n\nThe answer is 4.", o);
}

TEST(ParseOutput, ThinkTagGeneratedByTheModel) {
    result r = parse_all("<think>\nhmm\n</think>\n\nHi there");
    EXPECT_EQ(r.reasoning, "hmm");
    EXPECT_EQ(r.content, "Hi there");
    // A <think> after real content is content.
    result s = parse_all("Use the <think> tag.");
    EXPECT_EQ(s.content, "Use the <think> tag.");
    EXPECT_EQ(s.reasoning, "");
}

TEST(ParseOutput, PromptDetection) {
    EXPECT_TRUE(prompt_opens_reasoning("<|im_start|>assistant\n<think>\n"));
    EXPECT_FALSE(prompt_opens_reasoning("<|im_start|>assistant\n<think>\n\n</think>\n\n"));  // enable_thinking=false
    EXPECT_FALSE(prompt_opens_reasoning("<|im_start|>assistant\n"));
}

TEST(ParseOutput, XmlToolCallTypedBySchema) {
    const std::string tools = R"([{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"},"days":{"type":"integer"},"opts":{"type":"object"},"tags":{"type":"array"},"hot":{"type":"boolean"},"t":{"type":"number"},"zip":{"type":"string"}}}}}])";
    std::string out =
        "I will check.\n\n<tool_call>\n<function=get_weather>\n<parameter=city>\nParis\n</parameter>\n"
        "<parameter=days>\n3\n</parameter>\n<parameter=opts>\n{\"u\": \"C\"}\n</parameter>\n"
        "<parameter=tags>\n[1, \"a\"]\n</parameter>\n<parameter=hot>\nfalse\n</parameter>\n"
        "<parameter=t>\n-2.5\n</parameter>\n<parameter=zip>\n01234\n</parameter>\n<parameter=other>\n42\n</parameter>\n"
        "</function>\n</tool_call>";
    output_parser_options o;
    o.tools_json = tools;
    result r = parse_all(out, o);
    EXPECT_EQ(r.content, "I will check.");
    ASSERT_EQ(r.calls.size(), 1u);
    EXPECT_EQ(r.calls[0].name, "get_weather");
    json_ptr want = json_parse(
        R"({"city":"Paris","days":3,"opts":{"u":"C"},"tags":[1,"a"],"hot":false,"t":-2.5,"zip":"01234","other":"42"})", "w");
    EXPECT_TRUE(json_equal(r.calls[0].arguments, want.get())) << r.calls[0].arguments;
    expect_split_invariant(out, o);
    // Without schemas every value is a string.
    result s = parse_all(out);
    json_ptr args = json_parse(s.calls[0].arguments, "args");
    EXPECT_TRUE(json_object_is_type(json_get(args.get(), "days"), json_type_string));
    // A value that does not fit its type stays a string.
    result bad = parse_all("<tool_call><function=get_weather><parameter=days>three</parameter></function></tool_call>", o);
    ASSERT_EQ(bad.calls.size(), 1u);
    EXPECT_EQ(bad.calls[0].arguments, R"({"days":"three"})");
}

TEST(ParseOutput, SeveralJsonToolCallsAndContentBetween) {
    std::string out = "Sure.\n<tool_call>\n{\"name\": \"a\", \"arguments\": {\"x\": 1}}\n</tool_call>\n"
                      "<tool_call>\n{\"name\": \"b\", \"arguments\": \"{\\\"y\\\": [true, null]}\"}\n</tool_call>";
    result r = parse_all(out);
    EXPECT_EQ(r.content, "Sure.");
    ASSERT_EQ(r.calls.size(), 2u);
    EXPECT_EQ(r.calls[0].name, "a");
    EXPECT_EQ(r.calls[0].arguments, R"({"x":1})");
    EXPECT_EQ(r.calls[1].name, "b");
    EXPECT_EQ(r.calls[1].arguments, R"({"y":[true,null]})");
    EXPECT_NE(r.json.find("\"tool_calls\":[{\"type\":\"function\""), std::string::npos);
    expect_split_invariant(out, {});
}

TEST(ParseOutput, MalformedToolCallsNeverLoseText) {
    // Garbage inside the tags: the block is content, counted as invalid.
    result a = parse_all("x <tool_call>not a call</tool_call> y");
    EXPECT_EQ(a.calls.size(), 0u);
    EXPECT_EQ(a.invalid, 1u);
    EXPECT_NE(a.content.find("<tool_call>not a call</tool_call>"), std::string::npos);
    // Truncated JSON at the end of generation.
    result b = parse_all("<tool_call>\n{\"name\": \"a\", \"argu");
    EXPECT_EQ(b.calls.size(), 0u);
    EXPECT_EQ(b.content, "<tool_call>\n{\"name\": \"a\", \"argu");
    // Generation cut before </tool_call> but the XML call is complete: accepted.
    result c = parse_all("<tool_call>\n<function=f>\n<parameter=p>\nv\n</parameter>\n</function>\n");
    ASSERT_EQ(c.calls.size(), 1u);
    EXPECT_EQ(c.calls[0].arguments, R"({"p":"v"})");
    // Missing </parameter>: the value runs to the next parameter.
    result d = parse_all("<tool_call><function=f><parameter=a>1<parameter=b>2</parameter></function></tool_call>");
    ASSERT_EQ(d.calls.size(), 1u);
    EXPECT_EQ(d.calls[0].arguments, R"({"a":"1","b":"2"})");
    // No function name, JSON without a name, text after </function>.
    for (const char *bad : {"<tool_call><function=>x</function></tool_call>", "<tool_call>{\"arguments\": {}}</tool_call>",
                            "<tool_call><function=f></function> junk</tool_call>", "<tool_call>[1,2]</tool_call>",
                            "<tool_call></tool_call>"}) {
        result r = parse_all(bad);
        EXPECT_EQ(r.calls.size(), 0u) << bad;
        EXPECT_EQ(r.invalid, 1u) << bad;
        EXPECT_EQ(r.content, bad);
    }
    // Unclosed <think> (generation stopped while reasoning).
    output_parser_options o;
    o.start_in_reasoning = true;
    result e = parse_all("still thinking </thi", o);
    EXPECT_EQ(e.reasoning, "still thinking </thi");
    // Partial tags at the end are flushed as text.
    EXPECT_EQ(parse_all("a <tool_ca").content, "a <tool_ca");
}

TEST(ParseOutput, StreamingSplitsAtEveryBytePosition) {
    output_parser_options o;
    o.start_in_reasoning = true;
    o.tools_json = R"([{"type":"function","function":{"name":"f","parameters":{"properties":{"n":{"type":"integer"}}}}}])";
    const std::string text =
        "Planning: naïve 🙂 approach\n\n</think>\n\nCalling f — ok.\n\n<tool_call>\n<function=f>\n<parameter=n>\n7\n"
        "</parameter>\n</function>\n</tool_call>\n<tool_call>\n{\"name\": \"f\", \"arguments\": {\"n\": 8}}\n</tool_call>"
        "\nDone 日本.";
    result whole = parse_all(text, o);
    EXPECT_EQ(whole.reasoning, "Planning: naïve 🙂 approach");
    EXPECT_EQ(whole.content, "Calling f — ok.Done 日本.");
    ASSERT_EQ(whole.calls.size(), 2u);
    EXPECT_EQ(whole.calls[0].arguments, R"({"n":7})");
    EXPECT_EQ(whole.calls[1].arguments, R"({"n":8})");
    expect_split_invariant(text, o);
    // Deltas never contain a broken UTF-8 sequence, whatever the split.
    for (size_t s = 0; s <= text.size(); ++s) {
        output_parser p(o);
        p.feed(text.substr(0, s));
        EXPECT_TRUE(utf8_valid(p.reasoning_delta()) && utf8_valid(p.content_delta())) << s;
        p.feed(text.substr(s));
        EXPECT_TRUE(utf8_valid(p.reasoning_delta()) && utf8_valid(p.content_delta())) << s;
    }
}

TEST(ParseOutput, KeepWhitespaceAndStateErrors) {
    output_parser_options o;
    o.keep_whitespace = true;
    o.start_in_reasoning = true;
    result r = parse_all("\nr\n</think>\n\nc\n", o);
    EXPECT_EQ(r.reasoning, "\nr\n");
    EXPECT_EQ(r.content, "\n\nc\n");
    output_parser p({});
    p.finish();
    EXPECT_THROW(p.feed("x"), error);
    p.reset();
    EXPECT_NO_THROW(p.feed("x"));
    output_parser_options bad;
    bad.tools_json = "{not json";
    EXPECT_THROW(output_parser q(bad), error);
}
