// The daemon: one sd-event loop with its signals, watchdog, status tick and reload, and the
// channels (one per FIFO) that do the forwarding. It talks to the service manager; the channels
// know nothing of systemd.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "channel.hpp"
#include "config.hpp"
#include "systemd/event.hpp"
#include "systemd/watchdog.hpp"

namespace pj {

class Daemon final : public Channel::Listener {
public:
    Daemon(ConfigLoader loader, Config config);
    ~Daemon();

    // Starts, sends READY=1, forwards until SIGTERM/SIGINT, drains, cleans up; returns the exit
    // status. Throws StartupError (or std::system_error) when it cannot start or keep running;
    // a FIFO it created is removed before the exception leaves.
    int run();

    bool ready() const noexcept { return phase_ != Phase::starting; }  // READY=1 was sent

private:
    enum class Phase { starting, running, stopping };

    int serve();
    std::unique_ptr<Channel> open_channel(std::vector<PassedFd>& passed);
    Backlog open_backlog(const Fifo& fifo);
    void close_channels();

    void on_tick();
    void on_reload();
    void on_stop(const char* signal_name);
    void channel_changed(Channel& channel) override;
    void channel_finished(Channel& channel) override;

    void refresh_status();
    std::string status() const;
    void apply(const Config& config);

    ConfigLoader loader_;
    Config config_;
    Phase phase_ = Phase::starting;
    uint64_t ticks_ = 0;
    std::string last_status_;

    // Destroyed in reverse: channels and sources first, the loop last.
    event::Loop loop_;
    std::vector<std::unique_ptr<Channel>> channels_;
    std::optional<event::SignalSource> sigterm_, sigint_, sighup_;
    std::optional<event::TimerSource> tick_;
    std::optional<Watchdog> watchdog_;
};

// What a channel needs of the configuration, within what its sink takes.
ChannelSettings channel_settings(const Config& config, const Sink& sink);

// Format=auto and Format=json read JSON lines with pipejournal-json.so, which the first such line
// loads: a start, a reload and --check-config make sure now that it is there. nullopt when it is
// or when the configuration reads no JSON; else why not.
std::optional<std::string> missing_json_reader(const Config& config);

}  // namespace pj
