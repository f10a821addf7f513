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
Result<std::unique_ptr<Store>> openSqliteStore(const std::string& dir);

}  // namespace lp::store
