// One FIFO and where its lines go. The channel reads the FIFO, cuts lines, maps them to entries
// and hands them to its sink; holds the FIFO while the sink does not take entries (writers then
// wait in the pipe); forwards a partial line that stays idle; and drains what is left on stop.
// The daemon owns its channels and is told when one changed or finished.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "fifo.hpp"
#include "format/mapper.hpp"
#include "lines.hpp"
#include "records/joiner.hpp"
#include "systemd/event.hpp"
#include "transport/sink.hpp"

namespace pj {

struct ChannelSettings {
    std::string identifier;  // SYSLOG_IDENTIFIER=
    std::size_t line_max = 48 * 1024;
    FormatOptions format;
    std::optional<uint64_t> partial_line_timeout_usec = 1'000'000;  // nullopt: never
    records::Rules multiline = records::default_rules();
    uint64_t multiline_timeout_usec = RecordJoiner::default_timeout_usec;
    // A sink that does not take entries for less than this is busy, not unavailable: a stream
    // socket is full whenever journald is the slower side, and journald itself pauses for a
    // moment now and then (rotating a file, catching up after a start). Such a wait is neither
    // logged nor shown in STATUS=.
    uint64_t wait_notice_usec = 250'000;

    bool operator==(const ChannelSettings&) const = default;
};

struct ChannelCounters {
    uint64_t lines = 0;       // lines in the entries the sink took (less those it lost later)
    uint64_t bytes = 0;       // bytes read from the FIFO
    uint64_t structured = 0;  // entries whose line gave fields of its own (JSON, logfmt)
    uint64_t dropped = 0;     // entries refused or lost for good
    uint64_t split = 0;       // pieces cut from over-long lines
    uint64_t records = 0;     // entries that are multi-line records
};

class Channel {
public:
    enum class Phase {
        forwarding,  // reading the FIFO as lines come
        draining,    // told to stop: forwarding what was in the pipe then
        finished,    // drained; the daemon may close it
    };

    // The sink does not take entries for now: the FIFO is not read meanwhile.
    struct Waiting {
        uint64_t since_usec;  // the loop's clock
        int error;            // negative errno of the refusal that started it
        uint64_t retry_usec;  // current backoff, when the sink has no descriptor to wait on
        bool noticed;         // lasted wait_notice_usec: logged, shown, the daemon told
        bool announced;       // our journal_unavailable entry got through when it was noticed
    };

    struct Snapshot {
        const std::string& fifo_path;
        Sink::Kind sink;
        Phase phase;
        std::optional<Waiting> waiting;  // only a wait that was noticed
        ChannelCounters counters;
        bool counts_structured;  // the format can give structured lines (not Format=plain)
        int drop_error;          // negative errno of the last entry refused for good, or 0
    };

    class Listener {
    public:
        virtual void channel_changed(Channel& channel) = 0;   // a noticed wait started or ended
        virtual void channel_finished(Channel& channel) = 0;  // drained after stop()
    protected:
        ~Listener() = default;
    };

    Channel(event::Loop& loop, Fifo fifo, std::unique_ptr<Sink> sink, ChannelSettings settings,
            Listener& listener);
    Channel(const Channel&) = delete;
    Channel& operator=(const Channel&) = delete;
    ~Channel();

    // Forwards what is in the pipe now, not what writers add meanwhile: a writer that never
    // stops cannot keep the daemon running. Ends in Phase::finished (listener told).
    std::size_t stop();  // returns the bytes that were in the pipe
    void reconfigure(const ChannelSettings& settings);
    // Refused entries and split lines are logged with their counts, at most every 10 s (force:
    // now).
    void report_trouble(bool force);

    Snapshot snapshot() const;
    Phase phase() const noexcept { return phase_; }
    const Fifo& fifo() const noexcept { return fifo_; }
    const Sink& sink() const noexcept { return *sink_; }

    // Stops watching and closes the FIFO, removing it when this process created it. Returns
    // whether it was removed.
    bool close();

private:
    struct Drain {
        std::size_t bytes_left;  // of what was in the pipe when stop() came
        // A FIFO that outlives us: the rest of a cut line may still be on its way (a writer of a
        // line longer than PIPE_BUF blocked on the full pipe). Until when to wait for it.
        std::optional<uint64_t> cut_line_deadline_usec;
    };
    enum class Progress { done, blocked };

    void on_readable();
    void on_partial_line_idle();
    void on_record_deadline();
    void on_sink_ready();

    ssize_t read_some(std::size_t max_bytes);
    Progress forward();
    Progress flush();
    void start_waiting(int error);
    void notice_waiting();
    void stop_waiting();
    void continue_drain();
    void arm_partial_line_timer();
    void arm_record_timer();
    void arm_idle_timers();

    event::Loop& loop_;
    Listener& listener_;
    Fifo fifo_;
    std::unique_ptr<Sink> sink_;
    ChannelSettings settings_;
    LineBuffer buffer_;
    LineMapper mapper_;
    // Every use of the buffer goes through the joiner, so that it knows when bytes it holds move.
    RecordJoiner records_;

    Phase phase_ = Phase::forwarding;
    std::optional<Waiting> waiting_;
    std::optional<Drain> drain_;
    ChannelCounters counters_;
    uint64_t lost_seen_ = 0;  // sink_->lost_entries() already counted as dropped

    // Trouble reported so far, and the error of the last entry refused for good.
    uint64_t reported_dropped_ = 0, reported_split_ = 0, last_report_usec_ = 0;
    int drop_error_ = 0;

    // Sources last: they are destroyed first, before the FIFO they watch is closed.
    std::optional<event::IoSource> readable_;
    std::optional<event::IoSource> sink_writable_;
    std::optional<event::TimerSource> retry_;
    std::optional<event::TimerSource> wait_notice_;
    std::optional<event::TimerSource> partial_line_timer_;
    std::optional<event::TimerSource> record_timer_;
};

}  // namespace pj
