// Prometheus: the operator's view of the daemon, as `GET /metrics` in the text
// exposition format (version 0.0.4).
//
// Two kinds of figures. Counters and histograms that code bumps as things happen
// (API requests, store commits, DNS answers, notification deliveries) live in
// families in a Registry; the process has one (processRegistry()), which the
// modules that count reach without plumbing, as Prometheus's client libraries do.
// Figures that are already kept elsewhere (the data plane's per-interface
// counters, the reconciler's queue) are not copied: a collector writes them at
// scrape time.
//
// Label values come from requests, so every family caps its series (kMaxSeries):
// past the cap, new label sets are counted under the value "_other" in every
// label, and the page stays bounded whatever a client sends.
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace lp::metrics::prom {

using LabelValues = std::vector<std::string>;

// Writes the text format: one HELP/TYPE header per family, then its samples.
class Exposition {
 public:
  void family(std::string_view name, std::string_view type, std::string_view help);
  // labelNames and labelValues have the same length.
  void sample(std::string_view name, const std::vector<std::string>& labelNames, const LabelValues& labelValues,
              double value);
  void sample(std::string_view name, double value) { sample(name, {}, {}, value); }
  const std::string& text() const { return out_; }

 private:
  std::string out_;
};

// "a\"b\\c\nd" as the format escapes label values.
std::string escapeLabelValue(std::string_view v);

inline constexpr size_t kMaxSeries = 10'000;

class CounterFamily {
 public:
  CounterFamily(std::string name, std::string help, std::vector<std::string> labelNames);
  void add(const LabelValues& values, uint64_t n = 1);
  uint64_t value(const LabelValues& values) const;  // 0 when never counted
  void write(Exposition& out) const;

 private:
  std::string name_, help_;
  std::vector<std::string> labels_;
  mutable std::mutex mu_;
  std::map<LabelValues, uint64_t> series_;
};

class HistogramFamily {
 public:
  // bounds: the buckets' upper bounds, ascending (+Inf is implied).
  HistogramFamily(std::string name, std::string help, std::vector<std::string> labelNames, std::vector<double> bounds);
  void observe(const LabelValues& values, double v);
  void write(Exposition& out) const;

 private:
  struct Series {
    std::vector<uint64_t> buckets;  // per bound, not cumulative; the last is +Inf
    uint64_t count = 0;
    double sum = 0;
  };
  std::string name_, help_;
  std::vector<std::string> labels_;
  std::vector<double> bounds_;
  mutable std::mutex mu_;
  std::map<LabelValues, Series> series_;
};

// Latency buckets in seconds, from 0.5 ms to 10 s.
std::vector<double> latencyBuckets();

class Registry {
 public:
  using Collector = std::function<void(Exposition&)>;

  // Get or make a family; the reference stays valid for the registry's life. A
  // second call with the same name returns the first family (its labels win).
  CounterFamily& counter(const std::string& name, const std::string& help, std::vector<std::string> labelNames);
  HistogramFamily& histogram(const std::string& name, const std::string& help, std::vector<std::string> labelNames,
                             std::vector<double> bounds = latencyBuckets());

  // A collector runs at every scrape until removed (by the key it was added with).
  void addCollector(const std::string& key, Collector c);
  void removeCollector(const std::string& key);

  // The whole page: families by name, then the collectors by key.
  std::string render() const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<CounterFamily>> counters_;
  std::map<std::string, std::unique_ptr<HistogramFamily>> histograms_;
  std::map<std::string, Collector> collectors_;
};

// The daemon's registry.
Registry& processRegistry();

}  // namespace lp::metrics::prom
