// Chat templates against the reference apply_chat_template output:
// qwen3-tokenizer/chat_cases.json (Qwen3 template from tokenizer_config.json,
// rendered text and ids) and chat35_cases.json (Qwen3.5 / Qwen3.6 templates,
// rendered text or the reference's own template error).
#include "chat/chat.h"
#include "tok/json_util.h"
#include "tok/tokenizer.h"
#include "tok_test_util.h"
#include "util/error.h"

#include <gtest/gtest.h>

using namespace mlxmtp::detail;
using namespace tok_test;

namespace {

const tokenizer &qwen3() {
    static std::unique_ptr<tokenizer> t = tokenizer::open(fixture("qwen3-tokenizer"));
    return *t;
}

// The case without the reference outputs: the template variables.
std::string input_of(json_object *c) {
    json_object *o = json_object_new_object();
    json_object_object_foreach(c, k, v) {
        std::string key = k;
        if (key == "rendered" || key == "ids" || key == "error") continue;
        json_object_object_add(o, k, json_object_get(v));
    }
    std::string s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
    json_object_put(o);
    return s;
}

}  // namespace

TEST(ChatFixtures, Qwen3CasesRenderTextAndIdsExactly) {
    auto doc = load_json("qwen3-tokenizer/chat_cases.json");
    size_t n = json_object_array_length(doc.get());
    ASSERT_EQ(n, 8u);
    ASSERT_FALSE(qwen3().chat_template().empty());
    for (size_t i = 0; i < n; ++i) {
        json_object *c = json_object_array_get_idx(doc.get(), i);
        std::string text;
        ASSERT_NO_THROW(text = render_chat(&qwen3(), "", input_of(c))) << "case " << i;
        EXPECT_EQ(text, str(get(c, "rendered"))) << "case " << i;
        EXPECT_EQ(qwen3().encode(text), ids(get(c, "ids"))) << "case " << i;
    }
}

static void run_chat35(const char *which, const char *file) {
    auto doc = load_json("qwen3-tokenizer/chat35_cases.json");
    json_object *cases = get(doc.get(), which);
    ASSERT_NE(cases, nullptr);
    std::string tmpl = read_file_bytes(fixture(std::string("chat_templates/") + file));
    size_t n = json_object_array_length(cases);
    ASSERT_EQ(n, 13u);
    size_t errors = 0;
    for (size_t i = 0; i < n; ++i) {
        json_object *c = json_object_array_get_idx(cases, i);
        json_object *err = get(c, "error");
        if (err) {
            ++errors;
            // The reference raised TemplateError('<message>'): so must we, with that message.
            std::string want = str(err);
            size_t q1 = want.find('\''), q2 = want.rfind('\'');
            std::string msg = q1 != std::string::npos && q2 > q1 ? want.substr(q1 + 1, q2 - q1 - 1) : want;
            try {
                render_chat(&qwen3(), tmpl, input_of(c));
                ADD_FAILURE() << which << " case " << i << " rendered, the reference raised " << want;
            } catch (const error &e) {
                EXPECT_EQ(e.status(), MLXMTP_ERR_TEMPLATE);
                EXPECT_NE(std::string(e.what()).find(msg), std::string::npos) << e.what();
                EXPECT_NE(std::string(e.what()).find("line "), std::string::npos) << e.what();
            }
            continue;
        }
        std::string text;
        ASSERT_NO_THROW(text = render_chat(&qwen3(), tmpl, input_of(c))) << which << " case " << i;
        EXPECT_EQ(text, str(get(c, "rendered"))) << which << " case " << i;
    }
    EXPECT_EQ(errors, 1u);
}

TEST(ChatFixtures, Qwen35TemplateMatchesReference) { run_chat35("qwen3.5", "qwen3.5.jinja"); }
TEST(ChatFixtures, Qwen36TemplateMatchesReference) { run_chat35("qwen3.6", "qwen3.6.jinja"); }

TEST(ChatFixtures, TrainedFixtureTemplateFromTokenizerConfig) {
    auto t = tokenizer::open(fixture("tiny-qwen35-trained"));
    ASSERT_FALSE(t->chat_template().empty());
    std::string text = render_chat(t.get(), "", R"({"messages":[{"role":"user","content":"Hi"}],"add_generation_prompt":true})");
    EXPECT_EQ(text, "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
    std::vector<int32_t> v = t->encode(text);
    EXPECT_EQ(v.front(), t->token_to_id("<|im_start|>"));
    EXPECT_EQ(t->decode(v.data(), v.size()), text);
}
