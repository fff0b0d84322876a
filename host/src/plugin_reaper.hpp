// The deleter of every loaded Plugin (see CallingPlugin and InsidePlugin in plugin.hpp).
#pragma once

namespace llmhost::detail {

class Plugin;

// Destroys `plugin` now, at the end of the outermost CallingPlugin scope, or on the reaper
// thread (inside an InsidePlugin scope only).
void delete_plugin(Plugin *plugin);

}  // namespace llmhost::detail
