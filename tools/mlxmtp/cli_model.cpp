#include "cli_model.h"

#include <cstdio>
#include <cstring>
#include <sstream>
#include <unistd.h>

namespace mlxmtp_cli {

void add_model_options(CLI::App &sub, model_opts &o) {
    sub.add_option("--model", o.dir, "Model directory (config.json + safetensors)");
    sub.add_option("--synthetic", o.synthetic, "config.json: random weights of its shapes, made on the device");
    sub.add_option("--format", o.format, "Synthetic weight format: bf16, mxfp4, mxfp8")
        ->check(CLI::IsMember({"bf16", "mxfp4", "mxfp8", "f32"}));
    sub.add_option("--device", o.device, "Vulkan device index");
    sub.add_flag("--validation", o.validation, "Enable the Khronos validation layer");
    sub.add_flag("--tensor-cores", o.tensor_cores,
                 "MXFP4 and bf16 products on tensor cores where the device allows (VK_NV_cooperative_matrix): "
                 "the default; kept for scripts");
    sub.add_flag("--no-tensor-cores", o.no_tensor_cores,
                 "MXFP4 and bf16 products in the standard layouts and kernels even where tensor cores are available");
    sub.add_flag("--precise-activations", o.precise_activations,
                 "Tensor-core products read x as two fp16 halves (22 bits) instead of rounded to fp16 (11 bits; "
                 "MTP verifies of 5..8 tokens then cost more)");
}

loaded_model::~loaded_model() {
    mlxmtp_model_destroy(model);
    mlxmtp_instance_destroy(instance);
}

namespace {
int32_t progress_cb(double f, const char *stage, void *ud) {
    static_cast<progress_bar *>(ud)->update(f, stage);
    return 0;
}
}  // namespace

int open_model(const model_opts &o, bool json, loaded_model *out) {
    if (o.dir.empty() == o.synthetic.empty()) {
        std::fprintf(stderr, "error: give exactly one of --model DIR or --synthetic CONFIG\n");
        return kExitUsage;
    }
    mlxmtp_instance_params ip;
    mlxmtp_instance_params_init(&ip);
    if (o.validation) ip.flags |= MLXMTP_INSTANCE_VALIDATION;
    if (!add_tensor_core_flags(o.tensor_cores, o.no_tensor_cores, &ip.flags)) return kExitUsage;
    mlxmtp_status st = mlxmtp_instance_create(&ip, &out->instance);
    if (st != MLXMTP_OK) return report_failure("creating the Vulkan instance", st, json);
    mlxmtp_model_params mp;
    mlxmtp_model_params_init(&mp);
    mp.instance = out->instance;
    mp.device_index = static_cast<uint32_t>(o.device);
    if (o.tensor_cores) mp.flags |= MLXMTP_MODEL_TENSOR_CORES;
    if (o.no_tensor_cores) mp.flags |= MLXMTP_MODEL_NO_TENSOR_CORES;
    if (o.precise_activations) mp.flags |= MLXMTP_MODEL_PRECISE_ACTIVATIONS;
    progress_bar bar("loading");
    mp.progress_cb = progress_cb;
    mp.progress_user_data = &bar;
    if (!o.synthetic.empty()) {
        mp.flags |= MLXMTP_MODEL_SYNTHETIC;
        mp.synthetic_format = o.format == "mxfp4" ? MLXMTP_FORMAT_MXFP4
                              : o.format == "mxfp8" ? MLXMTP_FORMAT_MXFP8
                              : o.format == "f32"   ? MLXMTP_FORMAT_F32
                                                    : MLXMTP_FORMAT_BF16;
    }
    st = mlxmtp_model_open(o.synthetic.empty() ? o.dir.c_str() : o.synthetic.c_str(), &mp, &out->model);
    bar.finish();
    if (st != MLXMTP_OK) return report_failure("opening the model", st, json);
    return 0;
}

bool parse_id_list(const std::string &s, std::vector<int32_t> *out) {
    std::string t = s;
    for (char &c : t)
        if (c == ',') c = ' ';
    std::istringstream in(t);
    long long v;
    while (in >> v) {
        if (v < 0 || v > INT32_MAX) return false;
        out->push_back(static_cast<int32_t>(v));
    }
    return in.eof() && !out->empty();
}

bool write_logits_safetensors(const std::string &path, const float *data, uint32_t rows, uint32_t vocab) {
    uint64_t bytes = uint64_t(rows) * vocab * 4;
    std::string header = "{\"logits\":{\"dtype\":\"F32\",\"shape\":[" + std::to_string(rows) + "," +
                         std::to_string(vocab) + "],\"data_offsets\":[0," + std::to_string(bytes) + "]}}";
    while (header.size() % 8) header += ' ';
    std::string tmp = path + ".tmp." + std::to_string(getpid());
    FILE *f = std::fopen(tmp.c_str(), "wb");
    if (!f) return false;
    uint64_t n = header.size();
    bool ok = std::fwrite(&n, 8, 1, f) == 1 && std::fwrite(header.data(), 1, n, f) == n &&
              std::fwrite(data, 1, bytes, f) == bytes;
    ok = (std::fflush(f) == 0) && ok && fsync(fileno(f)) == 0;
    ok = (std::fclose(f) == 0) && ok;
    if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
        std::remove(tmp.c_str());
        return false;
    }
    return true;
}

}  // namespace mlxmtp_cli
