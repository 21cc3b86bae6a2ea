# Embeds kernels/*.comp and kernels/common/*.glsl into the library as text, so
# the .so needs no data files (ncnn-style).  Produces one generated .cpp with a
# table {relative path, source text}.
function(mlxmtp_embed_kernels out_var)
  set(out ${CMAKE_CURRENT_BINARY_DIR}/generated/embedded_kernels.cpp)
  add_custom_command(
    OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -DOUT=${out} -DROOT=${PROJECT_SOURCE_DIR}/kernels
            "-DFILES=${ARGN}" -P ${PROJECT_SOURCE_DIR}/cmake/EmbedKernelsScript.cmake
    DEPENDS ${ARGN} ${PROJECT_SOURCE_DIR}/cmake/EmbedKernelsScript.cmake
    COMMENT "Embedding kernel sources" VERBATIM)
  set(${out_var} ${out} PARENT_SCOPE)
endfunction()
