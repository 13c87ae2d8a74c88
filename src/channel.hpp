// One FIFO and where its lines go. The channel moves what writers put into the FIFO into its
// backlog (a crash-safe store, backlog.hpp), cuts lines and records from it, maps them to entries
// and hands them to its sink. While the sink does not take entries it goes on reading the FIFO
// into the backlog, so writers never wait for journald, until the backlog holds BacklogMax=; it
// forwards a partial line or a record that stays idle; and it drains on stop. The daemon owns its
// channels and is told when one changed or finished. docs/design.md "The channel's states".
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <variant>

#include "backlog.hpp"
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
    // The most the backlog holds for a sink that does not take entries (BacklogMax=); 0: none,
    // the FIFO is not read meanwhile.
    std::size_t backlog_max = 16 * 1024 * 1024;
    // A sink that does not take entries for less than this is busy, not unavailable: a stream
    // socket is full whenever journald is the slower side, and journald itself pauses for a
    // moment now and then (rotating a file, catching up after a start). Such a wait is neither
    // logged nor shown in STATUS=.
    uint64_t wait_notice_usec = 250'000;
    // On stop, with a backlog that outlives us: how long the sink may take nothing before the
    // rest is left for the next start, and how long the drain may take in all. Far below the
    // unit's stop timeout (15 s).
    uint64_t stop_patience_usec = 1'000'000;
    uint64_t stop_budget_usec = 10'000'000;

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
    // The sink does not take entries for now.
    struct Refusal {
        uint64_t since_usec;  // the loop's clock
        int error;            // negative errno of the refusal that started it
        uint64_t retry_usec;  // current backoff, when the sink has no descriptor to wait on
        // Whether the wait was told: not before it lasted wait_notice_usec; `lost` when our own
        // entry saying so did not reach the journal (said again when the wait ends).
        enum class Told { no, yes, lost } told = Told::no;
    };

    // One state; watch() derives from it which event sources run (as systemd's
    // socket_set_state()).
    struct Forwarding {};  // reading the FIFO, forwarding as lines come
    struct Backlogged {    // the sink refuses: the FIFO is read into the backlog meanwhile
        Refusal refusal;
    };
    struct Full {  // and the backlog holds BacklogMax (or /run is full): writers wait in the pipe
        Refusal refusal;
    };
    struct Draining {                    // told to stop: forwarding what was in the pipe then
        std::size_t pipe_left;           // bytes of it not taken yet
        uint64_t since_usec;             // when stop() came
        std::optional<Refusal> refusal;  // the sink refuses meanwhile
        // The backlog dies with us and the FIFO outlives us: the rest of a cut line may still be
        // on its way (a writer of a line longer than PIPE_BUF blocked on the full pipe). Until
        // when to wait for it.
        std::optional<uint64_t> cut_line_deadline_usec;
    };
    struct Finished {             // drained; the daemon may close it
        uint64_t left_bytes = 0;  // unsent, kept in the backlog for the next start
        uint64_t left_lines = 0;
    };
    using State = std::variant<Forwarding, Backlogged, Full, Draining, Finished>;

    // What waits in the backlog for the sink (shown in STATUS= while there is a backlog).
    struct Waiting {
        uint64_t lines;
        uint64_t bytes;
    };

    struct Snapshot {
        const std::string& fifo_path;
        Sink::Kind sink;
        bool stopping;                   // Draining or Finished
        std::optional<Refusal> refusal;  // only a refusal that was told
        std::optional<Waiting> waiting;  // only when entries wait beyond what is in hand
        ChannelCounters counters;
        bool counts_structured;  // the format can give structured lines (not Format=plain)
        int drop_error;          // negative errno of the last entry refused for good, or 0
    };

    class Listener {
    public:
        virtual void channel_changed(Channel& channel) = 0;   // a told refusal started or ended
        virtual void channel_finished(Channel& channel) = 0;  // drained after stop()
    protected:
        ~Listener() = default;
    };

    Channel(event::Loop& loop, Fifo fifo, Backlog backlog, std::unique_ptr<Sink> sink,
            ChannelSettings settings, Listener& listener);
    Channel(const Channel&) = delete;
    Channel& operator=(const Channel&) = delete;
    ~Channel();

    // Forwards what is in the pipe now, not what writers add meanwhile: a writer that never
    // stops cannot keep the daemon running. With a backlog that outlives us, what the sink does not
    // take within stop_patience_usec stays there for the next start. Ends in Finished (listener
    // told). Returns the bytes that were in the pipe.
    std::size_t stop();
    void reconfigure(const ChannelSettings& settings);
    // Refused entries and split lines are logged with their counts, at most every 10 s (force:
    // now); the backlog's sent bytes give their memory back.
    void report_trouble(bool force);

    Snapshot snapshot() const;
    const State& state() const noexcept { return state_; }
    bool finished() const noexcept { return std::holds_alternative<Finished>(state_); }
    const Fifo& fifo() const noexcept { return fifo_; }
    const Sink& sink() const noexcept { return *sink_; }
    const Backlog& backlog() const noexcept { return backlog_; }

    // Stops watching and closes the FIFO, removing it when this process created it. Returns
    // whether it was removed.
    bool close();

private:
    enum class Progress { done, blocked };

    void set_state(State state);
    void watch();
    Refusal* refusal() noexcept;  // the state's, or nullptr
    const Refusal* refusal() const noexcept;

    void on_readable();
    void on_sink_ready();
    void on_wait_notice();
    void on_partial_line_idle();
    void on_record_deadline();
    void on_more();

    ssize_t take(std::size_t max_bytes);
    Progress pump();
    Progress forward();
    Progress flush();
    void settle();
    void refused(int error);
    void accepted();
    void continue_drain();
    void finish_drain(bool leave_rest);
    void arm_idle_timers();
    void tell_refusal();
    void tell_refusal_ended(const Refusal& refusal);
    uint64_t unsent_lines() const;

    event::Loop& loop_;
    Listener& listener_;
    Fifo fifo_;
    Backlog backlog_;
    std::unique_ptr<Sink> sink_;
    ChannelSettings settings_;
    LineBuffer buffer_;
    LineMapper mapper_;
    // Every use of the buffer goes through the joiner, so that it knows when bytes it holds move.
    RecordJoiner records_;

    State state_ = Forwarding{};
    // Backlog positions: the buffer's first byte, and what has been copied into the buffer.
    uint64_t base_ = 0, loaded_ = 0;
    // Ends of the entries a buffering sink took but has not written yet: the backlog is sent up
    // to each once it is written.
    std::deque<uint64_t> unwritten_;
    uint64_t taken_usec_ = 0;  // when the sink last took an entry (a stop's patience)
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
    std::optional<event::TimerSource> stop_timer_;
    std::optional<event::DeferSource> more_;  // the next piece of a backlog being sent
};

}  // namespace pj
