// pipejournal: forwards every line written into a FIFO to the systemd journal.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <optional>
#include <string>
#include <system_error>

#include "config.hpp"
#include "daemon.hpp"
#include "errors.hpp"
#include "log.hpp"
#include "systemd/notify.hpp"
#include "version.hpp"

namespace {

// Tells the log, the terminal and systemd (ERRNO=, STATUS=) why we stop, and picks the status.
int fail(const pj::Daemon* daemon, const std::string& reason, int error, int status) {
    if (daemon && daemon->ready())
        pj::log::error(reason, {{"ERRNO", error}});
    else
        pj::log::error(pj::log::id::startup_failed, reason, {{"ERRNO", error}});
    pj::notify::send(pj::notify::failed(error, reason));
    pj::log::flush_pending(500'000);  // the reason must reach the journal, if it takes entries
    return status;
}

// pipejournal@.service sets it to its instance name (%i); unset or empty: no instance.
std::optional<std::string> instance_from_environment() {
    if (const char* name = std::getenv("PIPEJOURNAL_INSTANCE"); name && *name)
        return name;
    return std::nullopt;
}

// --check-config: the configuration a start would use, read the same way, and nothing else:
// no FIFO, no journal, no service manager. Warnings and errors go to stderr as text.
int check_config(pj::CommandLine command_line) {
    pj::log::setup(pj::log::Target::stderr_text, command_line.applied_to({}).log_level);
    pj::ConfigLoader loader(std::move(command_line), instance_from_environment());
    pj::ParsedConfig parsed;
    try {
        parsed = loader.load();
    } catch (const pj::ConfigError& e) {
        pj::log::error(e.what());
        return pj::exit_not_configured;
    }
    for (const std::string& warning : parsed.warnings)
        pj::log::warning(warning);
    // Not the configuration's fault, but a start would fail on it.
    if (std::optional<std::string> missing = pj::missing_json_reader(parsed.config))
        pj::log::warning(*missing);
    std::fputs(pj::effective_text(parsed.config).c_str(), stdout);
    return std::fflush(stdout) == 0 ? pj::exit_success : pj::exit_failure;
}

}  // namespace

int main(int argc, char* argv[]) {
    std::signal(SIGPIPE, SIG_IGN);  // a closed stdout is an error to report, not a reason to die

    pj::CommandLine command_line;
    try {
        command_line = pj::parse_command_line(argc, argv);
    } catch (const pj::UsageError& e) {
        std::fprintf(stderr, "pipejournal: %s\n", e.what());
        return pj::exit_usage;
    }
    if (command_line.help) {
        std::fputs(pj::usage_text("pipejournal").c_str(), stdout);
        return pj::exit_success;
    }
    if (command_line.version) {
        std::puts("pipejournal " PIPEJOURNAL_VERSION);
        return pj::exit_success;
    }

    if (command_line.check_config)
        return check_config(std::move(command_line));

    pj::log::setup(pj::log::detect_target(), command_line.applied_to({}).log_level);
    pj::ConfigLoader loader(std::move(command_line), instance_from_environment());
    pj::ParsedConfig parsed;
    try {
        parsed = loader.load();
    } catch (const pj::ConfigError& e) {
        return fail(nullptr, e.what(), EINVAL, pj::exit_not_configured);
    }
    pj::log::set_level(parsed.config.log_level);
    for (const std::string& warning : parsed.warnings)
        pj::log::warning(warning);

    pj::Daemon daemon(std::move(loader), std::move(parsed.config));
    try {
        return daemon.run();
    } catch (const pj::StartupError& e) {
        return fail(&daemon, e.what(), e.error(), e.status());
    } catch (const std::system_error& e) {
        return fail(&daemon, e.what(), e.code().value(), pj::exit_failure);
    } catch (const std::exception& e) {  // e.g. out of memory: still a clear message, no core
        return fail(&daemon, std::string("Failed: ") + e.what(), EIO, pj::exit_failure);
    }
}
