#include "service.hpp"

#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <time.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <system_error>

#include "errors.hpp"
#include "log.hpp"
#include "systemd/journal.hpp"
#include "systemd/notify.hpp"

namespace pj {
namespace {

// Reads per wake-up, so a writer that never pauses cannot starve signals and the watchdog.
constexpr int reads_per_wakeup = 4;
constexpr uint64_t retry_min_usec = 10'000, retry_max_usec = 1'000'000;
constexpr uint64_t report_interval_usec = 10'000'000;  // trouble is logged at most this often

std::string human_bytes(uint64_t bytes) {
    const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double value = static_cast<double>(bytes);
    std::size_t unit = 0;
    while (value >= 1024 && unit + 1 < std::size(units)) {
        value /= 1024;
        ++unit;
    }
    char text[32];
    std::snprintf(text, sizeof text, unit == 0 ? "%.0f %s" : "%.1f %s", value, units[unit]);
    return text;
}

uint64_t monotonic_usec() {
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    return static_cast<uint64_t>(now.tv_sec) * 1'000'000 +
           static_cast<uint64_t>(now.tv_nsec) / 1000;
}

void tell_manager(const std::string& message) {
    int r = notify::send(message);
    if (r < 0)
        log::warning(std::string("Failed to notify the service manager: ") + std::strerror(-r),
                     {{"ERRNO", -r}});
}

}  // namespace

Service::Service(ConfigLoader loader, Config config)
    : loader_(std::move(loader)), config_(std::move(config)) {}

int Service::run() {
    try {
        return serve();
    } catch (...) {
        if (fifo_ && fifo_->close_and_remove())
            log::info(log::id::fifo_removed, "Removed FIFO " + fifo_->path(),
                      {{"PIPEJOURNAL_FIFO", fifo_->path()}});
        throw;
    }
}

int Service::serve() {
    // Before anything that could be interrupted: a SIGTERM now must wait for the loop, not
    // kill us with a FIFO half set up.
    event::block_signals({SIGTERM, SIGINT, SIGHUP});
    sigterm_.emplace(loop_, SIGTERM, [this](const signalfd_siginfo&) { on_stop("SIGTERM"); });
    sigint_.emplace(loop_, SIGINT, [this](const signalfd_siginfo&) { on_stop("SIGINT"); });
    sighup_.emplace(loop_, SIGHUP, [this](const signalfd_siginfo&) { on_reload(); });

    fifo_.emplace(open_fifo());
    Origin origin{config_.identifier, fifo_->path()};
    sink_ = make_sink(origin);
    forwarder_.emplace(*sink_, config_.line_max, config_.default_priority);

    fifo_source_.emplace(loop_, fifo_->fd(), EPOLLIN, [this](uint32_t) { on_fifo_readable(); });
    tick_.emplace(loop_, event::TimerSource::Mode::periodic, config_.tick_usec, 0,
                  [this] { on_tick(); });
    retry_.emplace(loop_, event::TimerSource::Mode::one_shot, retry_min_usec, 1000,
                   [this] { on_retry(); });
    watchdog_.emplace(loop_);

    log::info(log::id::started,
              "Forwarding lines from " + fifo_->path() + " to " + std::string(sink_->name()),
              {{"PIPEJOURNAL_FIFO", fifo_->path()},
               {"PIPEJOURNAL_CONFIG", loader_.path()},
               {"PIPEJOURNAL_WATCHDOG_USEC", watchdog_->timeout_usec()}});
    last_status_ = status_text();
    tell_manager(notify::ready(last_status_));
    ready_ = true;

    loop_.run();

    const Counters& counts = forwarder_->counters();
    if (fifo_->close_and_remove())
        log::info(log::id::fifo_removed, "Removed FIFO " + fifo_->path(),
                  {{"PIPEJOURNAL_FIFO", fifo_->path()}});
    log::info(log::id::stopped,
              "Stopped after forwarding " + std::to_string(counts.lines) + " lines, " +
                  std::to_string(counts.dropped) + " dropped",
              {{"PIPEJOURNAL_FIFO", fifo_->path()},
               {"PIPEJOURNAL_LINES", counts.lines},
               {"PIPEJOURNAL_BYTES", counts.bytes},
               {"PIPEJOURNAL_DROPPED", counts.dropped}});
    return exit_success;
}

Fifo Service::open_fifo() {
    if (auto passed = Fifo::from_systemd(config_.fifo_path)) {
        log::info(log::id::fifo_adopted, "Using FIFO " + passed->path() + " passed by systemd",
                  {{"PIPEJOURNAL_FIFO", passed->path()}});
        return std::move(*passed);
    }
    Fifo fifo = Fifo::open_or_create(config_.fifo_path, config_.fifo_mode);
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(config_.fifo_mode));
    if (fifo.origin() == Fifo::Origin::created)
        log::info(log::id::fifo_created, "Created FIFO " + fifo.path() + " with mode " + mode,
                  {{"PIPEJOURNAL_FIFO", fifo.path()}});
    else
        log::info(log::id::fifo_adopted,
                  "Using existing FIFO " + fifo.path() + " (it stays when we stop)",
                  {{"PIPEJOURNAL_FIFO", fifo.path()}});
    return fifo;
}

