// CloudWatch (SigV4 service "monitoring"), the part that reads the PrivateLink
// metrics: ListMetrics, GetMetricStatistics and GetMetricData (metric stat
// queries; math expressions answer a clear error). Query protocol, as the Debian
// AWS CLI v2 (2.9) and boto3 (1.26) send it. The figures come from the data
// plane's counters through metrics::SeriesStore; an account sees its endpoints'
// (AWS/PrivateLinkEndpoints) and its services' (AWS/PrivateLinkServices) only.
// The same handlers answer awsJson1_0 and Smithy RPC v2 CBOR (what botocore 1.3x+
// and the JS SDK v3 send): they return a Doc that each protocol writes
// (api/document.h, api/document_protocols.h).
#include <fmt/format.h>

#include <algorithm>
#include <regex>
#include <set>

#include "api/handlers.h"
#include "metrics/series_store.h"

namespace lp::api {

namespace {

using std::chrono::seconds;

constexpr std::array<std::string_view, 5> kStatistics{"SampleCount", "Average", "Sum", "Minimum", "Maximum"};

Status invalid(std::string message) { return Status("InvalidParameterValue", std::move(message)); }
Status missing(std::string_view name) {
  return Status("MissingParameter", fmt::format("The parameter {} is required.", name));
}

Result<WallTime> timeParam(const Params& p, std::string_view name) {
  const std::string* v = p.find(name);
  if (!v || v->empty()) return missing(name);
  auto t = parseIso8601(*v);
  if (!t) return invalid(fmt::format("The parameter {} must be an ISO 8601 timestamp, not '{}'.", name, *v));
  return *t;
}

Result<metrics::Dimensions> dimensionsParam(const Params& p, std::string_view prefix) {
  metrics::Dimensions dims;
  std::set<std::string> names;
  for (const Params& d : p.memberStructList(prefix)) {
    std::string name = d.get("Name"), value = d.get("Value");
    if (name.empty()) return missing(fmt::format("{}.member.N.Name", prefix));
    if (value.empty()) return missing(fmt::format("{}.member.N.Value", prefix));
    if (!names.insert(name).second)
      return invalid(fmt::format("The collection {} must not have duplicate dimension names.", prefix));
    dims.emplace_back(std::move(name), std::move(value));
  }
  if (dims.size() > 30) return invalid("The collection Dimensions must not have more than 30 members.");
  std::sort(dims.begin(), dims.end());
  return dims;
}

Result<metrics::MetricId> metricParam(const Params& p) {
  metrics::MetricId m;
  m.ns = p.get("Namespace");
  m.name = p.get("MetricName");
  if (m.ns.empty()) return missing("Namespace");
  if (m.name.empty()) return missing("MetricName");
  LP_ASSIGN_OR_RETURN(m.dimensions, dimensionsParam(p, "Dimensions"));
  return m;
}

Result<seconds> periodParam(const Params& p, std::string_view name) {
  auto period = p.getInt(name);
  if (!period.ok()) return period.status();
  if (!period->has_value()) return missing(name);
  if (**period < 1) return invalid(fmt::format("The parameter {} must be greater than 0.", name));
  if (**period % 60 != 0) return invalid(fmt::format("The parameter {} must be a multiple of 60.", name));
  return seconds(**period);
}

// The figures asked for one statistic of datapoint d.
double statOf(const metrics::Datapoint& d, std::string_view stat) {
  if (stat == "SampleCount") return d.sampleCount;
  if (stat == "Average") return d.average();
  if (stat == "Sum") return d.sum;
  if (stat == "Minimum") return d.minimum;
  return d.maximum;
}

Doc dimensionsDoc(const metrics::Dimensions& dims) {
  Doc list = Doc::list();
  for (const auto& [n, v] : dims) {
    Doc& m = list.push(Doc::map());
    m.add("Name", n);
    m.add("Value", v);
  }
  return list;
}

const metrics::SeriesStore& seriesOf(const metrics::SeriesStore* m) {
  // Control plane only: no data plane, no figures.
  static const SystemClock kClock;
  static const metrics::SeriesStore empty(kClock, {});
  return m ? *m : empty;
}

Result<Doc> listMetrics(const metrics::SeriesStore* series, const control::CallContext& call, const Params& p) {
  metrics::MetricFilter f;
  f.ns = p.get("Namespace");
  f.name = p.get("MetricName");
  for (const Params& d : p.memberStructList("Dimensions")) {
    std::string name = d.get("Name");
    if (name.empty()) return missing("Dimensions.member.N.Name");
    f.dimensions.emplace_back(name, d.has("Value") ? std::optional(d.get("Value")) : std::nullopt);
  }
  // 500 metrics a page, as CloudWatch; the token is the index of the next one.
  constexpr size_t kPage = 500;
  size_t from = 0;
  if (const std::string* t = p.find("NextToken"); t && !t->empty()) {
    if (t->find_first_not_of("0123456789") != std::string::npos || t->size() > 9)
      return Status("InvalidNextToken", "The service couldn't process the NextToken.");
    from = std::stoul(*t);
  }
  auto found = seriesOf(series).list(call.account, f);
  if (from > found.size()) return Status("InvalidNextToken", "The service couldn't process the NextToken.");
  size_t to = std::min(found.size(), from + kPage);
  Doc out = Doc::map();
  Doc& metrics = out.add("Metrics", Doc::list());
  for (size_t i = from; i < to; ++i) {
    Doc& m = metrics.push(Doc::map());
    m.add("Namespace", found[i].ns);
    m.add("MetricName", found[i].name);
    m.add("Dimensions", dimensionsDoc(found[i].dimensions));
  }
  if (to < found.size()) out.add("NextToken", std::to_string(to));
  return out;
}

Result<Doc> getMetricStatistics(const metrics::SeriesStore* series, const control::CallContext& call,
                                const Params& p) {
  LP_ASSIGN_OR_RETURN(auto metric, metricParam(p));
  LP_ASSIGN_OR_RETURN(WallTime start, timeParam(p, "StartTime"));
  LP_ASSIGN_OR_RETURN(WallTime end, timeParam(p, "EndTime"));
  LP_ASSIGN_OR_RETURN(seconds period, periodParam(p, "Period"));
  std::vector<std::string> stats = p.memberList("Statistics");
  if (!p.memberList("ExtendedStatistics").empty())
    return invalid("ExtendedStatistics (percentiles) are not kept by linkplane; ask for Statistics.");
  if (stats.empty())
    return Status("InvalidParameterCombination", "Must specify either Statistics or ExtendedStatistics.");
  if (stats.size() > 5) return invalid("The collection Statistics must not have more than 5 members.");
  for (const auto& s : stats)
    if (std::find(kStatistics.begin(), kStatistics.end(), s) == kStatistics.end())
      return invalid(fmt::format("The value {} for parameter Statistics.member is not valid; valid values are "
                                 "SampleCount, Average, Sum, Minimum, Maximum.",
                                 s));
  LP_ASSIGN_OR_RETURN(auto points, seriesOf(series).statistics(call.account, metric, start, end, period));
  std::string unit(metrics::unitOf(metric.ns, metric.name));
  // A Unit that is not the metric's selects no data, as in CloudWatch.
  if (const std::string* u = p.find("Unit"); u && !u->empty() && *u != unit) points.clear();
  Doc out = Doc::map();
  out.add("Label", metric.name);
  Doc& dps = out.add("Datapoints", Doc::list());
  for (const auto& d : points) {
    Doc& m = dps.push(Doc::map());
    m.add("Timestamp", Doc::time(d.timestamp));
    // The model's member order (Datapoint xmlOrder), whatever order they were asked in.
    for (std::string_view s : kStatistics)
      if (std::find(stats.begin(), stats.end(), s) != stats.end()) m.add(std::string(s), statOf(d, s));
    m.add("Unit", unit.empty() ? "None" : unit);
  }
  return out;
}

Result<Doc> getMetricData(const metrics::SeriesStore* series, const control::CallContext& call, const Params& p) {
  LP_ASSIGN_OR_RETURN(WallTime start, timeParam(p, "StartTime"));
  LP_ASSIGN_OR_RETURN(WallTime end, timeParam(p, "EndTime"));
  std::string scanBy = p.get("ScanBy");
  if (!scanBy.empty() && scanBy != "TimestampDescending" && scanBy != "TimestampAscending")
    return invalid("The parameter ScanBy must be TimestampDescending or TimestampAscending.");
  auto queries = p.memberStructList("MetricDataQueries");
  if (queries.empty()) return missing("MetricDataQueries");
  if (queries.size() > 500) return invalid("The collection MetricDataQueries must not have more than 500 members.");

  struct Answer {
    std::string id, label;
    std::vector<std::pair<WallTime, double>> values;
  };
  static const std::regex kIdPattern("[a-z][a-zA-Z0-9_]{0,254}");
  std::vector<Answer> answers;
  std::set<std::string> ids;
  for (const Params& q : queries) {
    std::string id = q.get("Id");
    if (id.empty()) return missing("MetricDataQueries.member.N.Id");
    if (!std::regex_match(id, kIdPattern))
      return invalid(fmt::format("The value {} for parameter MetricDataQueries.member.Id is not valid: it must "
                                 "start with a lowercase letter and hold only letters, digits and _.",
                                 id));
    if (!ids.insert(id).second)
      return invalid(fmt::format("The values for parameter id in MetricDataQueries are not unique ({}).", id));
    if (q.has("Expression"))
      return invalid("Metric math expressions are not supported by linkplane; use MetricStat queries.");
    Params ms = q.sub("MetricStat");
    if (ms.all().empty())
      return missing("MetricDataQueries.member.N.MetricStat");
    LP_ASSIGN_OR_RETURN(auto metric, metricParam(ms.sub("Metric")));
    LP_ASSIGN_OR_RETURN(seconds period, periodParam(ms, "Period"));
    std::string stat = ms.get("Stat");
    if (stat.empty()) return missing("MetricDataQueries.member.N.MetricStat.Stat");
    if (std::find(kStatistics.begin(), kStatistics.end(), stat) == kStatistics.end())
      return invalid(fmt::format("The statistic {} is not one linkplane keeps: SampleCount, Average, Sum, Minimum, "
                                 "Maximum.",
                                 stat));
    // Data points past 1,440 per query are CloudWatch's NextToken business; a
    // range that long is refused here instead (statistics() says so).
    LP_ASSIGN_OR_RETURN(auto points, seriesOf(series).statistics(call.account, metric, start, end, period));
    std::string unit(metrics::unitOf(metric.ns, metric.name));
    if (std::string u = ms.get("Unit"); !u.empty() && u != unit) points.clear();
    auto ret = q.getBool("ReturnData");
    if (!ret.ok()) return ret.status();
    if (!ret->value_or(true)) continue;
    Answer a{id, q.has("Label") ? q.get("Label") : metric.name, {}};
    for (const auto& d : points) a.values.emplace_back(d.timestamp, statOf(d, stat));
    if (scanBy != "TimestampAscending") std::reverse(a.values.begin(), a.values.end());
    answers.push_back(std::move(a));
  }
  Doc out = Doc::map();
  Doc& results = out.add("MetricDataResults", Doc::list());
  for (const Answer& a : answers) {
    Doc& m = results.push(Doc::map());
    m.add("Id", a.id);
    m.add("Label", a.label);
    Doc& ts = m.add("Timestamps", Doc::list());
    for (const auto& [t, v] : a.values) ts.push(Doc::time(t));
    Doc& vs = m.add("Values", Doc::list());
    for (const auto& [t, v] : a.values) vs.push(v);
    m.add("StatusCode", "Complete");
  }
  out.add("Messages", Doc::list());
  return out;
}

}  // namespace

void registerCloudWatchHandlers(Router& r, const metrics::SeriesStore* series) {
  r.addDocument("monitoring", "ListMetrics",
                [series](const control::CallContext& c, const Params& p) { return listMetrics(series, c, p); });
  r.addDocument("monitoring", "GetMetricStatistics", [series](const control::CallContext& c, const Params& p) {
    return getMetricStatistics(series, c, p);
  });
  r.addDocument("monitoring", "GetMetricData",
                [series](const control::CallContext& c, const Params& p) { return getMetricData(series, c, p); });
}

}  // namespace lp::api
