// Test support: one sample of the process's Prometheus registry (Metrics()),
// read the way a scrape would. Not thread-safe with concurrent registration.
#pragma once

#include <map>
#include <string>

#include <prometheus/metric_family.h>

#include "common/backends/metrics.h"

namespace scout::testing {

// The counter or gauge value (histogram: its sample count) of the series
// `name` whose labels include all of `labels`; 0 if there is none.
inline double MetricValue(const std::string& name,
                          const std::map<std::string, std::string>& labels = {}) {
  for (const prometheus::MetricFamily& family : Metrics().Collect()) {
    if (family.name != name) continue;
    for (const prometheus::ClientMetric& metric : family.metric) {
      size_t matched = 0;
      for (const prometheus::ClientMetric::Label& label : metric.label) {
        const auto it = labels.find(label.name);
        if (it != labels.end() && it->second == label.value) ++matched;
      }
      if (matched != labels.size()) continue;
      switch (family.type) {
        case prometheus::MetricType::Counter:
          return metric.counter.value;
        case prometheus::MetricType::Gauge:
          return metric.gauge.value;
        case prometheus::MetricType::Histogram:
          return static_cast<double>(metric.histogram.sample_count);
        default:
          return 0;
      }
    }
  }
  return 0;
}

}  // namespace scout::testing
