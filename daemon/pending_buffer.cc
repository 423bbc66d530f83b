// daemon/pending_buffer.cc: see pending_buffer.h.
#include "daemon/pending_buffer.h"

#include <cstdlib>
#include <cstring>
#include <utility>

namespace foobard {

PendingBuffer::PendingBuffer(PendingBuffer&& other) noexcept
    : block_(std::exchange(other.block_, nullptr)),
      offset_(std::exchange(other.offset_, 0)),
      size_(std::exchange(other.size_, 0)),
      capacity_(std::exchange(other.capacity_, 0)) {}

PendingBuffer& PendingBuffer::operator=(PendingBuffer&& other) noexcept {
  if (this != &other) {
    Clear();
    block_ = std::exchange(other.block_, nullptr);
    offset_ = std::exchange(other.offset_, 0);
    size_ = std::exchange(other.size_, 0);
    capacity_ = std::exchange(other.capacity_, 0);
  }
  return *this;
}

void PendingBuffer::Append(const char* bytes, size_t n) {
  if (n == 0) return;
  const size_t needed = static_cast<size_t>(size_) + n;
  if (static_cast<size_t>(offset_) + needed > capacity_) {
    if (needed <= capacity_) {
      // Enough room once the consumed prefix is reclaimed: slide the unsent
      // bytes to the front instead of growing.
      std::memmove(block_, block_ + offset_, size_);
      offset_ = 0;
    } else {
      // Grow geometrically so a slow reader costs O(log n) reallocations.
      size_t new_capacity = capacity_ == 0 ? 4096 : capacity_ * 2;
      while (new_capacity < needed) new_capacity *= 2;
      char* grown = static_cast<char*>(std::malloc(new_capacity));
      if (grown == nullptr) std::abort();
      if (size_ > 0) std::memcpy(grown, block_ + offset_, size_);
      std::free(block_);
      block_ = grown;
      offset_ = 0;
      capacity_ = static_cast<uint32_t>(new_capacity);
    }
  }
  std::memcpy(block_ + offset_ + size_, bytes, n);
  size_ = static_cast<uint32_t>(needed);
}

void PendingBuffer::Consume(size_t n) {
  if (n >= size_) {
    Clear();
    return;
  }
  offset_ += static_cast<uint32_t>(n);
  size_ -= static_cast<uint32_t>(n);
}

void PendingBuffer::Clear() {
  std::free(block_);
  block_ = nullptr;
  offset_ = 0;
  size_ = 0;
  capacity_ = 0;
}

}  // namespace foobard
