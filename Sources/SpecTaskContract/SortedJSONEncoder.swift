import SpecTaskDomain

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Encodes `Encodable` values to JSON bytes with sorted keys, byte for byte as Foundation's `JSONEncoder` with
/// `.sortedKeys` does, with less work.
///
/// Why: encoding the outputs (status events, progress snapshots, Zed commands) and the stored documents through
/// `JSONEncoder` led a saturated worker's CPU profile (`perf record`, release build); with this encoder the workers
/// of a saturated run used a quarter less CPU for the same commands. `JSONEncoder` first builds a
/// tree of boxed values, casting every value dynamically to find dates, data and URLs; this encoder writes bytes
/// straight into one buffer and sorts each object's members when the object is complete.
///
/// How: every value's `encode(to:)` runs on a frame of its own; its members are written one after the other, and
/// when `encode(to:)` returns the frame is closed: an object's members are then put in key order (the last of a
/// repeated key wins, as in `JSONEncoder`). Nested containers (`nestedContainer(keyedBy:forKey:)` and the like)
/// are not supported: nothing in this system's message or document types asks for one.
/// `SortedJSONEncoderTests` compares the output with `JSONEncoder`'s on every message and document type.
public struct SortedJSONEncoder: Sendable {
    /// How dates are written.
    public var dateString: @Sendable (Date) -> String
    /// Write `/` as is (`JSONEncoder`'s `.withoutEscapingSlashes`) rather than as `\/`.
    public var escapesSlashes: Bool
    /// What NaN, +∞ and -∞ are written as (JSON strings), or `nil` to refuse them with an `EncodingError`
    /// (`JSONEncoder`'s `.convertToString` and `.throw`).
    public var nonConformingFloats: (nan: String, positiveInfinity: String, negativeInfinity: String)?

    public init(
        dateString: @escaping @Sendable (Date) -> String,
        escapesSlashes: Bool,
        nonConformingFloats: (nan: String, positiveInfinity: String, negativeInfinity: String)?
    ) {
        self.dateString = dateString
        self.escapesSlashes = escapesSlashes
        self.nonConformingFloats = nonConformingFloats
    }

    public func encode(_ value: some Encodable) throws -> [UInt8] {
        let writer = JSONByteWriter(options: self)
        try writer.encodeValue(value, depth: 0)
        return writer.bytes
    }
}

/// The state of one encoding: the bytes so far and a stack of the values being written.
private final class JSONByteWriter {
    let options: SortedJSONEncoder
    // One encoding runs on one thread, from start to end: the run-time exclusivity checks of these two
    // properties, accessed for every byte run and every member, were a tenth of the encoding's time.
    @exclusivity(unchecked) var bytes: [UInt8] = []
    /// The values being written, outermost first; only the first `depth + 1` are in use (the rest keep their
    /// storage for the next values, so a frame costs no allocation once the stack was that deep).
    @exclusivity(unchecked) private(set) var frames: [Frame] = []
    private var open = 0

    struct Frame {
        enum Kind { case undecided, object, array, single }
        var kind = Kind.undecided
        /// Where this value's bytes begin.
        var start = 0
        /// An object's member keys so far, and where each member (`"key":value`, after its comma) begins.
        var keys: [String] = []
        var memberStarts: [Int] = []
        /// Whether the keys so far came in order, none repeated: then the object is complete as written.
        var inOrder = true
        /// An array's elements so far.
        var count = 0

        mutating func reset(start: Int) {
            kind = .undecided
            self.start = start
            keys.removeAll(keepingCapacity: true)
            memberStarts.removeAll(keepingCapacity: true)
            inOrder = true
            count = 0
        }
    }

    init(options: SortedJSONEncoder) {
        self.options = options
        bytes.reserveCapacity(512)
    }

    // MARK: Frames

