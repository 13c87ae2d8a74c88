#include <doctest/doctest.h>

#include "systemd/notify.hpp"

using namespace pj;

TEST_CASE("notify messages are exactly what sd_notify(3) expects") {
    CHECK(notify::ready("Forwarding /run/x: 0 lines") ==
          "READY=1\nSTATUS=Forwarding /run/x: 0 lines");
    CHECK(notify::status("busy") == "STATUS=busy");
    CHECK(notify::reloading(123456789, "Reloading configuration") ==
          "RELOADING=1\nMONOTONIC_USEC=123456789\nSTATUS=Reloading configuration");
    CHECK(notify::stopping("Stopping") == "STOPPING=1\nSTATUS=Stopping");
    CHECK(notify::failed(17, "Refusing /run/x") == "ERRNO=17\nSTATUS=Refusing /run/x");
}

TEST_CASE("a newline in a status cannot smuggle in another assignment") {
    CHECK(notify::status("a\nREADY=1") == "STATUS=a READY=1");
    CHECK(notify::ready("x\r\ny") == "READY=1\nSTATUS=x  y");
}
