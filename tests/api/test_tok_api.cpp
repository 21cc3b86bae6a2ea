// The tokenizer section of the public C API and the tokenize / chat-template
// subcommands, against the reference fixtures (tokenizer_cases.json,
// chat_cases.json, chat35_cases.json).
#include <gtest/gtest.h>
#include <json-c/json.h>
#include <mlxmtp.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

std::string fx(const std::string &rel) { return std::string(MLXMTP_FIXTURES_DIR) + "/" + rel; }

json_object *load(const std::string &rel) { return json_object_from_file(fx(rel).c_str()); }

std::string s(json_object *o) { return std::string(json_object_get_string(o), static_cast<size_t>(json_object_get_string_len(o))); }

json_object *get(json_object *o, const char *k) {
    json_object *v = nullptr;
    json_object_object_get_ex(o, k, &v);
    return v;
}

std::vector<int32_t> ids_of(json_object *a) {
    std::vector<int32_t> v;
    for (size_t i = 0; i < json_object_array_length(a); ++i) v.push_back(json_object_get_int(json_object_array_get_idx(a, i)));
    return v;
}

struct tok_fixture : ::testing::Test {
    mlxmtp_tokenizer *tok = nullptr;
    void SetUp() override { ASSERT_EQ(mlxmtp_tokenizer_open(fx("qwen3-tokenizer").c_str(), &tok), MLXMTP_OK) << mlxmtp_last_error(); }
    void TearDown() override { mlxmtp_tokenizer_destroy(tok); }
};

std::string run(const std::string &cmd, const std::string &input, int *rc) {
    std::string in_path = std::string(MLXMTP_TEST_BINARY_DIR) + "/tok_api_stdin.txt";
    std::ofstream(in_path, std::ios::binary) << input;
    FILE *p = popen((cmd + " < " + in_path).c_str(), "r");
    std::string out;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    int st = pclose(p);
    *rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return out;
}

}  // namespace

TEST_F(tok_fixture, EncodeDecodeReferenceCases) {
    json_object *doc = load("qwen3-tokenizer/tokenizer_cases.json");
    ASSERT_NE(doc, nullptr);
    EXPECT_EQ(mlxmtp_tokenizer_vocab_size(tok), 151669u);
    for (size_t i = 0; i < json_object_array_length(doc); ++i) {
        json_object *c = json_object_array_get_idx(doc, i);
        std::string text = s(get(c, "text"));
        std::vector<int32_t> want = ids_of(get(c, "ids"));
        size_t n = 0;
        // Size query first: BUFFER_TOO_SMALL reports the count.
        mlxmtp_status st = mlxmtp_tokenizer_encode(tok, text.data(), text.size(), 0, nullptr, 0, &n);
        ASSERT_EQ(st, want.empty() ? MLXMTP_OK : MLXMTP_ERR_BUFFER_TOO_SMALL);
        ASSERT_EQ(n, want.size());
        std::vector<int32_t> got(n);
        ASSERT_EQ(mlxmtp_tokenizer_encode(tok, text.data(), text.size(), 0, got.data(), got.size(), &n), MLXMTP_OK);
        EXPECT_EQ(got, want) << "case " << i;
        size_t len = 0;
        ASSERT_EQ(mlxmtp_tokenizer_decode(tok, want.data(), want.size(), 0, nullptr, 0, &len), MLXMTP_ERR_BUFFER_TOO_SMALL);
        std::string out(len + 1, '\0');
        ASSERT_EQ(mlxmtp_tokenizer_decode(tok, want.data(), want.size(), 0, &out[0], out.size(), &len), MLXMTP_OK);
        out.resize(len);
        EXPECT_EQ(out, s(get(c, "decoded"))) << "case " << i;
        // Streaming, one id at a time.
        mlxmtp_detokenizer *d = nullptr;
        ASSERT_EQ(mlxmtp_detokenizer_create(tok, 0, &d), MLXMTP_OK);
        std::string streamed;
        for (int32_t id : want) {
            const char *t = nullptr;
            size_t tl = 0;
            ASSERT_EQ(mlxmtp_detokenizer_push(d, &id, 1, &t, &tl), MLXMTP_OK);
            streamed.append(t, tl);
        }
        const char *t = nullptr;
        size_t tl = 0;
        ASSERT_EQ(mlxmtp_detokenizer_flush(d, &t, &tl), MLXMTP_OK);
        streamed.append(t, tl);
        EXPECT_EQ(streamed, s(get(c, "decoded")));
        mlxmtp_detokenizer_destroy(d);
    }
    json_object_put(doc);
}

