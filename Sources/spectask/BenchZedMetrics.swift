import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The counters the Zed-event benchmark measures with, from the workers' `/metrics`.
///
/// Zed events carry no outcome on `spectask.status`, so the only place that says a worker is done with one is its
/// counters: each event is counted once in `spectask_inputs_total` of the zed.events topic (applied, rejected or
/// duplicate), or, when a later heartbeat of its instance superseded it in the same batch, once in
/// `spectask_heartbeats_coalesced_total`.
struct BenchZedCounters: Equatable, Sendable {
    /// `spectask_inputs_total{topic="<prefix>zed.events"}` by outcome.
    var zedInputs: [String: Double] = [:]
    /// `spectask_heartbeats_coalesced_total`.
    var coalescedHeartbeats = 0.0
    /// `spectask_inputs_rejected_total` by code (every input topic: the workers do not split it by topic).
    var rejectedByCode: [String: Double] = [:]
    /// `spectask_consumer_lag` of the zed.events partitions: messages not read yet (a gauge, not a counter).
    var zedEventsLag = 0.0

    /// Zed events the workers are done with: applied, rejected, duplicate, or coalesced into a later heartbeat.
    var handled: Double { zedInputs.values.reduce(0, +) + coalescedHeartbeats }

    /// The rejections with a count, most frequent first.
    var rejections: [(code: String, count: Int)] {
        rejectedByCode.compactMap { code, count in count > 0 ? (code, Int(count)) : nil }
            .sorted { $0.count != $1.count ? $0.count > $1.count : $0.code < $1.code }
    }

    /// Reads the counters from the Prometheus text format.
    static func parse(_ text: String, zedEventsTopic: String) -> BenchZedCounters {
        var counters = BenchZedCounters()
        for line in text.split(separator: "\n") {
            guard !line.hasPrefix("#"), let sample = PrometheusSample(line) else { continue }
            switch sample.name {
            case "spectask_inputs_total" where sample.labels["topic"] == zedEventsTopic:
                counters.zedInputs[sample.labels["outcome"] ?? "", default: 0] += sample.value
            case "spectask_heartbeats_coalesced_total":
                counters.coalescedHeartbeats += sample.value
            case "spectask_inputs_rejected_total":
                counters.rejectedByCode[sample.labels["code"] ?? "?", default: 0] += sample.value
            case "spectask_consumer_lag" where sample.labels["topic"] == zedEventsTopic:
                counters.zedEventsLag += sample.value
            default:
                break
            }
        }
        return counters
    }

    static func + (left: BenchZedCounters, right: BenchZedCounters) -> BenchZedCounters {
        BenchZedCounters(
            zedInputs: left.zedInputs.merging(right.zedInputs, uniquingKeysWith: +),
            coalescedHeartbeats: left.coalescedHeartbeats + right.coalescedHeartbeats,
            rejectedByCode: left.rejectedByCode.merging(right.rejectedByCode, uniquingKeysWith: +),
            zedEventsLag: left.zedEventsLag + right.zedEventsLag
        )
    }

    /// What was counted between `earlier` and `self` (the lag is `self`'s: a gauge).
    func minus(_ earlier: BenchZedCounters) -> BenchZedCounters {
        BenchZedCounters(
            zedInputs: zedInputs.merging(earlier.zedInputs.mapValues { -$0 }, uniquingKeysWith: +),
            coalescedHeartbeats: coalescedHeartbeats - earlier.coalescedHeartbeats,
            rejectedByCode: rejectedByCode.merging(earlier.rejectedByCode.mapValues { -$0 }, uniquingKeysWith: +),
            zedEventsLag: zedEventsLag
        )
    }
}

/// One sample line of the Prometheus text format: `name{label="value",…} value [timestamp]`.
struct PrometheusSample {
    var name: Substring
    var labels: [String: String] = [:]
    var value: Double

    init?(_ line: Substring) {
        let nameEnd = line.firstIndex { $0 == "{" || $0 == " " } ?? line.endIndex
        name = line[..<nameEnd]
        var rest = line[nameEnd...]
        if rest.first == "{" {
            guard let close = rest.lastIndex(of: "}") else { return nil }
            var pairs = rest[rest.index(after: rest.startIndex)..<close]
            while let equals = pairs.firstIndex(of: "=") {
                let key = pairs[..<equals].trimmingCharacters(in: .whitespaces)
                pairs = pairs[pairs.index(after: equals)...]
                guard pairs.first == "\"" else { return nil }
                pairs = pairs.dropFirst()
                var value = ""
                var escaped = false
                while let character = pairs.first {
                    pairs = pairs.dropFirst()
                    if escaped {
                        value.append(character == "n" ? "\n" : character)
                        escaped = false
                    } else if character == "\\" {
                        escaped = true
                    } else if character == "\"" {
                        break
                    } else {
                        value.append(character)
                    }
                }
                labels[key] = value
                pairs = pairs.drop { $0 == "," || $0 == " " }
            }
            rest = rest[rest.index(after: close)...]
        }
        guard let text = rest.split(separator: " ").first, let value = Double(text) else { return nil }
        self.value = value
    }
}

/// Reads the counters of every worker, all at once, with a short timeout: the benchmark polls every 200 ms.
struct BenchZedMetrics {
    let urls: [URL]
    let zedEventsTopic: String
    /// Each worker's last answer; one that does not answer a poll keeps its previous reading.
    private(set) var latest: [URL: BenchZedCounters] = [:]

    init(urls: [URL], zedEventsTopic: String) {
        self.urls = urls
        self.zedEventsTopic = zedEventsTopic
    }

    /// The workers that never answered.
    var unreachable: [URL] { urls.filter { latest[$0] == nil } }

    /// Reads every worker and returns the latest reading of each that ever answered.
    mutating func read() async -> [URL: BenchZedCounters] {
        let topic = zedEventsTopic
        let answers = await withTaskGroup(of: (URL, BenchZedCounters?).self) { group in
            for url in urls {
                group.addTask {
                    var request = URLRequest(url: url, timeoutInterval: 2)
                    request.httpMethod = "GET"
                    guard let (data, response) = try? await URLSession.shared.data(for: request),
                        (response as? HTTPURLResponse)?.statusCode == 200
                    else { return (url, nil) }
                    return (url, BenchZedCounters.parse(String(decoding: data, as: UTF8.self), zedEventsTopic: topic))
                }
            }
            var answers: [(URL, BenchZedCounters?)] = []
            for await answer in group { answers.append(answer) }
            return answers
        }
        for case (let url, let counters?) in answers { latest[url] = counters }
        return latest
    }

    /// What the workers counted between two readings, summed; a worker missing from `earlier` (it did not answer
    /// then) is left out, since its counters can not be split into before and after.
    static func delta(_ now: [URL: BenchZedCounters], since earlier: [URL: BenchZedCounters]) -> BenchZedCounters {
        now.reduce(into: BenchZedCounters()) { total, reading in
            guard let before = earlier[reading.key] else { return }
            total = total + reading.value.minus(before)
        }
    }
}
