// The journal's native wire format: what encode() writes, decode() reads back as the same fields,
// in order; a name journald would drop makes encode() fail with -EINVAL instead. decode() of any
// bytes returns 0 or -EBADMSG, and what it accepts encodes and decodes to the same fields again.
//
// Input: fields, each a control byte (bits 0..5: name length - 1; bit 6: name bytes taken as they
// are instead of mapped to valid characters; bit 7: value length in 2 bytes instead of 1), the name
// bytes, the value length, the value bytes (any, '\n' and NUL included).
#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "systemd/journal.hpp"

namespace {

using Decoded = std::vector<std::pair<std::string, std::string>>;

[[noreturn]] void fail(const char* what) {
    std::fprintf(stderr, "fuzz_native: %s\n", what);
    std::abort();
}

class Reader {
public:
    Reader(const uint8_t* data, std::size_t size) : data_(data), size_(size) {}
    bool empty() const { return size_ == 0; }
    uint8_t byte() { return size_ ? (--size_, *data_++) : 0; }
    std::string_view bytes(std::size_t count) {
        count = std::min(count, size_);
        std::string_view taken(reinterpret_cast<const char*>(data_), count);
        data_ += count;
        size_ -= count;
        return taken;
    }

private:
    const uint8_t* data_;
    std::size_t size_;
};

// journald's rule for a field name, written out independently of is_valid_field_name().
bool name_is_valid(std::string_view name) {
    if (name.empty() || name.size() > 64)
        return false;
    for (std::size_t i = 0; i < name.size(); ++i) {
        char c = name[i];
        bool upper = c >= 'A' && c <= 'Z', digit = c >= '0' && c <= '9';
        if (!(upper || (i > 0 && (digit || c == '_'))))
            return false;
    }
    return true;
}

void check_round_trip(const std::vector<pj::journal::Field>& fields) {
    bool valid = true;
    for (const auto& field : fields)
        valid = valid && name_is_valid(field.name);
    std::string wire;
    int r = pj::journal::encode(fields, wire);
    if (!valid) {
        if (r != -EINVAL)
            fail("encode() took an invalid field name");
        return;
    }
    if (r != 0)
        fail("encode() refused valid fields");
    Decoded decoded;
    if (pj::journal::decode(wire, decoded) != 0)
        fail("decode() refused what encode() wrote");
    if (decoded.size() != fields.size())
        fail("decode() gave back a different number of fields");
    for (std::size_t i = 0; i < fields.size(); ++i)
        if (decoded[i].first != fields[i].name || decoded[i].second != fields[i].value)
            fail("decode() gave back a different field");
}

void check_decode_any(std::string_view wire) {
    Decoded decoded;
    int r = pj::journal::decode(wire, decoded);
    if (r == -EBADMSG)
        return;
    if (r != 0)
        fail("decode() returned neither 0 nor -EBADMSG");
    std::vector<pj::journal::Field> fields;
    for (const auto& [name, value] : decoded)
        fields.push_back({name, value});
    check_round_trip(fields);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    static constexpr std::string_view name_chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_";
    Reader input(data, size);
    std::vector<std::string> names;
    std::vector<pj::journal::Field> fields;
    names.reserve(size);  // the fields point into the names
    while (!input.empty()) {
        uint8_t control = input.byte();
        std::string_view raw = input.bytes(1 + (control & 0x3f));
        std::string& name = names.emplace_back(raw);
        if (!(control & 0x40))
            for (std::size_t i = 0; i < name.size(); ++i)
                name[i] = name_chars[static_cast<uint8_t>(name[i]) % (i == 0 ? 26 : 37)];
        std::size_t value_size = input.byte();
        if (control & 0x80)
            value_size |= std::size_t{input.byte()} << 8;
        fields.push_back({name, input.bytes(value_size)});
    }
    check_round_trip(fields);
    check_decode_any({reinterpret_cast<const char*>(data), size});
    return 0;
}
