// simple.cpp: the C++ wrapper version of simple.c.
//   c++ -std=c++17 simple.cpp $(pkg-config --cflags --libs mlxmtp) -o simple_cpp
#include <mlxmtp.hpp>

#include <iostream>

int main() {
    try {
        mlxmtp::Instance inst = mlxmtp::Instance::create();
        std::cout << "mlxmtp " << mlxmtp::version() << ": " << inst.device_count() << " device(s)\n";
        for (uint32_t i = 0; i < inst.device_count(); ++i)
            std::cout << "  [" << i << "] " << inst.device_info(i).name() << "\n";
        if (inst.device_count() > 0) std::cout << inst.selftest(0);
    } catch (const mlxmtp::Error &e) {
        std::cerr << "mlxmtp error " << e.status() << ": " << e.what() << "\n";
        return 1;
    }
    return 0;
}
