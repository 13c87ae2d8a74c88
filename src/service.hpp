// The daemon's lifecycle: one sd-event loop that owns the FIFO, the forwarder and the sources.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "config.hpp"
#include "fifo.hpp"
#include "forwarder.hpp"
#include "sink.hpp"
#include "systemd/event.hpp"
#include "systemd/watchdog.hpp"

namespace pj {

class Service {
public:
    Service(ConfigLoader loader, Config config);

    // Starts, sends READY=1, forwards until SIGTERM/SIGINT, drains, cleans up; returns the exit
    // status. Throws StartupError (or std::system_error) when it cannot start or keep running;
    // a FIFO it created is removed before the exception leaves.
    int run();

    bool ready() const noexcept { return ready_; }  // READY=1 was sent

private:
    int serve();
    std::unique_ptr<Sink> make_sink(const Origin& origin);
    Fifo open_fifo();

    void on_fifo_readable();
    void on_tick();
    void on_reload();
    void on_stop(const char* signal_name);
    void continue_stop();
    void on_retry();
    void pause_for_journal();

    Forwarder::Progress forward();
    void flush_sink();
    void report_trouble(bool force);
    void refresh_status();
    std::string status_text() const;
    void apply(const Config& config);

    ConfigLoader loader_;
    Config config_;
    bool to_journal_ = false;
    bool ready_ = false;
    bool stopping_ = false;
    bool paused_ = false;  // the journal refused for now; the FIFO is not read meanwhile
    uint64_t paused_since_usec_ = 0;
    int pause_errno_ = 0;
    bool pause_logged_ = false;  // the journal took our journal_unavailable entry when we paused
    uint64_t retry_delay_usec_ = 0;
    std::size_t drain_left_ = 0;  // bytes still to forward when stopping
    bool drain_finished_ = false;
    bool flush_failed_ = false;
    uint64_t ticks_ = 0;
    std::string last_status_;
    uint64_t reported_dropped_ = 0, reported_split_ = 0, last_report_usec_ = 0;

    // Destroyed in reverse: sources first, the loop last.
    event::Loop loop_;
    std::optional<Fifo> fifo_;
    std::unique_ptr<Sink> sink_;
    std::optional<Forwarder> forwarder_;
    std::optional<event::SignalSource> sigterm_, sigint_, sighup_;
    std::optional<event::IoSource> fifo_source_;
    std::optional<event::TimerSource> tick_, retry_;
    std::optional<Watchdog> watchdog_;
};

}  // namespace pj
