// SentencePiece backend against Debian's sentencepiece command-line tools:
// a small model is trained here with spm_train and our ids are compared with
// spm_encode's (the reference); decoding must give spm_decode's text.
#include "tok/detokenizer.h"
#include "tok/tokenizer.h"
#include "tok/utf8.h"
#include "test_env.h"
#include "tok_test_util.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

using namespace mlxmtp::detail;

namespace {

std::string run(const std::string &cmd) {
    std::string out;
    FILE *p = popen(cmd.c_str(), "r");
    if (!p) return out;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    int rc = pclose(p);
    if (rc != 0) out = "<<failed: " + cmd + ">>";
    return out;
}

bool have_tools() { return std::system("command -v spm_train >/dev/null 2>&1 && command -v spm_encode >/dev/null 2>&1") == 0; }

std::vector<std::string> corpus_lines() {
    // Training text: the reference tokenizer cases (mixed scripts, code, emoji).
    auto doc = tok_test::load_json("qwen3-tokenizer/tokenizer_cases.json");
    std::vector<std::string> lines;
    for (size_t i = 0; i < json_object_array_length(doc.get()); ++i) {
        std::string t = tok_test::str(tok_test::get(json_object_array_get_idx(doc.get(), i), "text"));
        std::stringstream ss(t);
        std::string line;
        while (std::getline(ss, line))
            if (!line.empty() && line.find('\r') == std::string::npos) lines.push_back(line);
    }
    return lines;
}

}  // namespace

TEST(TokSpm, MatchesSpmEncodeAndDecode) {
    if (!have_tools()) GTEST_SKIP() << "sentencepiece tools (spm_train, spm_encode) not installed";
    mlxmtp::test::temp_dir dir;
    std::vector<std::string> lines = corpus_lines();
    ASSERT_GT(lines.size(), 100u);
    {
        std::ofstream f(dir / "corpus.txt");
        for (auto &l : lines) f << l << "\n";
    }
    for (const char *type : {"bpe", "unigram"}) {
        std::string prefix = dir / (std::string("m_") + type);
        std::string train = "spm_train --input=" + (dir / "corpus.txt") + " --model_prefix=" + prefix +
                            " --vocab_size=1000 --model_type=" + type +
                            " --character_coverage=0.99 --byte_fallback=true --hard_vocab_limit=false --minloglevel=2 >/dev/null 2>&1";
        ASSERT_EQ(std::system(train.c_str()), 0) << train;
        std::unique_ptr<tokenizer> t = tokenizer::open(prefix + ".model");
        EXPECT_EQ(t->backend_name(), "sentencepiece");
        EXPECT_GT(t->vocab_size(), 300u);
        // Reference ids for every line, one spm_encode run.
        std::string ids_out = run("spm_encode --model=" + prefix + ".model --output_format=id < " + (dir / "corpus.txt"));
        std::stringstream ss(ids_out);
        std::string row;
        size_t i = 0, exact = 0;
        while (std::getline(ss, row) && i < lines.size()) {
            std::vector<int32_t> want;
            std::stringstream rs(row);
            int v;
            while (rs >> v) want.push_back(v);
            std::vector<int32_t> got = t->encode(lines[i]);
            EXPECT_EQ(got, want) << type << " line " << i << ": " << lines[i];
            exact += got == want;
            // Decoding the ids gives the normalized text back (spm's own decode = the line for this corpus
            // apart from NFKC and whitespace folding), and streaming decode equals batch decode.
            std::string batch = t->decode(got.data(), got.size());
            detokenizer d(*t, false);
            std::string stream;
            for (int32_t id : got) {
                std::string piece;
                d.push(&id, 1, piece);
                EXPECT_TRUE(utf8_valid(piece));
                stream += piece;
            }
            d.flush(stream);
            EXPECT_EQ(stream, batch);
            ++i;
        }
        EXPECT_EQ(i, lines.size());
        EXPECT_EQ(exact, lines.size()) << type;
        // Batch decode equals spm_decode's text for every line.
        std::ofstream(dir / "ids.txt") << ids_out;
        std::string ref = run("spm_decode --model=" + prefix + ".model --input_format=id < " + (dir / "ids.txt"));
        std::stringstream ids_ss(ids_out), ref_ss(ref);
        std::string ids_row, ref_row;
        size_t checked = 0;
        while (std::getline(ids_ss, ids_row) && std::getline(ref_ss, ref_row)) {
            std::vector<int32_t> v;
            std::stringstream rs(ids_row);
            int x;
            while (rs >> x) v.push_back(x);
            EXPECT_EQ(t->decode(v.data(), v.size()), ref_row) << type << " line " << checked;
            ++checked;
        }
        EXPECT_EQ(checked, lines.size());
    }
}