std::unique_ptr<Sink> Service::make_sink(const Origin& origin) {
    to_journal_ = journal::socket_present();
    if (to_journal_)
        return std::make_unique<JournalSink>(origin);
    log::warning(log::id::journal_unavailable,
                 "No journal on this machine (/run/systemd/journal/socket is missing): "
                 "writing entries to standard output instead",
                 {{"PIPEJOURNAL_FIFO", origin.fifo_path}});
    return std::make_unique<TextSink>(STDOUT_FILENO, origin);
}

void Service::on_fifo_readable() {
    for (int i = 0; i < reads_per_wakeup; ++i) {
        ssize_t n = forwarder_->read_from(fifo_->fd());
        if (n == -EAGAIN || n == 0)
            break;
        if (n < 0)
            throw std::system_error(static_cast<int>(-n), std::generic_category(),
                                    "Failed to read FIFO " + fifo_->path());
        if (forward() == Forwarder::Progress::blocked) {
            pause_for_journal();
            break;
        }
    }
    flush_sink();
}

// A buffering sink (stdout) writes out once per wake-up; a failure there is reported once.
void Service::flush_sink() {
    int r = forwarder_->flush();
    if (r < 0 && !flush_failed_) {
        flush_failed_ = true;
        log::error("Failed to write entries to " + std::string(sink_->name()) + ": " +
                       std::strerror(-r) + "; they are lost",
                   {{"PIPEJOURNAL_FIFO", fifo_->path()}, {"ERRNO", -r}});
    }
}

Forwarder::Progress Service::forward() {
    auto progress = forwarder_->forward_lines();
    const Counters& counts = forwarder_->counters();
    if (counts.dropped != reported_dropped_ || counts.split != reported_split_)
        report_trouble(false);
    return progress;
}

// Refused entries and split lines are logged with their counts, at most every 10 s.
void Service::report_trouble(bool force) {
    uint64_t now = monotonic_usec();
    if (!force && last_report_usec_ != 0 && now - last_report_usec_ < report_interval_usec)
        return;
    const Counters& counts = forwarder_->counters();
    if (counts.dropped != reported_dropped_) {
        int error = -forwarder_->last_error();
        log::error(log::id::entry_refused,
                   "The journal refused " + std::to_string(counts.dropped - reported_dropped_) +
                       " entries (" + std::strerror(error) + "); they are lost",
                   {{"PIPEJOURNAL_FIFO", fifo_->path()},
                    {"PIPEJOURNAL_DROPPED", counts.dropped},
                    {"ERRNO", error}});
        reported_dropped_ = counts.dropped;
    }
    if (counts.split != reported_split_) {
        log::warning(log::id::line_split,
                     "Split " + std::to_string(counts.split - reported_split_) +
                         " pieces off lines longer than LineMax=" +
                         std::to_string(forwarder_->line_max()) + " bytes",
                     {{"PIPEJOURNAL_FIFO", fifo_->path()}});
        reported_split_ = counts.split;
    }
    last_report_usec_ = now;
}

void Service::pause_for_journal() {
    if (!paused_) {
        paused_ = true;
        paused_since_usec_ = monotonic_usec();
        retry_delay_usec_ = retry_min_usec;
        fifo_source_->set_enabled(false);  // writers now wait in the pipe, nothing is lost
        pause_errno_ = -forwarder_->last_error();
        // With journald gone this entry is lost too; on_retry() says it then.
        pause_logged_ =
            log::warning(log::id::journal_unavailable,
                         std::string("The journal does not take entries for now (") +
                             std::strerror(pause_errno_) + "); holding the FIFO until it does",
                         {{"PIPEJOURNAL_FIFO", fifo_->path()}, {"ERRNO", pause_errno_}});
    } else {
        retry_delay_usec_ = std::min(retry_delay_usec_ * 2, retry_max_usec);
    }
    retry_->set_interval(retry_delay_usec_);
    retry_->arm();
    refresh_status();
}

void Service::on_retry() {
    if (forward() == Forwarder::Progress::blocked) {
        pause_for_journal();
        return;
    }
    paused_ = false;
    if (!pause_logged_) {  // journald was not there to take it when we paused
        char waited[32];
        std::snprintf(waited, sizeof waited, "%.1f s",
                      static_cast<double>(monotonic_usec() - paused_since_usec_) / 1e6);
        log::warning(log::id::journal_unavailable,
                     std::string("The journal did not take entries for ") + waited + " (" +
                         std::strerror(pause_errno_) + "); the FIFO was held meanwhile",
                     {{"PIPEJOURNAL_FIFO", fifo_->path()}, {"ERRNO", pause_errno_}});
    }
    log::info("The journal takes entries again", {{"PIPEJOURNAL_FIFO", fifo_->path()}});
    if (stopping_) {
        continue_stop();
        return;
    }
    fifo_source_->set_enabled(true);
    refresh_status();
}

