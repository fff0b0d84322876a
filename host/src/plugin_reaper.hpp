// The deleter of every loaded Plugin (see PluginStackScope in plugin.hpp).
#pragma once

namespace llmhost::detail {

class Plugin;

// Destroys `plugin` now, or on the reaper thread when called inside a PluginStackScope.
void delete_plugin(Plugin *plugin);

}  // namespace llmhost::detail
