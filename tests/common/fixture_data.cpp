#include "fixture_data.h"

#include "test_env.h"

#include <json-c/json.h>

#include <cmath>
#include <cstring>
#include <stdexcept>

namespace mlxmtp::test {

reference_tensors::reference_tensors(const std::string &path) : file_(detail::safetensors_file::open(path)) {}

std::vector<float> reference_tensors::f32(const std::string &name) const {
    const detail::tensor_info *t = file_->find(name);
    if (!t || t->type != detail::dtype::f32) throw std::runtime_error("missing f32 reference " + name);
    std::vector<float> v(static_cast<size_t>(t->numel()));
    std::memcpy(v.data(), t->data, v.size() * 4);
    return v;
}

std::vector<int32_t> reference_tensors::i32(const std::string &name) const {
    const detail::tensor_info *t = file_->find(name);
    if (!t || t->type != detail::dtype::i32) throw std::runtime_error("missing i32 reference " + name);
    std::vector<int32_t> v(static_cast<size_t>(t->numel()));
    std::memcpy(v.data(), t->data, v.size() * 4);
    return v;
}

const reference_tensors &dev_references() {
    static reference_tensors r(fixture("tiny-qwen35-dev/reference.safetensors"));
    return r;
}

rel_err compare(const std::vector<float> &got, const std::vector<float> &want) {
    if (got.size() != want.size()) return {INFINITY, INFINITY};
    double mref = 0, md = 0;
    for (size_t i = 0; i < want.size(); ++i) {
        mref = std::max(mref, static_cast<double>(std::fabs(want[i])));
        double d = std::fabs(static_cast<double>(got[i]) - want[i]);
        if (std::isnan(d)) return {INFINITY, INFINITY};
        md = std::max(md, d);
    }
    return {mref > 0 ? md / mref : md, md};
}

namespace {
std::vector<int32_t> int_array(json_object *a) {
    std::vector<int32_t> v;
    for (size_t i = 0; i < json_object_array_length(a); ++i)
        v.push_back(json_object_get_int(json_object_array_get_idx(a, i)));
    return v;
}
}  // namespace

std::vector<gen_case> load_trained_cases() {
    json_object *root = json_object_from_file(fixture("tiny-qwen35-trained/reference_generation.json").c_str());
    if (!root) throw std::runtime_error("cannot read reference_generation.json");
    json_object *cases = json_object_object_get(root, "cases");
    std::vector<gen_case> out;
    for (size_t i = 0; i < json_object_array_length(cases); ++i) {
        json_object *c = json_object_array_get_idx(cases, i);
        gen_case g;
        g.prompt = int_array(json_object_object_get(c, "prompt_ids"));
        g.greedy = int_array(json_object_object_get(c, "greedy_ids"));
        json_object *h = json_object_object_get(c, "mtp_hits");
        for (size_t j = 0; j < json_object_array_length(h); ++j)
            g.hits.push_back(json_object_get_boolean(json_object_array_get_idx(h, j)));
        out.push_back(std::move(g));
    }
    json_object_put(root);
    return out;
}

}  // namespace mlxmtp::test
