// C ABI of the quantizer (filled in below).
#include "api/api_common.h"