TEST_F(tok_fixture, ErrorsAndSpecialTokens) {
    mlxmtp_tokenizer *none = nullptr;
    EXPECT_EQ(mlxmtp_tokenizer_open(fx("nope").c_str(), &none), MLXMTP_ERR_NOT_FOUND);
    EXPECT_EQ(none, nullptr);
    EXPECT_NE(std::string(mlxmtp_last_error()), "");
    EXPECT_EQ(mlxmtp_tokenizer_open(nullptr, &none), MLXMTP_ERR_INVALID_ARG);
    mlxmtp_tokenizer_destroy(nullptr);
    mlxmtp_detokenizer_destroy(nullptr);
    mlxmtp_parser_destroy(nullptr);
    size_t n = 0;
    EXPECT_EQ(mlxmtp_tokenizer_encode(tok, "\xff", 1, 0, nullptr, 0, &n), MLXMTP_ERR_INVALID_ARG);
    EXPECT_NE(std::string(mlxmtp_tokenizer_last_error(tok)).find("UTF-8"), std::string::npos);
    EXPECT_EQ(mlxmtp_tokenizer_encode(tok, "a", 1, 0x80, nullptr, 0, &n), MLXMTP_ERR_INVALID_ARG);
    int32_t bad = 1 << 30;
    size_t len = 0;
    char buf[16];
    EXPECT_EQ(mlxmtp_tokenizer_decode(tok, &bad, 1, 0, buf, sizeof buf, &len), MLXMTP_ERR_INVALID_ARG);
    int32_t id = -1;
    ASSERT_EQ(mlxmtp_tokenizer_token_to_id(tok, "<|im_end|>", &id), MLXMTP_OK);
    EXPECT_EQ(id, 151645);
    EXPECT_EQ(mlxmtp_tokenizer_special_id(tok, MLXMTP_TOKEN_EOS), 151645);
    EXPECT_EQ(mlxmtp_tokenizer_special_id(tok, MLXMTP_TOKEN_PAD), 151643);
    EXPECT_EQ(mlxmtp_tokenizer_special_id(tok, MLXMTP_TOKEN_BOS), -1);
    EXPECT_EQ(mlxmtp_tokenizer_is_special(tok, 151645), 1);
    EXPECT_EQ(mlxmtp_tokenizer_token_to_id(tok, "no such token", &id), MLXMTP_ERR_NOT_FOUND);
    const char *piece = nullptr;
    ASSERT_EQ(mlxmtp_tokenizer_id_to_token(tok, 1879, &piece), MLXMTP_OK);
    EXPECT_STREQ(piece, "\xC4\xA0world");  // "Ġworld"
    // Skip special tokens when decoding.
    int32_t v[3] = {151644, 9707, 151645};
    ASSERT_EQ(mlxmtp_tokenizer_decode(tok, v, 3, MLXMTP_DETOKENIZE_SKIP_SPECIAL, buf, sizeof buf, &len), MLXMTP_OK);
    EXPECT_STREQ(buf, "Hello");
}

