#include "quant/policy.h"

#include <algorithm>
#include <cctype>

namespace mlxmtp::detail {

namespace {
// Substrings (case-sensitive), as in mlx_mtp/quantize.py.
const char *const kMultimodal[] = {"visual", "vision_model", "vision_tower", "vl_connector", "sam_model",
                                   "audio_model", "audio_tower", "code_predictor", "img_projector",
                                   "multi_modal_projector", "merger"};
const char *const kRecurrent[] = {"a_log", "A_log", "dt_bias", "conv1d", "ssm_alpha", "ssm_beta", "time_decay",
                                  "time_faaaa"};

bool ends_with(const std::string &s, const char *suf) {
    size_t n = std::char_traits<char>::length(suf);
    return s.size() >= n && s.compare(s.size() - n, n, suf) == 0;
}
}  // namespace

const char *keep_reason_name(keep_reason r) {
    switch (r) {
    case keep_reason::quantize: return "quantized";
    case keep_reason::vision: return "vision";
    case keep_reason::mtp: return "mtp";
    case keep_reason::recurrent: return "recurrent";
    case keep_reason::norm: return "norm";
    case keep_reason::not_matrix: return "not-2d-weight";
    case keep_reason::not_float: return "not-float";
    case keep_reason::unaligned: return "unaligned";
    }
    return "?";
}

bool is_mtp_tensor(const std::string &name) {
    std::string l = name;
    std::transform(l.begin(), l.end(), l.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return l.find("mtp") != std::string::npos;
}

keep_reason decide_tensor(const std::string &name, dtype type, const std::vector<int64_t> &shape) {
    for (const char *m : kMultimodal)
        if (name.find(m) != std::string::npos) return keep_reason::vision;
    if (is_mtp_tensor(name)) return keep_reason::mtp;
    for (const char *s : kRecurrent)
        if (name.find(s) != std::string::npos) return keep_reason::recurrent;
    if (!ends_with(name, ".weight") || shape.size() != 2) return keep_reason::not_matrix;
    // the module name (the component before ".weight") names a norm
    std::string mod = name.substr(0, name.size() - 7);
    size_t dot = mod.rfind('.');
    std::string last = dot == std::string::npos ? mod : mod.substr(dot + 1);
    if (last.find("norm") != std::string::npos) return keep_reason::norm;
    if (type != dtype::bf16 && type != dtype::f16 && type != dtype::f32) return keep_reason::not_float;
    if (shape[0] <= 0 || shape[1] <= 0 || shape[1] % 32 != 0) return keep_reason::unaligned;
    return keep_reason::quantize;
}

}  // namespace mlxmtp::detail
