#include "channel.hpp"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <system_error>
#include <utility>

#include "log.hpp"
#include "numbers.hpp"
#include "status.hpp"

namespace pj {
namespace {

// One take of at most this much from the FIFO per wake-up, then back to the loop: a writer that
// never pauses cannot delay a signal or a watchdog ping by more than one read's lines. An epoll
// round per 16 KiB (~160 lines of 100 bytes) costs nothing next to one sendmsg per line.
constexpr std::size_t read_size = 16 * 1024;
// What is sent from the backlog per wake-up while it catches up, for the same reason.
constexpr std::size_t pump_budget = 4 * read_size;
constexpr uint64_t retry_min_usec = 10'000, retry_max_usec = 1'000'000;
constexpr uint64_t report_interval_usec = 10'000'000;  // trouble is logged at most this often
// How long a stop waits for the rest of a cut line in a FIFO that outlives us: far below any
// stop timeout, far above what a writer blocked on the full pipe needs to go on.
constexpr uint64_t cut_line_wait_usec = 500'000;

std::string seconds_text(uint64_t usec) {
    return with_tenths(usec, 1'000'000) + " s";
}

// "the journal" → "The journal", for the start of a sentence.
std::string capitalized(std::string_view text) {
    std::string result(text);
    if (!result.empty() && result[0] >= 'a' && result[0] <= 'z')
        result[0] = static_cast<char>(result[0] - 'a' + 'A');
    return result;
}

// The store (/run full) or its ring refuses more bytes: writers wait in the pipe until the sink
// has taken some.
bool backlog_refuses(ssize_t r) noexcept {
    return r == -ENOBUFS || r == -ENOSPC;
}

}  // namespace

Channel::Channel(event::Loop& loop, Fifo fifo, Backlog backlog, std::unique_ptr<Sink> sink,
                 ChannelSettings settings, Listener& listener)
    : loop_(loop),
      listener_(listener),
      fifo_(std::move(fifo)),
      backlog_(std::move(backlog)),
      sink_(std::move(sink)),
      settings_(std::move(settings)),
      buffer_(settings_.line_max, read_size),
      mapper_(settings_.format),
      records_(buffer_, settings_.multiline, settings_.multiline_timeout_usec,
               [this](std::string_view text) { return mapper_.maps_structured(text); }),
      base_(backlog_.sent()),
      loaded_(backlog_.sent()) {
    sink_->set_origin({settings_.identifier, fifo_.path()});  // the one place it comes from
    retry_.emplace(loop_, event::TimerSource::Mode::one_shot, retry_min_usec, 1000,
                   [this] { on_sink_ready(); });
    wait_notice_.emplace(loop_, event::TimerSource::Mode::one_shot, settings_.wait_notice_usec,
                         1000, [this] { on_wait_notice(); });
    partial_line_timer_.emplace(loop_, event::TimerSource::Mode::one_shot,
                                settings_.partial_line_timeout_usec.value_or(1'000'000), 10'000,
                                [this] { on_partial_line_idle(); });
    // 1 ms accuracy: sd-event's default of 250 ms would be half the record timeout again.
    record_timer_.emplace(loop_, event::TimerSource::Mode::one_shot,
                          settings_.multiline_timeout_usec, 1'000,
                          [this] { on_record_deadline(); });
    stop_timer_.emplace(loop_, event::TimerSource::Mode::one_shot, cut_line_wait_usec, 10'000,
                        [this] { continue_drain(); });
    more_.emplace(loop_, [this] { on_more(); });
    readable_.emplace(loop_, fifo_.fd(), EPOLLIN, [this](uint32_t) { on_readable(); });
    if (uint64_t left = backlog_.recovered(); left > 0) {
        const uint64_t lines = unsent_lines();
        log::info(log::id::backlog_recovered,
                  "Taking over " + std::to_string(lines) + " lines (" + human_bytes(left) +
                      ") a previous run left unsent in " + backlog_.path(),
                  {{"PIPEJOURNAL_FIFO", fifo_.path()},
                   {"PIPEJOURNAL_BACKLOG", backlog_.path()},
                   {"PIPEJOURNAL_LINES", lines},
                   {"PIPEJOURNAL_BYTES", left}});
        more_->arm();  // sent from the loop, a piece per wake-up: never before READY=1
    }
}

Channel::~Channel() = default;

bool Channel::close() {
    readable_.reset();
    sink_writable_.reset();
    retry_.reset();
    wait_notice_.reset();
    partial_line_timer_.reset();
    record_timer_.reset();
    stop_timer_.reset();
    more_.reset();
    return fifo_.close_and_remove();
}

// --- the state, and what it watches ------------------------------------------------------------

void Channel::set_state(State state) {
    state_ = std::move(state);
    watch();
}

Channel::Refusal* Channel::refusal() noexcept {
    return const_cast<Refusal*>(std::as_const(*this).refusal());
}

const Channel::Refusal* Channel::refusal() const noexcept {
    if (const auto* s = std::get_if<Backlogged>(&state_))
        return &s->refusal;
    if (const auto* s = std::get_if<Full>(&state_))
        return &s->refusal;
    if (const auto* s = std::get_if<Draining>(&state_))
        return s->refusal ? &*s->refusal : nullptr;
    return nullptr;
}

// The one place that turns the state into the sources that run.
void Channel::watch() {
    const Refusal* waiting = refusal();
    const auto* draining = std::get_if<Draining>(&state_);
    // The FIFO: read while forwarding, and into the backlog while the sink refuses; while stopping
    // only for the rest of a cut line.
    readable_->set_enabled(std::holds_alternative<Forwarding>(state_) ||
                           std::holds_alternative<Backlogged>(state_) ||
                           (draining && !waiting && draining->cut_line_deadline_usec));
    // The sink: its descriptor's EPOLLOUT, or a timer with backoff. Made anew for every wait: a
    // sink that reconnected names another socket, maybe under the same number. /run being full is
    // no sink's to signal: a timer.
    sink_writable_.reset();
    retry_->set_enabled(false);
    if (waiting) {
        int fd = waiting->error == -ENOSPC ? -1 : sink_->wait_fd();
        if (fd >= 0) {
            sink_writable_.emplace(loop_, fd, EPOLLOUT, [this](uint32_t) { on_sink_ready(); });
        } else {
            retry_->set_interval(waiting->retry_usec);
            retry_->arm();
        }
    }
    if (waiting && waiting->told == Refusal::Told::no && settings_.wait_notice_usec > 0) {
        const uint64_t now = loop_.now(), due = waiting->since_usec + settings_.wait_notice_usec;
        wait_notice_->set_interval(due > now ? due - now : 0);
        wait_notice_->arm();
    } else {
        wait_notice_->set_enabled(false);
    }
    // A partial line or a record waits for more only while lines flow: a refusing sink holds them
    // all anyway, and a stop sends them as they are.
    if (std::holds_alternative<Forwarding>(state_)) {
        arm_idle_timers();
    } else {
        partial_line_timer_->set_enabled(false);
        record_timer_->set_enabled(false);
    }
    if (draining) {
        // The end of the wait for a cut line's rest, or of the patience with a refusing sink.
        std::optional<uint64_t> due = draining->cut_line_deadline_usec;
        if (!backlog_.path().empty()) {
            uint64_t budget = draining->since_usec + settings_.stop_budget_usec;
            due = std::min(due.value_or(budget), budget);
            if (waiting)
                due = std::min(*due, std::max(waiting->since_usec, taken_usec_) +
                                         settings_.stop_patience_usec);
        }
        if (due) {
            const uint64_t now = loop_.now();
            stop_timer_->set_interval(*due > now ? *due - now : 0);
            stop_timer_->arm();
        } else {
            stop_timer_->set_enabled(false);
        }
    } else {
        stop_timer_->set_enabled(false);
    }
}

void Channel::arm_idle_timers() {
    if (settings_.partial_line_timeout_usec && records_.has_partial_line()) {
        partial_line_timer_->set_interval(*settings_.partial_line_timeout_usec);
        partial_line_timer_->arm();  // from now: the countdown restarts with every read
    } else {
        partial_line_timer_->set_enabled(false);
    }
    if (const std::optional<uint64_t> deadline = records_.deadline()) {
        const uint64_t now = loop_.now();
        record_timer_->set_interval(*deadline > now ? *deadline - now : 0);
        record_timer_->arm();
    } else {
        record_timer_->set_enabled(false);
    }
}

// --- bytes in, entries out ---------------------------------------------------------------------

ssize_t Channel::take(std::size_t max_bytes) {
    ssize_t n = backlog_.take_from(fifo_.fd(), max_bytes);
    if (n > 0)
        counters_.bytes += static_cast<uint64_t>(n);
    return n;
}

// Sends what the buffer holds, then what the backlog holds beyond it, at most pump_budget of it
// now (the rest on the next wake-up).
Channel::Progress Channel::pump() {
    std::size_t budget = pump_budget;
    for (;;) {
        if (forward() == Progress::blocked || flush() == Progress::blocked)
            return Progress::blocked;
        const uint64_t unloaded = backlog_.written() - loaded_;
        if (unloaded == 0)
            break;
        if (budget == 0) {
            more_->arm();
            break;
        }
        std::span<char> space = records_.free_space();
        std::size_t want = static_cast<std::size_t>(
            std::min<uint64_t>({space.size(), unloaded, read_size, budget}));
        ssize_t n = backlog_.read(loaded_, space.first(want));
        if (n <= 0)
            throw std::system_error(n < 0 ? static_cast<int>(-n) : EIO, std::generic_category(),
                                    "Failed to read the backlog " + backlog_.path());
        records_.commit(static_cast<std::size_t>(n), loop_.now());
        loaded_ += static_cast<uint64_t>(n);
        budget -= static_cast<std::size_t>(n);
    }
    backlog_.release_sent();
    return Progress::done;
}

Channel::Progress Channel::forward() {
    bool took = false;
    while (const Record* record = records_.front()) {
        Entry entry = mapper_.map(*record);
        int r = sink_->send(entry);
        if (r < 0 && is_transient(r)) {
            if (took)
                taken_usec_ = loop_.now();
            refused(r);  // the record stays and is offered again
            return Progress::blocked;
        }
        took = true;
        // Sent or refused for good, the backlog is done with the record once the sink has
        // written everything before it.
        const uint64_t end = base_ + record->line.end_position;
        if (r < 0) {
            ++counters_.dropped;
            drop_error_ = r;
            if (unwritten_.empty())
                backlog_.mark_sent(end);
            else
                unwritten_.back() = end;  // done with when the entry before it is
        } else {
            counters_.lines += record->lines;
            counters_.structured += entry.structured ? 1 : 0;
            counters_.records += record->rule != MultilineRule::none ? 1 : 0;
            counters_.split += record->line.end == Line::Break::line_max ? 1 : 0;
            unwritten_.push_back(end);
            settle();
        }
        records_.pop();
    }
    mapper_.trim();  // a long structured line's memory goes back once it has gone
    if (took)
        taken_usec_ = loop_.now();
    if (counters_.dropped != reported_dropped_ || counters_.split != reported_split_)
        report_trouble(false);
    return Progress::done;
}

// The backlog is sent up to the last entry the sink has written out (at once, for native
// entries: a kill afterwards doubles at most that one).
void Channel::settle() {
    const std::size_t unwritten = sink_->unwritten_entries();
    while (unwritten_.size() > unwritten) {
        backlog_.mark_sent(unwritten_.front());
        unwritten_.pop_front();
    }
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
    settle();
    if (r < 0 && is_transient(r)) {
        refused(r);
        return Progress::blocked;
    }
    return Progress::done;
}

// --- the sink refuses, then takes entries again ------------------------------------------------

void Channel::refused(int error) {
    if (Refusal* waiting = refusal()) {  // still: back off
        waiting->retry_usec = std::min(waiting->retry_usec * 2, retry_max_usec);
        watch();
        return;
    }
    const Refusal fresh{loop_.now(), error, retry_min_usec};
    if (auto* draining = std::get_if<Draining>(&state_)) {
        draining->refusal = fresh;
        watch();
    } else if (settings_.backlog_max > 0 && !backlog_refuses(error) &&
               backlog_.unsent() < settings_.backlog_max) {
        set_state(Backlogged{fresh});  // writers do not wait: the FIFO goes on into the backlog
    } else {
        set_state(Full{fresh});  // writers now wait in the pipe, nothing is lost
    }
    if (settings_.wait_notice_usec == 0)
        on_wait_notice();
}

void Channel::accepted() {
    Refusal* waiting = refusal();
    if (!waiting)
        return;
    const Refusal was = *waiting;
    if (auto* draining = std::get_if<Draining>(&state_)) {
        draining->refusal.reset();
        watch();
    } else {
        set_state(Forwarding{});
    }
    if (was.told != Refusal::Told::no)
        tell_refusal_ended(was);
}

void Channel::on_wait_notice() {
    Refusal* waiting = refusal();
    if (!waiting || waiting->told != Refusal::Told::no)
        return;
    tell_refusal();
}

void Channel::tell_refusal() {
    Refusal& waiting = *refusal();
    const log::Errno error{waiting.error};
    const std::string what =
        waiting.error == -ENOSPC
            ? "The backlog " + backlog_.path() + " has no room (" + error.text() + ")"
            : capitalized(sink_->name()) + " does not take entries for now (" + error.text() + ")";
    const std::string meanwhile =
        std::holds_alternative<Backlogged>(state_)
            ? "; reading " + fifo_.path() + " into the backlog until it does"
            : "; holding " + fifo_.path() + " until it does";
    // With journald gone this entry waits or is lost too; tell_refusal_ended() says it then.
    bool taken = log::warning(log::id::journal_unavailable, what + meanwhile,
                              {{"PIPEJOURNAL_FIFO", fifo_.path()}, error.field()});
    waiting.told = taken ? Refusal::Told::yes : Refusal::Told::lost;
    watch();
    listener_.channel_changed(*this);
}

void Channel::tell_refusal_ended(const Refusal& was) {
    if (was.told == Refusal::Told::lost) {  // the sink was not there to take it back then
        const log::Errno error{was.error};
        log::warning(log::id::journal_unavailable,
                     capitalized(sink_->name()) + " did not take entries for " +
                         seconds_text(loop_.now() - was.since_usec) + " (" + error.text() + ")",
                     {{"PIPEJOURNAL_FIFO", fifo_.path()}, error.field()});
    }
    log::info(capitalized(sink_->name()) + " takes entries again",
              {{"PIPEJOURNAL_FIFO", fifo_.path()}});
    listener_.channel_changed(*this);
}

// --- events ------------------------------------------------------------------------------------

void Channel::on_readable() {
    if (std::holds_alternative<Draining>(state_)) {  // the rest of a cut line arrived
        continue_drain();
        return;
    }
    ssize_t n = take(read_size);
    if (backlog_refuses(n)) {
        if (auto* backlogged = std::get_if<Backlogged>(&state_))
            set_state(Full{backlogged->refusal});
        else
            refused(static_cast<int>(n));  // /run is full: wait as for a sink
        return;
    }
    if (n < 0 && n != -EAGAIN)
        throw std::system_error(static_cast<int>(-n), std::generic_category(),
                                "Failed to read FIFO " + fifo_.path());
    if (auto* backlogged = std::get_if<Backlogged>(&state_)) {
        if (backlog_.unsent() >= settings_.backlog_max)
            set_state(Full{backlogged->refusal});  // held enough: writers now wait in the pipe
        return;
    }
    if (pump() == Progress::done)
        arm_idle_timers();
}

void Channel::on_sink_ready() {
    if (sink_writable_)
        sink_writable_->set_enabled(false);  // level-triggered: watch() makes it anew if needed
    if (pump() == Progress::blocked)
        return;
    if (Refusal* waiting = refusal();
        waiting && backlog_refuses(waiting->error) && !std::holds_alternative<Draining>(state_)) {
        // /run was full: is there room now? If not, the wait goes on (and may be told).
        ssize_t n = take(read_size);
        if (backlog_refuses(n)) {
            waiting->retry_usec = std::min(waiting->retry_usec * 2, retry_max_usec);
            watch();
            return;
        }
    }
    accepted();
    if (std::holds_alternative<Draining>(state_))
        continue_drain();
    else if (pump() == Progress::done)
        arm_idle_timers();
}

void Channel::on_more() {
    if (std::holds_alternative<Forwarding>(state_) && pump() == Progress::done)
        arm_idle_timers();
    else if (std::holds_alternative<Draining>(state_) && !refusal())
        continue_drain();
}

// A FIFO shared by writers has no end-of-writer signal while we hold it open ourselves: a line
// left unfinished would wait for ever and be glued to the next writer's line.
void Channel::on_partial_line_idle() {
    if (!std::holds_alternative<Forwarding>(state_) || !records_.has_partial_line())
        return;
    records_.release_partial(Line::Break::timeout);
    if (pump() == Progress::done)
        arm_idle_timers();
}

// A record (or a line that may start one) waited MultilineTimeoutSec= for its next line: it goes
// out as it is.
void Channel::on_record_deadline() {
    if (!std::holds_alternative<Forwarding>(state_))
        return;
    records_.expire(loop_.now());
    if (pump() == Progress::done)
        arm_idle_timers();
}

// --- stop --------------------------------------------------------------------------------------

std::size_t Channel::stop() {
    if (std::holds_alternative<Draining>(state_) || finished())
        return 0;
    int pending = 0;
    if (ioctl(fifo_.fd(), FIONREAD, &pending) < 0) {
        // Then take at most what a full pipe holds: still bounded, still everything that waits.
        const log::Errno error{-errno};
        pending = fcntl(fifo_.fd(), F_GETPIPE_SZ);
        if (pending < 0)
            pending = 64 * 1024;
        log::warning("Failed to ask how many bytes wait in " + fifo_.path() + " (" + error.text() +
                         "); forwarding up to " + std::to_string(pending),
                     {{"PIPEJOURNAL_FIFO", fifo_.path()}, error.field()});
    }
    std::optional<Refusal> waiting;
    if (const Refusal* r = refusal())
        waiting = *r;
    set_state(Draining{static_cast<std::size_t>(pending), loop_.now(), waiting, std::nullopt});
    if (!waiting)
        continue_drain();
    return static_cast<std::size_t>(pending);
}

void Channel::continue_drain() {
    auto* draining = std::get_if<Draining>(&state_);
    if (!draining)
        return;
    // A backlog in /run outlives us: what the sink does not take soon waits there for the next
    // start. One that dies with us (run by hand) is waited for, as the pipe always was.
    const bool keeps = !backlog_.path().empty();
    const uint64_t now = loop_.now();
    // Out of time: the drain took its budget, or the sink has taken nothing for a while.
    auto out_of_time = [&] {
        const uint64_t idle_since =
            draining->refusal ? std::max(draining->refusal->since_usec, taken_usec_) : now;
        return keeps && (now - draining->since_usec >= settings_.stop_budget_usec ||
                         now - idle_since >= settings_.stop_patience_usec);
    };
    if (draining->refusal) {
        if (out_of_time())
            finish_drain(true);
        return;  // on_sink_ready() comes back
    }
    while (draining->pipe_left > 0) {
        ssize_t n = take(std::min(draining->pipe_left, read_size));
        if (n > 0) {
            draining->pipe_left -= static_cast<std::size_t>(n);
            if (pump() == Progress::blocked)
                return continue_drain();  // now refused: wait, or leave it when out of time
            continue;
        }
        if (backlog_refuses(n)) {  // the backlog has no room left: the rest stays in the pipe
            log::warning(
                "The backlog " + backlog_.path() + " has no room while stopping; " +
                    std::to_string(draining->pipe_left) + " bytes stay in " + fifo_.path(),
                {{"PIPEJOURNAL_FIFO", fifo_.path()}, log::Errno{static_cast<int>(n)}.field()});
        } else if (n < 0 && n != -EAGAIN) {
            const log::Errno error{static_cast<int>(n)};
            log::error("Failed to read FIFO " + fifo_.path() + " while stopping (" + error.text() +
                           "); " + std::to_string(draining->pipe_left) + " bytes stay in it",
                       {{"PIPEJOURNAL_FIFO", fifo_.path()}, error.field()});
        }
        draining->pipe_left = 0;
    }
    if (pump() == Progress::blocked)
        return continue_drain();
    if (backlog_.written() != loaded_) {  // more of the backlog to send: the next piece
        if (out_of_time())
            finish_drain(true);
        else
            more_->arm();
        return;
    }

    if (keeps) {
        // A pending record goes out as it is; a partial line stays in the backlog, and the next
        // start reads on from it, so it is never cut.
        records_.expire(std::numeric_limits<uint64_t>::max());
    } else {
        // A FIFO that outlives us keeps the bytes we do not read for whoever reads next, so finish
        // a cut line only from its own bytes, one at a time, taking nothing of the line after it;
        // wait a little for the rest if it is not in the pipe yet, so the next reader does not
        // start in the middle of a line.
        while (fifo_.origin() != Fifo::Origin::created && records_.has_partial_line()) {
            ssize_t n = take(1);
            if (n == 1) {
                if (pump() == Progress::blocked)
                    return continue_drain();
                continue;
            }
            if (n == -EAGAIN) {
                if (!draining->cut_line_deadline_usec) {
                    draining->cut_line_deadline_usec = now + cut_line_wait_usec;
                    watch();  // on_readable() brings us back with the rest
                    return;
                }
                if (now < *draining->cut_line_deadline_usec)
                    return;
            } else if (n < 0) {
                const log::Errno error{static_cast<int>(n)};
                log::error("Failed to read FIFO " + fifo_.path() +
                               " while completing a cut line (" + error.text() + ")",
                           {{"PIPEJOURNAL_FIFO", fifo_.path()}, error.field()});
            }
            break;
        }
        records_.finish();  // a pending record goes out whole, a last line without '\n' as it is
    }
    if (pump() == Progress::blocked)
        return continue_drain();
    finish_drain(false);
}

void Channel::finish_drain(bool out_of_time) {
    report_trouble(true);
    const Finished left{backlog_.unsent(), backlog_.unsent() > 0 ? unsent_lines() : 0};
    if (out_of_time && left.left_bytes > 0)
        log::warning(log::id::backlog_kept,
                     capitalized(sink_->name()) +
                         " took nothing for a while: " + std::to_string(left.left_lines) +
                         " lines (" + human_bytes(left.left_bytes) + ") stay in " +
                         backlog_.path() + " for the next start",
                     {{"PIPEJOURNAL_FIFO", fifo_.path()},
                      {"PIPEJOURNAL_BACKLOG", backlog_.path()},
                      {"PIPEJOURNAL_LINES", left.left_lines},
                      {"PIPEJOURNAL_BYTES", left.left_bytes}});
    set_state(left);
    listener_.channel_finished(*this);
}

// --- reports -----------------------------------------------------------------------------------

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
    if (std::holds_alternative<Forwarding>(state_) && pump() == Progress::done)
        arm_idle_timers();
}

