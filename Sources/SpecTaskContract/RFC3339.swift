import SpecTaskDomain

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// RFC 3339 timestamps, the `time` of every message and every date inside `data`.
///
/// Written in UTC with microseconds ("2025-03-01T12:00:00.250000Z"), the precision PostgreSQL keeps, so a
/// date read back from the store and a date read back from a message are equal. Pure arithmetic rather than
/// a date formatter: the output never depends on a locale or a time zone database.
public enum RFC3339 {
    /// Formats a date as an RFC 3339 UTC timestamp with six fractional digits.
    ///
    /// - Parameter date: The date; dates outside the years 0000...9999 are clamped to that range.
    /// - Returns: E.g. "2025-03-01T12:00:00.250000Z".
    public static func string(from date: Date) -> String {
        let exact = (date.timeIntervalSince1970 * 1_000_000).rounded()
        // Clamped as integers: the bounds are not exact as `Double`s.
        let micros: Int64 =
            exact.isNaN
            ? 0 : exact <= Double(minMicros) ? minMicros : exact >= Double(maxMicros) ? maxMicros : Int64(exact)
        let (wholeSeconds, fraction) = floorDivision(micros, 1_000_000)
        let (days, secondOfDay) = floorDivision(wholeSeconds, 86_400)
        let (year, month, day) = civilDate(daysSinceEpoch: days)
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(secondOfDay / 3600, 2)):"
            + "\(pad(secondOfDay / 60 % 60, 2)):\(pad(secondOfDay % 60, 2)).\(pad(fraction, 6))Z"
    }

    /// Reads an RFC 3339 timestamp (`date-time` of RFC 3339 section 5.6), with any offset and any number of
    /// fractional digits (kept to the microsecond).
    ///
    /// - Parameter string: E.g. "2025-03-01T13:00:00+01:00" or "2025-03-01t12:00:00.25z".
    /// - Returns: The date, or `nil` when the text is not a valid timestamp.
    public static func date(from string: String) -> Date? {
        var reader = Reader(Array(string.utf8))
        guard let year = reader.digits(4), reader.take(UInt8(ascii: "-")),
            let month = reader.digits(2), reader.take(UInt8(ascii: "-")),
            let day = reader.digits(2), reader.take(UInt8(ascii: "T")) || reader.take(UInt8(ascii: "t")),
            let hour = reader.digits(2), reader.take(UInt8(ascii: ":")),
            let minute = reader.digits(2), reader.take(UInt8(ascii: ":")),
            let second = reader.digits(2)
        else { return nil }
        guard (1...12).contains(month), (1...daysInMonth(year: year, month: month)).contains(day),
            (0...23).contains(hour), (0...59).contains(minute), (0...60).contains(second)
        else { return nil }

        var fraction: Int64 = 0
        if reader.take(UInt8(ascii: ".")) {
            var count = 0
            while let digit = reader.digit() {
                if count < 6 { fraction = fraction * 10 + Int64(digit) }
                count += 1
            }
            guard count > 0 else { return nil }
            for _ in count..<max(count, 6) { fraction *= 10 }
        }

        var offsetSeconds: Int64 = 0
        if reader.take(UInt8(ascii: "Z")) || reader.take(UInt8(ascii: "z")) {
            offsetSeconds = 0
        } else {
            let sign: Int64
            if reader.take(UInt8(ascii: "+")) {
                sign = 1
            } else if reader.take(UInt8(ascii: "-")) {
                sign = -1
            } else {
                return nil
            }
            guard let offsetHour = reader.digits(2), reader.take(UInt8(ascii: ":")),
                let offsetMinute = reader.digits(2),
                (0...23).contains(offsetHour), (0...59).contains(offsetMinute)
            else { return nil }
            offsetSeconds = sign * (offsetHour * 3600 + offsetMinute * 60)
        }
        guard reader.isAtEnd else { return nil }

        let days = daysSinceEpoch(year: year, month: month, day: day)
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offsetSeconds
        // One division of an exact integer, so the date equals one built from the same decimal literal.
        return Date(timeIntervalSince1970: Double(seconds * 1_000_000 + fraction) / 1_000_000)
    }

    // MARK: - Calendar arithmetic (proleptic Gregorian, after Howard Hinnant's civil-date algorithms)

    private static let minMicros: Int64 = daysSinceEpoch(year: 0, month: 1, day: 1) * 86_400_000_000
    private static let maxMicros: Int64 = daysSinceEpoch(year: 10_000, month: 1, day: 1) * 86_400_000_000 - 1

    private static func daysSinceEpoch(year: Int64, month: Int64, day: Int64) -> Int64 {
        let shiftedYear = month <= 2 ? year - 1 : year
        let era = (shiftedYear >= 0 ? shiftedYear : shiftedYear - 399) / 400
        let yearOfEra = shiftedYear - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    private static func civilDate(daysSinceEpoch days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    private static func daysInMonth(year: Int64, month: Int64) -> Int64 {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    private static func floorDivision(_ value: Int64, _ divisor: Int64) -> (quotient: Int64, remainder: Int64) {
        let quotient = value >= 0 ? value / divisor : (value - divisor + 1) / divisor
        return (quotient, value - quotient * divisor)
    }

    private static func pad(_ value: Int64, _ width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    /// Reads ASCII digits and punctuation from the front of a byte array.
    private struct Reader {
        private let bytes: [UInt8]
        private var position = 0

        init(_ bytes: [UInt8]) { self.bytes = bytes }

        var isAtEnd: Bool { position == bytes.count }

        mutating func take(_ byte: UInt8) -> Bool {
            guard position < bytes.count, bytes[position] == byte else { return false }
            position += 1
            return true
        }

        mutating func digit() -> Int? {
            guard position < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[position]) else {
                return nil
            }
            defer { position += 1 }
            return Int(bytes[position] - UInt8(ascii: "0"))
        }

        mutating func digits(_ count: Int) -> Int64? {
            var value: Int64 = 0
            for _ in 0..<count {
                guard let digit = digit() else { return nil }
                value = value * 10 + Int64(digit)
            }
            return value
        }
    }
}
