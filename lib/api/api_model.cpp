// C ABI: models, sessions, generation.
#include "api/api_objects.h"
#include "api/api_tokenizer.h"
#include "bench/bench.h"
#include "util/fs.h"
#include "model/model.h"
#include "session/generator.h"

#include <atomic>
#include <mutex>
#include <cstring>

using namespace mlxmtp::detail;

struct mlxmtp_model {
    error_slot err;
    std::unique_ptr<mlxmtp_instance> own_instance;  // when the caller gave none
    std::unique_ptr<engine_model> m;
    std::shared_ptr<const tokenizer> tok;  // when the checkpoint ships one
    std::atomic<int> sessions{0};
    std::mutex bench_mutex;    // guards bench_report (one benchmark at a time per model)
    std::string bench_report;  // the last mlxmtp_bench_run report
};

struct mlxmtp_session {
    error_slot err;
    mlxmtp_model *model = nullptr;
    std::unique_ptr<generator> g;
    bool lost = false;  // after MLXMTP_ERR_DEVICE_LOST only destroy is valid
};

namespace {

// Runs a session call; a lost device makes the session unusable.
template <class F>
mlxmtp_status session_call(mlxmtp_session *s, F &&f) {
    if (!s) {
        set_thread_error("session is NULL");
        return MLXMTP_ERR_INVALID_ARG;
    }
    if (s->lost) {
        record_error(&s->err, "the device was lost: this session only accepts destroy");
        return MLXMTP_ERR_DEVICE_LOST;
    }
    mlxmtp_status st = guard(&s->err, std::forward<F>(f));
    if (st == MLXMTP_ERR_DEVICE_LOST) s->lost = true;
    return st;
}

ops::wformat format_from_public(uint32_t f) {
    switch (f) {
    case MLXMTP_FORMAT_BF16: return ops::wformat::bf16;
    case MLXMTP_FORMAT_MXFP4: return ops::wformat::mxfp4;
    case MLXMTP_FORMAT_MXFP8: return ops::wformat::mxfp8;
    case MLXMTP_FORMAT_F32: return ops::wformat::f32;
    default: fail(MLXMTP_ERR_INVALID_ARG, "unknown weight format %u", f);
    }
}

uint32_t format_to_public(ops::wformat f) {
    switch (f) {
    case ops::wformat::bf16: return MLXMTP_FORMAT_BF16;
    case ops::wformat::mxfp4: return MLXMTP_FORMAT_MXFP4;
    case ops::wformat::mxfp8: return MLXMTP_FORMAT_MXFP8;
    case ops::wformat::f32: return MLXMTP_FORMAT_F32;
    }
    return MLXMTP_FORMAT_F32;
}

}  // namespace