TEST_F(tok_fixture, RenderChatMatchesReference) {
    json_object *doc = load("qwen3-tokenizer/chat_cases.json");
    for (size_t i = 0; i < json_object_array_length(doc); ++i) {
        json_object *c = json_object_array_get_idx(doc, i);
        json_object *in = json_object_new_object();
        json_object_object_foreach(c, k, val) {
            if (std::string(k) != "rendered" && std::string(k) != "ids") json_object_object_add(in, k, json_object_get(val));
        }
        const char *text = nullptr;
        size_t len = 0;
        ASSERT_EQ(mlxmtp_tokenizer_render_chat(tok, json_object_to_json_string(in), nullptr, &text, &len), MLXMTP_OK)
            << mlxmtp_tokenizer_last_error(tok);
        std::string rendered(text, len);
        EXPECT_EQ(rendered, s(get(c, "rendered")));
        std::vector<int32_t> got(rendered.size() + 8);
        size_t n = 0;
        ASSERT_EQ(mlxmtp_tokenizer_encode(tok, rendered.data(), rendered.size(), 0, got.data(), got.size(), &n), MLXMTP_OK);
        got.resize(n);
        EXPECT_EQ(got, ids_of(get(c, "ids")));
        json_object_put(in);
    }
    json_object_put(doc);
    // Template errors carry the line; bad input is INVALID_ARG.
    mlxmtp_chat_params p;
    mlxmtp_chat_params_init(&p);
    p.template_source = "line one\n{{ raise_exception('boom') }}";
    const char *text = nullptr;
    EXPECT_EQ(mlxmtp_tokenizer_render_chat(tok, "{\"messages\":[]}", &p, &text, nullptr), MLXMTP_ERR_TEMPLATE);
    EXPECT_NE(std::string(mlxmtp_tokenizer_last_error(tok)).find("line 2"), std::string::npos) << mlxmtp_tokenizer_last_error(tok);
    EXPECT_NE(std::string(mlxmtp_tokenizer_last_error(tok)).find("boom"), std::string::npos);
    p.template_source = "{% for x in %}";
    EXPECT_EQ(mlxmtp_tokenizer_render_chat(tok, "{\"messages\":[]}", &p, &text, nullptr), MLXMTP_ERR_TEMPLATE);
    EXPECT_EQ(mlxmtp_tokenizer_render_chat(tok, "[1,2]", nullptr, &text, nullptr), MLXMTP_ERR_INVALID_ARG);
    EXPECT_EQ(mlxmtp_tokenizer_render_chat(tok, "{\"messages\": 3}", nullptr, &text, nullptr), MLXMTP_ERR_INVALID_ARG);
    EXPECT_EQ(mlxmtp_tokenizer_render_chat(tok, "{not json", nullptr, &text, nullptr), MLXMTP_ERR_INVALID_ARG);
    // OpenAI-style string arguments become a mapping with the flag.
    mlxmtp_chat_params_init(&p);
    std::string tmpl;
    {
        std::ifstream f(fx("chat_templates/qwen3.5.jinja"));
        std::stringstream ss;
        ss << f.rdbuf();
        tmpl = ss.str();
    }
    p.template_source = tmpl.c_str();
    const char *msgs = R"({"messages":[{"role":"user","content":"q"},{"role":"assistant","content":"","tool_calls":[{"type":"function","function":{"name":"f","arguments":"{\"a\": 1}"}}]}]})";
    EXPECT_EQ(mlxmtp_tokenizer_render_chat(tok, msgs, &p, &text, nullptr), MLXMTP_ERR_TEMPLATE);  // |items on a string
    p.flags = MLXMTP_CHAT_PARSE_TOOL_ARGUMENTS;
    ASSERT_EQ(mlxmtp_tokenizer_render_chat(tok, msgs, &p, &text, nullptr), MLXMTP_OK) << mlxmtp_tokenizer_last_error(tok);
    EXPECT_NE(std::string(text).find("<parameter=a>\n1\n</parameter>"), std::string::npos) << text;
}

