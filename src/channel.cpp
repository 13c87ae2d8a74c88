#include "channel.hpp"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <system_error>

#include "log.hpp"

namespace pj {
namespace {

// One read of at most this much per wake-up, then back to the loop: a writer that never pauses
// cannot delay a signal or a watchdog ping by more than one read's lines, and a kill loses at most
// what one read took (lines read, not yet sent). An epoll round per 16 KiB (~160 lines of 100
// bytes) costs nothing next to one sendmsg per line.
constexpr std::size_t read_size = 16 * 1024;
constexpr uint64_t retry_min_usec = 10'000, retry_max_usec = 1'000'000;
constexpr uint64_t report_interval_usec = 10'000'000;  // trouble is logged at most this often
// How long a stop waits for the rest of a cut line in a FIFO that outlives us: far below any
// stop timeout, far above what a writer blocked on the full pipe needs to go on.
constexpr uint64_t cut_line_wait_usec = 500'000;

std::string seconds_text(uint64_t usec) {
    char text[32];
    std::snprintf(text, sizeof text, "%.1f s", static_cast<double>(usec) / 1e6);
    return text;
}

// "the journal" → "The journal", for the start of a sentence.
std::string capitalized(std::string_view text) {
    std::string result(text);
    if (!result.empty() && result[0] >= 'a' && result[0] <= 'z')
        result[0] = static_cast<char>(result[0] - 'a' + 'A');
    return result;
}

}  // namespace

Channel::Channel(event::Loop& loop, Fifo fifo, std::unique_ptr<Sink> sink, ChannelSettings settings,
                 Listener& listener)
    : loop_(loop),
      listener_(listener),
      fifo_(std::move(fifo)),
      sink_(std::move(sink)),
      settings_(std::move(settings)),
      buffer_(settings_.line_max, read_size),
      mapper_(settings_.format),
      records_(buffer_, settings_.multiline, settings_.multiline_timeout_usec,
               [this](std::string_view text) { return mapper_.maps_structured(text); }) {
    sink_->set_origin({settings_.identifier, fifo_.path()});  // the one place it comes from
    retry_.emplace(loop_, event::TimerSource::Mode::one_shot, retry_min_usec, 1000,
                   [this] { on_sink_ready(); });
    wait_notice_.emplace(loop_, event::TimerSource::Mode::one_shot, settings_.wait_notice_usec,
                         1000, [this] { notice_waiting(); });
    partial_line_timer_.emplace(loop_, event::TimerSource::Mode::one_shot,
                                settings_.partial_line_timeout_usec.value_or(1'000'000), 10'000,
                                [this] { on_partial_line_idle(); });
    // 1 ms accuracy: sd-event's default of 250 ms would be half the record timeout again.
    record_timer_.emplace(loop_, event::TimerSource::Mode::one_shot,
                          settings_.multiline_timeout_usec, 1'000,
                          [this] { on_record_deadline(); });
    readable_.emplace(loop_, fifo_.fd(), EPOLLIN, [this](uint32_t) { on_readable(); });
}

Channel::~Channel() = default;

bool Channel::close() {
    readable_.reset();
    sink_writable_.reset();
    retry_.reset();
    wait_notice_.reset();
    partial_line_timer_.reset();
    record_timer_.reset();
    return fifo_.close_and_remove();
}

Channel::Snapshot Channel::snapshot() const {
    std::optional<Waiting> noticed;
    if (waiting_ && waiting_->noticed)
        noticed = waiting_;
    return {fifo_.path(), sink_->kind(), phase_,
            noticed,      counters_,     settings_.format.format != LineFormat::plain,
            drop_error_};
}

void Channel::reconfigure(const ChannelSettings& settings) {
    if (settings.identifier != settings_.identifier)
        sink_->set_origin({settings.identifier, fifo_.path()});
    mapper_.set_options(settings.format);
    if (settings.line_max != settings_.line_max)
        records_.set_line_max(settings.line_max);
    if (settings.multiline != settings_.multiline)
        records_.set_rules(settings.multiline);  // a pending record goes out as it is
    records_.set_timeout(settings.multiline_timeout_usec);
    settings_ = settings;
    if (phase_ == Phase::forwarding && !waiting_ && forward() == Progress::done &&
        flush() == Progress::done)
        arm_idle_timers();
}

void Channel::on_readable() {
    if (phase_ == Phase::draining) {  // the rest of a cut line arrived
        continue_drain();
        return;
    }
    ssize_t n = read_some(read_size);
    if (n < 0 && n != -EAGAIN)
        throw std::system_error(static_cast<int>(-n), std::generic_category(),
                                "Failed to read FIFO " + fifo_.path());
    if (n > 0 && forward() == Progress::blocked)
        return;
    if (flush() == Progress::blocked)
        return;
    arm_idle_timers();
}

ssize_t Channel::read_some(std::size_t max_bytes) {
    auto space = records_.free_space();
    ssize_t n;
    do
        n = read(fifo_.fd(), space.data(), std::min(space.size(), max_bytes));
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return -errno;
    records_.commit(static_cast<std::size_t>(n), loop_.now());
    counters_.bytes += static_cast<uint64_t>(n);
    return n;
}

Channel::Progress Channel::forward() {
    while (const Record* record = records_.front()) {
        Entry entry = mapper_.map(*record);
        int r = sink_->send(entry);
        if (r < 0 && is_transient(r)) {
            start_waiting(r);  // the record stays and is offered again
            return Progress::blocked;
        }
        if (r < 0) {
            ++counters_.dropped;
            drop_error_ = r;
        } else {
            counters_.lines += record->lines;
            counters_.structured += entry.structured ? 1 : 0;
            counters_.records += record->rule != MultilineRule::none ? 1 : 0;
            counters_.split += record->line.end == Line::Break::line_max ? 1 : 0;
        }
        records_.pop();
    }
    if (counters_.dropped != reported_dropped_ || counters_.split != reported_split_)
        report_trouble(false);
    return Progress::done;
}

Channel::Progress Channel::flush() {
    int r = sink_->flush();
    if (uint64_t lost = sink_->lost_entries(); lost != lost_seen_) {
        counters_.lines -= lost - lost_seen_;  // they were counted when the sink took them
        counters_.dropped += lost - lost_seen_;
        drop_error_ = r < 0 ? r : -EIO;
        lost_seen_ = lost;
        report_trouble(false);
    }
    if (r < 0 && is_transient(r)) {
        start_waiting(r);
        return Progress::blocked;
    }
    return Progress::done;
}

void Channel::start_waiting(int error) {
    readable_->set_enabled(false);  // writers now wait in the pipe, nothing is lost
    partial_line_timer_->set_enabled(false);
    record_timer_->set_enabled(false);
    if (!waiting_) {
        waiting_ = Waiting{loop_.now(), error, retry_min_usec, false, false};
        if (settings_.wait_notice_usec == 0) {
            notice_waiting();
        } else {
            wait_notice_->set_interval(settings_.wait_notice_usec);
            wait_notice_->arm();
        }
    } else {
        waiting_->retry_usec = std::min(waiting_->retry_usec * 2, retry_max_usec);
    }
    if (int fd = sink_->wait_fd(); fd >= 0) {
        // Made anew for every wait: a sink that reconnected names another socket, maybe under
        // the same number. Level-triggered: the callback disables it before anything else.
        sink_writable_.reset();
        sink_writable_.emplace(loop_, fd, EPOLLOUT, [this](uint32_t) { on_sink_ready(); });
    } else {
        retry_->set_interval(waiting_->retry_usec);
        retry_->arm();
    }
}

void Channel::notice_waiting() {
    if (!waiting_ || waiting_->noticed)
        return;
    waiting_->noticed = true;
    // With journald gone this entry is lost too; stop_waiting() says it then.
    const log::Errno error{waiting_->error};
    waiting_->announced =
        log::warning(log::id::journal_unavailable,
                     capitalized(sink_->name()) + " does not take entries for now (" +
                         error.text() + "); holding " + fifo_.path() + " until it does",
                     {{"PIPEJOURNAL_FIFO", fifo_.path()}, error.field()});
    listener_.channel_changed(*this);
}

void Channel::on_sink_ready() {
    if (sink_writable_)
        sink_writable_->set_enabled(false);
    if (forward() == Progress::blocked || flush() == Progress::blocked)
        return;
    stop_waiting();
    if (phase_ == Phase::draining) {
        continue_drain();
        return;
    }
    readable_->set_enabled(true);
    arm_idle_timers();
}

void Channel::stop_waiting() {
    if (!waiting_)
        return;
    Waiting waited = *waiting_;
    waiting_.reset();
    wait_notice_->set_enabled(false);
    if (!waited.noticed)  // busy for a moment, as a full socket is under load: nothing to say
        return;
    if (!waited.announced) {  // the sink was not there to take it when we started waiting
        const log::Errno error{waited.error};
        log::warning(log::id::journal_unavailable,
                     capitalized(sink_->name()) + " did not take entries for " +
                         seconds_text(loop_.now() - waited.since_usec) + " (" + error.text() +
                         "); " + fifo_.path() + " was held meanwhile",
                     {{"PIPEJOURNAL_FIFO", fifo_.path()}, error.field()});
    }
    log::info(capitalized(sink_->name()) + " takes entries again",
              {{"PIPEJOURNAL_FIFO", fifo_.path()}});
    listener_.channel_changed(*this);
}

void Channel::arm_idle_timers() {
    arm_partial_line_timer();
    arm_record_timer();
}

void Channel::arm_partial_line_timer() {
    if (settings_.partial_line_timeout_usec && records_.has_partial_line()) {
        partial_line_timer_->set_interval(*settings_.partial_line_timeout_usec);
        partial_line_timer_->arm();  // from now: the countdown restarts with every read
    } else {
        partial_line_timer_->set_enabled(false);
    }
}

void Channel::arm_record_timer() {
    const std::optional<uint64_t> deadline = records_.deadline();
    if (!deadline) {
        record_timer_->set_enabled(false);
        return;
    }
    const uint64_t now = loop_.now();
    record_timer_->set_interval(*deadline > now ? *deadline - now : 0);
    record_timer_->arm();
}

// A record (or a line that may start one) waited MultilineTimeoutSec= for its next line: it goes
// out as it is.
void Channel::on_record_deadline() {
    if (phase_ != Phase::forwarding || waiting_)
        return;
    records_.expire(loop_.now());
    if (forward() == Progress::done && flush() == Progress::done)
        arm_idle_timers();
}

// A FIFO shared by writers has no end-of-writer signal while we hold it open ourselves: a line
// left unfinished would wait for ever and be glued to the next writer's line.
void Channel::on_partial_line_idle() {
    if (phase_ == Phase::draining) {  // the wait for the rest of a cut line is over
        if (!waiting_)
            continue_drain();
        return;
    }
    if (phase_ != Phase::forwarding || waiting_ || !records_.has_partial_line())
        return;
    records_.release_partial(Line::Break::timeout);
    if (forward() == Progress::done && flush() == Progress::done)
        arm_idle_timers();
}

std::size_t Channel::stop() {
    if (phase_ != Phase::forwarding)
        return 0;
    phase_ = Phase::draining;
    readable_->set_enabled(false);
    partial_line_timer_->set_enabled(false);
    record_timer_->set_enabled(false);
    int pending = 0;
    if (ioctl(fifo_.fd(), FIONREAD, &pending) < 0) {
        // Then read at most what a full pipe holds: still bounded, still everything that waits.
        const log::Errno error{-errno};
        pending = fcntl(fifo_.fd(), F_GETPIPE_SZ);
        if (pending < 0)
            pending = 64 * 1024;
        log::warning("Failed to ask how many bytes wait in " + fifo_.path() + " (" + error.text() +
                         "); forwarding up to " + std::to_string(pending),
                     {{"PIPEJOURNAL_FIFO", fifo_.path()}, error.field()});
    }
    drain_ = Drain{static_cast<std::size_t>(pending), std::nullopt};
    if (!waiting_)
        continue_drain();
    return static_cast<std::size_t>(pending);
}

void Channel::continue_drain() {
    const bool owned = fifo_.origin() == Fifo::Origin::created;
    for (;;) {
        if (forward() == Progress::blocked)
            return;
        if (drain_->bytes_left > 0) {
            ssize_t n = read_some(drain_->bytes_left);
            if (n > 0) {
                drain_->bytes_left -= static_cast<std::size_t>(n);
                continue;
            }
            if (n < 0 && n != -EAGAIN) {
                const log::Errno error{static_cast<int>(n)};
                log::error("Failed to read FIFO " + fifo_.path() + " while stopping (" +
                               error.text() + "); " + std::to_string(drain_->bytes_left) +
                               " bytes stay in it",
                           {{"PIPEJOURNAL_FIFO", fifo_.path()}, error.field()});
            }
            drain_->bytes_left = 0;
        }
        // A FIFO that outlives us (systemd's, or one that was there) keeps the bytes we do not
        // read for whoever reads next, so finish a cut line only from its own bytes, one at a
        // time, taking nothing of the line after it; wait a little for the rest if it is not in
        // the pipe yet, so the next reader does not start in the middle of a line.
        if (owned || !records_.has_partial_line())
            break;
        ssize_t n = read_some(1);
        if (n == 1)
            continue;
        if (n == -EAGAIN) {
            uint64_t now = loop_.now();
            if (!drain_->cut_line_deadline_usec)
                drain_->cut_line_deadline_usec = now + cut_line_wait_usec;
            if (now < *drain_->cut_line_deadline_usec) {
                readable_->set_enabled(true);  // on_readable() brings us back with the rest
                partial_line_timer_->set_interval(*drain_->cut_line_deadline_usec - now);
                partial_line_timer_->arm();  // on_partial_line_idle(): waited long enough
                return;
            }
        } else if (n < 0) {
            const log::Errno error{static_cast<int>(n)};
            log::error("Failed to read FIFO " + fifo_.path() + " while completing a cut line (" +
                           error.text() + ")",
                       {{"PIPEJOURNAL_FIFO", fifo_.path()}, error.field()});
        }
        break;
    }
    readable_->set_enabled(false);
    partial_line_timer_->set_enabled(false);
    records_.finish();  // a pending record goes out whole, a last line without '\n' as it is
    if (forward() == Progress::blocked || flush() == Progress::blocked)
        return;
    report_trouble(true);
    phase_ = Phase::finished;
    listener_.channel_finished(*this);
}

void Channel::report_trouble(bool force) {
    uint64_t now = loop_.now();
    if (!force && last_report_usec_ != 0 && now - last_report_usec_ < report_interval_usec)
        return;
    if (counters_.dropped != reported_dropped_) {
        const log::Errno error{drop_error_};
        log::error(log::id::entry_refused,
                   capitalized(sink_->name()) + " refused " +
                       std::to_string(counters_.dropped - reported_dropped_) + " entries (" +
                       error.text() + "); they are lost",
                   {{"PIPEJOURNAL_FIFO", fifo_.path()},
                    {"PIPEJOURNAL_DROPPED", counters_.dropped},
                    error.field()});
        reported_dropped_ = counters_.dropped;
    }
    if (counters_.split != reported_split_) {
        log::warning(log::id::line_split,
                     "Split " + std::to_string(counters_.split - reported_split_) +
                         " pieces off lines longer than LineMax=" +
                         std::to_string(records_.line_max()) + " bytes",
                     {{"PIPEJOURNAL_FIFO", fifo_.path()}});
        reported_split_ = counters_.split;
    }
    last_report_usec_ = now;
}

}  // namespace pj
