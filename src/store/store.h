// Store: the durable state of the control plane, as typed-by-kind JSON documents.
//
// Every mutating API call is one update(): a serialized write transaction that is
// on disk (fsync'd) when update() returns ok, and that bumps a global revision.
// Readers see consistent snapshots and never block on the disk. Nothing above this
// interface knows it is SQLite: it is the seam for a distributed store later.
//
// Thread-safety: all methods may be called from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace lp::store {

struct Object {
  std::string kind;
  std::string id;
  std::string body;       // JSON document
  uint64_t revision = 0;  // revision of the update that last wrote it
};

// Secondary index entries of one object: (index name, value) pairs, e.g.
// {"vpc", "vpc-0abc"}. An object may hold several values of one index.
using IndexEntries = std::vector<std::pair<std::string, std::string>>;

// Computes the index entries of an object from its kind and body. Supplied by the
// layer that knows the documents (the store never parses them); must be a pure
// function of its arguments, callable from any thread.
using Indexer = std::function<IndexEntries(std::string_view kind, std::string_view body)>;

struct Change {
  uint64_t revision = 0;
  std::string kind;
  std::string id;
  bool deleted = false;
};

// A consistent view of the store. Valid only inside the callback that received it.
class ReadView {
 public:
  virtual ~ReadView() = default;
  virtual std::optional<Object> get(std::string_view kind, std::string_view id) const = 0;
  // Visits every object of a kind in id order; stop early by returning false.
  virtual void forEach(std::string_view kind, const std::function<bool(const Object&)>& fn) const = 0;
  std::vector<Object> list(std::string_view kind) const;
  // Visits objects of a kind with id >= fromId in id order; stop early by returning false.
  virtual void forEachFrom(std::string_view kind, std::string_view fromId,
                           const std::function<bool(const Object&)>& fn) const = 0;
  // Visits the objects of a kind whose index `index` holds `value`, with id >= fromId,
  // in id order; stop early by returning false. Costs what it visits, not the kind's size.
  virtual void forEachIndexed(std::string_view kind, std::string_view index, std::string_view value,
                              const std::function<bool(const Object&)>& fn, std::string_view fromId = {}) const = 0;
  // How many objects of a kind have `value` in index `index`, without visiting them.
  virtual size_t count(std::string_view kind, std::string_view index, std::string_view value) const = 0;
};

// A write transaction. Reads see its own writes.
class WriteTxn : public ReadView {
 public:
  virtual void put(std::string_view kind, std::string_view id, std::string body) = 0;
  virtual void erase(std::string_view kind, std::string_view id) = 0;
  // The revision this transaction commits as.
  virtual uint64_t revision() const = 0;
};

class Store {
 public:
  virtual ~Store() = default;
  // Runs fn in one write transaction; commits durably when fn returns ok, discards
  // every write otherwise, and returns fn's status (or the commit's failure).
  virtual Status update(const std::function<Status(WriteTxn&)>& fn) = 0;
  virtual void read(const std::function<void(const ReadView&)>& fn) const = 0;
  virtual uint64_t revision() const = 0;
  // Changes after rev, oldest first. The history is bounded and trimmed by whole
  // revisions, and every committed revision wrote something, so a first change
  // newer than rev+1 means the caller fell too far behind and must resync.
  virtual std::vector<Change> changesSince(uint64_t rev) const = 0;
  // Blocks until revision() > rev or timeout; returns whether it advanced.
  virtual bool waitForRevision(uint64_t rev, std::chrono::milliseconds timeout) const = 0;
};

// Opens (creating and migrating as needed) the SQLite store in dir/linkplane.db.
// Secondary indexes are derived data: kept in memory beside the objects, computed
// by indexer on every put and rebuilt from the objects at open, so they can never
// disagree with what is on disk (also after an upgrade or a crash). Without an
// indexer every index is empty.
Result<std::unique_ptr<Store>> openSqliteStore(const std::string& dir, Indexer indexer = nullptr);

}  // namespace lp::store
