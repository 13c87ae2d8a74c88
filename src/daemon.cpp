#include "daemon.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>

#include "errors.hpp"
#include "format/json_module.hpp"
#include "log.hpp"
#include "numbers.hpp"
#include "status.hpp"
#include "systemd/clock.hpp"
#include "systemd/journal.hpp"
#include "systemd/notify.hpp"
#include "transport/native.hpp"
#include "transport/stream.hpp"
#include "transport/text.hpp"

namespace pj {
namespace {

void tell_manager(const std::string& message) {
    if (int r = notify::send(message); r < 0) {
        const log::Errno error{r};
        log::warning("Failed to notify the service manager: " + error.text(), {error.field()});
    }
}

constexpr uint64_t own_entries_grace_usec = 500'000;

}  // namespace

ChannelSettings channel_settings(const Config& config, const Sink& sink) {
    ChannelSettings settings;
    settings.identifier = config.identifier;
    // journald cuts a stream line at its own LineMax (48K), "<N>" included, and the cut-off rest
    // would lose its priority: pieces are cut here so that each is one line for journald.
    settings.line_max = std::min(config.line_max, sink.max_message_bytes());
    settings.format = config.format;
    settings.partial_line_timeout_usec = config.partial_line_timeout_usec;
    settings.multiline = config.multiline;
    settings.multiline_timeout_usec = config.multiline_timeout_usec;
    settings.backlog_max = config.backlog_max;
    return settings;
}

Daemon::Daemon(ConfigLoader loader, Config config)
    : loader_(std::move(loader)), config_(std::move(config)) {}

Daemon::~Daemon() = default;

int Daemon::run() {
    try {
        return serve();
    } catch (...) {
        close_channels();
        throw;
    }
}

int Daemon::serve() {
    // Before anything that could be interrupted: a SIGTERM now must wait for the loop, not
    // kill us with a FIFO half set up.
    event::block_signals({SIGTERM, SIGINT, SIGHUP});
    sigterm_.emplace(loop_, SIGTERM, [this](const signalfd_siginfo&) { on_stop("SIGTERM"); });
    sigint_.emplace(loop_, SIGINT, [this](const signalfd_siginfo&) { on_stop("SIGINT"); });
    sighup_.emplace(loop_, SIGHUP, [this](const signalfd_siginfo&) { on_reload(); });

    if (std::optional<std::string> missing = missing_json_reader(config_))
        throw StartupError(*missing, ELIBACC, exit_not_installed);
    std::vector<PassedFd> passed = take_passed_fds();
    channels_.push_back(open_channel(passed));
    for (PassedFd& unexpected : passed)  // closed as they go out of scope
        log::warning("Closing file descriptor " + std::to_string(unexpected.fd.get()) + " (" +
                         (unexpected.name.empty() ? "unnamed" : unexpected.name) +
                         ") that systemd passed: it is not the FIFO to read",
                     {{"PIPEJOURNAL_FIFO", config_.fifo_path}});
    passed.clear();

    tick_.emplace(loop_, event::TimerSource::Mode::periodic, config_.tick_usec, 0,
                  [this] { on_tick(); });
    watchdog_.emplace(loop_);

    const Channel::Snapshot first = channels_.front()->snapshot();
    log::info(
        log::id::started,
        "Forwarding lines from " + first.fifo_path + " to " + std::string(sink_name(first.sink)),
        {{"PIPEJOURNAL_FIFO", first.fifo_path},
         {"PIPEJOURNAL_CONFIG", loader_.path()},
         {"PIPEJOURNAL_BACKLOG", channels_.front()->backlog().path()},
         {"PIPEJOURNAL_WATCHDOG_USEC", watchdog_->timeout_usec()}});
    phase_ = Phase::running;
    last_status_ = status();
    tell_manager(notify::ready(last_status_));

    loop_.run();

    ChannelCounters total;
    for (const auto& channel : channels_) {
        const ChannelCounters& c = channel->snapshot().counters;
        total.lines += c.lines;
        total.bytes += c.bytes;
        total.dropped += c.dropped;
    }
    close_channels();
    log::info(log::id::stopped,
              "Stopped after forwarding " + std::to_string(total.lines) + " lines, " +
                  std::to_string(total.dropped) + " dropped",
              {{"PIPEJOURNAL_FIFO", config_.fifo_path},
               {"PIPEJOURNAL_LINES", total.lines},
               {"PIPEJOURNAL_BYTES", total.bytes},
               {"PIPEJOURNAL_DROPPED", total.dropped}});
    // Our last entries may still wait for a busy journald: a moment for them, not for a frozen
    // one.
    log::flush_pending(own_entries_grace_usec);
    return exit_success;
}

std::unique_ptr<Channel> Daemon::open_channel(std::vector<PassedFd>& passed) {
    std::optional<Fifo> fifo = take_passed_fifo(passed, config_.fifo_path);
    if (fifo) {
        log::info(log::id::fifo_adopted, "Using FIFO " + fifo->path() + " passed by systemd",
                  {{"PIPEJOURNAL_FIFO", fifo->path()}});
    } else {
        fifo = Fifo::open_or_create(config_.fifo_path, config_.fifo_mode);
        if (fifo->origin() == Fifo::Origin::created)
            log::info(
                log::id::fifo_created,
                "Created FIFO " + fifo->path() + " with mode " + octal_mode(config_.fifo_mode),
                {{"PIPEJOURNAL_FIFO", fifo->path()}});
        else
            log::info(log::id::fifo_adopted,
                      "Using existing FIFO " + fifo->path() + " (it stays when we stop)",
                      {{"PIPEJOURNAL_FIFO", fifo->path()}});
    }

    Backlog backlog = open_backlog(*fifo);
    // A stream connection a previous run kept in PID 1's store.
    std::optional<PassedFd> kept;
    for (auto it = passed.begin(); it != passed.end(); ++it)
        if (StreamSink::identifier_in(it->name)) {
            kept = std::move(*it);
            passed.erase(it);
            break;
        }
    std::unique_ptr<Sink> sink;
    const bool journal_present = journal::socket_present();
    if (journal_present && config_.transport == Transport::stream) {
        auto stream = std::make_unique<StreamSink>(StreamSink::Options{.keep_in_store = true});
        if (kept)
            stream->adopt(std::move(kept->fd), *StreamSink::identifier_in(kept->name));
        sink = std::move(stream);
    } else if (journal_present) {
        sink = std::make_unique<NativeSink>();
    } else {
        log::warning(log::id::journal_unavailable,
                     "No journal on this machine (/run/systemd/journal/socket is missing): "
                     "writing entries to standard output instead",
                     {{"PIPEJOURNAL_FIFO", fifo->path()}});
        sink = std::make_unique<TextSink>(STDOUT_FILENO);
    }
    if (kept && kept->fd)  // not taken: the transport changed since; let PID 1 forget it too
        notify::unstore(kept->name);
    try {
        ChannelSettings settings = channel_settings(config_, *sink);
        return std::make_unique<Channel>(loop_, std::move(*fifo), std::move(backlog),
                                         std::move(sink), std::move(settings), *this);
    } catch (...) {
        fifo->close_and_remove();
        throw;
    }
}

Backlog Daemon::open_backlog(const Fifo& fifo) {
    // Room for BacklogMax= held for the sink, and for what is in hand meanwhile: the longest line
    // LineMax= may ever allow, the longest record and the reads. Sparse: only what it holds is
    // memory.
    const std::size_t capacity =
        config_.backlog_max + line_max_limit + RecordLimits{}.bytes + 4 * 16 * 1024;
    // Ours only: a directory someone else owns (a daemon run by hand as root) is not used.
    const std::string directory(backlog_directory);
    struct stat st {};
    bool ours = lstat(directory.c_str(), &st) == 0 && S_ISDIR(st.st_mode) &&
                st.st_uid == geteuid() && access(directory.c_str(), W_OK) == 0;
    Backlog backlog = Backlog::open(ours ? directory : std::string(), fifo.path(), capacity);
    if (backlog.damaged())
        log::error("The backlog " + backlog.path() + " was damaged; it is kept as " +
                       backlog.path() + ".damaged and a new one is used",
                   {{"PIPEJOURNAL_FIFO", fifo.path()}, {"PIPEJOURNAL_BACKLOG", backlog.path()}});
    if (!ours && config_.backlog_max > 0)
        log::warning("No backlog directory " + directory +
                         " of ours: the backlog is kept in "
                         "memory only, and a crash or a stop while journald takes nothing loses it",
                     {{"PIPEJOURNAL_FIFO", fifo.path()}});
    return backlog;
}

void Daemon::close_channels() {
    for (const auto& channel : channels_) {
        std::string path = channel->fifo().path();
        if (channel->close())
            log::info(log::id::fifo_removed, "Removed FIFO " + path, {{"PIPEJOURNAL_FIFO", path}});
    }
    channels_.clear();
}

void Daemon::channel_changed(Channel&) {
    log::flush_pending();  // the journal may take entries again: ours that waited go first
    refresh_status();
}

void Daemon::channel_finished(Channel&) {
    for (const auto& channel : channels_)
        if (!channel->finished())
            return;
    loop_.exit(exit_success);
}

void Daemon::on_tick() {
    ++ticks_;
    log::flush_pending();
    refresh_status();
    ChannelCounters total;
    for (const auto& channel : channels_) {
        channel->report_trouble(false);
        const ChannelCounters& c = channel->snapshot().counters;
        total.lines += c.lines;
        total.dropped += c.dropped;
    }
    log::debug("Tick " + std::to_string(ticks_), {{"TICK", ticks_},
                                                  {"PIPEJOURNAL_LINES", total.lines},
                                                  {"PIPEJOURNAL_DROPPED", total.dropped}});
}

void Daemon::on_reload() {
    if (phase_ != Phase::running)
        return;
    tell_manager(notify::reloading(clock::monotonic_usec(), "Reloading configuration"));
    try {
        // The sink is made at start-up: the rest of the new configuration goes with the running
        // transport (its defaults, its rules), or the whole reload waits for the restart.
        ParsedConfig parsed = loader_.load(config_.transport);
        if (std::optional<std::string> missing = missing_json_reader(parsed.config))
            throw ConfigError(*missing);
        for (const std::string& warning : parsed.warnings)  // each names its file and line
            log::warning(warning, {{"PIPEJOURNAL_CONFIG", loader_.path()}});
        if (parsed.transport_on_restart)
            log::warning("Transport=" + std::string(to_string(*parsed.transport_on_restart)) +
                             " takes effect on restart; still sending with Transport=" +
                             std::string(to_string(config_.transport)),
                         {{"PIPEJOURNAL_FIFO", config_.fifo_path}});
        apply(parsed.config);
        std::string files;
        for (const std::string& file : parsed.files)
            files += (files.empty() ? "" : " and ") + file;
        log::info(
            log::id::reloaded,
            files.empty() ? "Reloaded configuration (no file: the defaults)"
                          : "Reloaded configuration from " + files,
            {{"PIPEJOURNAL_CONFIG", loader_.path()}, {"PIPEJOURNAL_FIFO", config_.fifo_path}});
    } catch (const ConfigError& e) {
        log::error(log::id::reload_failed,
                   std::string("Failed to reload, keeping the running configuration: ") + e.what(),
                   {{"PIPEJOURNAL_CONFIG", loader_.path()}});
    }
    last_status_ = status();
    tell_manager(notify::ready(last_status_));
}

void Daemon::apply(const Config& config) {
    Config applied = config;
    if (config.fifo_path != config_.fifo_path || config.fifo_mode != config_.fifo_mode)
        log::warning(
            "FIFO= and FIFOMode= take effect on restart; still forwarding " + config_.fifo_path,
            {{"PIPEJOURNAL_FIFO", config_.fifo_path}});
    applied.fifo_path = config_.fifo_path;
    applied.fifo_mode = config_.fifo_mode;
    if (config.backlog_max != config_.backlog_max)
        log::warning("BacklogMax= takes effect on restart; still holding at most " +
                         size_text(config_.backlog_max),
                     {{"PIPEJOURNAL_FIFO", config_.fifo_path}});
    applied.backlog_max = config_.backlog_max;
    for (const auto& channel : channels_)
        channel->reconfigure(channel_settings(applied, channel->sink()));
    if (applied.tick_usec != config_.tick_usec)
        tick_->set_interval(applied.tick_usec);
    log::set_level(applied.log_level);
    config_ = std::move(applied);
}

void Daemon::on_stop(const char* signal_name) {
    if (phase_ != Phase::running)
        return;
    phase_ = Phase::stopping;
    tell_manager(notify::stopping(status()));
    for (const auto& channel : channels_) {
        const std::string path = channel->fifo().path();
        std::size_t pending = channel->stop();
        log::info(log::id::stopping,
                  std::string("Stopping on ") + signal_name + ", forwarding the " +
                      std::to_string(pending) + " bytes left in " + path,
                  {{"PIPEJOURNAL_FIFO", path}, {"PIPEJOURNAL_BYTES", pending}});
    }
}

void Daemon::refresh_status() {
    std::string text = status();
    if (text == last_status_)
        return;
    last_status_ = std::move(text);
    tell_manager(notify::status(last_status_));
}

std::string Daemon::status() const {
    std::vector<Channel::Snapshot> snapshots;
    snapshots.reserve(channels_.size());
    for (const auto& channel : channels_)
        snapshots.push_back(channel->snapshot());
    return status_text(snapshots, phase_ == Phase::stopping);
}

std::optional<std::string> missing_json_reader(const Config& config) {
    const LineFormat format = config.format.format;
    if (format != LineFormat::automatic && format != LineFormat::json)
        return std::nullopt;
    json_module::Location location = json_module::locate();
    if (location.kind != json_module::Location::Kind::missing)
        return std::nullopt;
    return "Format=" + std::string(to_string(format)) + " needs the JSON reader: " + location.text;
}

}  // namespace pj
