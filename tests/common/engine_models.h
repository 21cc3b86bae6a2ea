// The fixture models on the validated lavapipe device, opened once per test
// executable and shared by its tests.
#pragma once
#include "model/model.h"

namespace mlxmtp::test {

const detail::engine_model &dev_engine_model();      // tiny-qwen35-dev (random weights, every path)
const detail::engine_model &trained_engine_model();  // tiny-qwen35-trained (the bundled default)

}  // namespace mlxmtp::test