void Service::on_tick() {
    ++ticks_;
    refresh_status();
    report_trouble(false);
    const Counters& counts = forwarder_->counters();
    log::debug("Tick " + std::to_string(ticks_), {{"TICK", ticks_},
                                                  {"PIPEJOURNAL_LINES", counts.lines},
                                                  {"PIPEJOURNAL_DROPPED", counts.dropped}});
}

void Service::on_reload() {
    if (stopping_)
        return;
    tell_manager(notify::reloading(monotonic_usec(), "Reloading configuration"));
    try {
        ParsedConfig parsed = loader_.load();
        for (const std::string& warning : parsed.warnings)
            log::warning(warning, {{"PIPEJOURNAL_CONFIG", loader_.path()}});
        apply(parsed.config);
        log::info(log::id::reloaded, "Reloaded configuration from " + loader_.path(),
                  {{"PIPEJOURNAL_CONFIG", loader_.path()}, {"PIPEJOURNAL_FIFO", fifo_->path()}});
    } catch (const ConfigError& e) {
        log::error(log::id::reload_failed,
                   std::string("Failed to reload, keeping the running configuration: ") + e.what(),
                   {{"PIPEJOURNAL_CONFIG", loader_.path()}});
    }
    last_status_ = status_text();
    tell_manager(notify::ready(last_status_));
}

void Service::apply(const Config& config) {
    if (config.fifo_path != config_.fifo_path || config.fifo_mode != config_.fifo_mode)
        log::warning(
            "FIFO= and FIFOMode= take effect on restart; still forwarding " + fifo_->path(),
            {{"PIPEJOURNAL_FIFO", fifo_->path()}});
    Config applied = config;
    applied.fifo_path = config_.fifo_path;
    applied.fifo_mode = config_.fifo_mode;
    sink_->set_origin({applied.identifier, fifo_->path()});
    forwarder_->set_default_priority(applied.default_priority);
    if (applied.line_max != config_.line_max)
        forwarder_->set_line_max(applied.line_max);
    if (applied.tick_usec != config_.tick_usec)
        tick_->set_interval(applied.tick_usec);
    log::set_level(applied.log_level);
    config_ = std::move(applied);
}

void Service::on_stop(const char* signal_name) {
    if (stopping_)
        return;
    stopping_ = true;
    // Forward what is in the pipe now, not what writers add while we drain: a writer that
    // never stops must not keep us running.
    int pending = 0;
    if (ioctl(fifo_->fd(), FIONREAD, &pending) < 0)
        pending = 0;
    drain_left_ = static_cast<std::size_t>(pending);
    fifo_source_->set_enabled(false);
    tell_manager(notify::stopping(status_text()));
    log::info(log::id::stopping,
              std::string("Stopping on ") + signal_name + ", forwarding the " +
                  std::to_string(pending) + " bytes left in " + fifo_->path(),
              {{"PIPEJOURNAL_FIFO", fifo_->path()}, {"PIPEJOURNAL_BYTES", pending}});
    if (!paused_)
        continue_stop();
}

void Service::continue_stop() {
    const bool owned = fifo_->origin() == Fifo::Origin::created;
    for (;;) {
        if (forward() == Forwarder::Progress::blocked) {
            pause_for_journal();
            return;
        }
        if (drain_left_ > 0) {
            ssize_t n = forwarder_->read_from(fifo_->fd(), drain_left_);
            if (n > 0)
                drain_left_ -= static_cast<std::size_t>(n);
            else if (n == 0 || n == -EAGAIN)
                drain_left_ = 0;
            else
                throw std::system_error(static_cast<int>(-n), std::generic_category(),
                                        "Failed to read FIFO " + fifo_->path());
            continue;
        }
        // A FIFO that outlives us (systemd's, or one that was there) keeps the bytes we do not
        // read for whoever reads next, so finish the cut line only from bytes already in the pipe,
        // one at a time, taking nothing of the line after it.
        if (!owned && !drain_finished_ && forwarder_->has_partial_line() &&
            forwarder_->read_from(fifo_->fd(), 1) == 1)
            continue;
        if (drain_finished_)
            break;
        forwarder_->finish();  // a last line without '\n' goes out as it is
        drain_finished_ = true;
    }
    flush_sink();
    report_trouble(true);
    loop_.exit(exit_success);
}

void Service::refresh_status() {
    std::string text = status_text();
    if (text == last_status_)
        return;
    last_status_ = std::move(text);
    tell_manager(notify::status(last_status_));
}

std::string Service::status_text() const {
    const std::string& path = fifo_->path();
    if (stopping_)
        return "Stopping: forwarding what is left in " + path;
    const Counters& counts = forwarder_ ? forwarder_->counters() : Counters{};
    std::string numbers = std::to_string(counts.lines) + " lines (" + human_bytes(counts.bytes) +
                          "), " + std::to_string(counts.dropped) + " dropped";
    if (paused_)
        return std::string("Waiting for the journal (") + std::strerror(-forwarder_->last_error()) +
               "): " + path + ": " + numbers;
    if (!to_journal_)
        return "Forwarding " + path + " to stdout (no journal): " + numbers;
    return "Forwarding " + path + ": " + numbers;
}

}  // namespace pj
