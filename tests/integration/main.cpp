// doctest runner for the integration tests.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <csignal>

int main(int argc, char** argv) {
    // A test that writes into a FIFO whose daemon has died must fail with EPIPE,
    // not kill the whole run. (Children get SIGPIPE back to default before exec.)
    std::signal(SIGPIPE, SIG_IGN);
    doctest::Context context(argc, argv);
    return context.run();
}
