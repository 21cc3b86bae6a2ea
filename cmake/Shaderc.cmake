# shaderc linked statically: Debian 12's libshaderc.so is built against another
# glslang and crashes when mixed with glslang-dev (see docs/building.md).
find_library(MLXMTP_SHADERC_COMBINED NAMES libshaderc_combined.a REQUIRED)
find_path(MLXMTP_SHADERC_INCLUDE shaderc/shaderc.h REQUIRED)
set(_mlxmtp_glslang_libs glslang MachineIndependent OSDependent OGLCompiler GenericCodeGen SPIRV
    SPIRV-Tools-opt SPIRV-Tools glslang-default-resource-limits)
set(_mlxmtp_glslang_paths)
foreach(l ${_mlxmtp_glslang_libs})
  find_library(_lib_${l} NAMES lib${l}.a)
  if(_lib_${l})
    list(APPEND _mlxmtp_glslang_paths ${_lib_${l}})
  endif()
endforeach()
add_library(mlxmtp_shaderc INTERFACE)
target_include_directories(mlxmtp_shaderc INTERFACE ${MLXMTP_SHADERC_INCLUDE})
target_link_libraries(mlxmtp_shaderc INTERFACE
  -Wl,--start-group ${MLXMTP_SHADERC_COMBINED} ${_mlxmtp_glslang_paths} -Wl,--end-group
  Threads::Threads)
