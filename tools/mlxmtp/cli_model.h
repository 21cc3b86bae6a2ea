// Options and helpers shared by the subcommands that open a model.
#pragma once
#include "cli.h"

#include <string>
#include <vector>

namespace mlxmtp_cli {

struct model_opts {
    std::string dir;        // --model DIR
    std::string synthetic;  // --synthetic CONFIG.json
    std::string format = "bf16";  // --format for synthetic weights
    int device = 0;
    bool validation = false;
    bool tensor_cores = false;     // --tensor-cores (the default)
    bool no_tensor_cores = false;  // --no-tensor-cores
    bool precise_activations = false;  // --precise-activations
};

void add_model_options(CLI::App &sub, model_opts &o);

// An instance and a model opened from the options; both released on destruction.
struct loaded_model {
    mlxmtp_instance *instance = nullptr;
    mlxmtp_model *model = nullptr;
    ~loaded_model();
};

// Opens the model (with a progress bar on a terminal); returns 0 or an exit code.
int open_model(const model_opts &o, bool json, loaded_model *out);

// Parses "1,2,3" or "1 2 3".
bool parse_id_list(const std::string &s, std::vector<int32_t> *out);

// Writes a safetensors file with one F32 tensor "logits" [rows, vocab] (atomically).
bool write_logits_safetensors(const std::string &path, const float *data, uint32_t rows, uint32_t vocab);

}  // namespace mlxmtp_cli