extern "C" {

MLXMTP_API void mlxmtp_model_params_init(mlxmtp_model_params *p) {
    if (!p) return;
    std::memset(p, 0, sizeof *p);
    p->struct_size = sizeof *p;
    p->synthetic_format = MLXMTP_FORMAT_BF16;
    p->synthetic_seed = 1;
}

MLXMTP_API mlxmtp_status mlxmtp_model_open(const char *path, const mlxmtp_model_params *params, mlxmtp_model **out) {
    if (out) *out = nullptr;
    return guard(nullptr, [&] {
        if (!path || !out) fail(MLXMTP_ERR_INVALID_ARG, "path or out is NULL");
        mlxmtp_model_params defaults;
        mlxmtp_model_params_init(&defaults);
        mlxmtp_model_params p = read_params(params, defaults);
        if (p.flags & ~(MLXMTP_MODEL_SYNTHETIC | MLXMTP_MODEL_TENSOR_CORES | MLXMTP_MODEL_NO_TENSOR_CORES |
                        MLXMTP_MODEL_PRECISE_ACTIVATIONS))
            fail(MLXMTP_ERR_INVALID_ARG, "unknown model flags 0x%x", p.flags);
        if ((p.flags & MLXMTP_MODEL_TENSOR_CORES) && (p.flags & MLXMTP_MODEL_NO_TENSOR_CORES))
            fail(MLXMTP_ERR_INVALID_ARG, "MLXMTP_MODEL_TENSOR_CORES and MLXMTP_MODEL_NO_TENSOR_CORES together");
        const bool tensor_cores = (p.flags & MLXMTP_MODEL_NO_TENSOR_CORES) == 0;  // the default: where native
        const bool x_split = (p.flags & MLXMTP_MODEL_PRECISE_ACTIVATIONS) != 0;
        auto m = std::make_unique<mlxmtp_model>();
        mlxmtp_instance *inst = p.instance;
        if (!inst) {
            mlxmtp_instance *raw = nullptr;
            mlxmtp_status st = mlxmtp_instance_create(nullptr, &raw);
            if (st != MLXMTP_OK) fail(st, "%s", mlxmtp_last_error());
            m->own_instance.reset(raw);
            inst = raw;
        }
        std::shared_ptr<vk_device> dev = inst->device(p.device_index);
        if (p.flags & MLXMTP_MODEL_SYNTHETIC) {
            synthetic_options so;
            so.format = format_from_public(p.synthetic_format);
            so.seed = p.synthetic_seed;
            so.tensor_cores = tensor_cores;
            so.x_split = x_split;
            m->m = engine_model::synthetic(load_model_config_file(path), dev, so);
        } else {
            model_open_options mo;
            mo.tensor_cores = tensor_cores;
            mo.x_split = x_split;
            if (p.progress_cb)
                mo.progress = [&](double f, const std::string &what) {
                    return p.progress_cb(f, what.c_str(), p.progress_user_data) == 0;
                };
            m->m = engine_model::open(path, dev, mo);
            const std::string dir = path;
            if (path_exists(dir + "/tokenizer.json") || path_exists(dir + "/tokenizer.model")) {
                m->tok = tokenizer::open(dir);
                // Padded vocabulary rows have no token: never produce them.
                int64_t usable = std::min<int64_t>(m->m->text().vocab_size, static_cast<int64_t>(m->tok->vocab_size()));
                m->m->set_usable_vocab(static_cast<int32_t>(usable));
            }
        }
        *out = m.release();
        return MLXMTP_OK;
    });
}

MLXMTP_API void mlxmtp_model_destroy(mlxmtp_model *model) {
    if (!model) return;
    try {
        model->m.reset();  // before the private instance it may use
        delete model;
    } catch (...) {
    }
}

MLXMTP_API const char *mlxmtp_model_last_error(const mlxmtp_model *model) {
    return model ? model->err.message.c_str() : "";
}

MLXMTP_API void mlxmtp_model_info_init(mlxmtp_model_info *info) {
    if (!info) return;
    std::memset(info, 0, sizeof *info);
    info->struct_size = sizeof *info;
}

MLXMTP_API mlxmtp_status mlxmtp_model_get_info(const mlxmtp_model *model, mlxmtp_model_info *info) {
    return guard(model ? const_cast<error_slot *>(&model->err) : nullptr, [&] {
        if (!model || !info) fail(MLXMTP_ERR_INVALID_ARG, "model or info is NULL");
        const engine_model &m = *model->m;
        const text_config &c = m.text();
        mlxmtp_model_info r;
        mlxmtp_model_info_init(&r);
        r.vocab_size = static_cast<uint32_t>(c.vocab_size);
        r.usable_vocab = static_cast<uint32_t>(m.usable_vocab());
        r.hidden_size = static_cast<uint32_t>(c.hidden_size);
        r.num_layers = static_cast<uint32_t>(c.num_hidden_layers);
        for (auto k : c.layer_types) r.num_linear_layers += k == layer_kind::linear_attention;
        r.max_context = static_cast<uint32_t>(c.max_position_embeddings);
        r.has_mtp = m.mtp().present ? 1 : 0;
        r.weight_format = format_to_public(m.matrix_format());
        for (int32_t id : m.eos_ids())
            if (r.num_eos < 8) r.eos_ids[r.num_eos++] = id;
        r.device_bytes = m.device_bytes();
        r.decode_weight_bytes = m.decode_weight_bytes();
        std::snprintf(r.device_name, sizeof r.device_name, "%s", m.device().info().name);
        r.tensor_cores = m.tensor_cores() ? 1 : 0;
        r.tensor_core_x_bits = m.tensor_core_x_bits();
        write_info(info, r);
        return MLXMTP_OK;
    });
}

MLXMTP_API void mlxmtp_session_params_init(mlxmtp_session_params *p) {
    if (!p) return;
    std::memset(p, 0, sizeof *p);
    p->struct_size = sizeof *p;
    p->snapshot_window = 16;
    p->max_batch = 256;
    p->decoder = MLXMTP_DECODER_VANILLA;
    p->draft_tokens = 3;
}

MLXMTP_API mlxmtp_status mlxmtp_session_create(mlxmtp_model *model, const mlxmtp_session_params *params,
                                               mlxmtp_session **out) {
    if (out) *out = nullptr;
    return guard(model ? &model->err : nullptr, [&] {
        if (!model || !out) fail(MLXMTP_ERR_INVALID_ARG, "model or out is NULL");
        mlxmtp_session_params defaults;
        mlxmtp_session_params_init(&defaults);
        mlxmtp_session_params p = read_params(params, defaults);
        if (p.flags) fail(MLXMTP_ERR_INVALID_ARG, "unknown session flags 0x%x", p.flags);
        if (p.max_batch == 0 || p.max_batch > 4096) fail(MLXMTP_ERR_INVALID_ARG, "max_batch must be 1..4096");
        if (p.snapshot_window > 256) fail(MLXMTP_ERR_INVALID_ARG, "snapshot_window must be at most 256");
        session_options so;
        so.n_ctx = p.n_ctx;
        so.snapshot_window = p.snapshot_window;
        so.max_batch = p.max_batch;
        if (p.abort_cb) {
            mlxmtp_abort_fn fn = p.abort_cb;
            void *ud = p.abort_user_data;
            so.abort = [fn, ud] { return fn(ud) != 0; };
        }
        auto s = std::make_unique<mlxmtp_session>();
        s->model = model;
        if (p.decoder != MLXMTP_DECODER_VANILLA && p.decoder != MLXMTP_DECODER_MTP)
            fail(MLXMTP_ERR_INVALID_ARG, "unknown decoder %u", p.decoder);
        if (p.decoder == MLXMTP_DECODER_MTP && (p.draft_tokens < 1 || p.draft_tokens > 8))
            fail(MLXMTP_ERR_INVALID_ARG, "draft_tokens must be 1..8");
        s->g = std::make_unique<generator>(*model->m, so, static_cast<decoder_kind>(p.decoder),
                                           p.decoder == MLXMTP_DECODER_MTP ? p.draft_tokens : 0);
        model->sessions.fetch_add(1);
        *out = s.release();
        return MLXMTP_OK;
    });
}

MLXMTP_API void mlxmtp_session_destroy(mlxmtp_session *session) {
    if (!session) return;
    try {
        session->model->sessions.fetch_sub(1);
        delete session;
    } catch (...) {
    }
}

MLXMTP_API const char *mlxmtp_session_last_error(const mlxmtp_session *session) {
    return session ? session->err.message.c_str() : "";
}

MLXMTP_API uint32_t mlxmtp_session_position(const mlxmtp_session *session) {
    return session && session->g ? session->g->position() : 0;
}

MLXMTP_API mlxmtp_status mlxmtp_session_prefill(mlxmtp_session *session, const int32_t *ids, size_t n) {
    return session_call(session, [&] {
        if (!ids && n) fail(MLXMTP_ERR_INVALID_ARG, "ids is NULL");
        if (n > UINT32_MAX) fail(MLXMTP_ERR_CONTEXT_FULL, "too many tokens");
        session->g->prefill(ids, static_cast<uint32_t>(n));
        return MLXMTP_OK;
    });
}

MLXMTP_API mlxmtp_status mlxmtp_session_eval(mlxmtp_session *session, const int32_t *ids, size_t n, uint32_t flags) {
    return session_call(session, [&] {
        if (!ids && n) fail(MLXMTP_ERR_INVALID_ARG, "ids is NULL");
        if (flags & ~MLXMTP_EVAL_ALL_LOGITS) fail(MLXMTP_ERR_INVALID_ARG, "unknown eval flags 0x%x", flags);
        if (n > UINT32_MAX) fail(MLXMTP_ERR_CONTEXT_FULL, "too many tokens");
        if (flags & MLXMTP_EVAL_ALL_LOGITS)
            session->g->eval_all(ids, static_cast<uint32_t>(n));
        else
            session->g->prefill(ids, static_cast<uint32_t>(n));
        return MLXMTP_OK;
    });
}

MLXMTP_API mlxmtp_status mlxmtp_session_logits(const mlxmtp_session *session, const float **data, uint32_t *rows,
                                               uint32_t *vocab) {
    return guard(session ? const_cast<error_slot *>(&session->err) : nullptr, [&] {
        if (!session || !data || !rows || !vocab) fail(MLXMTP_ERR_INVALID_ARG, "NULL argument");
        const engine_session &s = session->g->session();
        if (s.logits_row_count() == 0) fail(MLXMTP_ERR_BAD_STATE, "no logits kept by the last call");
        *data = s.logits().data();
        *rows = s.logits_row_count();
        *vocab = static_cast<uint32_t>(s.model().text().vocab_size);
        return MLXMTP_OK;
    });
}

MLXMTP_API void mlxmtp_generate_params_init(mlxmtp_generate_params *p) {
    if (!p) return;
    std::memset(p, 0, sizeof *p);
    p->struct_size = sizeof *p;
    p->top_p = 1.0f;
    p->repetition_penalty = 1.0f;
    p->draft_tokens = -1;
}

MLXMTP_API void mlxmtp_step_result_init(mlxmtp_step_result *r) {
    if (!r) return;
    std::memset(r, 0, sizeof *r);
    r->struct_size = sizeof *r;
}

MLXMTP_API mlxmtp_status mlxmtp_generate_step(mlxmtp_session *session, const mlxmtp_generate_params *params,
                                              mlxmtp_step_result *out) {
    return session_call(session, [&] {
        if (!out || out->struct_size < sizeof(uint32_t) * 2)
            fail(MLXMTP_ERR_INVALID_ARG, "out is NULL or not initialised with mlxmtp_step_result_init");
        mlxmtp_generate_params defaults;
        mlxmtp_generate_params_init(&defaults);
        mlxmtp_generate_params p = read_params(params, defaults);
        if (p.temperature < 0 || p.top_p <= 0 || p.top_p > 1 || p.min_p < 0 || p.min_p > 1 ||
            p.repetition_penalty <= 0 || p.top_k < 0)
            fail(MLXMTP_ERR_INVALID_ARG, "sampling parameter out of range");
        generate_params gp;
        gp.max_tokens = p.max_tokens;
        gp.sampling.temperature = p.temperature;
        gp.sampling.top_k = p.top_k;
        gp.sampling.top_p = p.top_p;
        gp.sampling.min_p = p.min_p;
        gp.sampling.repetition_penalty = p.repetition_penalty;
        gp.sampling.presence_penalty = p.presence_penalty;
        gp.sampling.seed = p.seed;
        if (p.draft_tokens < -1 || p.draft_tokens > 8) fail(MLXMTP_ERR_INVALID_ARG, "draft_tokens must be -1..8");
        gp.draft = p.draft_tokens;
        step_output so = session->g->step(gp);
        mlxmtp_step_result r;
        mlxmtp_step_result_init(&r);
        r.n_tokens = static_cast<uint32_t>(std::min<size_t>(so.tokens.size(), MLXMTP_MAX_STEP_TOKENS));
        for (uint32_t i = 0; i < r.n_tokens; ++i) r.tokens[i] = so.tokens[i];
        r.finish_reason = static_cast<uint32_t>(so.finish);
        write_info(out, r);
        return MLXMTP_OK;
    });
}

MLXMTP_API mlxmtp_status mlxmtp_model_tokenizer(const mlxmtp_model *model, mlxmtp_tokenizer **out) {
    if (out) *out = nullptr;
    return guard(model ? const_cast<error_slot *>(&model->err) : nullptr, [&] {
        if (!model || !out) fail(MLXMTP_ERR_INVALID_ARG, "model or out is NULL");
        if (!model->tok) fail(MLXMTP_ERR_NOT_FOUND, "the model directory has no tokenizer");
        *out = make_tokenizer_handle(model->tok);
        return MLXMTP_OK;
    });
}

MLXMTP_API mlxmtp_status mlxmtp_rollback(mlxmtp_session *session, uint32_t n) {
    return session_call(session, [&] {
        session->g->rollback(n);
        return MLXMTP_OK;
    });
}

MLXMTP_API mlxmtp_status mlxmtp_session_add_stop_sequence(mlxmtp_session *session, const int32_t *ids, size_t n) {
    return session_call(session, [&] {
        if (!ids || n == 0) fail(MLXMTP_ERR_INVALID_ARG, "empty stop sequence");
        session->g->add_stop_sequence(std::vector<int32_t>(ids, ids + n));
        return MLXMTP_OK;
    });
}

MLXMTP_API void mlxmtp_session_clear_stop_sequences(mlxmtp_session *session) {
    if (session && session->g) session->g->clear_stop_sequences();
}

MLXMTP_API void mlxmtp_session_stats_init(mlxmtp_session_stats *stats) {
    if (!stats) return;
    std::memset(stats, 0, sizeof *stats);
    stats->struct_size = sizeof *stats;
}

MLXMTP_API mlxmtp_status mlxmtp_session_get_stats(const mlxmtp_session *session, mlxmtp_session_stats *stats) {
    return guard(session ? const_cast<error_slot *>(&session->err) : nullptr, [&] {
        if (!session || !stats || stats->struct_size < sizeof(uint32_t))
            fail(MLXMTP_ERR_INVALID_ARG, "session or stats is NULL (or stats not initialised)");
        const generator &g = *session->g;
        const mtp_stats &st = g.stats();
        mlxmtp_session_stats r;
        mlxmtp_session_stats_init(&r);
        r.decoder = static_cast<uint32_t>(g.decoder());
        r.draft_tokens = g.default_draft();
        r.rounds = st.rounds;
        r.drafted = st.drafted;
        r.accepted = st.accepted;
        r.acceptance_rate = st.drafted ? double(st.accepted) / double(st.drafted) : 0.0;
        r.tokens_per_round = st.rounds ? double(st.tokens) / double(st.rounds) : 0.0;
        for (uint32_t i = 0; i < 8; ++i)
            if (st.reached[i]) {
                r.acceptance_per_position[i] = double(st.accepted_at[i]) / double(st.reached[i]);
                r.n_positions = i + 1;
            }
        r.snapshot_bytes = g.session().snapshot_bytes();
        r.state_bytes = g.session().state_bytes();
        write_info(stats, r);
        return MLXMTP_OK;
    });
}

MLXMTP_API void mlxmtp_session_reset_stats(mlxmtp_session *session) {
    if (session && session->g) session->g->reset_stats();
}

MLXMTP_API mlxmtp_status mlxmtp_session_mtp_logits(mlxmtp_session *session, const int32_t *ids, size_t n,
                                                   const uint32_t *positions, size_t n_positions, float *out) {
    return session_call(session, [&] {
        if (!ids || n < 2) fail(MLXMTP_ERR_INVALID_ARG, "need at least 2 ids");
        if (n_positions && (!positions || !out)) fail(MLXMTP_ERR_INVALID_ARG, "positions or out is NULL");
        if (n > UINT32_MAX) fail(MLXMTP_ERR_CONTEXT_FULL, "too many tokens");
        for (size_t i = 0; i < n_positions; ++i)
            if (positions[i] >= n - 1) fail(MLXMTP_ERR_INVALID_ARG, "position %u has no MTP row (n = %zu)", positions[i], n);
        std::vector<float> l = session->g->mtp_teacher_forced(ids, static_cast<uint32_t>(n));
        const size_t V = static_cast<size_t>(session->g->session().model().text().vocab_size);
        for (size_t i = 0; i < n_positions; ++i)
            std::memcpy(out + i * V, l.data() + size_t(positions[i]) * V, V * sizeof(float));
        return MLXMTP_OK;
    });
}

MLXMTP_API mlxmtp_status mlxmtp_bench_run(mlxmtp_model *model, const char *options_json,
                                          mlxmtp_progress_fn progress_cb, void *user_data, const char **report_json) {
    if (report_json) *report_json = nullptr;
    return guard(model ? &model->err : nullptr, [&] {
        if (!model || !report_json) fail(MLXMTP_ERR_INVALID_ARG, "model or report_json is NULL");
        std::lock_guard<std::mutex> lock(model->bench_mutex);
        std::function<bool(double, const std::string &)> progress;
        if (progress_cb)
            progress = [&](double f, const std::string &what) { return progress_cb(f, what.c_str(), user_data) == 0; };
        model->bench_report = run_bench(*model->m, model->tok.get(), options_json ? options_json : "{}", progress);
        *report_json = model->bench_report.c_str();
        return MLXMTP_OK;
    });
}

}  // extern "C"
