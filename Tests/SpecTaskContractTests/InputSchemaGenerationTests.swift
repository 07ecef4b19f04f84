import Foundation
import Testing

@testable import SpecTaskContract
@testable import SpecTaskDomain

extension MessagesTests {
    @Suite("Input schemas generated from the field tables")
    struct InputSchemaGenerationTests {
        @Test("the checked-in input schemas are what the field tables generate (`spectask topics schemas` when not)")
        func checkedInAreCurrent() throws {
            let files = InputSchemas.files()
            #expect(files.count == SpecTaskCommand.names.count + ZedEvent.names.count)
            for (fileName, text) in files {
                let checkedIn = try String(
                    contentsOf: SchemaFiles.directory.appendingPathComponent(fileName),
                    encoding: .utf8
                )
                #expect(
                    checkedIn == text,
                    "topics/schemas/\(fileName) is stale: run `.build/debug/spectask topics schemas`"
                )
            }
        }

        @Test("every input type has a summary, and every summary an input type")
        func summaries() {
            let types = Set((SpecTaskCommand.shapes + ZedEvent.shapes).map(\.type))
            #expect(Set(InputSummaries.byType.keys) == types)
            #expect(InputSummaries.byType.values.allSatisfy { !$0.isEmpty })
        }

        @Test("kinds map to the shared definitions where one says exactly the same, inline schemas otherwise")
        func kinds() {
            #expect(
                InputSchemas.schema(of: .identifier).text
                    == "{\n  \"$ref\": \"common.schema.json#/$defs/identifier\"\n}\n"
            )
            #expect(
                InputSchemas.schema(of: .string(2...9)).text
                    == "{\n  \"type\": \"string\",\n  \"minLength\": 2,\n  \"maxLength\": 9,\n"
                    + "  \"pattern\": \"^[^\\\\u0000]*$\"\n}\n"
            )
            #expect(
                InputSchemas.schema(of: .oneOf(["a", "b"])).text.contains("\"enum\": [\n    \"a\",\n    \"b\"\n  ]")
            )
            #expect(
                InputSchemas.schema(of: .oneOf(CoordinationKind.allCases.map(\.rawValue))).text.contains(
                    "#/$defs/coordinationKind"
                )
            )
        }

        @Test("JSON text escapes what JSON must and keeps the rest as it is")
        func escaping() {
            #expect(OrderedJSON.quoted("a\"b\\c\nd\u{1}é") == #""a\"b\\c\nd\u0001é""#)
            #expect(OrderedJSON.object([]).text == "{}\n")
            #expect(OrderedJSON.array([.null, .boolean(true), .integer(-3)]).text == "[\n  null,\n  true,\n  -3\n]\n")
        }
    }
}
