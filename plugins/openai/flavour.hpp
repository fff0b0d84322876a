// Which provider this build of the sources is. CMake builds them twice: `openai`, any
// OpenAI-compatible endpoint, and (with OPENAI_PLUGIN_AZURE) `azure`, Azure OpenAI: the same wire
// format at deployment URLs with an api-version, authenticated by an api-key header. What
// differs is where a call goes (settings.cpp); everything else is shared.
#pragma once

namespace openai_plugin {

enum class Flavour { kOpenAI, kAzure };

#if OPENAI_PLUGIN_AZURE
inline constexpr Flavour kFlavour = Flavour::kAzure;
#define OPENAI_PLUGIN_NAME "azure"  // a literal, so that messages are built from literals
#else
inline constexpr Flavour kFlavour = Flavour::kOpenAI;
#define OPENAI_PLUGIN_NAME "openai"
#endif

}  // namespace openai_plugin
