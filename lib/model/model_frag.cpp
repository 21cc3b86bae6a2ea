// The model's repacked MXFP4 copies for the fragment-decoding tensor-core
// matvec (ops/linear_frag.h): MLXMTP_MODEL_TENSOR_CORES where the device
// runs it natively, or kernel_tuning::frag_matvec (tests, benchmarks).  The
// fragment layout comes from the device's probe; without cooperative
// matrices (lavapipe) the kernel's emulation runs under driver 580's layout.
#include "model/model.h"
#include "ops/linear_frag.h"

namespace mlxmtp::detail {

void engine_model::maybe_make_frag_copies(bool asked) {
    if (ops::tuning().frag_matvec)
        make_frag_copies(false);
    else if (asked && ops::frag_native(*dev_))
        make_frag_copies(true);
}

void engine_model::make_frag_copies(bool fall_back) {
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
    const std::vector<uint32_t> t = ops::frag_layout_table(f);
    const buffer_span table = arena_->alloc(t.size() * 4, "frag layout table");
    upload(dev, table, t.data(), t.size() * 4);
    const ops::frag_copy layout = ops::frag_copy_layout(f, table, emulate);
    command_stream cs(dev);
    auto copy = [&](ops::device_weight &w) {
        if (!ops::frag_eligible(w)) return;
        ops::make_frag_copy(cs, *arena_, w, layout);
        tensor_cores_ = !emulate;
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
    copy(lm_head_);  // (the embedding gather keeps the standard layout)
    cs.submit();
}

}  // namespace mlxmtp::detail
