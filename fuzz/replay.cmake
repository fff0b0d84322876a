# Regression replay in the normal (g++ or clang, no libFuzzer) build: each target's entry
# function linked with replay_main.cpp and run over its seed corpus and every input a fuzzer
# once crashed on (fuzz/regressions/<name>/). Include from tests/CMakeLists.txt:
#   include(${PROJECT_SOURCE_DIR}/fuzz/replay.cmake)
set(LLMHOST_FUZZ_DIR ${CMAKE_CURRENT_LIST_DIR})

function(llmhost_fuzz_target name)
  cmake_parse_arguments(F "" "" "SOURCES;INCLUDES;LIBS" ${ARGN})
  list(TRANSFORM F_SOURCES PREPEND ${LLMHOST_FUZZ_DIR}/ REGEX "^[^/]")
  add_executable(replay_${name} ${LLMHOST_FUZZ_DIR}/replay_main.cpp ${F_SOURCES})
  target_include_directories(replay_${name} PRIVATE ${LLMHOST_FUZZ_DIR} ${F_INCLUDES})
  target_link_libraries(replay_${name} PRIVATE ${F_LIBS})
  llmhost_warnings(replay_${name})
  add_test(NAME fuzz_replay_${name}
    COMMAND replay_${name} ${LLMHOST_FUZZ_DIR}/corpus/${name} ${LLMHOST_FUZZ_DIR}/regressions/${name})
  set_tests_properties(fuzz_replay_${name} PROPERTIES LABELS fuzz TIMEOUT 120)
endfunction()

include(${LLMHOST_FUZZ_DIR}/targets.cmake)
