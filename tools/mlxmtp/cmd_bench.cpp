// mlxmtp bench: vanilla vs MTP arms on the same prompts; a table on the
// terminal and a JSON report (docs/bench-report.schema.json).
#include "cli.h"
#include "cli_model.h"

#include <cstdio>
#include <fstream>
#include <sstream>

namespace mlxmtp_cli {
namespace {

struct bench_opts {
    model_opts model;
    std::string arms = "vanilla", drafts, prompt_set, prompts_file, prompt_lengths, out;
    uint32_t max_tokens = 64, repeat = 3, warmup = 1;
    float temperature = 0;
    uint64_t seed = 0;
    bool ceiling = false, json = false;
};

std::vector<std::string> split(const std::string &s) {
    std::vector<std::string> v;
    std::string cur;
    for (char c : s + ",") {
        if (c == ',' || c == ' ') {
            if (!cur.empty()) v.push_back(cur);
            cur.clear();
        } else {
            cur += c;
        }
    }
    return v;
}

int32_t progress_cb(double f, const char *stage, void *ud) {
    static_cast<progress_bar *>(ud)->update(f, stage);
    return 0;
}

double get_median(json_object *o, const char *k) {
    json_object *s, *m;
    if (!json_object_object_get_ex(o, k, &s) || !json_object_object_get_ex(s, "median", &m)) return 0;
    return json_object_get_double(m);
}

void print_table(json_object *rep) {
    json_object *arms, *v;
    if (json_object_object_get_ex(rep, "ceiling_gb_s", &v) && v)
        std::printf("copy ceiling: %.0f GB/s\n", json_object_get_double(v));
    std::printf("%-10s %-16s %7s %9s %11s %10s %8s %9s %6s %s\n", "arm", "prompt", "prompt", "ttft_s", "prefill/s",
                "decode/s", "tok/rnd", "accept", "match", "bw");
    if (!json_object_object_get_ex(rep, "arms", &arms)) return;
    for (size_t i = 0; i < json_object_array_length(arms); ++i) {
        json_object *a = json_object_array_get_idx(arms, i), *ps, *name;
        json_object_object_get_ex(a, "name", &name);
        json_object_object_get_ex(a, "prompts", &ps);
        for (size_t j = 0; j < json_object_array_length(ps); ++j) {
            json_object *p = json_object_array_get_idx(ps, j), *pn, *pt, *tpr, *acc, *match, *bw;
            json_object_object_get_ex(p, "prompt", &pn);
            json_object_object_get_ex(p, "prompt_tokens", &pt);
            json_object_object_get_ex(p, "tokens_per_round", &tpr);
            json_object_object_get_ex(p, "acceptance_rate", &acc);
            json_object_object_get_ex(p, "output_match", &match);
            json_object_object_get_ex(p, "decode_bandwidth_fraction", &bw);
            std::printf("%-10s %-16s %7d %9.4f %11.1f %10.1f %8.2f %9.3f %6s %s\n", json_object_get_string(name),
                        json_object_get_string(pn), json_object_get_int(pt), get_median(p, "ttft_s"),
                        get_median(p, "prefill_tok_s"), get_median(p, "decode_tok_s"), json_object_get_double(tpr),
                        json_object_get_double(acc), match ? (json_object_get_boolean(match) ? "yes" : "NO") : "-",
                        bw ? std::to_string(json_object_get_double(bw)).substr(0, 5).c_str() : "-");
        }
    }
}

int run_bench(const bench_opts &o) {
    json_object *opt = json_object_new_object();
    json_object *arms = json_object_new_array();
    for (const std::string &a : split(o.arms)) json_object_array_add(arms, json_object_new_string(a.c_str()));
    for (const std::string &k : split(o.drafts))
        json_object_array_add(arms, json_object_new_string(("mtp:" + k).c_str()));
    json_object_object_add(opt, "arms", arms);
    json_object_object_add(opt, "max_tokens", json_object_new_int64(o.max_tokens));
    json_object_object_add(opt, "repeat", json_object_new_int64(o.repeat));
    json_object_object_add(opt, "warmup", json_object_new_int64(o.warmup));
    json_object_object_add(opt, "ceiling", json_object_new_boolean(o.ceiling));
    json_object_object_add(opt, "temperature", json_object_new_double(o.temperature));
    json_object_object_add(opt, "seed", json_object_new_int64(static_cast<int64_t>(o.seed)));
    if (!o.prompt_set.empty()) json_object_object_add(opt, "prompt_set", json_object_new_string(o.prompt_set.c_str()));
    if (!o.prompt_lengths.empty()) {
        json_object *l = json_object_new_array();
        for (const std::string &n : split(o.prompt_lengths)) json_object_array_add(l, json_object_new_int64(std::atoll(n.c_str())));
        json_object_object_add(opt, "prompt_lengths", l);
    }
    if (!o.prompts_file.empty()) {  // JSONL: {"name": ..., "text": ...} or {"name": ..., "ids": [...]}
        std::ifstream in(o.prompts_file);
        if (!in) {
            json_object_put(opt);
            std::fprintf(stderr, "error: cannot read %s\n", o.prompts_file.c_str());
            return kExitFailure;
        }
        json_object *ps = json_object_new_array();
        std::string line;
        int ln = 0;
        while (std::getline(in, line)) {
            ++ln;
            if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
            json_object *p = json_tokener_parse(line.c_str());
            if (!p || !json_object_is_type(p, json_type_object)) {
                if (p) json_object_put(p);
                json_object_put(ps);
                json_object_put(opt);
                std::fprintf(stderr, "error: %s:%d is not a JSON object\n", o.prompts_file.c_str(), ln);
                return kExitUsage;
            }
            json_object_array_add(ps, p);
        }
        json_object_object_add(opt, "prompts", ps);
    }
    std::string options = json_object_to_json_string(opt);
    json_object_put(opt);

    loaded_model lm;
    int rc = open_model(o.model, o.json, &lm);
    if (rc) return rc;
    progress_bar bar("bench");
    const char *report = nullptr;
    mlxmtp_status st = mlxmtp_bench_run(lm.model, options.c_str(), progress_cb, &bar, &report);
    bar.finish();
    if (st != MLXMTP_OK) return report_failure("benchmark", st, o.json);
    if (!o.out.empty()) {
        std::string tmp = o.out + ".tmp";
        std::ofstream f(tmp, std::ios::trunc);
        f << report << "\n";
        f.close();
        if (!f || std::rename(tmp.c_str(), o.out.c_str()) != 0) {
            std::fprintf(stderr, "error: cannot write %s\n", o.out.c_str());
            return kExitFailure;
        }
    }
    if (o.json) {
        std::printf("%s\n", report);
    } else {
        json_object *rep = json_tokener_parse(report);
        if (rep) {
            print_table(rep);
            json_object_put(rep);
        }
    }
    return 0;
}

[[maybe_unused]] const bool registered = register_command(
    "bench", "Benchmark vanilla and MTP decoding on the same prompts", [](CLI::App &sub) -> run_fn {
        auto o = std::make_shared<bench_opts>();
        add_model_options(sub, o->model);
        sub.add_option("--arms", o->arms, "Arms, comma-separated: vanilla, mtp:K (default vanilla)");
        sub.add_option("--draft", o->drafts, "Add MTP arms for these k values, e.g. 1,2,3,4");
        sub.add_option("--prompt-set", o->prompt_set, "Built-in prompts: default, chat, code, long (4k+ tokens)");
        sub.add_option("--prompts", o->prompts_file, "JSONL file of prompts ({\"name\", \"text\"|\"ids\"})");
        sub.add_option("--prompt-lengths", o->prompt_lengths, "Random-id prompts of these lengths, e.g. 16,2048");
        sub.add_option("--max-tokens", o->max_tokens, "Tokens generated per run (default 64)");
        sub.add_option("--repeat", o->repeat, "Measured runs per arm and prompt (default 3)");
        sub.add_option("--warmup", o->warmup, "Unmeasured runs first (default 1)");
        sub.add_flag("--ceiling", o->ceiling, "Measure the device's copy ceiling and report decode bandwidth against it");
        sub.add_option("--temperature", o->temperature, "0 = greedy (default)");
        sub.add_option("--seed", o->seed, "Sampling seed");
        sub.add_option("--out", o->out, "Write the JSON report to FILE");
        sub.add_flag("--json", o->json, "Print the JSON report instead of the table");
        return [o] { return run_bench(*o); };
    });

}  // namespace
}  // namespace mlxmtp_cli
