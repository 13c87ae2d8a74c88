// The service manager notify protocol (sd_notify(3)): typed messages, and sending them. Builders
// are pure so tests can check the exact datagrams.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace pj::notify {

std::string ready(std::string_view status);
std::string status(std::string_view status);
// RELOADING=1 must carry MONOTONIC_USEC= in the same datagram (systemd 253+ requires it for
// Type=notify-reload; 252 ignores it), READY=1 follows when the reload is done.
std::string reloading(uint64_t monotonic_usec, std::string_view status);
std::string stopping(std::string_view status);
// A fatal start-up error: systemd shows STATUS= and records ERRNO= for the failed unit.
std::string failed(int error, std::string_view status);

// Sends to $NOTIFY_SOCKET. Returns >0 when sent, 0 when not running under a service manager,
// or a negative errno.
int send(const std::string& message) noexcept;

// PID 1's file descriptor store (FileDescriptorStoreMax= in the unit): what it holds for us is
// passed again at the next start (LISTEN_FDS, named by FDNAME=), across a crash and a restart
// (systemd 252 releases it when the unit stops). store() replaces every entry of that name.
// The same return values as send().
int store(int fd, std::string_view name) noexcept;
int unstore(std::string_view name) noexcept;

}  // namespace pj::notify
