# Install rules: library, headers, pkg-config file, CMake package.
include(CMakePackageConfigHelpers)
install(TARGETS mlxmtp EXPORT mlxmtpTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT runtime NAMELINK_COMPONENT dev
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES include/mlxmtp.h include/mlxmtp.hpp
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT dev)

# The .pc file is relocatable: prefix is derived from its own location.
set(_pc_rel "${CMAKE_INSTALL_LIBDIR}/pkgconfig")
string(REGEX REPLACE "[^/]+" ".." MLXMTP_PC_UP "${_pc_rel}")
configure_file(pkgconfig/mlxmtp.pc.in ${CMAKE_CURRENT_BINARY_DIR}/mlxmtp.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/mlxmtp.pc
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT dev)

set(MLXMTP_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/mlxmtp)
install(EXPORT mlxmtpTargets NAMESPACE mlxmtp:: DESTINATION ${MLXMTP_CMAKE_DIR} COMPONENT dev)
configure_package_config_file(cmake/mlxmtpConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/mlxmtpConfig.cmake INSTALL_DESTINATION ${MLXMTP_CMAKE_DIR})
# 0.x: minor versions may break the API, so only the same minor is compatible.
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/mlxmtpConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/mlxmtpConfig.cmake
  ${CMAKE_CURRENT_BINARY_DIR}/mlxmtpConfigVersion.cmake
  DESTINATION ${MLXMTP_CMAKE_DIR} COMPONENT dev)
