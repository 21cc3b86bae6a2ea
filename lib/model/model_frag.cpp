// The model's repacked MXFP4 copies for the fragment-decoding tensor-core
// matvec (ops/linear_frag.h): by default (not MLXMTP_MODEL_NO_TENSOR_CORES) where the device
// runs it natively, or kernel_tuning::frag_matvec (tests, benchmarks).  The
// fragment layout comes from the device's probe; without cooperative
// matrices (lavapipe) the kernel's emulation runs under driver 580's layout.
// Where every product of a matrix reads its copy, the loaders stage its codes
// in a scratch buffer and repack them at once (frag_drops_codes,
// frag_scratch, frag_repack_and_drop): the model then holds the MXFP4 codes
// once, and loading peaks at the weights plus one matrix's codes.
#include "model/model.h"
#include "ops/linear_frag.h"

namespace mlxmtp::detail {

void engine_model::plan_frag_copies(bool asked, bool x_split) {
    const bool forced = ops::tuning().frag_matvec;
    if (!forced && !(asked && ops::frag_native(*dev_))) return;
    const bool fall_back = !forced;
    vk_device &dev = *dev_;
    if (!(dev.info().features & MLXMTP_FEATURE_FP16)) {
        if (fall_back) return;
        fail(MLXMTP_ERR_UNSUPPORTED, "frag matvec: the device has no fp16 arithmetic (shaderFloat16)");
    }
    ops::frag_layout f;
    const std::string err = ops::frag_device_layout(dev, &f);
    if (!err.empty()) {
        if (fall_back) return;  // a layout the kernel cannot use: the standard path
        fail(MLXMTP_ERR_UNSUPPORTED, "frag matvec: the device's fragment layout: %s", err.c_str());
    }
    const bool emulate = !ops::frag_native(dev);
    // Columns in x-quad order where the layout allows (one vec4 of x per
    // lane and block in the kernel).
    const bool x_quads = !ops::tuning().frag_no_x_quads && ops::frag_x_quads(f);
    const std::vector<uint32_t> t = ops::frag_layout_table(f, x_quads);
    const buffer_span table = arena_->alloc(t.size() * 4, "frag layout table");
    upload(dev, table, t.data(), t.size() * 4);
    frag_ = std::make_unique<frag_plan>();
    // x rounded to fp16 (X16: 8 tokens per column group, so a verify of up to
    // 8 tokens costs about what one of 4 does with hi / lo halves), unless
    // asked for hi / lo; its producers write 16-bit halves.
    const bool x16 = x_quads && !x_split && !ops::tuning().frag_x_split &&
                     (dev.info().features & MLXMTP_FEATURE_STORAGE16);
    frag_->layout = ops::frag_copy_layout(f, table, emulate, x_quads, x16);
    // The standard codes are read by nothing once every product of a matrix
    // (prefill included: ops::linear) takes the copy.
    frag_->drop_codes = !emulate || ops::tuning().frag_prefill;
}

uint32_t engine_model::tensor_core_x_bits() const {
    if (!tensor_cores_ || !frag_) return 0;
    return frag_->layout.x16 ? 11 : 22;
}

bool engine_model::frag_drops_codes(ops::wformat f, uint32_t rows, uint32_t cols, uint32_t rows_per_chunk) const {
    if (!frag_ || !frag_->drop_codes) return false;
    ops::device_weight w;
    w.format = f, w.rows = rows, w.cols = cols;
    w.chunks.resize((uint64_t(rows) + rows_per_chunk - 1) / rows_per_chunk);
    return ops::frag_eligible(w);
}

buffer_span engine_model::frag_scratch(uint64_t bytes, bool fresh) {
    if (!frag_) fail(MLXMTP_ERR_INTERNAL, "frag_scratch without a plan");
    if (!frag_->scratch) frag_->scratch = std::make_unique<arena>(*dev_, false, 0, "frag scratch");
    if (fresh) frag_->scratch->reset();  // the previous matrix is repacked (frag_repack_and_drop waits)
    return frag_->scratch->alloc(bytes, fresh ? "staged codes" : "staged scales");
}

void engine_model::frag_repack_and_drop(ops::device_weight &w) {
    if (!frag_ || !frag_->drop_codes || !ops::frag_eligible(w))
        fail(MLXMTP_ERR_INTERNAL, "frag_repack_and_drop: not a staged matrix");
    command_stream cs(*dev_);
    ops::make_frag_copy(cs, *arena_, w, frag_->layout);
    cs.submit();
    w.chunks[0].data = {};
    if (frag_drops_scales() && w.frag.scale_words.valid()) w.chunks[0].scales = {};
    tensor_cores_ = !frag_->layout.emulate;
}

void engine_model::finish_frag_copies() {
    if (!frag_) return;
    command_stream cs(*dev_);
    auto copy = [&](ops::device_weight &w) {
        if (!ops::frag_eligible(w) || w.frag.valid()) return;
        ops::make_frag_copy(cs, *arena_, w, frag_->layout);
        tensor_cores_ = !frag_->layout.emulate;
    };
    auto layer = [&](layer_weights &L) {
        for (ops::device_weight *w : {&L.gdn.qkv, &L.gdn.z, &L.gdn.a, &L.gdn.b, &L.gdn.out, &L.attn.q, &L.attn.k,
                                      &L.attn.v, &L.attn.o, &L.gate, &L.up, &L.down})
            copy(*w);
    };
    for (layer_weights &L : layers_) layer(L);
    if (mtp_.present) {
        copy(mtp_.fc);
        layer(mtp_.layer);
    }
    copy(lm_head_);  // (the embedding gather keeps the standard layout; a tied lm_head is repacked from it)
    cs.submit();
    frag_->scratch.reset();
}

}  // namespace mlxmtp::detail
