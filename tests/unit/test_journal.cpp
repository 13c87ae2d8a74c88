#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "systemd/journal.hpp"

using pj::journal::is_valid_field_name;

// FieldName{"bad name"} must not compile; these are checked by the compiler.
static_assert(pj::journal::FieldName("PIPEJOURNAL_FIFO").view() == "PIPEJOURNAL_FIFO");
static_assert(is_valid_field_name("MESSAGE_ID"));

TEST_CASE("journal field names: A-Z 0-9 _, no leading _ or digit, at most 64") {
    CHECK(is_valid_field_name("MESSAGE"));
    CHECK(is_valid_field_name("PIPEJOURNAL_FIFO"));
    CHECK(is_valid_field_name("A1_"));
    CHECK(is_valid_field_name(std::string(64, 'A')));
    CHECK_FALSE(is_valid_field_name(std::string(65, 'A')));
    CHECK_FALSE(is_valid_field_name(""));
    CHECK_FALSE(is_valid_field_name("_SYSTEMD_UNIT"));
    CHECK_FALSE(is_valid_field_name("1ABC"));
    CHECK_FALSE(is_valid_field_name("message"));
    CHECK_FALSE(is_valid_field_name("MESS AGE"));
    CHECK_FALSE(is_valid_field_name("MESSAGE="));
    CHECK_FALSE(is_valid_field_name("MÉSSAGE"));
}

TEST_CASE("stderr is the journal only when JOURNAL_STREAM names fd 2's device and inode") {
    struct stat st {};
    REQUIRE(fstat(STDERR_FILENO, &st) == 0);
    std::string matching = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
    std::string other = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino + 1);

    unsetenv("JOURNAL_STREAM");
    CHECK_FALSE(pj::journal::stderr_is_journal());
    setenv("JOURNAL_STREAM", matching.c_str(), 1);
    CHECK(pj::journal::stderr_is_journal());
    setenv("JOURNAL_STREAM", other.c_str(), 1);
    CHECK_FALSE(pj::journal::stderr_is_journal());
    setenv("JOURNAL_STREAM", "garbage", 1);
    CHECK_FALSE(pj::journal::stderr_is_journal());
    unsetenv("JOURNAL_STREAM");
}