TEST(TokApiParser, StreamingToolCallsAndReasoning) {
    mlxmtp_parser_params pp;
    mlxmtp_parser_params_init(&pp);
    pp.prompt = "<|im_start|>assistant\n<think>\n";
    pp.tools_json = R"([{"type":"function","function":{"name":"ls","parameters":{"properties":{"depth":{"type":"integer"},"all":{"type":"boolean"}}}}}])";
    mlxmtp_parser *p = nullptr;
    ASSERT_EQ(mlxmtp_parser_create(&pp, &p), MLXMTP_OK);
    std::string out = "Need to list.\n</think>\n\nListing.\n\n<tool_call>\n<function=ls>\n<parameter=depth>\n2\n</parameter>\n"
                      "<parameter=all>\nTrue\n</parameter>\n</function>\n</tool_call>";
    std::string reasoning, content;
    uint32_t calls = 0;
    for (size_t i = 0; i < out.size(); i += 3) {
        mlxmtp_parser_delta d;
        mlxmtp_parser_delta_init(&d);
        ASSERT_EQ(mlxmtp_parser_feed(p, out.data() + i, std::min<size_t>(3, out.size() - i), &d), MLXMTP_OK);
        reasoning.append(d.reasoning, d.reasoning_len);
        content.append(d.content, d.content_len);
        calls = d.n_tool_calls;
    }
    mlxmtp_parser_delta d;
    mlxmtp_parser_delta_init(&d);
    ASSERT_EQ(mlxmtp_parser_finish(p, &d), MLXMTP_OK);
    reasoning.append(d.reasoning, d.reasoning_len);
    content.append(d.content, d.content_len);
    EXPECT_EQ(reasoning, "Need to list.");
    EXPECT_EQ(content, "Listing.");
    EXPECT_EQ(calls, 1u);
    const char *name = nullptr, *args = nullptr;
    ASSERT_EQ(mlxmtp_parser_tool_call(p, 0, &name, &args), MLXMTP_OK);
    EXPECT_STREQ(name, "ls");
    EXPECT_STREQ(args, R"({"depth":2,"all":true})");
    EXPECT_EQ(mlxmtp_parser_tool_call(p, 1, &name, &args), MLXMTP_ERR_INVALID_ARG);
    EXPECT_EQ(mlxmtp_parser_feed(p, "x", 1, nullptr), MLXMTP_ERR_BAD_STATE);
    const char *json = nullptr;
    ASSERT_EQ(mlxmtp_parser_result_json(p, &json), MLXMTP_OK);
    EXPECT_NE(std::string(json).find("\"reasoning_content\":\"Need to list.\""), std::string::npos) << json;
    mlxmtp_parser_destroy(p);
    pp.tools_json = "{";
    EXPECT_EQ(mlxmtp_parser_create(&pp, &p), MLXMTP_ERR_INVALID_ARG);
    EXPECT_EQ(p, nullptr);
}

TEST(TokCli, TokenizeAndChatTemplateSubcommands) {
    const std::string cli = MLXMTP_CLI_PATH;
    int rc = 0;
    json_object *cases = load("qwen3-tokenizer/tokenizer_cases.json");
    json_object *c = json_object_array_get_idx(cases, 5);
    std::string out = run(cli + " tokenize --model " + fx("qwen3-tokenizer") + " --json", s(get(c, "text")), &rc);
    EXPECT_EQ(rc, 0);
    json_object *o = json_tokener_parse(out.c_str());
    ASSERT_NE(o, nullptr) << out;
    EXPECT_EQ(ids_of(get(o, "ids")), ids_of(get(c, "ids")));
    json_object_put(o);
    // --decode takes comma or space separated ids.
    std::string ids;
    for (int32_t id : ids_of(get(c, "ids"))) ids += std::to_string(id) + ", ";
    out = run(cli + " tokenize --model " + fx("qwen3-tokenizer") + " --decode", ids, &rc);
    EXPECT_EQ(rc, 0);
    EXPECT_EQ(out, s(get(c, "decoded")));
    json_object_put(cases);
    // chat-template with the Qwen3.5 template (any tokenizer directory will do), text and error forms.
    json_object *doc = load("qwen3-tokenizer/chat35_cases.json");
    json_object *list = get(doc, "qwen3.5");
    for (size_t i = 0; i < json_object_array_length(list); ++i) {
        json_object *cc = json_object_array_get_idx(list, i);
        json_object *in = json_object_new_object();
        json_object_object_foreach(cc, k, val) {
            if (std::string(k) != "rendered" && std::string(k) != "error") json_object_object_add(in, k, json_object_get(val));
        }
        out = run(cli + " chat-template --json --model " + fx("tiny-qwen35-trained") + " --template " +
                      fx("chat_templates/qwen3.5.jinja"),
                  json_object_to_json_string(in), &rc);
        json_object *r = json_tokener_parse(out.c_str());
        ASSERT_NE(r, nullptr) << out;
        if (get(cc, "error")) {
            EXPECT_NE(rc, 0);
            ASSERT_NE(get(r, "error"), nullptr) << out;
            EXPECT_NE(s(get(r, "error")).find("System message must be at the beginning."), std::string::npos);
        } else {
            EXPECT_EQ(rc, 0);
            ASSERT_NE(get(r, "text"), nullptr) << out;
            EXPECT_EQ(s(get(r, "text")), s(get(cc, "rendered"))) << "case " << i;
        }
        json_object_put(r);
        json_object_put(in);
    }
    json_object_put(doc);
    out = run(cli + " chat-template --help", "", &rc);
    EXPECT_EQ(rc, 0);
    EXPECT_NE(out.find("--template"), std::string::npos);
}
