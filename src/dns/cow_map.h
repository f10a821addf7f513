// CowMap: a string-keyed map whose copies share storage until one of them writes,
// and then clone only the part written. The keys are spread over kShards shards by
// hash; the shard table and each shard are immutable once shared. Copying a CowMap
// costs one reference count; the first write after a copy clones the table
// (kShards pointers) and the one shard holding the key.
//
// Why: the reconciler publishes a new dns::ZoneSnapshot after every change while
// the DNS thread still reads the previous one without locks. Building each from
// scratch cost 180-310 ms at 10,000 endpoints (30,000 names); sharing everything
// that did not change makes a one-endpoint change cost a few shard clones
// (bench/dns/snapshot_bench.cc).
//
// Thread safety: like a value. Any number of threads may read copies at once;
// writes need the one object written to be owned by the writing thread. Shards are
// written in place only when no other copy refers to them (use_count() == 1), after
// an acquire fence that orders the write after every former sharer's reads.
//
// Iteration goes shard by shard, each in key order: not in overall key order.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <functional>
#include <iterator>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lp::dns {

template <class V, size_t kShards = 128>
class CowMap {
  using Map = std::map<std::string, V, std::less<>>;
  using Table = std::array<std::shared_ptr<Map>, kShards>;

 public:
  using key_type = std::string;
  using mapped_type = V;
  using value_type = typename Map::value_type;

  class const_iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = CowMap::value_type;
    using difference_type = std::ptrdiff_t;
    using pointer = const value_type*;
    using reference = const value_type&;

    const_iterator() = default;
    reference operator*() const { return *it_; }
    pointer operator->() const { return &*it_; }
    const_iterator& operator++() {
      ++it_;
      settle();
      return *this;
    }
    const_iterator operator++(int) {
      auto old = *this;
      ++*this;
      return old;
    }
    bool operator==(const const_iterator& o) const {
      return shard_ == o.shard_ && (shard_ == kShards || it_ == o.it_);
    }

   private:
    friend class CowMap;
    const_iterator(const Table* t, size_t shard, typename Map::const_iterator it) : table_(t), shard_(shard), it_(it) {}
    // Moves past the end of empty or finished shards.
    void settle() {
      while (shard_ < kShards && it_ == (*table_)[shard_]->end()) {
        while (++shard_ < kShards && !(*table_)[shard_]) {
        }
        if (shard_ < kShards) it_ = (*table_)[shard_]->begin();
      }
    }
    const Table* table_ = nullptr;
    size_t shard_ = kShards;
    typename Map::const_iterator it_{};
  };
  using iterator = const_iterator;

  bool empty() const { return size_ == 0; }
  size_t size() const { return size_; }

  const_iterator begin() const {
    if (!table_) return end();
    for (size_t i = 0; i < kShards; ++i) {
      if ((*table_)[i] && !(*table_)[i]->empty()) return const_iterator(table_.get(), i, (*table_)[i]->begin());
    }
    return end();
  }
  const_iterator end() const { return const_iterator(); }

  const_iterator find(std::string_view key) const {
    const Map* m = shard(key);
    if (!m) return end();
    auto it = m->find(key);
    if (it == m->end()) return end();
    return const_iterator(table_.get(), shardOf(key), it);
  }
  size_t count(std::string_view key) const {
    const Map* m = shard(key);
    return m && m->find(key) != m->end() ? 1 : 0;
  }
  const V& at(std::string_view key) const {
    const Map* m = shard(key);
    if (m) {
      if (auto it = m->find(key); it != m->end()) return it->second;
    }
    throw std::out_of_range("CowMap::at");
  }

  // The value for key, inserted default-constructed if missing; `inserted` says which.
  V& get(std::string_view key, bool* inserted = nullptr) {
    Map& m = writable(shardOf(key));
    auto it = m.find(key);
    bool added = it == m.end();
    if (added) {
      it = m.emplace(std::string(key), V{}).first;
      ++size_;
    }
    if (inserted) *inserted = added;
    return it->second;
  }
  V& operator[](const std::string& key) { return get(key); }

  size_t erase(std::string_view key) {
    const Map* m = shard(key);
    if (!m || m->find(key) == m->end()) return 0;
    Map& w = writable(shardOf(key));
    w.erase(w.find(key));
    --size_;
    return 1;
  }
  void clear() {
    table_.reset();
    size_ = 0;
  }

  // Equal keys and values. Shards still shared compare by pointer.
  bool operator==(const CowMap& o) const {
    if (size_ != o.size_) return false;
    if (table_ == o.table_ || size_ == 0) return true;
    for (size_t i = 0; i < kShards; ++i) {
      const Map* a = (*table_)[i].get();
      const Map* b = (*o.table_)[i].get();
      if (a == b) continue;
      bool ae = !a || a->empty(), be = !b || b->empty();
      if (ae || be) {
        if (ae != be) return false;
        continue;
      }
      if (!(*a == *b)) return false;
    }
    return true;
  }

 private:
  static size_t shardOf(std::string_view key) { return std::hash<std::string_view>{}(key) % kShards; }
  const Map* shard(std::string_view key) const { return table_ ? (*table_)[shardOf(key)].get() : nullptr; }

  // The shard i, owned by this copy alone (cloned if another copy shares it).
  Map& writable(size_t i) {
    if (!table_) {
      table_ = std::make_shared<Table>();
    } else if (table_.use_count() > 1) {
      table_ = std::make_shared<Table>(*table_);
    } else {
      std::atomic_thread_fence(std::memory_order_acquire);
    }
    auto& s = (*table_)[i];
    if (!s) {
      s = std::make_shared<Map>();
    } else if (s.use_count() > 1) {
      s = std::make_shared<Map>(*s);
    } else {
      std::atomic_thread_fence(std::memory_order_acquire);
    }
    return *s;
  }

  std::shared_ptr<Table> table_;  // null while nothing was ever written
  size_t size_ = 0;
};

// CowVector: a vector whose copies share storage until one of them writes (then it
// clones the whole vector). Copying costs one reference count.
template <class T>
class CowVector {
 public:
  using value_type = T;
  using const_iterator = typename std::vector<T>::const_iterator;
  using iterator = const_iterator;

  bool empty() const { return !v_ || v_->empty(); }
  size_t size() const { return v_ ? v_->size() : 0; }
  const T& operator[](size_t i) const { return (*v_)[i]; }
  const_iterator begin() const { return v_ ? v_->cbegin() : const_iterator(); }
  const_iterator end() const { return v_ ? v_->cend() : const_iterator(); }

  void push_back(T t) { writable().push_back(std::move(t)); }
  void clear() { v_.reset(); }

  bool operator==(const CowVector& o) const {
    if (v_ == o.v_ || (empty() && o.empty())) return true;
    return v_ && o.v_ && *v_ == *o.v_;
  }

 private:
  std::vector<T>& writable() {
    if (!v_) {
      v_ = std::make_shared<std::vector<T>>();
    } else if (v_.use_count() > 1) {
      v_ = std::make_shared<std::vector<T>>(*v_);
    } else {
      std::atomic_thread_fence(std::memory_order_acquire);
    }
    return *v_;
  }
  std::shared_ptr<std::vector<T>> v_;
};

}  // namespace lp::dns
