#include "bench/bench.h"

#include "chat/chat.h"
#include "session/generator.h"
#include "vk/bandwidth.h"

#include <json-c/json.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <random>

namespace mlxmtp::detail {

namespace {

using clock_type = std::chrono::steady_clock;
double since(clock_type::time_point t0) { return std::chrono::duration<double>(clock_type::now() - t0).count(); }

struct json_holder {
    json_object *o;
    ~json_holder() { json_object_put(o); }
};

struct arm {
    std::string name;
    uint32_t draft = 0;  // 0 = vanilla
};

struct prompt {
    std::string name;
    std::vector<int32_t> ids;
};

struct options {
    std::vector<arm> arms;
    std::vector<prompt> prompts;
    uint32_t max_tokens = 64, repeat = 3, warmup = 1;
    bool ceiling = false;
    sampling_params sampling;
};

int64_t get_int(json_object *o, const char *k, int64_t def) {
    json_object *v;
    return json_object_object_get_ex(o, k, &v) ? json_object_get_int64(v) : def;
}

// Built-in prompt sets (need a tokenizer).
const char *kCode =
    "import json\nimport os\nfrom typing import Dict, List, Optional\n\n\nclass Config:\n    \"\"\"Loads settings "
    "from a JSON file and the environment.\"\"\"\n\n    def __init__(self, path: str) -> None:\n        self.path = path\n"
    "        self.values: Dict[str, str] = {}\n\n    def load(self) -> None:\n        with open(self.path) as f:\n";
const char *kLongUnit =
    "The engine streams every weight once per decoded token, so decode speed is bounded by memory bandwidth. "
    "Speculative decoding with the model's own multi-token-prediction head drafts several tokens, and one "
    "backbone pass verifies them all, which turns a bandwidth-bound loop into fewer, wider passes. ";

// A one-message chat through the tokenizer's own template (raw text when it has none).
std::vector<int32_t> encode_chat(const tokenizer &tok, const std::string &user) {
    if (tok.chat_template().empty()) return tok.encode(user);
    json_object *in = json_object_new_object();
    json_object *msgs = json_object_new_array(), *msg = json_object_new_object();
    json_object_object_add(msg, "role", json_object_new_string("user"));
    json_object_object_add(msg, "content", json_object_new_string(user.c_str()));
    json_object_array_add(msgs, msg);
    json_object_object_add(in, "messages", msgs);
    json_object_object_add(in, "add_generation_prompt", json_object_new_boolean(1));
    std::string js = json_object_to_json_string(in);
    json_object_put(in);
    return tok.encode(render_chat(&tok, tok.chat_template(), js));
}

options parse_options(const std::string &js, const engine_model &m, const tokenizer *tok) {
    options o;
    json_object *root = json_tokener_parse(js.empty() ? "{}" : js.c_str());
    if (!root || !json_object_is_type(root, json_type_object)) {
        if (root) json_object_put(root);
        fail(MLXMTP_ERR_INVALID_ARG, "bench options must be a JSON object");
    }
    json_holder h{root};
    o.max_tokens = static_cast<uint32_t>(std::clamp<int64_t>(get_int(root, "max_tokens", 64), 1, 1 << 20));
    o.repeat = static_cast<uint32_t>(std::clamp<int64_t>(get_int(root, "repeat", 3), 1, 1000));
    o.warmup = static_cast<uint32_t>(std::clamp<int64_t>(get_int(root, "warmup", 1), 0, 100));
    json_object *v;
    if (json_object_object_get_ex(root, "ceiling", &v)) o.ceiling = json_object_get_boolean(v);
    if (json_object_object_get_ex(root, "temperature", &v)) o.sampling.temperature = static_cast<float>(json_object_get_double(v));
    o.sampling.seed = static_cast<uint64_t>(get_int(root, "seed", 0));
    // Arms: ["vanilla", "mtp:1", ...]
    if (json_object_object_get_ex(root, "arms", &v) && json_object_is_type(v, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(v); ++i) {
            std::string s = json_object_get_string(json_object_array_get_idx(v, i));
            arm a;
            a.name = s;
            if (s == "vanilla") {
            } else if (s.rfind("mtp:", 0) == 0) {
                a.draft = static_cast<uint32_t>(std::atoi(s.c_str() + 4));
                if (a.draft < 1 || a.draft > 8) fail(MLXMTP_ERR_INVALID_ARG, "arm %s: k must be 1..8", s.c_str());
                if (!m.mtp().present) fail(MLXMTP_ERR_UNSUPPORTED, "arm %s: the model has no MTP head", s.c_str());
            } else {
                fail(MLXMTP_ERR_INVALID_ARG, "unknown arm \"%s\" (vanilla, mtp:K)", s.c_str());
            }
            o.arms.push_back(a);
        }
    }
    if (o.arms.empty()) o.arms.push_back({"vanilla", 0});
    // Prompts: explicit list, built-in set, or random ids of given lengths.
    const uint32_t vocab = static_cast<uint32_t>(m.usable_vocab());
    if (json_object_object_get_ex(root, "prompts", &v) && json_object_is_type(v, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(v); ++i) {
            json_object *p = json_object_array_get_idx(v, i), *x;
            prompt pr;
            pr.name = json_object_object_get_ex(p, "name", &x) ? json_object_get_string(x) : "prompt" + std::to_string(i);
            if (json_object_object_get_ex(p, "ids", &x)) {
                for (size_t j = 0; j < json_object_array_length(x); ++j)
                    pr.ids.push_back(json_object_get_int(json_object_array_get_idx(x, j)));
            } else if (json_object_object_get_ex(p, "text", &x)) {
                if (!tok) fail(MLXMTP_ERR_UNSUPPORTED, "text prompts need the model's tokenizer");
                pr.ids = tok->encode(json_object_get_string(x));
            }
            if (pr.ids.empty()) fail(MLXMTP_ERR_INVALID_ARG, "prompt %s is empty", pr.name.c_str());
            o.prompts.push_back(pr);
        }
    }
    if (json_object_object_get_ex(root, "prompt_lengths", &v) && json_object_is_type(v, json_type_array)) {
        std::mt19937 rng(1234);
        for (size_t i = 0; i < json_object_array_length(v); ++i) {
            int64_t n = json_object_get_int64(json_object_array_get_idx(v, i));
            if (n < 1) fail(MLXMTP_ERR_INVALID_ARG, "prompt lengths must be positive");
            prompt pr;
            pr.name = "random" + std::to_string(n);
            for (int64_t j = 0; j < n; ++j) pr.ids.push_back(static_cast<int32_t>(rng() % vocab));
            o.prompts.push_back(pr);
        }
    }
    std::string set = "default";
    if (json_object_object_get_ex(root, "prompt_set", &v)) set = json_object_get_string(v);
    if (o.prompts.empty()) {
        if (!tok) {
            std::mt19937 rng(1234);
            prompt pr{"random16", {}};
            for (int j = 0; j < 16; ++j) pr.ids.push_back(static_cast<int32_t>(rng() % vocab));
            o.prompts.push_back(pr);
        } else {
            if (set == "default" || set == "chat") o.prompts.push_back({"short_chat", encode_chat(*tok, "Write a Python function that returns the n-th Fibonacci number.")});
            if (set == "default" || set == "code") o.prompts.push_back({"code_completion", tok->encode(kCode)});
            if (set == "long") {
                std::string text;
                std::vector<int32_t> ids;
                while (ids.size() < 4096) {
                    text += kLongUnit;
                    ids = tok->encode(text);
                }
                o.prompts.push_back({"long_context", ids});
            }
            if (o.prompts.empty()) fail(MLXMTP_ERR_INVALID_ARG, "unknown prompt_set \"%s\" (default, chat, code, long)", set.c_str());
        }
    }
    return o;
}

struct run_result {
    std::vector<int32_t> tokens;
    double prefill_s = 0, ttft_s = 0, decode_s = 0;
    uint64_t rounds = 0, drafted = 0, accepted = 0, round_tokens = 0;
    std::vector<uint64_t> reached, accepted_at;
};

run_result run_once(const engine_model &m, const arm &a, const prompt &p, const options &o) {
    session_options so;
    so.n_ctx = static_cast<uint32_t>(p.ids.size() + o.max_tokens + 16);
    so.snapshot_window = std::max<uint32_t>(16, a.draft);
    generator g(m, so, a.draft ? decoder_kind::mtp : decoder_kind::vanilla, a.draft);
    run_result r;
    auto t0 = clock_type::now();
    g.prefill(p.ids.data(), static_cast<uint32_t>(p.ids.size()));
    r.prefill_s = since(t0);
    generate_params gp;
    gp.sampling = o.sampling;
    gp.max_tokens = o.max_tokens;
    auto t1 = clock_type::now();
    bool first = true;
    while (r.tokens.size() < o.max_tokens) {
        step_output s = g.step(gp);
        if (first) {
            r.ttft_s = r.prefill_s + since(t1);
            t1 = clock_type::now();
            first = false;
        }
        r.tokens.insert(r.tokens.end(), s.tokens.begin(), s.tokens.end());
        if (s.tokens.empty()) break;  // eos ignored: benchmarks run to max_tokens
    }
    r.decode_s = since(t1);
    if (r.tokens.size() > o.max_tokens) r.tokens.resize(o.max_tokens);
    const mtp_stats &st = g.stats();
    r.rounds = st.rounds;
    r.drafted = st.drafted;
    r.accepted = st.accepted;
    r.round_tokens = st.tokens;
    for (uint32_t i = 0; i < a.draft && i < 8; ++i) {
        r.reached.push_back(st.reached[i]);
        r.accepted_at.push_back(st.accepted_at[i]);
    }
    return r;
}

json_object *stat3(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    json_object *o = json_object_new_object();
    double med = v.empty() ? 0 : (v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]));
    json_object_object_add(o, "median", json_object_new_double(med));
    json_object_object_add(o, "min", json_object_new_double(v.empty() ? 0 : v.front()));
    json_object_object_add(o, "max", json_object_new_double(v.empty() ? 0 : v.back()));
    return o;
}

