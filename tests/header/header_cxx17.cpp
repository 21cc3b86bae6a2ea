// The public headers compile as C++17.
#include <mlxmtp.h>
#include <mlxmtp.hpp>
int mlxmtp_header_cxx17_probe() { return MLXMTP_AT_LEAST_VERSION(0, 1, 0) ? 0 : 1; }
