// The FIFO path: create, refuse, reuse, adopt (socket activation).
#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "printers.hpp"
#include "support.hpp"

using namespace pjtest;

namespace {

struct stat lstat_of(const std::filesystem::path& path) {
    struct stat st {};
    REQUIRE_MESSAGE(::lstat(path.c_str(), &st) == 0,
                    "lstat " << path << ": " << std::strerror(errno));
    return st;
}

// Starts the daemon on an occupied path and checks it refuses: exit 6,
// ERRNO= and STATUS= sent, a message on stderr, no READY=1.
void check_refused(Sandbox& box) {
    Daemon daemon({.args = box.args()});
    auto status = daemon.wait_exit(5s);
    REQUIRE_MESSAGE(status.has_value(), "expected the daemon to give up within 5 s\n"
                                            << daemon.describe());
    CHECK_MESSAGE((status->exited && status->code == 6),
                  "expected exit code 6 (path occupied by something not a FIFO), seen "
                      << status->describe() << "\n"
                      << daemon.describe());
    auto errno_datagram =
        daemon.wait_notify([](const Datagram& d) { return d.field("ERRNO").has_value(); }, 2s);
    CHECK_MESSAGE(errno_datagram.has_value(), "expected an ERRNO= datagram; seen:\n"
                                                  << daemon.notify_log());
    if (errno_datagram) {
        CHECK_MESSAGE(std::atoi(errno_datagram->field("ERRNO")->c_str()) > 0,
                      escaped(errno_datagram->text));
        CHECK_MESSAGE(
            errno_datagram->field("STATUS").has_value(),
            "expected STATUS=<reason> with ERRNO=; seen: " << escaped(errno_datagram->text));
    }
    bool ready = false;
    for (const auto& d : daemon.notifications())
        ready |= d.has("READY=1");
    CHECK_MESSAGE(!ready, "READY=1 must not be sent when the FIFO is refused; seen:\n"
                              << daemon.notify_log());
    CHECK_MESSAGE(daemon.err().find(box.fifo.string()) != std::string::npos,
                  "expected stderr to name " << box.fifo << "; seen:\n"
                                             << escaped(daemon.err()));
}

}  // namespace

