// In-process: the line splitter (LineBuffer) and the line mapper (LineMapper) on 1 M lines.
//
//   pj-bench-lines [LINES] [REPEATS] [cpu]
//
// The input is LINES lines of ~100 bytes (every 10th with a "<3>" prefix, every 100th ending in
// CRLF), fed to LineBuffer in 64 KiB pieces as reads from the pipe would be. Each repeat takes
// every line out and maps it to an Entry, with Format=plain and with Format=auto (the default:
// a plain line must cost no more). For scale, the same input is also split by a bare memchr loop
// (what any splitter has to do at least).
//
// Structured lines, parse + map only (LineMapper::map on lines already split): JSON lines of ~230
// bytes with 8 keys and one level of nesting, as pino writes them (Format=auto), and logfmt lines
// of the same content (Format=logfmt); 4096 distinct lines mapped in turn, LINES maps per repeat.
//
// Records (Multiline=), through the RecordSource seam as the channel drives it, Format=auto: the
// same plain input with Multiline= empty (RecordJoiner passing lines through) and with the default
// rules (python java go); the same with every line beginning "Served" (a byte a python header may
// begin with, so the header compare runs); and a mix in which 5 % of the lines are Python
// tracebacks (10-line records among 190 plain lines), with both settings. ns per input line.
//
// Prints one JSON object; times are steady_clock (or, with "cpu", the thread's CPU time: on a
// shared machine the steadier figure), best, median and worst of REPEATS.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include "format/mapper.hpp"
#include "lines.hpp"
#include "records/joiner.hpp"