    /// Writes `value` as the value at `depth` (the frame of the container that asked for it, plus one).
    func encodeValue<T: Encodable>(_ value: T, depth: Int) throws {
        if T.self == Date.self {
            writeString(options.dateString(value as! Date))
            return
        }
        if frames.count == open { frames.append(Frame()) }
        frames[open].reset(start: bytes.count)
        open += 1
        try value.encode(to: ValueEncoder(writer: self, depth: depth))
        close(above: depth - 1)
    }

    /// Closes every frame deeper than `depth`: what a container at `depth` writes comes after them.
    func close(above depth: Int) {
        while open - 1 > depth {
            open -= 1
            switch frames[open].kind {
            case .undecided: bytes += [UInt8(ascii: "{"), UInt8(ascii: "}")]  // as JSONEncoder: an empty object
            case .single: break
            case .array: bytes.append(UInt8(ascii: "]"))
            case .object:
                if !frames[open].inOrder { sortMembers(frames[open]) }
                bytes.append(UInt8(ascii: "}"))
            }
        }
    }

    /// Puts the members of the object `frame` (written as they came, after its `{`) in key order; of a repeated
    /// key the last one stays, as in `JSONEncoder`.
    private func sortMembers(_ frame: Frame) {
        let bodyStart = frame.start + 1
        let body = Array(bytes[bodyStart...])
        bytes.removeSubrange(bodyStart...)
        let count = frame.keys.count
        // Stable, so the last of a repeated key is the last of its run.
        let order = (0..<count).sorted { a, b in
            frame.keys[a] == frame.keys[b] ? a < b : Self.precedes(frame.keys[a], frame.keys[b])
        }
        var first = true
        for (position, member) in order.enumerated() {
            if position + 1 < count, frame.keys[order[position + 1]] == frame.keys[member] { continue }
            // A member's bytes run from its start to the next member's; all but the first begin with a comma.
            var from = frame.memberStarts[member] - bodyStart
            let to = member + 1 < count ? frame.memberStarts[member + 1] - bodyStart : body.count
            if member > 0 { from += 1 }
            if !first { bytes.append(UInt8(ascii: ",")) }
            first = false
            bytes += body[from..<to]
        }
    }

    /// `JSONEncoder`'s `.sortedKeys` order: by UTF-8 bytes.
    static func precedes(_ a: String, _ b: String) -> Bool {
        a.utf8.lexicographicallyPrecedes(b.utf8)
    }

    /// Makes the frame at `depth` the given kind (a container asked for twice is the same container).
    func begin(_ kind: Frame.Kind, at depth: Int) {
        close(above: depth)
        guard frames[depth].kind == .undecided else {
            precondition(frames[depth].kind == kind, "a value asked for two different kinds of container")
            return
        }
        frames[depth].kind = kind
        switch kind {
        case .array: bytes.append(UInt8(ascii: "["))
        case .object: bytes.append(UInt8(ascii: "{"))
        case .single, .undecided: break
        }
    }

    /// Writes `"key":` of the next member of the object at `depth`; its value is written next.
    func beginMember(_ codingKey: some CodingKey, at depth: Int) {
        close(above: depth)
        let key = codingKey.stringValue
        if let last = frames[depth].keys.last {
            if !Self.precedes(last, key) { frames[depth].inOrder = false }
            frames[depth].memberStarts.append(bytes.count)
            bytes.append(UInt8(ascii: ","))
        } else {
            frames[depth].memberStarts.append(bytes.count)
        }
        frames[depth].keys.append(key)
        writeString(key)
        bytes.append(UInt8(ascii: ":"))
    }

    /// Starts the next element of the array at `depth`.
    func beginElement(at depth: Int) {
        close(above: depth)
        if frames[depth].count > 0 { bytes.append(UInt8(ascii: ",")) }
        frames[depth].count += 1
    }

    // MARK: Scalars

    func writeNull() { bytes.append(contentsOf: "null".utf8) }

    func writeBool(_ value: Bool) { bytes.append(contentsOf: value ? "true".utf8 : "false".utf8) }

    func writeInteger(_ value: some BinaryInteger) { bytes.append(contentsOf: value.description.utf8) }

