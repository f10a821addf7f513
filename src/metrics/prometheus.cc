#include "metrics/prometheus.h"

#include <cmath>

#include <fmt/format.h>

namespace lp::metrics::prom {

namespace {

std::string number(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 9.007199254740992e15) return fmt::format("{}", static_cast<int64_t>(v));
  return fmt::format("{}", v);
}

// Past the cap, a new label set is folded into "_other" in every label.
template <class Map>
typename Map::mapped_type& seriesFor(Map& m, const LabelValues& values, size_t labelCount) {
  auto it = m.find(values);
  if (it != m.end()) return it->second;
  if (m.size() >= kMaxSeries) return m[LabelValues(labelCount, "_other")];
  return m[values];
}

LabelValues fit(const LabelValues& values, size_t n) {
  LabelValues v = values;
  v.resize(n);  // a caller's mistake must not corrupt the page
  return v;
}

}  // namespace

std::string escapeLabelValue(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

void Exposition::family(std::string_view name, std::string_view type, std::string_view help) {
  std::string h;
  for (char c : help) {
    if (c == '\\') h += "\\\\";
    else if (c == '\n') h += "\\n";
    else h += c;
  }
  out_ += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, h, name, type);
}

void Exposition::sample(std::string_view name, const std::vector<std::string>& labelNames,
                        const LabelValues& labelValues, double value) {
  out_ += name;
  if (!labelNames.empty()) {
    out_ += '{';
    for (size_t i = 0; i < labelNames.size(); ++i) {
      if (i) out_ += ',';
      out_ += labelNames[i];
      out_ += "=\"";
      out_ += escapeLabelValue(i < labelValues.size() ? labelValues[i] : "");
      out_ += '"';
    }
    out_ += '}';
  }
  out_ += ' ';
  out_ += number(value);
  out_ += '\n';
}

CounterFamily::CounterFamily(std::string name, std::string help, std::vector<std::string> labelNames)
    : name_(std::move(name)), help_(std::move(help)), labels_(std::move(labelNames)) {}

void CounterFamily::add(const LabelValues& values, uint64_t n) {
  std::lock_guard lock(mu_);
  seriesFor(series_, values.size() == labels_.size() ? values : fit(values, labels_.size()), labels_.size()) += n;
}

uint64_t CounterFamily::value(const LabelValues& values) const {
  std::lock_guard lock(mu_);
  auto it = series_.find(values);
  return it == series_.end() ? 0 : it->second;
}

void CounterFamily::write(Exposition& out) const {
  out.family(name_, "counter", help_);
  std::lock_guard lock(mu_);
  for (const auto& [values, n] : series_) out.sample(name_, labels_, values, static_cast<double>(n));
}

HistogramFamily::HistogramFamily(std::string name, std::string help, std::vector<std::string> labelNames,
                                 std::vector<double> bounds)
    : name_(std::move(name)), help_(std::move(help)), labels_(std::move(labelNames)), bounds_(std::move(bounds)) {}

void HistogramFamily::observe(const LabelValues& values, double v) {
  size_t i = 0;
  while (i < bounds_.size() && v > bounds_[i]) ++i;
  std::lock_guard lock(mu_);
  Series& s =
      seriesFor(series_, values.size() == labels_.size() ? values : fit(values, labels_.size()), labels_.size());
  if (s.buckets.empty()) s.buckets.assign(bounds_.size() + 1, 0);
  s.buckets[i]++;
  s.count++;
  s.sum += v;
}

void HistogramFamily::write(Exposition& out) const {
  out.family(name_, "histogram", help_);
  std::vector<std::string> withLe = labels_;
  withLe.push_back("le");
  const std::string bucket = name_ + "_bucket", sum = name_ + "_sum", count = name_ + "_count";
  std::lock_guard lock(mu_);
  for (const auto& [values, s] : series_) {
    LabelValues v = values;
    v.push_back("");
    uint64_t cumulative = 0;
    for (size_t i = 0; i <= bounds_.size(); ++i) {
      cumulative += s.buckets[i];
      v.back() = i < bounds_.size() ? number(bounds_[i]) : "+Inf";
      out.sample(bucket, withLe, v, static_cast<double>(cumulative));
    }
    out.sample(sum, labels_, values, s.sum);
    out.sample(count, labels_, values, static_cast<double>(s.count));
  }
}

std::vector<double> latencyBuckets() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

CounterFamily& Registry::counter(const std::string& name, const std::string& help,
                                 std::vector<std::string> labelNames) {
  std::lock_guard lock(mu_);
  auto& f = counters_[name];
  if (!f) f = std::make_unique<CounterFamily>(name, help, std::move(labelNames));
  return *f;
}

HistogramFamily& Registry::histogram(const std::string& name, const std::string& help,
                                     std::vector<std::string> labelNames, std::vector<double> bounds) {
  std::lock_guard lock(mu_);
  auto& f = histograms_[name];
  if (!f) f = std::make_unique<HistogramFamily>(name, help, std::move(labelNames), std::move(bounds));
  return *f;
}

void Registry::addCollector(const std::string& key, Collector c) {
  std::lock_guard lock(mu_);
  collectors_[key] = std::move(c);
}

void Registry::removeCollector(const std::string& key) {
  std::lock_guard lock(mu_);
  collectors_.erase(key);
}

std::string Registry::render() const {
  // Families are never removed, so their pointers outlive the lock; collectors
  // run unlocked (one may count into this registry).
  std::map<std::string, std::function<void(Exposition&)>> families;
  std::vector<Collector> collectors;
  {
    std::lock_guard lock(mu_);
    for (const auto& [name, f] : counters_) families[name] = [p = f.get()](Exposition& e) { p->write(e); };
    for (const auto& [name, f] : histograms_) families[name] = [p = f.get()](Exposition& e) { p->write(e); };
    for (const auto& [key, c] : collectors_) collectors.push_back(c);
  }
  Exposition out;
  for (const auto& [name, write] : families) write(out);
  for (const auto& c : collectors) c(out);
  return out.text();
}

Registry& processRegistry() {
  static Registry* r = new Registry();  // never destroyed: threads may count during exit
  return *r;
}

}  // namespace lp::metrics::prom
