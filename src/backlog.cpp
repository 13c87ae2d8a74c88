#include "backlog.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "errors.hpp"
#include "hex.hpp"

namespace pj {
namespace {

constexpr uint32_t version = 1;
// Bounds a header must keep to be believed: a damaged or foreign file must not make us read
// past its end or allocate without limit.
constexpr uint64_t capacity_max = uint64_t{1} << 40;
constexpr uint64_t position_max = uint64_t{1} << 62;

static_assert(sizeof(loff_t) == sizeof(int64_t), "splice(2) writes the offset as a loff_t");

[[noreturn]] void fail(const std::string& what, const std::string& path, int error) {
    throw StartupError(what + " " + path + ": " + std::strerror(error), error);
}

std::size_t page_size() noexcept {
    long size = sysconf(_SC_PAGESIZE);
    return size > 0 ? static_cast<std::size_t>(size) : 4096;
}

uint64_t round_down(uint64_t value, uint64_t step) noexcept {
    return value - value % step;
}

Backlog::Header fresh_header(std::size_t data_offset, std::size_t capacity) noexcept {
    Backlog::Header header{};
    std::memcpy(header.magic, Backlog::magic.data(), Backlog::magic.size());
    header.version = version;
    header.data_offset = static_cast<uint32_t>(data_offset);
    header.capacity = capacity;
    header.sent = 0;
    header.write_at = static_cast<int64_t>(data_offset);
    return header;
}

// Makes fd a new, empty store: the header, then a ring of holes.
void initialise(int fd, const std::string& path, std::size_t capacity) {
    const std::size_t data_offset = page_size();
    if (ftruncate(fd, 0) < 0 || ftruncate(fd, static_cast<off_t>(data_offset + capacity)) < 0)
        fail("Failed to size the backlog", path, errno);
    Backlog::Header header = fresh_header(data_offset, capacity);
    if (pwrite(fd, &header, sizeof header, 0) != static_cast<ssize_t>(sizeof header))
        fail("Failed to write the backlog's header", path, errno ? errno : EIO);
}

}  // namespace

std::string_view Backlog::header_problem(const Header& header, uint64_t file_size) noexcept {
    if (std::memcmp(header.magic, magic.data(), magic.size()) != 0 ||
        header.magic[magic.size()] != '\0')
        return "not a pipejournal backlog";
    if (header.version != version)
        return "a backlog of another version";
    if (header.data_offset < sizeof(Header) || header.data_offset > 1024 * 1024 ||
        header.data_offset % 512 != 0)
        return "its ring does not start where a header could end";
    if (header.capacity < 4096 || header.capacity > capacity_max || header.capacity % 4096 != 0)
        return "its ring has an impossible size";
    if (file_size < header.data_offset + header.capacity)
        return "the file is shorter than its ring";
    if (header.write_at < static_cast<int64_t>(header.data_offset) ||
        static_cast<uint64_t>(header.write_at) > header.data_offset + header.capacity)
        return "its write position is outside the ring";
    if (header.sent > position_max)
        return "its sent position is impossibly large";
    return {};
}

uint64_t Backlog::written_from(const Header& header) noexcept {
    // The ring position of the next byte in, and of sent: written is sent plus the distance
    // between them, always less than the ring (the store never fills it completely).
    const uint64_t capacity = header.capacity;
    const uint64_t in = (static_cast<uint64_t>(header.write_at) - header.data_offset) % capacity;
    return header.sent + (in + capacity - header.sent % capacity) % capacity;
}

std::string Backlog::file_name(std::string_view fifo_path) {
    while (fifo_path.starts_with('/'))
        fifo_path.remove_prefix(1);
    std::string name;
    for (std::size_t i = 0; i < fifo_path.size(); ++i) {
        unsigned char c = static_cast<unsigned char>(fifo_path[i]);
        bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                     c == '_' || c == ':' || (c == '.' && i > 0);
        if (c == '/') {
            name += '-';
        } else if (plain) {
            name += static_cast<char>(c);
        } else {
            name += "\\x";
            name += hex_char(c >> 4);
            name += hex_char(c);
        }
    }
    return name + ".backlog";
}

Backlog Backlog::open(const std::string& directory, const std::string& fifo_path,
                      std::size_t capacity) {
    capacity =
        static_cast<std::size_t>(std::max<uint64_t>(round_down(capacity + 4095, 4096), 4096));
    std::string path;
    UniqueFd fd;
    bool damaged = false;
    if (directory.empty()) {
        fd = UniqueFd(memfd_create("pipejournal-backlog", MFD_CLOEXEC));
        if (!fd)
            fail("Failed to create", "an anonymous backlog", errno);
        initialise(fd.get(), "(anonymous)", capacity);
    } else {
        path = directory + "/" + file_name(fifo_path);
        UniqueFd dir(::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!dir)
            fail("Failed to open the backlog directory", directory, errno);
        const std::string name = file_name(fifo_path);
        fd = UniqueFd(openat(dir.get(), name.c_str(),
                             O_RDWR | O_CREAT | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC, 0600));
        if (!fd)
            fail("Failed to open the backlog", path, errno);
        // One daemon per store: a second one on the same FIFO must not take the same bytes.
        if (flock(fd.get(), LOCK_EX | LOCK_NB) < 0)
            fail("Failed to lock the backlog", path, errno == EWOULDBLOCK ? EBUSY : errno);
        struct stat st {};
        if (fstat(fd.get(), &st) < 0)
            fail("Failed to stat the backlog", path, errno);
        if (!S_ISREG(st.st_mode))
            fail("Refusing the backlog", path, EINVAL);
        Header header{};
        bool usable = false;
        if (st.st_size > 0) {
            ssize_t n = pread(fd.get(), &header, sizeof header, 0);
            usable = n == static_cast<ssize_t>(sizeof header) &&
                     header_problem(header, static_cast<uint64_t>(st.st_size)).empty();
            if (!usable) {
                // Kept for whoever wants to look at it, never read as lines.
                std::string aside = name + ".damaged";
                if (renameat(dir.get(), name.c_str(), dir.get(), aside.c_str()) < 0)
                    fail("Failed to move the damaged backlog aside", path, errno);
                damaged = true;
                fd = UniqueFd(openat(dir.get(), name.c_str(),
                                     O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
                if (!fd || flock(fd.get(), LOCK_EX | LOCK_NB) < 0)
                    fail("Failed to create the backlog", path, errno);
            }
        }
        // A store with nothing unsent starts over at the size configured now.
        if (!usable || written_from(header) == header.sent)
            initialise(fd.get(), path, capacity);
    }

    void* page = mmap(nullptr, page_size(), PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
    if (page == MAP_FAILED)
        fail("Failed to map the backlog's header", path.empty() ? "(anonymous)" : path, errno);
    auto* header = static_cast<Header*>(page);
    // Resident from now on: splice(2) writes the offset here after it has taken the bytes.
    *static_cast<volatile int64_t*>(&header->write_at) = header->write_at;
    const uint64_t recovered = written_from(*header) - header->sent;
    return Backlog(std::move(fd), std::move(path), header, damaged, recovered);
}

Backlog::Backlog(UniqueFd fd, std::string path, Header* header, bool damaged, uint64_t recovered)
    : fd_(std::move(fd)),
      path_(std::move(path)),
      header_(header),
      released_(round_down(header->sent, 4096)),
      damaged_(damaged),
      recovered_(recovered) {}

Backlog::Backlog(Backlog&& other) noexcept
    : fd_(std::move(other.fd_)),
      path_(std::move(other.path_)),
      header_(std::exchange(other.header_, nullptr)),
      released_(other.released_),
      damaged_(other.damaged_),
      recovered_(other.recovered_) {}

Backlog& Backlog::operator=(Backlog&& other) noexcept {
    if (this != &other) {
        if (header_)
            munmap(header_, page_size());
        fd_ = std::move(other.fd_);
        path_ = std::move(other.path_);
        header_ = std::exchange(other.header_, nullptr);
        released_ = other.released_;
        damaged_ = other.damaged_;
        recovered_ = other.recovered_;
    }
    return *this;
}

Backlog::~Backlog() {
    if (header_)
        munmap(header_, page_size());
}

uint64_t Backlog::sent() const noexcept {
    return header_->sent;
}

uint64_t Backlog::written() const noexcept {
    return written_from(*header_);
}

std::size_t Backlog::room() const noexcept {
    return static_cast<std::size_t>(header_->capacity) - 1;
}

int64_t Backlog::physical(uint64_t position) const noexcept {
    return static_cast<int64_t>(header_->data_offset + position % header_->capacity);
}

ssize_t Backlog::take_from(int pipe_fd, std::size_t max_bytes) noexcept {
    const int64_t ring_end = static_cast<int64_t>(header_->data_offset + header_->capacity);
    if (header_->write_at == ring_end)
        header_->write_at = header_->data_offset;  // the same logical position: written() agrees
    std::size_t free = room() - unsent();
    std::size_t length =
        std::min({max_bytes, free, static_cast<std::size_t>(ring_end - header_->write_at)});
    if (length == 0)
        return -ENOBUFS;
    for (;;) {
        ssize_t n =
            splice(pipe_fd, nullptr, fd_.get(), reinterpret_cast<loff_t*>(&header_->write_at),
                   length, SPLICE_F_NONBLOCK);
        if (n >= 0)
            return n;
        if (errno != EINTR)
            return -errno;
    }
}

ssize_t Backlog::read(uint64_t from, std::span<char> out) const noexcept {
    const uint64_t end = written();
    if (from < sent() || from > end)
        return -EINVAL;
    std::size_t total = static_cast<std::size_t>(std::min<uint64_t>(out.size(), end - from));
    std::size_t done = 0;
    while (done < total) {
        int64_t at = physical(from + done);
        int64_t ring_end = static_cast<int64_t>(header_->data_offset + header_->capacity);
        std::size_t piece = std::min(total - done, static_cast<std::size_t>(ring_end - at));
        ssize_t n = pread(fd_.get(), out.data() + done, piece, at);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            return -EIO;  // a hole cannot end the file: the file was cut short under us
        done += static_cast<std::size_t>(n);
    }
    return static_cast<ssize_t>(total);
}

void Backlog::mark_sent(uint64_t position) noexcept {
    header_->sent = position;
}

void Backlog::release_sent() noexcept {
    const uint64_t sent_position = sent();
    const bool drained = written() == sent_position;
    // The page that holds sent may still hold unsent bytes after it; when drained it holds none.
    const uint64_t end =
        drained ? round_down(sent_position + 4095, 4096) : round_down(sent_position, 4096);
    if (end <= released_ || (!drained && end - released_ < release_step))
        return;
    uint64_t from = std::max(released_, end > header_->capacity ? end - header_->capacity : 0);
    while (from < end) {
        int64_t at = physical(from);
        int64_t ring_end = static_cast<int64_t>(header_->data_offset + header_->capacity);
        uint64_t piece = std::min<uint64_t>(end - from, static_cast<uint64_t>(ring_end - at));
        // Best effort: a file system without holes keeps the memory, nothing else changes.
        (void)fallocate(fd_.get(), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, at,
                        static_cast<off_t>(piece));
        from += piece;
    }
    released_ = end;
}

}  // namespace pj
