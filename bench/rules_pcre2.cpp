// The question a line that starts no record must answer cheaply — may it start one? — asked of
// every line in three ways: the rules as code (records/rules.hpp: python and go headers, the java
// scan for Exception/Error/Throwable before ':' or the end), the same rules as one PCRE2 pattern
// with the JIT (PCRE2 10.42 from Debian, what journalctl --grep uses), and what RecordJoiner really
// asks of a plain line (first byte, and the next line's: goes_out_alone), timed through the joiner
// in lines_bench.cpp. Two inputs of 100-byte lines: lines_bench.cpp's, and log lines with a
// timestamp and colons (the java scan stops at every ':').
//
//   pj-bench-rules-pcre2 [LINES] [REPEATS]     ns per line, thread CPU time, best of REPEATS
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>
#include <vector>

#include "records/rules.hpp"

namespace {

double cpu_ns() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

std::vector<std::string> plain_lines(std::size_t count) {
    std::vector<std::string> lines;
    const std::string filler =
        "the quick brown fox jumps over the lazy dog 0123456789 "
        "the quick brown fox jumps over the lazy dog 0123456789 ";
    char head[32];
    for (std::size_t i = 0; i < count; ++i) {
        int n = std::snprintf(head, sizeof head, "line %07zu ", i);
        lines.push_back(head + filler.substr(0, 100 - static_cast<std::size_t>(n)));
    }
    return lines;
}

std::vector<std::string> log_lines(std::size_t count) {
    std::vector<std::string> lines;
    char line[160];
    for (std::size_t i = 0; i < count; ++i) {
        std::snprintf(line, sizeof line,
                      "2026-12-01T22:%02zu:%02zu.%03zuZ INFO http: GET /api/v1/items/%zu: 200 OK "
                      "in 12ms (cache: hit, peer: 10.0.0.7:443)",
                      i / 60 % 60, i % 60, i % 1000, i % 100000);
        lines.emplace_back(line);
    }
    return lines;
}

bool code_may_start(std::string_view text) {
    return pj::records::python_header(text) != pj::records::PythonHeader::none ||
           pj::records::is_go_header(text) || pj::records::is_java_exception(text);
}

}  // namespace

int main(int argc, char** argv) {
    std::size_t count = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 200'000;
    int repeats = argc > 2 ? std::atoi(argv[2]) : 7;
    const char* pattern =
        "^(?:Traceback|Stack) \\(most recent call last\\):$"
        "|^[ \\t]*(?:\\+ )?Exception Group Traceback \\(most recent call last\\):$"
        "|^(?:panic|fatal error): "
        "|(?:Exception|Error|Throwable)(?::|$)";
    int error = 0;
    PCRE2_SIZE offset = 0;
    pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern), PCRE2_ZERO_TERMINATED,
                                     0, &error, &offset, nullptr);
    if (!code || pcre2_jit_compile(code, PCRE2_JIT_COMPLETE) != 0) {
        std::fprintf(stderr, "PCRE2 compile or JIT failed\n");
        return 1;
    }
    pcre2_match_data* match = pcre2_match_data_create_from_pattern(code, nullptr);
    auto pcre2_may_start = [&](const std::string& text) {
        return pcre2_jit_match(code, reinterpret_cast<PCRE2_SPTR>(text.data()), text.size(), 0, 0,
                               match, nullptr) >= 0;
    };

    std::printf("{");
    const char* sep = "";
    for (auto [name, lines] :
         {std::pair{"plain", plain_lines(count)}, std::pair{"log", log_lines(count)}}) {
        double best_code = 1e18, best_pcre2 = 1e18;
        std::size_t hits_code = 0, hits_pcre2 = 0;
        for (int r = 0; r < repeats; ++r) {
            double t0 = cpu_ns();
            hits_code = 0;
            for (const auto& line : lines)
                hits_code += code_may_start(line);
            double t1 = cpu_ns();
            hits_pcre2 = 0;
            for (const auto& line : lines)
                hits_pcre2 += pcre2_may_start(line);
            double t2 = cpu_ns();
            best_code = std::min(best_code, (t1 - t0) / static_cast<double>(count));
            best_pcre2 = std::min(best_pcre2, (t2 - t1) / static_cast<double>(count));
        }
        if (hits_code != hits_pcre2) {
            std::fprintf(stderr, "%s: code and PCRE2 disagree (%zu, %zu)\n", name, hits_code,
                         hits_pcre2);
            return 1;
        }
        std::printf("%s\"%s_code_ns_per_line\": %.2f, \"%s_pcre2_jit_ns_per_line\": %.2f", sep,
                    name, best_code, name, best_pcre2);
        sep = ", ";
    }
    std::printf("}\n");
    pcre2_match_data_free(match);
    pcre2_code_free(code);
    return 0;
}
