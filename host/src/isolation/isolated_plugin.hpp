// An isolated plugin as the host sees it: a Plugin whose descriptor the host implements, each
// function forwarding its call to the plugin's worker process (supervisor.hpp). Everything
// above the loader (the registry, hot reload, the call forms, the checks on what a plugin
// returns) treats it as any other plugin; the plugin itself runs unchanged in the worker.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "isolation/supervisor.hpp"
#include "loader/plugin.hpp"

namespace llmhost::isolation {

// Loads `file` (from `copy`, the host's private copy of it) in a worker process and returns its
// stand-in. The worker keeps a copy of its own to restart from. Throws LoadException when the
// worker cannot start or the plugin does not load there, naming `file`. `services`: the Host's;
// the worker is given the plugin's config and log, the stand-in counts usage with them.
std::shared_ptr<detail::Plugin> load_isolated(const std::filesystem::path &file, const std::filesystem::path &copy,
                                              std::shared_ptr<const detail::HostServices> services,
                                              const SupervisorSettings &settings);

}  // namespace llmhost::isolation