    func writeFloat<F: BinaryFloatingPoint & CustomStringConvertible>(_ value: F) throws {
        guard value.isFinite else {
            guard let strings = options.nonConformingFloats else {
                throw EncodingError.invalidValue(
                    value,
                    .init(codingPath: [], debugDescription: "\(value) is not a valid JSON number")
                )
            }
            writeString(value.isNaN ? strings.nan : value > 0 ? strings.positiveInfinity : strings.negativeInfinity)
            return
        }
        var text = value.description
        if text.hasSuffix(".0") { text.removeLast(2) }
        bytes.append(contentsOf: text.utf8)
    }

    func writeString(_ value: String) {
        var value = value
        let escapesSlashes = options.escapesSlashes
        // One pass over contiguous UTF-8: runs that need no escape are copied whole.
        value.withUTF8 { utf8 in
            bytes.append(UInt8(ascii: "\""))
            var run = 0
            for index in utf8.indices {
                let byte = utf8[index]
                let escape: [UInt8]
                switch byte {
                case UInt8(ascii: "\""): escape = [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
                case UInt8(ascii: "\\"): escape = [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
                case UInt8(ascii: "/") where escapesSlashes: escape = [UInt8(ascii: "\\"), UInt8(ascii: "/")]
                case 0x08: escape = [UInt8(ascii: "\\"), UInt8(ascii: "b")]
                case 0x0C: escape = [UInt8(ascii: "\\"), UInt8(ascii: "f")]
                case 0x0A: escape = [UInt8(ascii: "\\"), UInt8(ascii: "n")]
                case 0x0D: escape = [UInt8(ascii: "\\"), UInt8(ascii: "r")]
                case 0x09: escape = [UInt8(ascii: "\\"), UInt8(ascii: "t")]
                case 0x00..<0x20:
                    let hex = Array("0123456789abcdef".utf8)
                    escape = Array("\\u00".utf8) + [hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]]
                default: continue
                }
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[run..<index]))
                bytes.append(contentsOf: escape)
                run = index + 1
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[run...]))
            bytes.append(UInt8(ascii: "\""))
        }
    }
}

// MARK: - The Encoder and its containers

private struct ValueEncoder: Encoder {
    let writer: JSONByteWriter
    let depth: Int
    var codingPath: [any CodingKey] { [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        writer.begin(.object, at: depth)
        return KeyedEncodingContainer(ObjectContainer<Key>(writer: writer, depth: depth))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        writer.begin(.array, at: depth)
        return ArrayContainer(writer: writer, depth: depth)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        writer.begin(.single, at: depth)
        return SingleContainer(writer: writer, depth: depth)
    }
}

private func unsupported() -> Never {
    preconditionFailure("SortedJSONEncoder does not support nested containers or super encoders")
}

private struct ObjectContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let writer: JSONByteWriter
    let depth: Int
    var codingPath: [any CodingKey] { [] }

