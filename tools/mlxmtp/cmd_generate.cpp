// mlxmtp generate: run a model on a prompt and print the generated tokens
// (and text, when the model directory has a tokenizer), with timings.
#include "cli.h"
#include "cli_model.h"

#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <sstream>

namespace mlxmtp_cli {
namespace {

struct generate_opts {
    model_opts model;
    std::string prompt_ids, prompt;
    uint32_t prompt_len = 0;  // random prompt of this many ids (synthetic models)
    uint32_t max_tokens = 32;
    uint32_t n_ctx = 0;
    uint32_t max_batch = 0;  // 0: the library's default
    float temperature = 0, top_p = 1, min_p = 0, repetition_penalty = 1, presence_penalty = 0;
    int top_k = 0;
    uint64_t seed = 0;
    bool json = false, ignore_eos = false, chat = false, no_think = false;
    std::string system;
    std::string decoder = "vanilla";
    uint32_t draft = 3;
    std::string dump_logits;
};

const char *finish_name(uint32_t f) {
    switch (f) {
    case MLXMTP_FINISH_EOS: return "eos";
    case MLXMTP_FINISH_STOP: return "stop";
    case MLXMTP_FINISH_LENGTH: return "length";
    default: return "none";
    }
}

double now_s() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

int run_generate(const generate_opts &o) {
    std::vector<int32_t> prompt;
    if (!o.prompt_ids.empty()) {
        if (!parse_id_list(o.prompt_ids, &prompt)) {
            std::fprintf(stderr, "error: --prompt-ids must be integers separated by commas or spaces\n");
            return kExitUsage;
        }
    }
    loaded_model lm;
    int rc = open_model(o.model, o.json, &lm);
    if (rc) return rc;
    mlxmtp_tokenizer *tok = nullptr;
    mlxmtp_model_tokenizer(lm.model, &tok);  // NULL when the model has none
    struct tok_guard {
        mlxmtp_tokenizer *t;
        ~tok_guard() { mlxmtp_tokenizer_destroy(t); }
    } tg{tok};
    if (!o.prompt.empty()) {
        if (!tok) {
            std::fprintf(stderr, "error: --prompt needs a tokenizer in the model directory; use --prompt-ids\n");
            return kExitUsage;
        }
        std::string text = o.prompt;
        if (o.chat) {
            json_object *in = json_object_new_object();
            json_object *msgs = json_object_new_array();
            if (!o.system.empty()) {
                json_object *m = json_object_new_object();
                json_object_object_add(m, "role", json_object_new_string("system"));
                json_object_object_add(m, "content", json_object_new_string(o.system.c_str()));
                json_object_array_add(msgs, m);
            }
            json_object *m = json_object_new_object();
            json_object_object_add(m, "role", json_object_new_string("user"));
            json_object_object_add(m, "content", json_object_new_string(o.prompt.c_str()));
            json_object_array_add(msgs, m);
            json_object_object_add(in, "messages", msgs);
            json_object_object_add(in, "add_generation_prompt", json_object_new_boolean(1));
            if (o.no_think) json_object_object_add(in, "enable_thinking", json_object_new_boolean(0));
            const char *rendered = nullptr;
            size_t len = 0;
            mlxmtp_status cst = mlxmtp_tokenizer_render_chat(tok, json_object_to_json_string(in), nullptr, &rendered, &len);
            json_object_put(in);
            if (cst != MLXMTP_OK) return report_failure("rendering the chat template", cst, o.json);
            text.assign(rendered, len);
        }
        size_t n = 0;
        mlxmtp_status est = mlxmtp_tokenizer_encode(tok, text.data(), text.size(), 0, nullptr, 0, &n);
        if (est != MLXMTP_OK && est != MLXMTP_ERR_BUFFER_TOO_SMALL) return report_failure("tokenizing", est, o.json);
        prompt.resize(n);
        est = mlxmtp_tokenizer_encode(tok, text.data(), text.size(), 0, prompt.data(), n, &n);
        if (est != MLXMTP_OK) return report_failure("tokenizing", est, o.json);
    }
    mlxmtp_model_info info;
    mlxmtp_model_info_init(&info);
    mlxmtp_model_get_info(lm.model, &info);
    if (prompt.empty()) {
        uint32_t n = o.prompt_len ? o.prompt_len : 16;
        std::mt19937 rng(1234);
        for (uint32_t i = 0; i < n; ++i) prompt.push_back(static_cast<int32_t>(rng() % info.usable_vocab));
    }
    mlxmtp_session_params sp;
    mlxmtp_session_params_init(&sp);
    sp.n_ctx = o.n_ctx ? o.n_ctx : static_cast<uint32_t>(prompt.size() + o.max_tokens + 16);
    if (o.max_batch) sp.max_batch = o.max_batch;
    if (o.decoder == "mtp") {
        sp.decoder = MLXMTP_DECODER_MTP;
        sp.draft_tokens = o.draft;
        if (sp.snapshot_window < o.draft) sp.snapshot_window = o.draft;
    }
    mlxmtp_session *s = nullptr;
    mlxmtp_status st = mlxmtp_session_create(lm.model, &sp, &s);
    if (st != MLXMTP_OK) return report_failure("creating a session", st, o.json);
    if (tok && !o.ignore_eos) {  // the tokenizer's end-of-turn token ends generation too
        int32_t eos = mlxmtp_tokenizer_special_id(tok, MLXMTP_TOKEN_EOS);
        if (eos >= 0) mlxmtp_session_add_stop_sequence(s, &eos, 1);
    }
    mlxmtp_detokenizer *detok = nullptr;
    if (tok) mlxmtp_detokenizer_create(tok, 0, &detok);
    std::string text_out;

    double t0 = now_s();
    st = mlxmtp_session_eval(s, prompt.data(), prompt.size(), o.dump_logits.empty() ? 0 : MLXMTP_EVAL_ALL_LOGITS);
    double t_prefill = now_s() - t0;
    if (st != MLXMTP_OK) {
        rc = report_failure("prefill", st, o.json);
        mlxmtp_session_destroy(s);
        return rc;
    }
    if (!o.dump_logits.empty()) {
        const float *data;
        uint32_t rows, vocab;
        st = mlxmtp_session_logits(s, &data, &rows, &vocab);
        if (st != MLXMTP_OK || !write_logits_safetensors(o.dump_logits, data, rows, vocab)) {
            std::fprintf(stderr, "error: could not write %s\n", o.dump_logits.c_str());
            mlxmtp_session_destroy(s);
            return kExitFailure;
        }
    }
    mlxmtp_generate_params gp;
    mlxmtp_generate_params_init(&gp);
    gp.max_tokens = o.max_tokens;
    gp.temperature = o.temperature;
    gp.top_k = o.top_k;
    gp.top_p = o.top_p;
    gp.min_p = o.min_p;
    gp.repetition_penalty = o.repetition_penalty;
    gp.presence_penalty = o.presence_penalty;
    gp.seed = o.seed;
    std::vector<int32_t> out;
    uint32_t finish = MLXMTP_FINISH_NONE;
    double t_first = 0, t_start = now_s();
    while (finish == MLXMTP_FINISH_NONE) {
        mlxmtp_step_result r;
        mlxmtp_step_result_init(&r);
        st = mlxmtp_generate_step(s, &gp, &r);
        if (st != MLXMTP_OK) {
            rc = report_failure("generating", st, o.json);
            mlxmtp_session_destroy(s);
            return rc;
        }
        if (out.empty()) t_first = now_s() - t_start;
        out.insert(out.end(), r.tokens, r.tokens + r.n_tokens);
        finish = r.finish_reason;
        if (finish == MLXMTP_FINISH_EOS && o.ignore_eos && out.size() < o.max_tokens) finish = MLXMTP_FINISH_NONE;
        if (r.n_tokens == 0 && finish == MLXMTP_FINISH_NONE) break;
        const char *piece = nullptr;
        size_t plen = 0;
        if (detok && mlxmtp_detokenizer_push(detok, r.tokens, r.n_tokens, &piece, &plen) == MLXMTP_OK) {
            text_out.append(piece, plen);
            if (!o.json) std::fwrite(piece, 1, plen, stdout);
        } else if (!o.json) {
            for (uint32_t i = 0; i < r.n_tokens; ++i) std::printf("%d ", r.tokens[i]);
        }
        if (!o.json) std::fflush(stdout);
    }
    if (detok) {
        const char *piece = nullptr;
        size_t plen = 0;
        if (mlxmtp_detokenizer_flush(detok, &piece, &plen) == MLXMTP_OK) {
            text_out.append(piece, plen);
            if (!o.json) std::fwrite(piece, 1, plen, stdout);
        }
        mlxmtp_detokenizer_destroy(detok);
    }
    double t_total = now_s() - t_start;
    double decode_s = t_total - t_first;
    size_t n = out.size();
    if (o.json) {
        json_object *j = json_object_new_object();
        json_object *toks = json_object_new_array();
        for (int32_t t : out) json_object_array_add(toks, json_object_new_int(t));
        json_object_object_add(j, "tokens", toks);
        if (tok) json_object_object_add(j, "text", json_object_new_string_len(text_out.data(), static_cast<int>(text_out.size())));
        json_object_object_add(j, "finish_reason", json_object_new_string(finish_name(finish)));
        json_object_object_add(j, "prompt_tokens", json_object_new_int(static_cast<int>(prompt.size())));
        // Whether MXFP4 and bf16 products ran on tensor cores (the default where native; --no-tensor-cores).
        json_object_object_add(j, "tensor_cores", json_object_new_boolean(info.tensor_cores != 0));
        // Significant bits of x in those products (11, or 22 with --precise-activations; 0 without).
        json_object_object_add(j, "tensor_core_x_bits", json_object_new_int(static_cast<int>(info.tensor_core_x_bits)));
        json_object *tm = json_object_new_object();
        json_object_object_add(tm, "ttft_s", json_object_new_double(t_prefill + t_first));
        json_object_object_add(tm, "prefill_s", json_object_new_double(t_prefill));
        json_object_object_add(tm, "decode_s", json_object_new_double(decode_s));
        json_object_object_add(tm, "prefill_tok_s", json_object_new_double(prompt.size() / t_prefill));
        json_object_object_add(tm, "decode_tok_s", json_object_new_double(n > 1 && decode_s > 0 ? (n - 1) / decode_s : 0));
        json_object_object_add(j, "timings", tm);
        mlxmtp_session_stats ss;
        mlxmtp_session_stats_init(&ss);
        if (mlxmtp_session_get_stats(s, &ss) == MLXMTP_OK) {
            json_object *js = json_object_new_object();
            json_object_object_add(js, "decoder", json_object_new_string(o.decoder.c_str()));
            json_object_object_add(js, "draft_tokens", json_object_new_int64(ss.draft_tokens));
            json_object_object_add(js, "rounds", json_object_new_int64(static_cast<int64_t>(ss.rounds)));
            json_object_object_add(js, "drafted", json_object_new_int64(static_cast<int64_t>(ss.drafted)));
            json_object_object_add(js, "accepted", json_object_new_int64(static_cast<int64_t>(ss.accepted)));
            json_object_object_add(js, "acceptance_rate", json_object_new_double(ss.acceptance_rate));
            json_object *ap = json_object_new_array();
            for (uint32_t i = 0; i < ss.n_positions; ++i) json_object_array_add(ap, json_object_new_double(ss.acceptance_per_position[i]));
            json_object_object_add(js, "acceptance_per_position", ap);
            json_object_object_add(js, "tokens_per_round", json_object_new_double(ss.tokens_per_round));
            json_object_object_add(js, "snapshot_bytes", json_object_new_int64(static_cast<int64_t>(ss.snapshot_bytes)));
            json_object_object_add(j, "stats", js);
        }
        json_object *mi = json_object_new_object();
        json_object_object_add(mi, "device", json_object_new_string(info.device_name));
        json_object_object_add(mi, "decode_weight_bytes", json_object_new_int64(static_cast<int64_t>(info.decode_weight_bytes)));
        json_object_object_add(j, "model", mi);
        print_json(j);
    } else {
        std::printf("\n[%zu tokens, finish: %s] prefill %zu tokens in %.3f s (%.1f tok/s), decode %.1f tok/s\n", n,
                    finish_name(finish), prompt.size(), t_prefill, prompt.size() / t_prefill,
                    n > 1 && decode_s > 0 ? (n - 1) / decode_s : 0.0);
        mlxmtp_session_stats ss;
        mlxmtp_session_stats_init(&ss);
        if (o.decoder == "mtp" && mlxmtp_session_get_stats(s, &ss) == MLXMTP_OK) {
            std::printf("[MTP k=%u] rounds %llu, drafted %llu, accepted %llu (%.3f), tokens/round %.2f, per position:",
                        ss.draft_tokens, static_cast<unsigned long long>(ss.rounds),
                        static_cast<unsigned long long>(ss.drafted), static_cast<unsigned long long>(ss.accepted),
                        ss.acceptance_rate, ss.tokens_per_round);
            for (uint32_t i = 0; i < ss.n_positions; ++i) std::printf(" %.3f", ss.acceptance_per_position[i]);
            std::printf("\n");
        }
    }
    mlxmtp_session_destroy(s);
    return 0;
}

[[maybe_unused]] const bool registered = register_command(
    "generate", "Generate tokens from a prompt", [](CLI::App &sub) -> run_fn {
        auto o = std::make_shared<generate_opts>();
        add_model_options(sub, o->model);
        sub.add_option("--prompt-ids", o->prompt_ids, "Prompt token ids, e.g. 1,2,3");
        sub.add_option("--prompt", o->prompt, "Prompt text (needs the model's tokenizer)");
        sub.add_flag("--chat", o->chat, "Wrap --prompt in the model's chat template as a user message");
        sub.add_option("--system", o->system, "System message for --chat");
        sub.add_flag("--no-think", o->no_think, "Pass enable_thinking=false to the chat template");
        sub.add_option("--decoder", o->decoder, "vanilla (default) or mtp (the model's own MTP head drafts)")
            ->check(CLI::IsMember({"vanilla", "mtp"}));
        sub.add_option("--draft", o->draft, "MTP draft tokens per round, 1..8 (default 3)")->check(CLI::Range(1, 8));
        sub.add_option("--prompt-len", o->prompt_len, "Random prompt of this many ids when no prompt is given");
        sub.add_option("--max-tokens", o->max_tokens, "Tokens to generate (default 32)");
        sub.add_option("--n-ctx", o->n_ctx, "Context limit (default: prompt + max tokens)");
        sub.add_option("--max-batch", o->max_batch, "Prompt tokens per forward chunk, 1..4096 (default 256)")
            ->check(CLI::Range(1, 4096));
        sub.add_option("--temperature", o->temperature, "0 = greedy (default)");
        sub.add_option("--top-k", o->top_k, "0 = off");
        sub.add_option("--top-p", o->top_p, "1 = off");
        sub.add_option("--min-p", o->min_p, "0 = off");
        sub.add_option("--repetition-penalty", o->repetition_penalty, "1 = off");
        sub.add_option("--presence-penalty", o->presence_penalty, "0 = off");
        sub.add_option("--seed", o->seed, "Sampling seed");
        sub.add_flag("--ignore-eos", o->ignore_eos, "Keep generating after an end-of-sequence id");
        sub.add_option("--dump-logits", o->dump_logits, "Write the prompt's logits to FILE (safetensors, F32 [T, V])");
        sub.add_flag("--json", o->json, "Machine-readable output");
        return [o] { return run_generate(*o); };
    });

}  // namespace
}  // namespace mlxmtp_cli
