#include "systemd/event.hpp"

#include <csignal>
#include <system_error>
#include <utility>

namespace pj::event {
namespace {

void check(int r, const char* what) {
    if (r < 0)
        throw std::system_error(-r, std::generic_category(), what);
}

// Runs a source's callback; an exception ends the loop instead of escaping into C.
template <typename F>
int guarded(Loop& loop, F&& call) noexcept {
    try {
        call();
    } catch (...) {
        loop.fail(std::current_exception());
    }
    return 0;
}

}  // namespace

Loop::Loop() {
    check(sd_event_default(&event_), "Failed to allocate event loop");
}

Loop::~Loop() {
    sd_event_unref(event_);
}

uint64_t Loop::now() const {
    uint64_t usec = 0;
    check(sd_event_now(event_, CLOCK_MONOTONIC, &usec), "Failed to read the loop's clock");
    return usec;
}

int Loop::run() {
    int r = sd_event_loop(event_);
    if (failure_)
        std::rethrow_exception(std::exchange(failure_, nullptr));
    check(r, "Event loop failed");
    return r;
}

void Loop::run_once(uint64_t timeout_usec) {
    int r = sd_event_run(event_, timeout_usec);
    if (failure_)
        std::rethrow_exception(std::exchange(failure_, nullptr));
    check(r, "Event loop failed");
}

void Loop::exit(int code) {
    check(sd_event_exit(event_, code), "Failed to stop event loop");
}

void Loop::fail(std::exception_ptr error) noexcept {
    if (!failure_)
        failure_ = std::move(error);
    sd_event_exit(event_, -ECANCELED);
}

Source::~Source() {
    sd_event_source_disable_unref(source_);
}

void Source::set_enabled(bool on) {
    check(sd_event_source_set_enabled(source_, on ? SD_EVENT_ON : SD_EVENT_OFF),
          "Failed to enable/disable event source");
}

void Source::set_priority(int64_t priority) {
    check(sd_event_source_set_priority(source_, priority), "Failed to set event source priority");
}

IoSource::IoSource(Loop& loop, int fd, uint32_t events, Callback callback)
    : Source(loop), callback_(std::move(callback)) {
    check(sd_event_add_io(loop.get(), &source_, fd, events, &IoSource::dispatch, this),
          "Failed to watch file descriptor");
}

int IoSource::dispatch(sd_event_source*, int, uint32_t revents, void* self) {
    auto& s = *static_cast<IoSource*>(self);
    // A copy: the callback may destroy this source (sd-event frees it once the dispatch is over).
    Callback callback = s.callback_;
    return guarded(s.loop_, [&] { callback(revents); });
}

SignalSource::SignalSource(Loop& loop, int signo, Callback callback)
    : Source(loop), callback_(std::move(callback)) {
    check(sd_event_add_signal(loop.get(), &source_, signo, &SignalSource::dispatch, this),
          "Failed to watch signal");
}

int SignalSource::dispatch(sd_event_source*, const signalfd_siginfo* info, void* self) {
    auto& s = *static_cast<SignalSource*>(self);
    return guarded(s.loop_, [&] { s.callback_(*info); });
}

TimerSource::TimerSource(Loop& loop, Mode mode, uint64_t usec, uint64_t accuracy_usec,
                         Callback callback)
    : Source(loop), mode_(mode), interval_usec_(usec), callback_(std::move(callback)) {
    check(sd_event_add_time_relative(loop.get(), &source_, CLOCK_MONOTONIC, usec, accuracy_usec,
                                     &TimerSource::dispatch, this),
          "Failed to add timer");
    check(sd_event_source_set_enabled(source_, mode == Mode::periodic ? SD_EVENT_ON : SD_EVENT_OFF),
          "Failed to enable timer");
}

void TimerSource::set_interval(uint64_t usec) {
    interval_usec_ = usec;
    if (mode_ == Mode::periodic)
        arm();
}

void TimerSource::arm() {
    check(sd_event_source_set_time_relative(source_, interval_usec_), "Failed to set timer");
    check(sd_event_source_set_enabled(source_,
                                      mode_ == Mode::periodic ? SD_EVENT_ON : SD_EVENT_ONESHOT),
          "Failed to enable timer");
}

int TimerSource::dispatch(sd_event_source*, uint64_t, void* self) {
    auto& s = *static_cast<TimerSource*>(self);
    return guarded(s.loop_, [&] {
        if (s.mode_ == Mode::periodic)
            s.arm();  // before the callback, so the period does not drift by its run time
        s.callback_();
    });
}

DeferSource::DeferSource(Loop& loop, Callback callback)
    : Source(loop), callback_(std::move(callback)) {
    check(sd_event_add_defer(loop.get(), &source_, &DeferSource::dispatch, this),
          "Failed to add deferred event source");
    check(sd_event_source_set_enabled(source_, SD_EVENT_OFF), "Failed to disable event source");
    // After the FIFO and the sink's socket: a piece of a long job never keeps them waiting.
    check(sd_event_source_set_priority(source_, SD_EVENT_PRIORITY_IDLE),
          "Failed to set event source priority");
}

void DeferSource::arm() {
    check(sd_event_source_set_enabled(source_, SD_EVENT_ONESHOT), "Failed to enable event source");
}

int DeferSource::dispatch(sd_event_source*, void* self) {
    auto& s = *static_cast<DeferSource*>(self);
    return guarded(s.loop_, [&] { s.callback_(); });
}

void block_signals(std::initializer_list<int> signals) {
    sigset_t set;
    sigemptyset(&set);
    for (int signo : signals)
        sigaddset(&set, signo);
    if (sigprocmask(SIG_BLOCK, &set, nullptr) < 0)
        throw std::system_error(errno, std::generic_category(), "Failed to block signals");
}

}  // namespace pj::event
