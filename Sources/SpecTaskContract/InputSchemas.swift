import SpecTaskDomain

/// The JSON Schema of every input message type (`topics/schemas/spectask.command.*.schema.json` and
/// `zed.event.*.schema.json`), generated from the field tables ``CommandDecoder`` enforces, so each input's
/// contract is written once: its payload struct and its field table. `spectask topics schemas` writes them; a test
/// fails when the checked-in files are not what this generates. The envelope and the shared definitions are in
/// `common.schema.json`, which is written by hand.
public enum InputSchemas {
    /// Every input schema file: its name under `topics/schemas/` and its text.
    public static func files() -> [(fileName: String, text: String)] {
        (SpecTaskCommand.shapes + ZedEvent.shapes).map { shape in
            ("\(shape.type).schema.json", schema(of: shape).text)
        }
    }

    static func schema(of shape: CommandShape) -> OrderedJSON {
        let envelope = shape.type.hasPrefix(ZedEvent.typePrefix) ? "zedEventEnvelope" : "commandEnvelope"
        let required = shape.fields.filter(\.isRequired).map(\.name)
        var members: [OrderedJSON.Member] = [
            .init("$schema", .string("https://json-schema.org/draft/2020-12/schema")),
            .init("title", .string(shape.type)),
            .init("description", .string(InputSummaries.byType[shape.type] ?? shape.type)),
            .init("$ref", .string("common.schema.json#/$defs/\(envelope)")),
            .init(
                "properties",
                .object([
                    .init("type", .object([.init("const", .string(shape.type))])),
                    .init("data", objectSchema(shape.fields, nullable: required.isEmpty)),
                ])
            ),
        ]
        if !required.isEmpty { members.append(.init("required", .array([.string("data")]))) }
        return .object(members)
    }

    /// An object with exactly these members; `nullable`: `data` without required members may be null.
    private static func objectSchema(_ fields: [PayloadField], nullable: Bool) -> OrderedJSON {
        let required = fields.filter(\.isRequired).map(\.name)
        var members: [OrderedJSON.Member] = [
            .init("type", nullable ? .array([.string("object"), .string("null")]) : .string("object")),
            .init("additionalProperties", .boolean(false)),
        ]
        if !required.isEmpty { members.append(.init("required", .array(required.map { .string($0) }))) }
        members.append(
            .init(
                "properties",
                .object(
                    fields.map { field in
                        let schema = schema(of: field.kind)
                        return .init(
                            field.name,
                            field.isRequired ? schema : .object([.init("anyOf", .array([schema, nullSchema]))])
                        )
                    }
                )
            )
        )
        return .object(members)
    }

    private static let nullSchema = OrderedJSON.object([.init("type", .string("null"))])

    /// The schema of a member's kind: a shared definition of `common.schema.json` where there is one.
    static func schema(of kind: PayloadField.Kind) -> OrderedJSON {
        if let definition = sharedDefinition(of: kind) {
            return .object([.init("$ref", .string("common.schema.json#/$defs/\(definition)"))])
        }
        switch kind {
        case .string(let length):
            return .object([
                .init("type", .string("string")),
                .init("minLength", .integer(length.lowerBound)),
                .init("maxLength", .integer(length.upperBound)),
                .init("pattern", .string("^[^\\u0000]*$")),
            ])
        case .integer(let range):
            return .object([
                .init("type", .string("integer")),
                .init("minimum", .integer(range.lowerBound)),
                .init("maximum", .integer(range.upperBound)),
            ])
        case .boolean:
            return .object([.init("type", .string("boolean"))])
        case .oneOf(let values):
            return .object([.init("type", .string("string")), .init("enum", .array(values.map { .string($0) }))])
        case .array(let item, let maxCount):
            return .object([
                .init("type", .string("array")),
                .init("maxItems", .integer(maxCount)),
                .init("items", schema(of: item)),
            ])
        case .anyJSON:
            return .object([.init("description", .string("Any JSON."))])
        case .objects(let fields, let maxCount):
            return .object([
                .init("type", .string("array")),
                .init("maxItems", .integer(maxCount)),
                .init("items", objectSchema(fields, nullable: false)),
            ])
        }
    }

    /// The `common.schema.json` definition that says exactly what the kind enforces, if any.
    private static func sharedDefinition(of kind: PayloadField.Kind) -> String? {
        switch kind {
        case PayloadField.Kind.identifier: "identifier"
        case PayloadField.Kind.name: "name"
        case PayloadField.Kind.text: "text"
        case PayloadField.Kind.path: "path"
        case .oneOf(let values): sharedEnums[values]
        default: nil
        }
    }

    private static let sharedEnums: [[String]: String] = [
        SpecTaskStatus.allCases.map(\.rawValue): "specTaskStatus",
        WorkSessionStatus.allCases.map(\.rawValue): "workSessionStatus",
        ZedThreadStatus.allCases.map(\.rawValue): "zedThreadStatus",
        ImplementationTaskStatus.allCases.map(\.rawValue): "implementationTaskStatus",
        ZedInstanceStatus.allCases.map(\.rawValue): "zedInstanceStatus",
        CoordinationKind.allCases.map(\.rawValue): "coordinationKind",
        ZedThreadActivity.Kind.allCases.map(\.rawValue): "zedActivityKind",
    ]
}
