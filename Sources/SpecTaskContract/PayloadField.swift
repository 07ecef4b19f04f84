import SpecTaskDomain

/// One member of a command's `data`: its JSON type, its limits and whether it must be present.
///
/// ``CommandDecoder`` enforces these; `topics/schemas/spectask.command.<name>.schema.json` states the same
/// in JSON Schema, generated from them (``InputSchemas``). The limits protect the store: nothing longer than a
/// column should hold reaches a transaction.
public struct PayloadField: Sendable, Hashable {
    /// The JSON type of a member and its limits.
    public indirect enum Kind: Sendable, Hashable {
        /// A string whose length in Unicode scalars lies in the range.
        case string(ClosedRange<Int>)
        /// A number without a fractional part, within the range.
        case integer(ClosedRange<Int>)
        case boolean
        /// A string that is one of these values (the raw values of a status enum).
        case oneOf([String])
        /// An array of at most `maxCount` items, each a value of `item` (strings or integers with their limits).
        case array(of: Kind, maxCount: Int)
        /// Any JSON value: free-form configuration handed on to Zed.
        case anyJSON
        /// An array of at most `maxCount` objects, each with exactly these members (checked like `data` itself).
        case objects([PayloadField], maxCount: Int)

        /// Ids of spec tasks, work sessions, threads and instances.
        public static let identifier = Kind.string(1...128)
        /// Names of things and people.
        public static let name = Kind.string(1...500)
        /// Specs, plans, descriptions, prompts, comments and reasons.
        public static let text = Kind.string(0...200_000)
        /// File system paths.
        public static let path = Kind.string(1...4096)
    }

    /// The member name in `data`.
    public var name: String
    public var kind: Kind
    /// Whether the member must be present (and not null). Optional members may be absent or null.
    public var isRequired: Bool

    /// A member that must be present.
    public static func required(_ name: String, _ kind: Kind) -> PayloadField {
        PayloadField(name: name, kind: kind, isRequired: true)
    }

    /// A member that may be absent or null.
    public static func optional(_ name: String, _ kind: Kind) -> PayloadField {
        PayloadField(name: name, kind: kind, isRequired: false)
    }

    /// Checks a present value against the member's kind.
    ///
    /// - Parameters:
    ///   - value: The value in the message (null included: it is wrong for every kind but ``Kind/anyJSON``).
    ///   - path: Where the value sits, for the message, e.g. "data.name".
    /// - Returns: `nil` when the value fits, otherwise what is wrong, as a sentence naming the path.
    func problem(with value: JSONValue, at path: String) -> String? {
        switch kind {
        case .string(let length):
            guard case .string(let text) = value else {
                return "\(path) must be a string, got \(MessageText.typeName(of: value))"
            }
            return Self.lengthProblem(text, length, at: path)
        case .integer(let range):
            guard case .number(let number) = value else {
                return "\(path) must be an integer, got \(MessageText.typeName(of: value))"
            }
            guard number.rounded(.towardZero) == number else {
                return "\(path) must be an integer, got number \(number)"
            }
            guard number >= Double(range.lowerBound), number <= Double(range.upperBound) else {
                let shown = abs(number) < 1e15 ? String(Int64(number)) : "\(number)"
                return "\(path) must be between \(range.lowerBound) and \(range.upperBound), got \(shown)"
            }
            return nil
        case .boolean:
            guard case .bool = value else {
                return "\(path) must be a boolean (true or false), got \(MessageText.typeName(of: value))"
            }
            return nil
        case .oneOf(let allowed):
            guard case .string(let text) = value, allowed.contains(text) else {
                let got: String =
                    if case .string(let text) = value { MessageText.quoted(text) } else {
                        MessageText.typeName(of: value)
                    }
                return "\(path) must be one of \(allowed.joined(separator: ", ")); got \(got)"
            }
            return nil
        case .array(let item, let maxCount):
            guard case .array(let items) = value else {
                return "\(path) must be an array of \(item.pluralName), got \(MessageText.typeName(of: value))"
            }
            guard items.count <= maxCount else {
                return "\(path) must have at most \(maxCount) items, got \(items.count)"
            }
            for (index, element) in items.enumerated() {
                if let problem = PayloadField(name: name, kind: item, isRequired: true)
                    .problem(with: element, at: "\(path)[\(index)]")
                {
                    return problem
                }
            }
            return nil
        case .anyJSON:
            return nil
        case .objects(let fields, let maxCount):
            guard case .array(let items) = value else {
                return "\(path) must be an array of objects, got \(MessageText.typeName(of: value))"
            }
            guard items.count <= maxCount else {
                return "\(path) must have at most \(maxCount) items, got \(items.count)"
            }
            for (index, item) in items.enumerated() {
                if let problem = Self.objectProblem(item, fields: fields, at: "\(path)[\(index)]") { return problem }
            }
            return nil
        }
    }

    /// What is wrong with an object that must have exactly `fields` as members, or `nil`.
    static func objectProblem(_ value: JSONValue, fields: [PayloadField], at path: String) -> String? {
        guard case .object(let members) = value else {
            return "\(path) must be an object, got \(MessageText.typeName(of: value))"
        }
        let known = Set(fields.map(\.name))
        if let unknown = members.keys.filter({ !known.contains($0) }).sorted().first {
            return "\(path) has unknown member \(MessageText.quoted(unknown)); it accepts "
                + fields.map(\.name).joined(separator: ", ")
        }
        for field in fields {
            let memberPath = MessageText.path(path, member: field.name)
            switch members[field.name] {
            case .none:
                if field.isRequired { return "\(memberPath) is missing" }
            case .null where !field.isRequired:
                continue
            case .some(let member):
                if let problem = field.problem(with: member, at: memberPath) { return problem }
            }
        }
        return nil
    }

    private static func lengthProblem(_ text: String, _ length: ClosedRange<Int>, at path: String) -> String? {
        let count = text.unicodeScalars.count
        if length.contains(count) { return nil }
        if count == 0 { return "\(path) must not be empty" }
        if count < length.lowerBound {
            return "\(path) must be at least \(length.lowerBound) characters long, got \(count)"
        }
        return "\(path) must be at most \(length.upperBound) characters long, got \(count)"
    }
}

extension PayloadField.Kind {
    /// What an array of this kind holds, for messages: "must be an array of strings".
    var pluralName: String {
        switch self {
        case .string, .oneOf: "strings"
        case .integer: "integers"
        case .boolean: "booleans"
        case .array, .objects: "arrays"
        case .anyJSON: "values"
        }
    }
}