TEST_SUITE("fifo") {
    TEST_CASE("a created FIFO has mode 0620, whatever the umask") {
        Sandbox box;
        auto [daemon, ready] = start_ready({.args = box.args(), .umask = 022});
        auto mode = lstat_of(box.fifo).st_mode & 07777;
        CHECK_MESSAGE(mode == 0620,
                      "expected mode 0620 under umask 022, seen 0" << std::oct << mode);
    }

    TEST_CASE("FIFOMode= from the config file sets the mode of a created FIFO") {
        Sandbox box("[PipeJournal]\nFIFOMode=0640\n");
        auto [daemon, ready] = start_ready({.args = box.args(), .umask = 077});
        auto mode = lstat_of(box.fifo).st_mode & 07777;
        CHECK_MESSAGE(mode == 0640,
                      "expected mode 0640 (FIFOMode=0640, umask 077), seen 0" << std::oct << mode);
    }

    TEST_CASE("a regular file at the FIFO path is refused and left untouched") {
        Sandbox box;
        write_file(box.fifo, "precious data\n");
        check_refused(box);
        CHECK(file_type(box.fifo) == "regular file");
        CHECK(read_file(box.fifo) == "precious data\n");
    }

    TEST_CASE("a directory at the FIFO path is refused and left untouched") {
        Sandbox box;
        std::filesystem::create_directory(box.fifo);
        check_refused(box);
        CHECK(file_type(box.fifo) == "directory");
    }

    TEST_CASE("a symlink to a FIFO at the FIFO path is refused; link and target untouched") {
        Sandbox box;
        auto target = box.dir / "target.fifo";
        make_fifo(target, 0600);
        std::filesystem::create_symlink(target, box.fifo);
        check_refused(box);
        CHECK(file_type(box.fifo) == "symlink");
        CHECK(std::filesystem::read_symlink(box.fifo) == target);
        CHECK(file_type(target) == "FIFO");
    }

    TEST_CASE(
        "a symlink to a regular file at the FIFO path is refused; link and target untouched") {
        Sandbox box;
        auto target = box.dir / "target.txt";
        write_file(target, "precious data\n");
        std::filesystem::create_symlink(target, box.fifo);
        check_refused(box);
        CHECK(file_type(box.fifo) == "symlink");
        CHECK(std::filesystem::read_symlink(box.fifo) == target);
        CHECK(read_file(target) == "precious data\n");
    }

    TEST_CASE("a dangling symlink at the FIFO path is refused; nothing is created at its target") {
        Sandbox box;
        auto target = box.dir / "nowhere";
        std::filesystem::create_symlink(target, box.fifo);
        check_refused(box);
        CHECK(file_type(box.fifo) == "symlink");
        CHECK(file_type(target) == "nothing");
    }

    TEST_CASE("on stop, a path that no longer holds the daemon's FIFO is left alone") {
        Sandbox box;
        auto [daemon, ready] = start_ready({.args = box.args()});
        std::filesystem::remove(box.fifo);
        write_file(box.fifo, "someone else's file\n");
        daemon->kill(SIGTERM);
        auto status = daemon->wait_exit(5s);
        REQUIRE_MESSAGE(status.has_value(), daemon->describe());
        CHECK_MESSAGE((status->exited && status->code == 0), status->describe());
        REQUIRE_MESSAGE(file_type(box.fifo) == "regular file", "seen: " << file_type(box.fifo));
        CHECK(read_file(box.fifo) == "someone else's file\n");
    }

    TEST_CASE("an existing FIFO is reused, forwarded from, and not removed on stop" *
              doctest::skip(journal_socket_present())) {
        Sandbox box;
        make_fifo(box.fifo, 0620);  // ours by owner, and the configured mode
        auto before = lstat_of(box.fifo);
        auto [daemon, ready] = start_ready({.args = box.args()});
        {
            Fd writer = open_for_writing(box.fifo);
            write_all(writer.get(), "into an old FIFO\n");
        }
        CHECK_MESSAGE(daemon->wait_out_line("<6>pipejournal: into an old FIFO", 5s),
                      daemon->describe());
        daemon->kill(SIGTERM);
        auto status = daemon->wait_exit(5s);
        REQUIRE_MESSAGE(status.has_value(), daemon->describe());
        CHECK_MESSAGE((status->exited && status->code == 0), status->describe());
        REQUIRE_MESSAGE(
            file_type(box.fifo) == "FIFO",
            "a FIFO the daemon did not create must stay; seen: " << file_type(box.fifo));
        auto after = lstat_of(box.fifo);
        CHECK_MESSAGE(after.st_ino == before.st_ino, "the FIFO was replaced (inode changed)");
        CHECK_MESSAGE((after.st_mode & 07777) == 0620,
                      "the mode of a reused FIFO must stay 0620, seen 0"
                          << std::oct << (after.st_mode & 07777));
    }

    TEST_CASE("an existing FIFO with another mode is refused and left as it is") {
        // Someone else's FIFO (here: world-writable) could be read by them too, or feed us lines.
        Sandbox box;
        make_fifo(box.fifo, 0666);
        auto before = lstat_of(box.fifo);
        check_refused(box);
        auto after = lstat_of(box.fifo);
        CHECK(after.st_ino == before.st_ino);
        CHECK((after.st_mode & 07777) == 0666);
    }

    TEST_CASE("an existing FIFO owned by another user is refused and left as it is" *
              doctest::skip(geteuid() != 0)) {
        Sandbox box;
        make_fifo(box.fifo, 0620);
        REQUIRE(::chown(box.fifo.c_str(), 65534, 65534) == 0);  // nobody
        check_refused(box);
        CHECK(lstat_of(box.fifo).st_uid == 65534);
    }

    TEST_CASE("a symlink among the FIFO's parent directories is refused; nothing is created") {
        Sandbox box;
        auto real = box.dir / "real";
        std::filesystem::create_directory(real);
        std::filesystem::create_directory_symlink(real, box.dir / "link");
        Daemon daemon({.args = {"--fifo=" + (box.dir / "link" / "in").string()}});
        auto status = daemon.wait_exit(5s);
        REQUIRE_MESSAGE(status.has_value(), daemon.describe());
        CHECK_MESSAGE((status->exited && status->code == 6), status->describe());
        CHECK_MESSAGE(daemon.err().find("symbolic link") != std::string::npos, daemon.describe());
        CHECK(file_type(real / "in") == "nothing");
    }

    TEST_CASE(
        "socket activation: a FIFO passed as fd 3 is adopted, forwarded from, and not removed" *
        doctest::skip(journal_socket_present())) {
        Sandbox box;
        make_fifo(box.fifo, 0620);
        // As systemd opens a ListenFIFO= for the service.
        Fd listen{::open(box.fifo.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)};
        REQUIRE(listen);
        auto [daemon, ready] = start_ready({.args = box.args(),
                                            .env = {{"LISTEN_FDS", "1"},
                                                    {"LISTEN_PID", std::string(kChildPid)},
                                                    {"LISTEN_FDNAMES", "pipejournal.socket"}},
                                            .pass_fd = listen.get()});
        auto status_text = ready.field("STATUS").value_or("");
        CHECK_MESSAGE(status_text.find(box.fifo.string()) != std::string::npos,
                      "expected STATUS to name " << box.fifo << ", seen \"" << status_text << "\"");
        {
            Fd writer = open_for_writing(box.fifo);
            write_all(writer.get(), "<4>activated\npartial");
        }
        CHECK_MESSAGE(daemon->wait_out_line("<4>pipejournal: activated", 5s), daemon->describe());
        daemon->kill(SIGTERM);
        auto status = daemon->wait_exit(5s);
        REQUIRE_MESSAGE(status.has_value(), daemon->describe());
        CHECK_MESSAGE((status->exited && status->code == 0), status->describe()
                                                                 << "\n"
                                                                 << daemon->describe());
        CHECK_MESSAGE(
            file_type(box.fifo) == "FIFO",
            "a socket-activated FIFO must never be unlinked; seen: " << file_type(box.fifo));
        auto lines = daemon->out_lines();
        CHECK_MESSAGE(
            std::find(lines.begin(), lines.end(), "<6>pipejournal: partial") != lines.end(),
            "expected the unterminated \"partial\" already in the pipe to be forwarded on stop\n"
                << daemon->describe());
    }

    TEST_CASE(
        "socket activation: an fd that is not a FIFO is closed with a warning; the daemon "
        "creates its FIFO" *
        doctest::skip(journal_socket_present())) {
        Sandbox box;
        auto not_a_fifo = box.dir / "regular";
        write_file(not_a_fifo, "");
        Fd passed{::open(not_a_fifo.c_str(), O_RDWR | O_CLOEXEC)};
        REQUIRE(passed);
        auto [daemon, ready] = start_ready({.args = box.args(),
                                            .env = {{"LISTEN_FDS", "1"},
                                                    {"LISTEN_PID", std::string(kChildPid)},
                                                    {"LISTEN_FDNAMES", "stray"}},
                                            .pass_fd = passed.get()});
        CHECK_MESSAGE(daemon->err().find("stray") != std::string::npos,
                      "expected a warning naming the unexpected fd\n"
                          << daemon->describe());
        CHECK(file_type(box.fifo) == "FIFO");
        daemon->kill(SIGTERM);
        auto status = daemon->wait_exit(5s);
        REQUIRE_MESSAGE(status.has_value(), daemon->describe());
        CHECK_MESSAGE((status->exited && status->code == 0), status->describe());
        CHECK(file_type(box.fifo) == "nothing");
    }

}  // TEST_SUITE
