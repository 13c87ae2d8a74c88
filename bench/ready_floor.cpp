// The start-up floor: a C++ program that does nothing but tell systemd it is ready.
// It stays alive (pause) so its memory can be read after READY=1; SIGTERM ends it.
#include <systemd/sd-daemon.h>
#include <unistd.h>

int main() {
    sd_notify(0, "READY=1");
    for (;;)
        pause();
}