namespace {

std::string make_input(std::size_t lines) {
    std::string out;
    out.reserve(lines * 102);
    const std::string filler =
        "the quick brown fox jumps over the lazy dog 0123456789 "
        "the quick brown fox jumps over the lazy dog 0123456789 ";
    char head[32];
    for (std::size_t i = 0; i < lines; ++i) {
        if (i % 10 == 0)
            out += "<3>";
        int n = std::snprintf(head, sizeof(head), "line %07zu ", i);
        out.append(head, static_cast<std::size_t>(n));
        out.append(filler, 0, 100 - static_cast<std::size_t>(n));
        if (i % 100 == 0)
            out += '\r';
        out += '\n';
    }
    return out;
}

struct Totals {
    std::uint64_t lines = 0;
    std::uint64_t checksum = 0;
};

// Plain lines all beginning with 'S' ("Served ..."), the size of make_input()'s.
std::string make_served_input(std::size_t lines) {
    std::string out = make_input(lines);
    for (std::size_t at = 0; at < out.size();) {
        std::size_t start = out[at] == '<' ? at + 3 : at;
        std::memcpy(&out[start], "Served", 6);
        at = out.find('\n', at) + 1;
    }
    return out;
}

// 5 % of the lines in Python tracebacks: 190 plain lines, then a 10-line traceback, and again.
std::string make_mix_input(std::size_t lines) {
    const std::string plain = make_input(190);
    const std::string traceback =
        "Traceback (most recent call last):\n"
        "  File \"/usr/lib/python3/dist-packages/app/server.py\", line 118, in handle\n"
        "    response = self.dispatch(request)\n"
        "  File \"/usr/lib/python3/dist-packages/app/server.py\", line 97, in dispatch\n"
        "    return handler(request, **arguments)\n"
        "  File \"/usr/lib/python3/dist-packages/app/views.py\", line 42, in show_item\n"
        "    item = self.store.load(item_id)\n"
        "  File \"/usr/lib/python3/dist-packages/app/store.py\", line 12, in load\n"
        "    return json.loads(self.path.read_text())\n"
        "json.decoder.JSONDecodeError: Expecting value: line 1 column 1 (char 0)\n";
    std::string out;
    for (std::size_t i = 0; i < lines; i += 200)
        out += plain + traceback;
    return out;
}

// Through the seam, not devirtualized: as a channel that holds a RecordSource would call it.
[[gnu::noinline]] Totals drain_records(pj::RecordSource& source, pj::LineMapper& mapper,
                                       const std::string& input) {
    Totals totals;
    std::size_t offset = 0;
    while (offset < input.size()) {
        auto space = source.free_space();
        std::size_t n =
            std::min({space.size(), input.size() - offset, pj::LineBuffer::default_read_size});
        std::memcpy(space.data(), input.data() + offset, n);
        offset += n;
        source.commit(n, 0);
        while (const pj::Record* record = source.front()) {
            pj::Entry entry = mapper.map(*record);
            totals.checksum += entry.message.size() * 8 + static_cast<unsigned>(entry.priority);
            totals.lines += record->lines;
            source.pop();
        }
    }
    source.finish();
    while (const pj::Record* record = source.front()) {
        totals.lines += record->lines;
        source.pop();
    }
    return totals;
}

struct RecordsRun {
    pj::records::Rules rules;
    Totals operator()(const std::string& input) const {
        pj::LineBuffer buffer(48 * 1024);
        pj::LineMapper mapper({.format = pj::LineFormat::automatic});
        pj::RecordJoiner joiner(
            buffer, rules, pj::RecordJoiner::default_timeout_usec,
            [&mapper](std::string_view text) { return mapper.maps_structured(text); });
        return drain_records(joiner, mapper, input);
    }
};

Totals run_linebuffer(const std::string& input, pj::LineFormat format) {
    pj::LineBuffer buffer(48 * 1024);
    pj::LineMapper mapper({.format = format});
    Totals totals;
    std::size_t offset = 0;
    while (offset < input.size()) {
        auto space = buffer.free_space();
        std::size_t n =
            std::min({space.size(), input.size() - offset, pj::LineBuffer::default_read_size});
        std::memcpy(space.data(), input.data() + offset, n);
        offset += n;
        buffer.commit(n);
        while (auto line = buffer.front()) {
            pj::Entry entry = mapper.map(*line);
            totals.checksum += entry.message.size() * 8 + static_cast<unsigned>(entry.priority);
            ++totals.lines;
            buffer.pop();
        }
    }
    return totals;
}

Totals run_plain(const std::string& input) {
    return run_linebuffer(input, pj::LineFormat::plain);
}

Totals run_auto(const std::string& input) {
    return run_linebuffer(input, pj::LineFormat::automatic);
}

constexpr std::size_t distinct_structured = 4096;

std::vector<std::string> make_json_lines() {
    std::vector<std::string> lines;
    char line[512];
    for (std::size_t i = 0; i < distinct_structured; ++i) {
        int n = std::snprintf(
            line, sizeof line,
            R"({"level":%d,"time":17000000%05zu,"pid":4242,"hostname":"web-01",)"
            R"("req":{"id":"a1b2c3%04zx","method":"GET","url":"/api/v1/items?page=%zu","status":200},)"
            R"("user":{"id":%zu,"role":"admin"},"duration_ms":%zu.5,"msg":"request completed %07zu"})",
            i % 7 == 0 ? 50 : 30, i, i, i % 10, i % 1000, i % 300, i);
        lines.emplace_back(line, static_cast<std::size_t>(n));
    }
    return lines;
}

std::vector<std::string> make_logfmt_lines() {
    std::vector<std::string> lines;
    char line[512];
    for (std::size_t i = 0; i < distinct_structured; ++i) {
        int n = std::snprintf(
            line, sizeof line,
            "time=17000000%05zu level=%s pid=4242 hostname=web-01 req.id=a1b2c3%04zx "
            "req.method=GET req.url=\"/api/v1/items?page=%zu\" req.status=200 user.id=%zu "
            "user.role=admin duration_ms=%zu.5 msg=\"request completed %07zu\"",
            i, i % 7 == 0 ? "error" : "info", i, i % 10, i % 1000, i % 300, i);
        lines.emplace_back(line, static_cast<std::size_t>(n));
    }
    return lines;
}

struct MapRun {
    const std::vector<std::string>* lines;
    pj::LineFormat format;
    std::size_t count;
    Totals operator()(const std::string&) const {
        pj::LineMapper mapper({.format = format});
        Totals totals;
        for (std::size_t i = 0; i < count; ++i) {
            pj::Entry entry = mapper.map(pj::Line{(*lines)[i % lines->size()]});
            totals.checksum += entry.message.size() + entry.fields.size() * 8 +
                               static_cast<unsigned>(entry.priority) +
                               (entry.structured ? 1'000'000u : 0u);
            ++totals.lines;
        }
        return totals;
    }
};

double average_size(const std::vector<std::string>& lines) {
    std::size_t bytes = 0;
    for (const auto& line : lines)
        bytes += line.size();
    return static_cast<double>(bytes) / static_cast<double>(lines.size());
}

Totals run_memchr(const std::string& input) {
    Totals totals;
    const char* p = input.data();
    const char* end = p + input.size();
    while (const void* nl = std::memchr(p, '\n', static_cast<std::size_t>(end - p))) {
        totals.checksum += static_cast<std::size_t>(static_cast<const char*>(nl) - p) * 8 + 6;
        ++totals.lines;
        p = static_cast<const char*>(nl) + 1;
    }
    return totals;
}

bool use_cpu_clock = false;  // "cpu": this thread's CPU time, which other load does not inflate

double now_ns() {
    if (use_cpu_clock) {
        timespec ts{};
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
        return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
    }
    return std::chrono::duration<double, std::nano>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

template <class F>
std::vector<double> time_ns_per_line(F run, const std::string& input, std::size_t lines,
                                     int repeats, Totals& totals) {
    std::vector<double> out;
    for (int r = 0; r < repeats; ++r) {
        double t0 = now_ns();
        totals = run(input);
        double t1 = now_ns();
        out.push_back((t1 - t0) / static_cast<double>(lines));
    }
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    std::size_t lines = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1'000'000;
    int repeats = argc > 2 ? std::atoi(argv[2]) : 7;
    use_cpu_clock = argc > 3 && std::strcmp(argv[3], "cpu") == 0;
    if (lines == 0 || repeats <= 0) {
        std::fprintf(stderr, "usage: %s [LINES] [REPEATS]\n", argv[0]);
        return 2;
    }
    const std::string input = make_input(lines);

    const auto json_lines = make_json_lines();
    const auto logfmt_lines = make_logfmt_lines();

    // Plain and auto alternate, so a slow phase of the shared machine hits both alike.
    Totals lb, la, mc, js, lf;
    std::vector<double> lb_ns, la_ns;
    for (int r = 0; r < repeats; ++r) {
        lb_ns.push_back(time_ns_per_line(run_plain, input, lines, 1, lb)[0]);
        la_ns.push_back(time_ns_per_line(run_auto, input, lines, 1, la)[0]);
    }
    std::sort(lb_ns.begin(), lb_ns.end());
    std::sort(la_ns.begin(), la_ns.end());
    auto mc_ns = time_ns_per_line(run_memchr, input, lines, repeats, mc);
    auto js_ns = time_ns_per_line(MapRun{&json_lines, pj::LineFormat::automatic, lines}, input,
                                  lines, repeats, js);
    auto lf_ns = time_ns_per_line(MapRun{&logfmt_lines, pj::LineFormat::logfmt, lines}, input,
                                  lines, repeats, lf);
    // Records: off and default alternate too, on each input.
    const RecordsRun records_off{{}}, records_on{pj::records::default_rules()};
    const std::string served = make_served_input(lines);
    const std::string mix = make_mix_input(lines);
    const std::size_t mix_lines =
        static_cast<std::size_t>(std::count(mix.begin(), mix.end(), '\n'));
    Totals ro, rd, so, sd, mo, md;
    std::vector<double> ro_ns, rd_ns, so_ns, sd_ns, mo_ns, md_ns;
    for (int r = 0; r < repeats; ++r) {
        ro_ns.push_back(time_ns_per_line(records_off, input, lines, 1, ro)[0]);
        rd_ns.push_back(time_ns_per_line(records_on, input, lines, 1, rd)[0]);
        so_ns.push_back(time_ns_per_line(records_off, served, lines, 1, so)[0]);
        sd_ns.push_back(time_ns_per_line(records_on, served, lines, 1, sd)[0]);
        mo_ns.push_back(time_ns_per_line(records_off, mix, mix_lines, 1, mo)[0]);
        md_ns.push_back(time_ns_per_line(records_on, mix, mix_lines, 1, md)[0]);
    }
    for (auto* ns : {&ro_ns, &rd_ns, &so_ns, &sd_ns, &mo_ns, &md_ns})
        std::sort(ns->begin(), ns->end());
    if (ro.lines != lines || rd.lines != lines || so.lines != lines || sd.lines != lines ||
        mo.lines != mix_lines || md.lines != mix_lines || ro.checksum != rd.checksum) {
        std::fprintf(stderr, "records: line count or checksum wrong\n");
        return 1;
    }
    if (lb.lines != lines || la.lines != lines || mc.lines != lines) {
        std::fprintf(stderr, "line count wrong: LineBuffer %llu/%llu, memchr %llu, expected %zu\n",
                     static_cast<unsigned long long>(lb.lines),
                     static_cast<unsigned long long>(la.lines),
                     static_cast<unsigned long long>(mc.lines), lines);
        return 1;
    }
    // Every structured line must have been mapped as such (checksum counts them by 1e6).
    if (js.checksum < lines * 1'000'000ull || lf.checksum < lines * 1'000'000ull) {
        std::fprintf(stderr, "structured lines were not mapped as structured\n");
        return 1;
    }
    auto figures = [](const std::vector<double>& ns) {
        char text[128];
        std::snprintf(text, sizeof text, "{\"best\": %.2f, \"median\": %.2f, \"worst\": %.2f}",
                      ns.front(), ns[ns.size() / 2], ns.back());
        return std::string(text);
    };
    std::printf(
        "{\"lines\": %zu, \"bytes\": %zu, \"repeats\": %d, \"clock\": \"%s\", "
        "\"linebuffer_ns_per_line\": %s, \"linebuffer_auto_ns_per_line\": %s, "
        "\"memchr_ns_per_line\": %s, "
        "\"json_bytes_per_line\": %.1f, \"json_map_ns_per_line\": %s, "
        "\"logfmt_bytes_per_line\": %.1f, \"logfmt_map_ns_per_line\": %s, "
        "\"records_off_ns_per_line\": %s, \"records_default_ns_per_line\": %s, "
        "\"served_records_off_ns_per_line\": %s, \"served_records_default_ns_per_line\": %s, "
        "\"mix_lines\": %zu, \"mix_records_off_ns_per_line\": %s, "
        "\"mix_records_default_ns_per_line\": %s, "
        "\"checksum\": %llu}\n",
        lines, input.size(), repeats, use_cpu_clock ? "thread-cpu" : "steady",
        figures(lb_ns).c_str(), figures(la_ns).c_str(), figures(mc_ns).c_str(),
        average_size(json_lines), figures(js_ns).c_str(), average_size(logfmt_lines),
        figures(lf_ns).c_str(), figures(ro_ns).c_str(), figures(rd_ns).c_str(),
        figures(so_ns).c_str(), figures(sd_ns).c_str(), mix_lines, figures(mo_ns).c_str(),
        figures(md_ns).c_str(), static_cast<unsigned long long>(lb.checksum));
    return 0;
}
