// The model on the device: typed weights of every layer (and the MTP head),
// uploaded once from a checkpoint (bf16, or the MXFP4 / MXFP8 output of the
// quantizer) or generated on the device (synthetic mode, for benchmarks).
// Immutable after open: shared by any number of sessions on any threads.
#pragma once
#include "model/config.h"
#include "ops/linear.h"
#include "vk/device.h"
#include "vk/memory.h"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace mlxmtp::detail {

struct attn_weights {
    ops::device_weight q, k, v, o;
    buffer_span q_norm, k_norm;  // f32 [hd]
};

struct gdn_weights {
    ops::device_weight qkv, z, a, b, out;
    buffer_span conv_w;            // f32 [C, K]
    buffer_span A_log, dt_bias;    // f32 [Hv]
    buffer_span norm;              // f32 [dv]
};

struct layer_weights {
    layer_kind kind = layer_kind::linear_attention;
    buffer_span input_norm, post_norm;  // f32 [H]
    gdn_weights gdn;
    attn_weights attn;
    ops::device_weight gate, up, down;
};

struct mtp_weights {
    bool present = false;
    ops::device_weight fc;                       // [H, 2H]: input [embedding ; hidden]
    buffer_span pre_fc_norm_embedding, pre_fc_norm_hidden, norm;  // f32 [H]
    layer_weights layer;                         // one gated full-attention layer
};

// Refuses (MLXMTP_ERR_UNSUPPORTED, naming the field) a well-formed config
// whose shapes the kernels do not take: conv kernel size, head dims, widths
// that are not whole 8-element units.  engine_model::open and ::synthetic
// call it before touching the device.
void check_engine_limits(const text_config &c);

struct model_open_options {
    std::function<bool(double fraction, const std::string &what)> progress;  // false = abort
    bool tensor_cores = false;  // frag copies where the device runs them natively (the API's default: mlxmtp_model_open)
    bool x_split = false;       // their x as hi / lo fp16 halves, not rounded to fp16 (MLXMTP_MODEL_PRECISE_ACTIVATIONS)
};

// Synthetic mode: random weights of a config's shapes, generated on the device.
struct synthetic_options {
    ops::wformat format = ops::wformat::bf16;  // for the projection matrices
    uint64_t seed = 1;
    bool tensor_cores = false;  // as model_open_options
    bool x_split = false;       // as model_open_options
};

class engine_model {
public:
    static std::unique_ptr<engine_model> open(const std::string &dir, std::shared_ptr<vk_device> dev,
                                              const model_open_options &opt);
    static std::unique_ptr<engine_model> synthetic(const model_config &cfg, std::shared_ptr<vk_device> dev,
                                                   const synthetic_options &opt);
    ~engine_model();

    const model_config &config() const { return cfg_; }
    const text_config &text() const { return cfg_.text; }
    vk_device &device() const { return *dev_; }
    const std::shared_ptr<vk_device> &device_ptr() const { return dev_; }
    const std::string &dir() const { return dir_; }

    const ops::device_weight &embed() const { return embed_; }
    const ops::device_weight &lm_head() const { return lm_head_; }
    const buffer_span &final_norm() const { return final_norm_; }
    const std::vector<layer_weights> &layers() const { return layers_; }
    const mtp_weights &mtp() const { return mtp_; }

    // Token ids that end generation (config.json and generation_config.json).
    const std::vector<int32_t> &eos_ids() const { return eos_ids_; }
    // Logit rows >= this are padding (vocab_size rounded up): never sampled.
    int32_t usable_vocab() const { return usable_vocab_; }
    void set_usable_vocab(int32_t n) { usable_vocab_ = n; }

    ops::wformat matrix_format() const { return matrix_format_; }
    // Bytes of weights one decoded token reads (every layer's matrices, norms, lm_head; not the embedding).
    uint64_t decode_weight_bytes() const;
    uint64_t device_bytes() const { return arena_ ? arena_->reserved_bytes() : 0; }
    uint64_t device_bytes_used() const { return arena_ ? arena_->used_bytes() : 0; }  // of device_bytes
    // MXFP4 products run natively on tensor cores (frag copies, not emulated).
    bool tensor_cores() const { return tensor_cores_; }
    // Significant bits of x those products use: 11 (x rounded to fp16, the
    // default) or 22 (hi / lo halves); 0 without tensor cores.
    uint32_t tensor_core_x_bits() const;

private:
    engine_model() = default;
    // Repacked copies of the eligible MXFP4 matrices for the fragment
    // tensor-core matvec (model_frag.cpp).  plan_frag_copies, before the
    // weights: copies for MLXMTP_MODEL_TENSOR_CORES (`asked`) where the
    // device runs the kernel natively (no fp16 arithmetic or an unusable
    // fragment layout: none), or always under kernel_tuning::frag_matvec
    // (emulated on lavapipe: tests; such a device: MLXMTP_ERR_UNSUPPORTED).
    void plan_frag_copies(bool asked, bool x_split);
    // Whether a matrix (format, shape, rows per chunk: ops::rows_per_chunk)
    // is repacked while loading and its standard codes dropped: copies are
    // planned and every product of it reads the copy (natively; emulated
    // only with kernel_tuning::frag_prefill).  Its codes then go to frag_scratch.
    bool frag_drops_codes(ops::wformat f, uint32_t rows, uint32_t cols, uint32_t rows_per_chunk) const;
    // Whether such a matrix's standard scales are dropped too (its copy
    // reads fragment-ordered scale words instead: ops::frag_copy::scale_copy);
    // they then go to frag_scratch as well.
    bool frag_drops_scales() const { return frag_ && frag_->drop_codes && frag_->layout.scale_copy; }
    // Scratch for one such matrix's codes (fresh: the next matrix reuses it)
    // and, after them (fresh false), its scales.
    buffer_span frag_scratch(uint64_t bytes, bool fresh = true);
    // Repacks `w` (its codes in frag_scratch, on the device) into its copy
    // and drops the standard codes (chunks[0].data empty) and, with
    // frag_drops_scales, the scales (chunks[0].scales empty); waits for the device.
    void frag_repack_and_drop(ops::device_weight &w);
    // After the weights: copies of the eligible matrices without one (all
    // of them when codes are kept; a tied lm_head), then frees the scratch.
    void finish_frag_copies();
    struct frag_plan {
        ops::frag_copy layout;  // table and flags (no data)
        bool drop_codes = false;
        std::unique_ptr<arena> scratch;
    };
    std::unique_ptr<frag_plan> frag_;
    model_config cfg_;
    std::string dir_;
    std::shared_ptr<vk_device> dev_;
    std::unique_ptr<arena> arena_;
    ops::device_weight embed_, lm_head_;
    buffer_span final_norm_;
    std::vector<layer_weights> layers_;
    mtp_weights mtp_;
    std::vector<int32_t> eos_ids_;
    int32_t usable_vocab_ = 0;
    ops::wformat matrix_format_ = ops::wformat::bf16;
    bool tensor_cores_ = false;  // native frag copies were made (frag_repack_and_drop, finish_frag_copies)

    friend class model_loader;
    friend class synthetic_builder;
};

}  // namespace mlxmtp::detail
