# The fuzz targets, one line each: name, sources, what they link. Included by CMakeLists.txt
# here (libFuzzer builds, clang) and by replay.cmake (regression replay in the normal build),
# each of which defines llmhost_fuzz_target() first.
find_package(simdjson REQUIRED)  # imported targets are per directory
# The plugins' translations are their OBJECT libraries (plugins/CMakeLists.txt): compiled once,
# for the plugin and for its target.
llmhost_fuzz_target(sse SOURCES sse_fuzz.cpp LIBS llmhost::sdk llmhost_plugin_common)
llmhost_fuzz_target(upstream SOURCES upstream_fuzz.cpp LIBS openai_translation)
llmhost_fuzz_target(anthropic SOURCES anthropic_fuzz.cpp LIBS anthropic_translation)
llmhost_fuzz_target(gemini SOURCES gemini_fuzz.cpp LIBS gemini_translation)
llmhost_fuzz_target(descriptor SOURCES descriptor_fuzz.cpp LIBS llmhost_core_internal)
llmhost_fuzz_target(request_body SOURCES request_body_fuzz.cpp LIBS llmhost_core_internal)
llmhost_fuzz_target(chat_request SOURCES chat_request_fuzz.cpp LIBS llmhost_openai llmhost_dispatch)
llmhost_fuzz_target(config SOURCES config_fuzz.cpp LIBS llmhost_config llmhost::sdk)
llmhost_fuzz_target(frame SOURCES frame_fuzz.cpp LIBS llmhost_isolation llmhost::sdk)
llmhost_fuzz_target(tokens SOURCES tokens_fuzz.cpp LIBS llmhost_tokens)
llmhost_fuzz_target(http_response SOURCES http_response_fuzz.cpp LIBS llmhost_http)
llmhost_fuzz_target(multipart SOURCES multipart_fuzz.cpp LIBS llmhost_openai)
