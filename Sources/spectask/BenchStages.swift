import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The workers' stage histograms (`spectask_stage_duration_seconds` on `/metrics`), read before and after a
/// benchmark, so the report can say where the time of this run went.
struct BenchStages {
    /// One stage's histogram: cumulative bucket counts by upper bound, the sum and the count.
    struct Histogram {
        var buckets: [Double: Double] = [:]
        var sum = 0.0
        var count = 0.0

        /// `self - earlier`: what was recorded in between.
        func minus(_ earlier: Histogram?) -> Histogram {
            guard let earlier else { return self }
            var result = Histogram(sum: sum - earlier.sum, count: count - earlier.count)
            for (bound, value) in buckets { result.buckets[bound] = value - (earlier.buckets[bound] ?? 0) }
            return result
        }

        /// The smallest bucket bound under which at least `fraction` of the observations fall.
        func quantile(_ fraction: Double) -> Double? {
            guard count > 0 else { return nil }
            return buckets.keys.sorted().first { buckets[$0]! >= fraction * count }
        }
    }

    /// Per stage, summed over every worker.
    var stages: [String: Histogram] = [:]

    /// Reads every URL's metrics; workers that do not answer are left out (and named in `unreachable`).
    static func scrape(_ urls: [URL]) async -> (stages: BenchStages, unreachable: [URL]) {
        var total = BenchStages()
        var unreachable: [URL] = []
        for url in urls {
            guard let (data, response) = try? await URLSession.shared.data(from: url),
                (response as? HTTPURLResponse)?.statusCode == 200
            else {
                unreachable.append(url)
                continue
            }
            total.add(parse(String(decoding: data, as: UTF8.self)))
        }
        return (total, unreachable)
    }

    /// Parses the lines of `spectask_stage_duration_seconds` from the Prometheus text format.
    static func parse(_ text: String) -> BenchStages {
        var result = BenchStages()
        let name = "spectask_stage_duration_seconds"
        for line in text.split(separator: "\n") where line.hasPrefix(name) {
            let parts = line.split(separator: " ")
            guard parts.count >= 2, let value = Double(parts[parts.count - 1]),
                let stage = label("stage", in: line)
            else { continue }
            var histogram = result.stages[stage] ?? Histogram()
            if line.hasPrefix(name + "_bucket") {
                guard let bound = label("le", in: line).flatMap({ $0 == "+Inf" ? Double.infinity : Double($0) })
                else { continue }
                histogram.buckets[bound] = value
            } else if line.hasPrefix(name + "_sum") {
                histogram.sum = value
            } else if line.hasPrefix(name + "_count") {
                histogram.count = value
            }
            result.stages[stage] = histogram
        }
        return result
    }

    private static func label(_ name: String, in line: Substring) -> String? {
        guard let start = line.range(of: "\(name)=\"") else { return nil }
        let rest = line[start.upperBound...]
        guard let end = rest.firstIndex(of: "\"") else { return nil }
        return String(rest[..<end])
    }

    private mutating func add(_ other: BenchStages) {
        for (stage, histogram) in other.stages {
            var total = stages[stage] ?? Histogram()
            total.sum += histogram.sum
            total.count += histogram.count
            for (bound, value) in histogram.buckets { total.buckets[bound, default: 0] += value }
            stages[stage] = total
        }
    }

    /// What was recorded between `earlier` and `self`.
    func since(_ earlier: BenchStages) -> BenchStages {
        BenchStages(
            stages: stages.mapValues { $0 }.reduce(into: [:]) { $0[$1.key] = $1.value.minus(earlier.stages[$1.key]) }
        )
    }

    /// The table for the report, stages in the order a batch goes through them.
    func table(order: [String]) -> String {
        func milliseconds(_ seconds: Double?) -> String {
            guard let seconds else { return "-" }
            return seconds.isInfinite ? "> 30 s" : String(format: "%.2f ms", seconds * 1000)
        }
        var lines = ["stage            count     mean      p50 ≤     p99 ≤"]
        for stage in order {
            guard let histogram = stages[stage], histogram.count > 0 else { continue }
            lines.append(
                stage.padding(toLength: 15, withPad: " ", startingAt: 0)
                    + String(format: "%7.0f", histogram.count)
                    + milliseconds(histogram.sum / histogram.count).leftPadded(10)
                    + milliseconds(histogram.quantile(0.5)).leftPadded(10)
                    + milliseconds(histogram.quantile(0.99)).leftPadded(10)
            )
        }
        return lines.joined(separator: "\n")
    }
}

extension String {
    fileprivate func leftPadded(_ width: Int) -> String {
        count >= width ? " " + self : String(repeating: " ", count: width - count) + self
    }
}
