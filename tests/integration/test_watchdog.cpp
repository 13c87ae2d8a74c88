// Watchdog: WATCHDOG=1 from the event loop when WATCHDOG_USEC/WATCHDOG_PID name the daemon.
#include <doctest/doctest.h>
#include <unistd.h>

#include <algorithm>

#include "printers.hpp"
#include "support.hpp"

using namespace pjtest;

TEST_SUITE("watchdog") {
    // WATCHDOG_USEC=1 s: pings every 500 ms, so the 500 ms margin to the kill covers a machine
    // whose two cores are busy with other work (at 200 ms, one gap of 211.9 ms was seen once in
    // four runs on such a machine).
    TEST_CASE("WATCHDOG=1 pings keep coming, spaced by at least half of WATCHDOG_USEC") {
        Sandbox box;
        auto [daemon, ready] = start_ready(
            {.args = box.args(),
             .env = {{"WATCHDOG_USEC", "1000000"}, {"WATCHDOG_PID", std::string(kChildPid)}}});

        // Watch for 2.8 s after READY=1 (the daemon is idle: default tick of 5 s).
        auto until = Clock::now() + 2800ms;
        while (Clock::now() < until)
            daemon->next_notify(until - Clock::now());

        std::vector<std::chrono::nanoseconds> pings;
        for (const auto& d : daemon->notifications())
            if (d.has("WATCHDOG=1"))
                pings.push_back(d.arrived);
        INFO("datagrams:\n", daemon->notify_log());
        // In 2.8 s at one ping per 500 ms: 5; fewer than 4 means they stopped.
        CHECK_MESSAGE(pings.size() >= 4,
                      "expected >= 4 WATCHDOG=1 in 2.8 s, seen " << pings.size());
        if (pings.size() < 2)
            return;
        std::chrono::nanoseconds shortest = std::chrono::hours(1), longest{0};
        for (std::size_t i = 1; i < pings.size(); ++i) {
            auto gap = pings[i] - pings[i - 1];
            shortest = std::min(shortest, gap);
            longest = std::max(longest, gap);
        }
        auto ms = [](std::chrono::nanoseconds d) {
            return std::chrono::duration<double, std::milli>(d).count();
        };
        // Half of 1 s is 500 ms; 10 ms of slack for the kernel's timestamps.
        CHECK_MESSAGE(ms(shortest) >= 490.0,
                      "expected pings >= ~500 ms apart, shortest gap " << ms(shortest) << " ms");
        // A gap of WATCHDOG_USEC or more would get the service killed.
        CHECK_MESSAGE(ms(longest) < 1000.0,
                      "expected pings < 1000 ms apart, longest gap " << ms(longest) << " ms");
        // And they keep coming: the last one is recent.
        auto last_age =
            std::chrono::nanoseconds(daemon->notifications().back().arrived) - pings.back();
        CHECK_MESSAGE(ms(last_age) < 1000.0,
                      "last ping is " << ms(last_age) << " ms older than the last datagram");
    }

    TEST_CASE("WATCHDOG_USEC without WATCHDOG_PID enables the watchdog too") {
        Sandbox box;
        auto [daemon, ready] =
            start_ready({.args = box.args(), .env = {{"WATCHDOG_USEC", "200000"}}});
        CHECK_MESSAGE(daemon->wait_notify("WATCHDOG=1", 1s).has_value(),
                      "expected WATCHDOG=1 (sd_watchdog_enabled() applies when WATCHDOG_PID is "
                      "unset); seen:\n"
                          << daemon->notify_log());
    }

    TEST_CASE("no WATCHDOG=1 when WATCHDOG_PID names another process") {
        Sandbox box;
        auto [daemon, ready] = start_ready(
            {.args = box.args(),
             .env = {{"WATCHDOG_USEC", "200000"}, {"WATCHDOG_PID", std::to_string(::getpid())}}});
        auto ping = daemon->wait_notify("WATCHDOG=1", 1s);
        CHECK_MESSAGE(!ping.has_value(), "expected no WATCHDOG=1 in 1 s with WATCHDOG_PID="
                                             << ::getpid() << " (not the daemon, pid "
                                             << daemon->pid() << "); seen:\n"
                                             << daemon->notify_log());
        bool any_ping = false;  // before READY=1 too
        for (const auto& d : daemon->notifications())
            any_ping |= d.has("WATCHDOG=1");
        CHECK_MESSAGE(!any_ping, "expected no WATCHDOG=1 at all; seen:\n" << daemon->notify_log());
    }

    TEST_CASE("WATCHDOG=1 pings stay >= half of WATCHDOG_USEC apart while the loop is busy") {
        Sandbox box;
        auto [daemon, ready] = start_ready(
            {.args = box.args({"--tick=0.02"}),
             .env = {{"WATCHDOG_USEC", "1000000"}, {"WATCHDOG_PID", std::string(kChildPid)}}});
        BusyWriter writer(box.fifo, "busy ");
        REQUIRE(writer.wait_written(1, 5s));
        auto start = daemon->notifications().size();
        auto until = Clock::now() + 2800ms;
        while (Clock::now() < until)
            daemon->next_notify(until - Clock::now());
        writer.stop();

        auto all = daemon->notifications();
        std::vector<std::chrono::nanoseconds> pings;
        for (auto i = start; i < all.size(); ++i)
            if (all[i].has("WATCHDOG=1"))
                pings.push_back(all[i].arrived);
        INFO("datagrams:\n", daemon->notify_log());
        REQUIRE_MESSAGE(pings.size() >= 4,
                        "expected >= 4 WATCHDOG=1 in 2.8 s, seen " << pings.size());
        auto ms = [](std::chrono::nanoseconds d) {
            return std::chrono::duration<double, std::milli>(d).count();
        };
        std::vector<double> gaps;
        for (std::size_t i = 1; i < pings.size(); ++i)
            gaps.push_back(ms(pings[i] - pings[i - 1]));
        INFO("gaps in ms: ", doctest::toString(gaps));
        CHECK_MESSAGE(
            *std::min_element(gaps.begin(), gaps.end()) >= 490.0,
            "expected pings >= ~500 ms apart (at most every half interval) with a busy loop");
        CHECK_MESSAGE(*std::max_element(gaps.begin(), gaps.end()) < 1000.0,
                      "expected pings < 1000 ms apart with a busy loop");
    }

}  // TEST_SUITE
