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
    explicit PageBuffer(std::size_t size) : size_(round_up(size ? size : 1)) {
        void* at = mmap(nullptr, size_, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (at == MAP_FAILED)
            throw std::bad_alloc();
        data_ = static_cast<char*>(at);
    }
    ~PageBuffer() {
        if (data_)
            munmap(data_, size_);
    }
    PageBuffer(PageBuffer&& other) noexcept
        : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}
    PageBuffer& operator=(PageBuffer&& other) noexcept {
        std::swap(data_, other.data_);
        std::swap(size_, other.size_);
        return *this;
    }

    char* data() const noexcept { return data_; }
    std::size_t size() const noexcept { return size_; }

    // Bytes [offset, end) are not needed any more: their pages (from offset rounded up to a page,
    // up to `end`, rounded up too) go back to the kernel and read as zeros when used again.
    void release(std::size_t offset, std::size_t end) noexcept {
        std::size_t from = round_up(offset);
        std::size_t to = end < size_ ? round_up(end) : size_;
        if (data_ && from < to)
            madvise(data_ + from, to - from, MADV_DONTNEED);
    }

    static std::size_t page_size() noexcept {
        static const std::size_t size = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
        return size;
    }

private:
    static std::size_t round_up(std::size_t n) noexcept {
        std::size_t page = page_size();
        return (n + page - 1) / page * page;
    }

    char* data_ = nullptr;
    std::size_t size_ = 0;
};

}  // namespace pj
