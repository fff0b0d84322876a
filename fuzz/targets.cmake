# The fuzz targets, one line each: name, sources, what they link. Included by CMakeLists.txt
# here (libFuzzer builds, clang) and by replay.cmake (regression replay in the normal build),
# each of which defines llmhost_fuzz_target() first.
find_package(simdjson REQUIRED)  # imported targets are per directory
set(_openai ${llmhost_SOURCE_DIR}/plugins/openai)
llmhost_fuzz_target(sse SOURCES sse_fuzz.cpp
  INCLUDES ${_openai} ${llmhost_SOURCE_DIR}/plugins LIBS llmhost::sdk)
llmhost_fuzz_target(upstream SOURCES upstream_fuzz.cpp ${_openai}/parse.cpp ${_openai}/stream_chunk.cpp
  INCLUDES ${_openai} ${llmhost_SOURCE_DIR}/plugins LIBS llmhost::sdk simdjson::simdjson)
set(_anthropic ${llmhost_SOURCE_DIR}/plugins/anthropic)
llmhost_fuzz_target(anthropic SOURCES anthropic_fuzz.cpp ${_anthropic}/message_events.cpp
          ${_anthropic}/messages_answer.cpp ${_anthropic}/messages_body.cpp
  INCLUDES ${_anthropic} ${llmhost_SOURCE_DIR}/plugins LIBS llmhost::sdk simdjson::simdjson)
set(_gemini ${llmhost_SOURCE_DIR}/plugins/gemini)
llmhost_fuzz_target(gemini SOURCES gemini_fuzz.cpp ${_gemini}/generate_answer.cpp ${_gemini}/generate_body.cpp
  INCLUDES ${_gemini} ${llmhost_SOURCE_DIR}/plugins LIBS llmhost::sdk simdjson::simdjson)
llmhost_fuzz_target(descriptor SOURCES descriptor_fuzz.cpp LIBS llmhost_core_internal)
llmhost_fuzz_target(request_body SOURCES request_body_fuzz.cpp LIBS llmhost_core_internal)
llmhost_fuzz_target(chat_request SOURCES chat_request_fuzz.cpp LIBS llmhost_openai llmhost_dispatch)
llmhost_fuzz_target(config SOURCES config_fuzz.cpp LIBS llmhost_config llmhost::sdk)
llmhost_fuzz_target(frame SOURCES frame_fuzz.cpp LIBS llmhost_isolation llmhost::sdk)
llmhost_fuzz_target(tokens SOURCES tokens_fuzz.cpp LIBS llmhost_tokens)
llmhost_fuzz_target(http_response SOURCES http_response_fuzz.cpp LIBS llmhost_http)