std::string iso_date() {
    std::time_t t = std::time(nullptr);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
    return buf;
}

}  // namespace

std::string run_bench(const engine_model &m, const tokenizer *tok, const std::string &options_json,
                      const std::function<bool(double, const std::string &)> &progress) {
    options o = parse_options(options_json, m, tok);
    vk_device &dev = m.device();
    json_object *root = json_object_new_object();
    json_holder h{root};
    json_object_object_add(root, "schema", json_object_new_string("mlxmtp-bench/1"));
    json_object_object_add(root, "date", json_object_new_string(iso_date().c_str()));
    json_object_object_add(root, "library_version", json_object_new_string(MLXMTP_VERSION_STRING));
    json_object *jd = json_object_new_object();
    json_object_object_add(jd, "name", json_object_new_string(dev.info().name));
    json_object_object_add(jd, "driver", json_object_new_string(dev.info().driver));
    json_object_object_add(jd, "device_local_bytes", json_object_new_int64(static_cast<int64_t>(dev.info().device_local_bytes)));
    json_object_object_add(root, "device", jd);
    const text_config &c = m.text();
    json_object *jm = json_object_new_object();
    json_object_object_add(jm, "path", json_object_new_string(m.dir().c_str()));
    json_object_object_add(jm, "format", json_object_new_string(ops::wformat_name(m.matrix_format())));
    json_object_object_add(jm, "hidden_size", json_object_new_int64(c.hidden_size));
    json_object_object_add(jm, "num_layers", json_object_new_int64(c.num_hidden_layers));
    json_object_object_add(jm, "vocab_size", json_object_new_int64(c.vocab_size));
    json_object_object_add(jm, "has_mtp", json_object_new_boolean(m.mtp().present));
    json_object_object_add(jm, "decode_weight_bytes", json_object_new_int64(static_cast<int64_t>(m.decode_weight_bytes())));
    json_object_object_add(root, "model", jm);
    json_object *js = json_object_new_object();
    json_object_object_add(js, "max_tokens", json_object_new_int64(o.max_tokens));
    json_object_object_add(js, "repeat", json_object_new_int64(o.repeat));
    json_object_object_add(js, "warmup", json_object_new_int64(o.warmup));
    json_object_object_add(js, "temperature", json_object_new_double(o.sampling.temperature));
    json_object_object_add(root, "settings", js);
    double ceiling = o.ceiling ? measure_copy_bandwidth(dev) : 0;
    json_object_object_add(root, "ceiling_gb_s", o.ceiling ? json_object_new_double(ceiling) : nullptr);

    const double total = double(o.arms.size() * o.prompts.size() * (o.repeat + o.warmup));
    double done = 0;
    std::vector<std::vector<int32_t>> vanilla_tokens(o.prompts.size());
    bool have_vanilla = false;
    json_object *arms = json_object_new_array();
    for (const arm &a : o.arms) {
        json_object *ja = json_object_new_object();
        json_object_object_add(ja, "name", json_object_new_string(a.name.c_str()));
        json_object_object_add(ja, "decoder", json_object_new_string(a.draft ? "mtp" : "vanilla"));
        json_object_object_add(ja, "draft_tokens", json_object_new_int64(a.draft));
        json_object *jps = json_object_new_array();
        for (size_t pi = 0; pi < o.prompts.size(); ++pi) {
            const prompt &p = o.prompts[pi];
            std::vector<double> ttft, pre, dec;
            run_result first;
            for (uint32_t r = 0; r < o.warmup + o.repeat; ++r) {
                if (progress && !progress(done / total, a.name + " " + p.name))
                    fail(MLXMTP_ERR_ABORTED, "benchmark aborted");
                run_result rr = run_once(m, a, p, o);
                done += 1;
                if (r < o.warmup) continue;
                if (r == o.warmup) first = rr;
                ttft.push_back(rr.ttft_s);
                pre.push_back(p.ids.size() / std::max(rr.prefill_s, 1e-9));
                dec.push_back(rr.tokens.size() > 1 ? (rr.tokens.size() - 1) / std::max(rr.decode_s, 1e-9) : 0);
            }
            if (!a.draft && !have_vanilla) vanilla_tokens[pi] = first.tokens;
            json_object *jp = json_object_new_object();
            json_object_object_add(jp, "prompt", json_object_new_string(p.name.c_str()));
            json_object_object_add(jp, "prompt_tokens", json_object_new_int64(static_cast<int64_t>(p.ids.size())));
            json_object_object_add(jp, "generated_tokens", json_object_new_int64(static_cast<int64_t>(first.tokens.size())));
            json_object_object_add(jp, "ttft_s", stat3(ttft));
            json_object_object_add(jp, "prefill_tok_s", stat3(pre));
            json_object_object_add(jp, "decode_tok_s", stat3(dec));
            std::sort(dec.begin(), dec.end());
            double dec_med = dec.empty() ? 0 : dec[dec.size() / 2];
            json_object *acc = json_object_new_array();
            for (size_t i = 0; i < first.reached.size(); ++i)
                json_object_array_add(acc, json_object_new_double(first.reached[i] ? double(first.accepted_at[i]) / first.reached[i] : 0));
            json_object_object_add(jp, "acceptance_per_position", acc);
            json_object_object_add(jp, "acceptance_rate",
                                   json_object_new_double(first.drafted ? double(first.accepted) / first.drafted : 0));
            json_object_object_add(jp, "tokens_per_round",
                                   json_object_new_double(first.rounds ? double(first.round_tokens) / first.rounds : 1.0));
            bool greedy = sampling_is_greedy(o.sampling);
            json_object_object_add(jp, "output_match",
                                   (have_vanilla || !a.draft) && greedy ? json_object_new_boolean(first.tokens == vanilla_tokens[pi]) : nullptr);
            json_object_object_add(jp, "peak_device_bytes", json_object_new_int64(static_cast<int64_t>(dev.peak_allocated_bytes())));
            json_object_object_add(jp, "decode_bandwidth_fraction",
                                   o.ceiling && ceiling > 0 ? json_object_new_double(double(m.decode_weight_bytes()) * dec_med / 1e9 / ceiling) : nullptr);
            json_object_array_add(jps, jp);
        }
        if (!a.draft) have_vanilla = true;
        json_object_object_add(ja, "prompts", jps);
        json_object_array_add(arms, ja);
    }
    json_object_object_add(root, "arms", arms);
    if (progress) progress(1.0, "done");
    return json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
}

}  // namespace mlxmtp::detail
