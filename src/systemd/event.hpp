// RAII over sd-event(3): one loop, and one small type per kind of source.
//
// Each source owns its sd_event_source and disables and unrefs it when destroyed, so a source
// never outlives the object whose callback it calls. Sources are neither copied nor moved:
// sd-event holds a pointer to them. A callback that throws ends the loop, and Loop::run()
// rethrows the exception in the caller: nothing is swallowed.
#pragma once

#include <sys/signalfd.h>
#include <systemd/sd-event.h>

#include <cstdint>
#include <exception>
#include <functional>

namespace pj::event {

class Loop {
public:
    Loop();  // the thread's default loop (sd_event_default)
    ~Loop();
    Loop(const Loop&) = delete;
    Loop& operator=(const Loop&) = delete;

    sd_event* get() const noexcept { return event_; }

    // CLOCK_MONOTONIC in µs as of this iteration's wake-up (sd_event_now): the time the loop's
    // timers are measured against, so deadlines computed from it agree with them.
    uint64_t now() const;

    // Runs until exit() is called; returns its code. Rethrows an exception a callback threw.
    int run();
    void exit(int code);
    // One iteration: waits at most timeout_usec for an event and dispatches it. For tests that
    // step the loop; rethrows like run().
    void run_once(uint64_t timeout_usec);

    // For the sources: a callback threw; stop the loop and hand the exception to run().
    void fail(std::exception_ptr error) noexcept;

private:
    sd_event* event_ = nullptr;
    std::exception_ptr failure_;
};

class Source {
public:
    Source(const Source&) = delete;
    Source& operator=(const Source&) = delete;

    void set_enabled(bool on);
    // Among sources ready at once, lower values are dispatched first (sd-event's default is 0).
    void set_priority(int64_t priority);

protected:
    explicit Source(Loop& loop) : loop_(loop) {}
    ~Source();

    Loop& loop_;
    sd_event_source* source_ = nullptr;
};

class IoSource : public Source {
public:
    using Callback = std::function<void(uint32_t revents)>;
    IoSource(Loop& loop, int fd, uint32_t events, Callback callback);

private:
    static int dispatch(sd_event_source*, int fd, uint32_t revents, void* self);
    Callback callback_;
};

// The signal must already be blocked (see block_signals()).
class SignalSource : public Source {
public:
    using Callback = std::function<void(const signalfd_siginfo&)>;
    SignalSource(Loop& loop, int signo, Callback callback);

private:
    static int dispatch(sd_event_source*, const signalfd_siginfo* info, void* self);
    Callback callback_;
};

// A CLOCK_MONOTONIC timer: periodic (re-armed after every call) or one-shot (arm() again).
class TimerSource : public Source {
public:
    using Callback = std::function<void()>;
    enum class Mode { periodic, one_shot };
    // accuracy_usec lets the kernel coalesce wake-ups; 0 means sd-event's default (250 ms).
    TimerSource(Loop& loop, Mode mode, uint64_t usec, uint64_t accuracy_usec, Callback callback);

    void set_interval(uint64_t usec);  // periodic: the period; one-shot: the delay of arm()
    void arm();                        // (re)starts the countdown from now

private:
    static int dispatch(sd_event_source*, uint64_t usec, void* self);
    Mode mode_;
    uint64_t interval_usec_;
    Callback callback_;
};

// Work for the next loop iteration, after what is ready now (sd_event_add_defer): a long job cut
// into pieces, so that signals, the watchdog and the FIFO get their turn in between.
class DeferSource : public Source {
public:
    using Callback = std::function<void()>;
    DeferSource(Loop& loop, Callback callback);  // off until arm()
    void arm();                                  // run once, in the next iteration

private:
    static int dispatch(sd_event_source*, void* self);
    Callback callback_;
};

// Blocks the signals for the whole process, so that they wait for the loop's signal sources
// instead of killing us with their default action. Call before anything else.
void block_signals(std::initializer_list<int> signals);

}  // namespace pj::event
