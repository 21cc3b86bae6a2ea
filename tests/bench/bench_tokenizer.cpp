// Tokenizer throughput on mixed text, one core (not a test: prints numbers).
// Usage: bench_tokenizer [TOKENIZER_DIR] [MB]
// The text is every qwen3-tokenizer reference case (hand-picked edge cases,
// random Unicode, source code, docs) plus the trained fixture's Python
// prompts, repeated to the requested size.
#include "tok/detokenizer.h"
#include "tok/tokenizer.h"
#include "tok/json_util.h"

#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <string>

using namespace mlxmtp::detail;
using clk = std::chrono::steady_clock;

// CPU time of this process: what "one core" means on a shared machine.
static double cpu_seconds() {
    timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

int main(int argc, char **argv) {
    std::string fixtures = MLXMTP_FIXTURES_DIR;
    std::string dir = argc > 1 ? argv[1] : fixtures + "/qwen3-tokenizer";
    double mb = argc > 2 ? std::atof(argv[2]) : 16;
    try {
        auto t0 = clk::now();
        auto tok = tokenizer::open(dir);
        double load_s = std::chrono::duration<double>(clk::now() - t0).count();

        std::string sample;
        json_ptr cases = json_parse(read_file_bytes(fixtures + "/qwen3-tokenizer/tokenizer_cases.json"), "cases");
        for (size_t i = 0; i < json_object_array_length(cases.get()); ++i) {
            json_object *t = nullptr;
            json_object_object_get_ex(json_object_array_get_idx(cases.get(), i), "text", &t);
            sample.append(json_object_get_string(t), static_cast<size_t>(json_object_get_string_len(t)));
            sample += "\n";
        }
        json_ptr gen = json_parse(read_file_bytes(fixtures + "/tiny-qwen35-trained/reference_generation.json"), "gen");
        json_object *list = nullptr;
        json_object_object_get_ex(gen.get(), "cases", &list);
        for (size_t i = 0; i < json_object_array_length(list); ++i) {
            json_object *t = nullptr;
            json_object_object_get_ex(json_object_array_get_idx(list, i), "prompt_text", &t);
            sample += json_object_get_string(t);
            json_object_object_get_ex(json_object_array_get_idx(list, i), "greedy_text", &t);
            sample += json_object_get_string(t);
        }
        size_t non_ascii = 0;
        for (char c : sample) non_ascii += static_cast<unsigned char>(c) >= 0x80;

        // Cold: the first pass over the sample, with an empty piece cache.
        auto tc = clk::now();
        std::vector<int32_t> cold = tok->encode(sample);
        double cold_s = std::chrono::duration<double>(clk::now() - tc).count();
        // Encode the sample in document-sized chunks (as a server would).
        size_t target = static_cast<size_t>(mb * 1e6), bytes = 0, n_ids = 0;
        std::vector<int32_t> ids;
        auto t1 = clk::now();
        double c1 = cpu_seconds();
        while (bytes < target) {
            ids.clear();
            tok->encode(sample, {}, ids);
            bytes += sample.size();
            n_ids += ids.size();
        }
        double enc_s = std::chrono::duration<double>(clk::now() - t1).count();
        double enc_cpu = cpu_seconds() - c1;

        std::vector<int32_t> one = tok->encode(sample);
        size_t dec_bytes = 0;
        auto t2 = clk::now();
        while (dec_bytes < target) {
            detokenizer d(*tok, false);
            std::string out;
            d.push(one.data(), one.size(), out);
            d.flush(out);
            dec_bytes += out.size();
        }
        double dec_s = std::chrono::duration<double>(clk::now() - t2).count();

        std::printf("tokenizer %s (%s, vocab %zu), load %.2f s\n", dir.c_str(), tok->backend_name().c_str(),
                    tok->vocab_size(), load_s);
        std::printf("sample: %zu bytes, %.1f%% non-ASCII bytes, %.2f bytes/token\n", sample.size(),
                    100.0 * static_cast<double>(non_ascii) / static_cast<double>(sample.size()),
                    static_cast<double>(sample.size()) / static_cast<double>(one.size()));
        std::printf("encode, cold piece cache (first pass): %.2f MB/s\n", sample.size() / 1e6 / cold_s);
        std::printf("encode: %.1f MB in %.2f s wall = %.1f MB/s; %.2f s CPU = %.1f MB/s per core (%.2f M tokens/s)\n",
                    bytes / 1e6, enc_s, bytes / 1e6 / enc_s, enc_cpu, bytes / 1e6 / enc_cpu,
                    static_cast<double>(n_ids) / 1e6 / enc_cpu);
        std::printf("decode (streaming): %.1f MB in %.2f s = %.1f MB/s\n", dec_bytes / 1e6, dec_s, dec_bytes / 1e6 / dec_s);
    } catch (const std::exception &e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
    return 0;
}
