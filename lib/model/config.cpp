// config.json -> model_config, with json-c.  Every required field is checked
// for presence, type and range; errors name the file and the field path.
#include "model/config.h"

#include <json-c/json.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>

namespace mlxmtp::detail {

int64_t text_config::rotary_dim() const {
    return static_cast<int64_t>(std::llround(static_cast<double>(head_dim) * rope.partial_rotary_factor));
}

namespace {

struct jdel {
    void operator()(json_object *o) const { json_object_put(o); }
};
using jptr = std::unique_ptr<json_object, jdel>;

struct reader {
    const std::string &where;

    [[noreturn]] void bad(const std::string &field, const char *what) const {
        fail(MLXMTP_ERR_CONFIG, "%s: %s: %s", where.c_str(), field.c_str(), what);
    }
    static json_object *get(json_object *o, const char *key) {
        json_object *v = nullptr;
        if (!o || !json_object_is_type(o, json_type_object)) return nullptr;
        if (!json_object_object_get_ex(o, key, &v)) return nullptr;
        return v;  // may be NULL for a JSON null
    }
    static bool has(json_object *o, const char *key) {
        return o && json_object_is_type(o, json_type_object) && json_object_object_get_ex(o, key, nullptr);
    }
    int64_t integer(json_object *v, const std::string &field, int64_t lo, int64_t hi) const {
        if (!v) bad(field, "missing or null");
        if (!json_object_is_type(v, json_type_int)) bad(field, "must be an integer");
        errno = 0;
        int64_t x = json_object_get_int64(v);
        if (errno != 0 || x < lo || x > hi)
            fail(MLXMTP_ERR_CONFIG, "%s: %s: %lld is out of range [%lld, %lld]", where.c_str(), field.c_str(),
                 static_cast<long long>(x), static_cast<long long>(lo), static_cast<long long>(hi));
        return x;
    }
    int64_t req_int(json_object *o, const char *key, const std::string &prefix, int64_t lo, int64_t hi) const {
        return integer(get(o, key), prefix + key, lo, hi);
    }
    int64_t opt_int(json_object *o, const char *key, const std::string &prefix, int64_t lo, int64_t hi,
                    int64_t def) const {
        json_object *v = get(o, key);
        return v ? integer(v, prefix + key, lo, hi) : def;
    }
    double number(json_object *v, const std::string &field, double lo, double hi, bool lo_open) const {
        if (!v) bad(field, "missing or null");
        if (!json_object_is_type(v, json_type_int) && !json_object_is_type(v, json_type_double))
            bad(field, "must be a number");
        double x = json_object_get_double(v);
        if (!std::isfinite(x) || x < lo || (lo_open && x == lo) || x > hi)
            fail(MLXMTP_ERR_CONFIG, "%s: %s: %g is out of range %c%g, %g]", where.c_str(), field.c_str(), x,
                 lo_open ? '(' : '[', lo, hi);
        return x;
    }
    bool boolean(json_object *o, const char *key, const std::string &prefix, bool def) const {
        json_object *v = get(o, key);
        if (!v) return def;
        if (!json_object_is_type(v, json_type_boolean)) bad(prefix + key, "must be true or false");
        return json_object_get_boolean(v) != 0;
    }
    std::string str(json_object *o, const char *key, const std::string &prefix, const std::string &def) const {
        json_object *v = get(o, key);
        if (!v) return def;
        if (!json_object_is_type(v, json_type_string)) bad(prefix + key, "must be a string");
        return json_object_get_string(v);
    }
};

constexpr int64_t kMaxDim = 1 << 20;

void parse_rope(const reader &r, json_object *tc, const std::string &tp, text_config &t) {
    json_object *rp = reader::get(tc, "rope_parameters");
    std::string rpp = tp + "rope_parameters.";
    if (!rp) {  // legacy spelling
        rp = reader::get(tc, "rope_scaling");
        rpp = tp + "rope_scaling.";
    }
    if (rp && !json_object_is_type(rp, json_type_object)) r.bad(rpp.substr(0, rpp.size() - 1), "must be an object");
    // theta: rope_parameters.rope_theta, else text_config.rope_theta
    if (reader::get(rp, "rope_theta"))
        t.rope.theta = r.number(reader::get(rp, "rope_theta"), rpp + "rope_theta", 0, 1e12, true);
    else if (reader::get(tc, "rope_theta"))
        t.rope.theta = r.number(reader::get(tc, "rope_theta"), tp + "rope_theta", 0, 1e12, true);
    else
        r.bad(tp + "rope_parameters.rope_theta", "missing");
    if (reader::get(rp, "partial_rotary_factor"))
        t.rope.partial_rotary_factor =
            r.number(reader::get(rp, "partial_rotary_factor"), rpp + "partial_rotary_factor", 0, 1, true);
    else if (reader::get(tc, "partial_rotary_factor"))
        t.rope.partial_rotary_factor =
            r.number(reader::get(tc, "partial_rotary_factor"), tp + "partial_rotary_factor", 0, 1, true);
    std::string type = r.str(rp, "rope_type", rpp, "");
    if (type.empty()) type = r.str(rp, "type", rpp, "default");
    t.rope.type = type;
    t.rope.mrope_interleaved = r.boolean(rp, "mrope_interleaved", rpp, true);
    t.rope.mrope_section.clear();
    if (json_object *ms = reader::get(rp, "mrope_section")) {
        if (!json_object_is_type(ms, json_type_array)) r.bad(rpp + "mrope_section", "must be an array");
        size_t n = json_object_array_length(ms);
        if (n == 0 || n > 4) r.bad(rpp + "mrope_section", "must have 1 to 4 entries");
        int64_t sum = 0;
        for (size_t i = 0; i < n; ++i) {
            int64_t v = r.integer(json_object_array_get_idx(ms, i), rpp + "mrope_section[" + std::to_string(i) + "]",
                                  0, 4096);
            sum += v;
            t.rope.mrope_section.push_back(static_cast<int>(v));
        }
        if (sum * 2 != t.rotary_dim())
            fail(MLXMTP_ERR_CONFIG, "%s: %smrope_section sums to %lld but rotary_dim/2 = %lld", r.where.c_str(),
                 rpp.c_str(), static_cast<long long>(sum), static_cast<long long>(t.rotary_dim() / 2));
    }
}

void parse_text(const reader &r, json_object *tc, const std::string &tp, json_object *top, model_config &c) {
    text_config &t = c.text;
    t.model_type = r.str(tc, "model_type", tp, c.model_type);
    t.vocab_size = r.req_int(tc, "vocab_size", tp, 1, 1 << 24);
    t.hidden_size = r.req_int(tc, "hidden_size", tp, 1, kMaxDim);
    t.num_hidden_layers = r.req_int(tc, "num_hidden_layers", tp, 1, 4096);
    t.num_attention_heads = r.req_int(tc, "num_attention_heads", tp, 1, 4096);
    t.num_key_value_heads = r.req_int(tc, "num_key_value_heads", tp, 1, 4096);
    if (t.num_attention_heads % t.num_key_value_heads != 0)
        fail(MLXMTP_ERR_CONFIG, "%s: %snum_key_value_heads (%lld) does not divide num_attention_heads (%lld)",
             r.where.c_str(), tp.c_str(), static_cast<long long>(t.num_key_value_heads),
             static_cast<long long>(t.num_attention_heads));
    if (reader::get(tc, "head_dim")) {
        t.head_dim = r.req_int(tc, "head_dim", tp, 1, 4096);
    } else {
        if (t.hidden_size % t.num_attention_heads != 0)
            r.bad(tp + "head_dim", "missing, and hidden_size is not a multiple of num_attention_heads");
        t.head_dim = t.hidden_size / t.num_attention_heads;
    }
    bool moe = t.model_type.find("moe") != std::string::npos;
    t.intermediate_size = moe ? r.opt_int(tc, "intermediate_size", tp, 0, kMaxDim, 0)
                              : r.req_int(tc, "intermediate_size", tp, 1, kMaxDim);
    t.max_position_embeddings = r.req_int(tc, "max_position_embeddings", tp, 1, int64_t(1) << 26);
    t.rms_norm_eps = r.number(reader::get(tc, "rms_norm_eps") ? reader::get(tc, "rms_norm_eps") : nullptr,
                              tp + "rms_norm_eps", 0, 1, true);
    t.attn_output_gate = r.boolean(tc, "attn_output_gate", tp, true);
    // tie_word_embeddings: text_config wins, else the top level, else false.
    if (reader::has(tc, "tie_word_embeddings") && reader::get(tc, "tie_word_embeddings"))
        t.tie_word_embeddings = r.boolean(tc, "tie_word_embeddings", tp, false);
    else
        t.tie_word_embeddings = r.boolean(top, "tie_word_embeddings", "", false);
    t.mtp_num_hidden_layers = r.opt_int(tc, "mtp_num_hidden_layers", tp, 0, 16, 0);
    t.mtp_use_dedicated_embeddings = r.boolean(tc, "mtp_use_dedicated_embeddings", tp, false);

    // layer types
    t.layer_types.clear();
    if (json_object *lt = reader::get(tc, "layer_types")) {
        if (!json_object_is_type(lt, json_type_array)) r.bad(tp + "layer_types", "must be an array");
        size_t n = json_object_array_length(lt);
        if (static_cast<int64_t>(n) != t.num_hidden_layers)
            fail(MLXMTP_ERR_CONFIG, "%s: %slayer_types has %zu entries but num_hidden_layers is %lld", r.where.c_str(),
                 tp.c_str(), n, static_cast<long long>(t.num_hidden_layers));
        for (size_t i = 0; i < n; ++i) {
            json_object *e = json_object_array_get_idx(lt, i);
            std::string f = tp + "layer_types[" + std::to_string(i) + "]";
            if (!e || !json_object_is_type(e, json_type_string)) r.bad(f, "must be a string");
            std::string s = json_object_get_string(e);
            if (s == "linear_attention") t.layer_types.push_back(layer_kind::linear_attention);
            else if (s == "full_attention") t.layer_types.push_back(layer_kind::full_attention);
            else fail(MLXMTP_ERR_CONFIG, "%s: %s: unknown layer type \"%s\"", r.where.c_str(), f.c_str(), s.c_str());
        }
    } else {
        int64_t every = r.opt_int(tc, "full_attention_interval", tp, 1, 4096, 4);
        for (int64_t i = 0; i < t.num_hidden_layers; ++i)
            t.layer_types.push_back((i + 1) % every == 0 ? layer_kind::full_attention : layer_kind::linear_attention);
    }
    bool any_linear = false;
    for (auto k : t.layer_types) any_linear |= k == layer_kind::linear_attention;
    if (any_linear) {
        t.linear_num_key_heads = r.req_int(tc, "linear_num_key_heads", tp, 1, 4096);
        t.linear_num_value_heads = r.req_int(tc, "linear_num_value_heads", tp, 1, 4096);
        t.linear_key_head_dim = r.req_int(tc, "linear_key_head_dim", tp, 1, 4096);
        t.linear_value_head_dim = r.req_int(tc, "linear_value_head_dim", tp, 1, 4096);
        t.linear_conv_kernel_dim = r.opt_int(tc, "linear_conv_kernel_dim", tp, 1, 64, 4);
        if (t.linear_num_value_heads % t.linear_num_key_heads != 0)
            fail(MLXMTP_ERR_CONFIG, "%s: %slinear_num_key_heads (%lld) does not divide linear_num_value_heads (%lld)",
                 r.where.c_str(), tp.c_str(), static_cast<long long>(t.linear_num_key_heads),
                 static_cast<long long>(t.linear_num_value_heads));
    }

    // eos: an integer, a list of integers, or null/absent (text_config, then top level)
    t.eos_token_ids.clear();
    json_object *eos = reader::get(tc, "eos_token_id");
    std::string eos_field = tp + "eos_token_id";
    if (!eos) { eos = reader::get(top, "eos_token_id"); eos_field = "eos_token_id"; }
    if (eos) {
        if (json_object_is_type(eos, json_type_array)) {
            for (size_t i = 0; i < json_object_array_length(eos); ++i)
                t.eos_token_ids.push_back(r.integer(json_object_array_get_idx(eos, i),
                                                    eos_field + "[" + std::to_string(i) + "]", 0, t.vocab_size - 1));
        } else {
            t.eos_token_ids.push_back(r.integer(eos, eos_field, 0, t.vocab_size - 1));
        }
    }
    parse_rope(r, tc, tp, t);
    if (t.rotary_dim() <= 0 || t.rotary_dim() > t.head_dim || t.rotary_dim() % 2 != 0)
        fail(MLXMTP_ERR_CONFIG, "%s: %spartial_rotary_factor gives rotary_dim %lld for head_dim %lld",
             r.where.c_str(), tp.c_str(), static_cast<long long>(t.rotary_dim()), static_cast<long long>(t.head_dim));
}

void parse_vision(const reader &r, json_object *vc, model_config &c) {
    vision_config &v = c.vision;
    if (!vc) return;
    if (!json_object_is_type(vc, json_type_object)) r.bad("vision_config", "must be an object");
    const std::string p = "vision_config.";
    v.present = true;
    v.depth = r.req_int(vc, "depth", p, 1, 1024);
    v.hidden_size = r.req_int(vc, "hidden_size", p, 1, kMaxDim);
    v.intermediate_size = r.req_int(vc, "intermediate_size", p, 1, kMaxDim);
    v.num_heads = r.req_int(vc, "num_heads", p, 1, 4096);
    if (v.hidden_size % v.num_heads != 0) r.bad(p + "num_heads", "does not divide hidden_size");
    v.in_channels = r.opt_int(vc, "in_channels", p, 1, 16, 3);
    v.patch_size = r.opt_int(vc, "patch_size", p, 1, 1024, 16);
    v.temporal_patch_size = r.opt_int(vc, "temporal_patch_size", p, 1, 64, 2);
    v.spatial_merge_size = r.opt_int(vc, "spatial_merge_size", p, 1, 64, 2);
    v.out_hidden_size = r.req_int(vc, "out_hidden_size", p, 1, kMaxDim);
    v.num_position_embeddings = r.opt_int(vc, "num_position_embeddings", p, 1, 1 << 24, 0);
    v.hidden_act = r.str(vc, "hidden_act", p, "gelu_pytorch_tanh");
}

void parse_quant(const reader &r, json_object *top, model_config &c) {
    json_object *q = reader::get(top, "quantization");
    std::string p = "quantization.";
    if (!q) {
        q = reader::get(top, "quantization_config");
        p = "quantization_config.";
    }
    if (!q) return;
    if (!json_object_is_type(q, json_type_object)) r.bad(p.substr(0, p.size() - 1), "must be an object");
    c.quant.present = true;
    c.quant.mode = r.str(q, "mode", p, "");
    if (c.quant.mode.empty()) {
        std::string qm = r.str(q, "quant_method", p, "");
        c.quant.mode = qm == "mxfp4" ? "mxfp4" : "affine";
    }
    bool mx = c.quant.mode == "mxfp4" || c.quant.mode == "mxfp8";
    c.quant.group_size = static_cast<int>(r.opt_int(q, "group_size", p, 1, 1024, mx ? 32 : 64));
    c.quant.bits = static_cast<int>(r.opt_int(q, "bits", p, 1, 16, c.quant.mode == "mxfp8" ? 8 : 4));
    if (c.quant.mode == "mxfp4" && (c.quant.bits != 4 || c.quant.group_size != 32))
        r.bad(p + "bits", "mxfp4 needs bits 4 and group_size 32");
    if (c.quant.mode == "mxfp8" && (c.quant.bits != 8 || c.quant.group_size != 32))
        r.bad(p + "bits", "mxfp8 needs bits 8 and group_size 32");
}

// json-c accepts NaN / Infinity literals even in strict mode; JSON has none.
void check_finite(json_object *o, const std::string &where, int depth = 0) {
    if (!o || depth > 64) return;
    switch (json_object_get_type(o)) {
    case json_type_double:
        if (!std::isfinite(json_object_get_double(o)))
            fail(MLXMTP_ERR_FORMAT, "%s: invalid JSON: non-finite number %s", where.c_str(), json_object_to_json_string(o));
        break;
    case json_type_array:
        for (size_t i = 0; i < json_object_array_length(o); ++i)
            check_finite(json_object_array_get_idx(o, i), where, depth + 1);
        break;
    case json_type_object: {
        json_object_object_foreach(o, k, v) {
            (void)k;
            check_finite(v, where, depth + 1);
        }
        break;
    }
    default: break;
    }
}

}  // namespace

model_config parse_model_config_json(const std::string &json_text, const std::string &where) {
    json_tokener *tok = json_tokener_new_ex(64);
    if (!tok) throw std::bad_alloc();
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    jptr root(json_tokener_parse_ex(tok, json_text.c_str(), static_cast<int>(json_text.size())));
    json_tokener_error jerr = json_tokener_get_error(tok);
    size_t used = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    if (json_text.size() > INT32_MAX) fail(MLXMTP_ERR_FORMAT, "%s: file too large", where.c_str());
    if (!root || jerr != json_tokener_success)
        fail(MLXMTP_ERR_FORMAT, "%s: invalid JSON: %s", where.c_str(),
             jerr == json_tokener_success ? "empty document" : json_tokener_error_desc(jerr));
    for (size_t i = used; i < json_text.size(); ++i) {
        char ch = json_text[i];
        if (ch != ' ' && ch != '\n' && ch != '\r' && ch != '\t')
            fail(MLXMTP_ERR_FORMAT, "%s: invalid JSON: trailing characters at byte %zu", where.c_str(), i);
    }
    check_finite(root.get(), where);
    if (!json_object_is_type(root.get(), json_type_object))
        fail(MLXMTP_ERR_FORMAT, "%s: the top level is not a JSON object", where.c_str());

    reader r{where};
    model_config c;
    json_object *top = root.get();
    c.model_type = r.str(top, "model_type", "", "");
    if (json_object *a = reader::get(top, "architectures")) {
        if (!json_object_is_type(a, json_type_array)) r.bad("architectures", "must be an array of strings");
        for (size_t i = 0; i < json_object_array_length(a); ++i) {
            json_object *e = json_object_array_get_idx(a, i);
            if (!e || !json_object_is_type(e, json_type_string)) r.bad("architectures", "must be an array of strings");
            c.architectures.push_back(json_object_get_string(e));
        }
    }
    json_object *tc = reader::get(top, "text_config");
    std::string tp = "text_config.";
    if (tc && !json_object_is_type(tc, json_type_object)) r.bad("text_config", "must be an object");
    if (!tc) {
        tc = top;
        tp = "";
    }
    parse_text(r, tc, tp, top, c);
    parse_vision(r, reader::get(top, "vision_config"), c);
    parse_quant(r, top, c);
    c.image_token_id = r.opt_int(top, "image_token_id", "", 0, c.text.vocab_size - 1, -1);
    c.video_token_id = r.opt_int(top, "video_token_id", "", 0, c.text.vocab_size - 1, -1);
    c.vision_start_token_id = r.opt_int(top, "vision_start_token_id", "", 0, c.text.vocab_size - 1, -1);
    c.vision_end_token_id = r.opt_int(top, "vision_end_token_id", "", 0, c.text.vocab_size - 1, -1);
    return c;
}

model_config load_model_config(const std::string &dir) {
    std::string path = dir + "/config.json";
    std::ifstream in(path, std::ios::binary);
    if (!in) fail(errno == ENOENT ? MLXMTP_ERR_NOT_FOUND : MLXMTP_ERR_IO, "%s: cannot open: %s", path.c_str(),
                  std::strerror(errno));
    std::ostringstream ss;
    ss << in.rdbuf();
    if (in.bad()) fail(MLXMTP_ERR_IO, "%s: read error", path.c_str());
    return parse_model_config_json(ss.str(), path);
}

}  // namespace mlxmtp::detail
