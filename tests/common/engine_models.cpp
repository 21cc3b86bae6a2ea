#include "engine_models.h"

#include "test_env.h"

namespace mlxmtp::test {

const detail::engine_model &dev_engine_model() {
    static std::unique_ptr<detail::engine_model> m =
        detail::engine_model::open(fixture("tiny-qwen35-dev"), validated_device_ptr(), {});
    return *m;
}

const detail::engine_model &trained_engine_model() {
    static std::unique_ptr<detail::engine_model> m =
        detail::engine_model::open(fixture("tiny-qwen35-trained"), validated_device_ptr(), {});
    return *m;
}

}  // namespace mlxmtp::test
