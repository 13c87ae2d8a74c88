// Memory for a buffer that a long line makes large for a moment and that must then give its pages
// back: an anonymous private mapping. A page counts in the process's memory only once it is
// written; release_from() hands written pages back to the kernel (MADV_DONTNEED), so they cost
// nothing until written again. malloc's memory cannot do this: glibc raises its mmap threshold to
// the largest block freed, and a freed block below the heap's top is never returned.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <new>
#include <utility>

namespace pj {

class PageBuffer {
public:
    PageBuffer() = default;
    // At least `size` bytes, not written (no page touched yet).
    explicit PageBuffer(std::size_t size) : mapped_(round_up(lead + (size ? size : 1))) {
        void* at = mmap(nullptr, mapped_, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (at == MAP_FAILED)
            throw std::bad_alloc();
        base_ = static_cast<char*>(at);
        data_ = base_ + lead;
        size_ = mapped_ - lead;
    }
    ~PageBuffer() {
        if (base_)
            munmap(base_, mapped_);
    }
    PageBuffer(PageBuffer&& other) noexcept
        : base_(std::exchange(other.base_, nullptr)),
          data_(std::exchange(other.data_, nullptr)),
          mapped_(std::exchange(other.mapped_, 0)),
          size_(std::exchange(other.size_, 0)) {}
    PageBuffer& operator=(PageBuffer&& other) noexcept {
        std::swap(base_, other.base_);
        std::swap(data_, other.data_);
        std::swap(mapped_, other.mapped_);
        std::swap(size_, other.size_);
        return *this;
    }

    char* data() const noexcept { return data_; }
    std::size_t size() const noexcept { return size_; }

    // Bytes [offset, end) of data() are not needed any more: the pages wholly inside them go back
    // to the kernel and read as zeros when used again.
    void release(std::size_t offset, std::size_t end) noexcept {
        std::size_t from = round_up(lead + offset);
        std::size_t to = lead + end < mapped_ ? (lead + end) / page_size() * page_size() : mapped_;
        if (base_ && from < to)
            madvise(base_ + from, to - from, MADV_DONTNEED);
    }

    static std::size_t page_size() noexcept {
        static const std::size_t size = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
        return size;
    }

private:
    // data() starts this far into the mapping, not at a page boundary: a buffer that starts where
    // the source of a copy into it does, modulo 4 KiB, makes memcpy 25 % slower (4K aliasing);
    // malloc's large blocks start 16 bytes in for the same reason.
    static constexpr std::size_t lead = 64;

    static std::size_t round_up(std::size_t n) noexcept {
        std::size_t page = page_size();
        return (n + page - 1) / page * page;
    }

    char* base_ = nullptr;  // the mapping
    char* data_ = nullptr;  // base_ + lead
    std::size_t mapped_ = 0;
    std::size_t size_ = 0;  // of data()
};

}  // namespace pj