uint64_t Channel::unsent_lines() const {
    uint64_t lines = 0;
    char chunk[64 * 1024];
    for (uint64_t at = backlog_.sent(), end = backlog_.written(); at < end;) {
        ssize_t n =
            backlog_.read(at, std::span<char>(chunk, std::min<uint64_t>(sizeof chunk, end - at)));
        if (n <= 0)
            break;
        lines += static_cast<uint64_t>(std::count(chunk, chunk + n, '\n'));
        at += static_cast<uint64_t>(n);
    }
    return lines;
}

Channel::Snapshot Channel::snapshot() const {
    std::optional<Refusal> told;
    const Refusal* waiting = refusal();
    if (waiting && waiting->told != Refusal::Told::no)
        told = *waiting;
    // A backlog: entries wait beyond what is being sent now (read while the sink refused, or left
    // by a previous run), not just what is in hand.
    std::optional<Waiting> backlog;
    const bool held = std::holds_alternative<Backlogged>(state_) ||
                      (std::holds_alternative<Full>(state_) && settings_.backlog_max > 0);
    if ((held || backlog_.written() != loaded_) && backlog_.unsent() > 0)
        backlog = Waiting{unsent_lines(), backlog_.unsent()};
    const bool stopping = std::holds_alternative<Draining>(state_) || finished();
    return {fifo_.path(),
            sink_->kind(),
            stopping,
            told,
            backlog,
            counters_,
            settings_.format.format != LineFormat::plain,
            drop_error_};
}

void Channel::report_trouble(bool force) {
    backlog_.release_sent();
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
