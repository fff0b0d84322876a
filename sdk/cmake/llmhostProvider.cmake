# llmhost_add_provider(<target> <source>...)
#
# Builds a provider plugin: a MODULE library against the llmhost SDK headers only, with every
# symbol hidden but the entry point and without STB_GNU_UNIQUE symbols (which would make
# dlclose a no-op and keep old builds mapped after a hot reload). Shared by the in-tree build
# and by out-of-tree projects through find_package(llmhost).
function(llmhost_add_provider target)
  if(NOT ARGN)
    message(FATAL_ERROR "llmhost_add_provider(${target}): no source files given")
  endif()
  add_library(${target} MODULE ${ARGN})
  target_link_libraries(${target} PRIVATE llmhost::sdk)
  set_target_properties(${target} PROPERTIES
    C_VISIBILITY_PRESET hidden
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:CXX>:-fno-gnu-unique>)
  endif()
  if(NOT APPLE AND NOT WIN32)
    # Fail at link time, not at load time, on a symbol the plugin forgot to define.
    target_link_options(${target} PRIVATE -Wl,--no-undefined)
    # Export the entry point and nothing else: -fvisibility=hidden does not hide libstdc++
    # template instances a plugin pulls in, and an exported weak symbol can bind across plugins.
    set(map ${CMAKE_CURRENT_BINARY_DIR}/${target}.exports.map)
    file(CONFIGURE OUTPUT ${map} CONTENT "{\n  global: llmh_provider_entry;\n  local: *;\n};\n")
    target_link_options(${target} PRIVATE -Wl,--version-script=${map})
    set_property(TARGET ${target} APPEND PROPERTY LINK_DEPENDS ${map})
  endif()
endfunction()