    mutating func encodeNil(forKey key: Key) throws {
        writer.beginMember(key, at: depth)
        writer.writeNull()
    }
    mutating func encode(_ value: Bool, forKey key: Key) throws {
        writer.beginMember(key, at: depth)
        writer.writeBool(value)
    }
    mutating func encode(_ value: String, forKey key: Key) throws {
        writer.beginMember(key, at: depth)
        writer.writeString(value)
    }
    mutating func encode(_ value: Double, forKey key: Key) throws {
        writer.beginMember(key, at: depth)
        try writer.writeFloat(value)
    }
    mutating func encode(_ value: Float, forKey key: Key) throws {
        writer.beginMember(key, at: depth)
        try writer.writeFloat(value)
    }
    mutating func encode(_ value: Int, forKey key: Key) throws { integer(value, key) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { integer(value, key) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { integer(value, key) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { integer(value, key) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { integer(value, key) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { integer(value, key) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { integer(value, key) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { integer(value, key) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { integer(value, key) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { integer(value, key) }

    private func integer(_ value: some BinaryInteger, _ key: Key) {
        writer.beginMember(key, at: depth)
        writer.writeInteger(value)
    }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        writer.beginMember(key, at: depth)
        try writer.encodeValue(value, depth: depth + 1)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy keyType: NestedKey.Type,
        forKey key: Key
    ) -> KeyedEncodingContainer<NestedKey> { unsupported() }
    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer { unsupported() }
    mutating func superEncoder() -> any Encoder { unsupported() }
    mutating func superEncoder(forKey key: Key) -> any Encoder { unsupported() }
}

private struct ArrayContainer: UnkeyedEncodingContainer {
    let writer: JSONByteWriter
    let depth: Int
    var codingPath: [any CodingKey] { [] }
    var count: Int { writer.frames[depth].count }

    mutating func encodeNil() throws {
        writer.beginElement(at: depth)
        writer.writeNull()
    }
    mutating func encode(_ value: Bool) throws {
        writer.beginElement(at: depth)
        writer.writeBool(value)
    }
    mutating func encode(_ value: String) throws {
        writer.beginElement(at: depth)
        writer.writeString(value)
    }
    mutating func encode(_ value: Double) throws {
        writer.beginElement(at: depth)
        try writer.writeFloat(value)
    }
    mutating func encode(_ value: Float) throws {
        writer.beginElement(at: depth)
        try writer.writeFloat(value)
    }
    mutating func encode(_ value: Int) throws { integer(value) }
    mutating func encode(_ value: Int8) throws { integer(value) }
    mutating func encode(_ value: Int16) throws { integer(value) }
    mutating func encode(_ value: Int32) throws { integer(value) }
    mutating func encode(_ value: Int64) throws { integer(value) }
    mutating func encode(_ value: UInt) throws { integer(value) }
    mutating func encode(_ value: UInt8) throws { integer(value) }
    mutating func encode(_ value: UInt16) throws { integer(value) }
    mutating func encode(_ value: UInt32) throws { integer(value) }
    mutating func encode(_ value: UInt64) throws { integer(value) }

    private func integer(_ value: some BinaryInteger) {
        writer.beginElement(at: depth)
        writer.writeInteger(value)
    }

    mutating func encode<T: Encodable>(_ value: T) throws {
        writer.beginElement(at: depth)
        try writer.encodeValue(value, depth: depth + 1)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy keyType: NestedKey.Type
    ) -> KeyedEncodingContainer<NestedKey> { unsupported() }
    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer { unsupported() }
    mutating func superEncoder() -> any Encoder { unsupported() }
}

private struct SingleContainer: SingleValueEncodingContainer {
    let writer: JSONByteWriter
    let depth: Int
    var codingPath: [any CodingKey] { [] }

    mutating func encodeNil() throws { writer.writeNull() }
    mutating func encode(_ value: Bool) throws { writer.writeBool(value) }
    mutating func encode(_ value: String) throws { writer.writeString(value) }
    mutating func encode(_ value: Double) throws { try writer.writeFloat(value) }
    mutating func encode(_ value: Float) throws { try writer.writeFloat(value) }
    mutating func encode(_ value: Int) throws { writer.writeInteger(value) }
    mutating func encode(_ value: Int8) throws { writer.writeInteger(value) }
    mutating func encode(_ value: Int16) throws { writer.writeInteger(value) }
    mutating func encode(_ value: Int32) throws { writer.writeInteger(value) }
    mutating func encode(_ value: Int64) throws { writer.writeInteger(value) }
    mutating func encode(_ value: UInt) throws { writer.writeInteger(value) }
    mutating func encode(_ value: UInt8) throws { writer.writeInteger(value) }
    mutating func encode(_ value: UInt16) throws { writer.writeInteger(value) }
    mutating func encode(_ value: UInt32) throws { writer.writeInteger(value) }
    mutating func encode(_ value: UInt64) throws { writer.writeInteger(value) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        // The value takes this frame's place: a struct encoding itself through a single value.
        try writer.encodeValue(value, depth: depth + 1)
    }
}
