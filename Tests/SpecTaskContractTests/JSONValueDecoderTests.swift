import Foundation
import Testing

@testable import SpecTaskContract
@testable import SpecTaskDomain

extension MessagesTests {
    /// `JSONValueDecoder` decodes a parsed value as `JSONDecoder` (``MessageJSON/decode(_:from:)``) decodes its JSON
    /// text: the same values, and a failure of the same kind at the same path where that one fails.
    @Suite("JSONValueDecoder")
    struct JSONValueDecoderTests {
        enum Kind: String, Codable, Equatable { case first, second }

        struct Inner: Codable, Equatable {
            var name: String
            var weights: [Double]?
        }

        struct Sample: Codable, Equatable {
            var integer: Int
            var byte: UInt8?
            var big: Int64?
            var number: Double
            var text: String
            var flag: Bool
            var list: [Int]
            var table: [String: [Double]]?
            var anything: JSONValue?
            var date: Date?
            var kind: Kind?
            var inners: [Inner]?
            var optionals: [String?]?
        }

        /// What a decode came to, comparable across the two decoders.
        enum Outcome: Equatable {
            case value(Sample)
            case failure(kind: String, path: [String])

            init(_ decode: () throws -> Sample) {
                do {
                    self = .value(try decode())
                } catch let error as DecodingError {
                    let (kind, context): (String, DecodingError.Context) =
                        switch error {
                        case .typeMismatch(_, let context): ("typeMismatch", context)
                        case .valueNotFound(_, let context): ("valueNotFound", context)
                        case .keyNotFound(let key, let context):
                            ("keyNotFound \(key.stringValue)", context)
                        case .dataCorrupted(let context): ("dataCorrupted", context)
                        @unknown default: ("unknown", DecodingError.Context(codingPath: [], debugDescription: ""))
                        }
                    self = .failure(
                        kind: kind,
                        path: context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }
                    )
                } catch {
                    self = .failure(kind: "\(error)", path: [])
                }
            }
        }

        static let base = #""integer": 1, "number": 2.5, "text": "t", "flag": true, "list": [1, 2]"#

        static let documents: [String] = [
            "{\(base)}",
            #"{\#(base), "byte": 255, "big": -9007199254740991, "table": {"a": [1, 2.5], "b": []}}"#,
            #"{\#(base), "anything": {"x": [1, "two", null, true, {"y": -0}]}, "kind": "second"}"#,
            #"{\#(base), "date": "2025-03-01T12:00:00.125Z", "inners": [{"name": "n"}, {"name": "m", "weights": [0.5]}]}"#,
            #"{\#(base), "optionals": ["a", null, "b"], "unknown": {"deep": [1]}}"#,
            #"{\#(base), "anything": null, "byte": null, "inners": null}"#,
            #"{"integer": -0, "number": 1e300, "text": "", "flag": false, "list": []}"#,
            // Failures, each of one kind.
            #"{"number": 2.5, "text": "t", "flag": true, "list": []}"#,
            #"{"integer": 2.5, "number": 1, "text": "t", "flag": true, "list": []}"#,
            #"{"integer": 1e40, "number": 1, "text": "t", "flag": true, "list": []}"#,
            #"{"integer": "1", "number": 1, "text": "t", "flag": true, "list": []}"#,
            #"{"integer": null, "number": 1, "text": "t", "flag": true, "list": []}"#,
            #"{"integer": 1, "number": true, "text": "t", "flag": true, "list": []}"#,
            #"{"integer": 1, "number": 1, "text": 5, "flag": true, "list": []}"#,
            #"{"integer": 1, "number": 1, "text": "t", "flag": 1, "list": []}"#,
            #"{"integer": 1, "number": 1, "text": "t", "flag": true, "list": [1, null]}"#,
            #"{"integer": 1, "number": 1, "text": "t", "flag": true, "list": [1, 2.5]}"#,
            #"{"integer": 1, "number": 1, "text": "t", "flag": true, "list": {"0": 1}}"#,
            #"{\#(base), "byte": 256}"#,
            #"{\#(base), "byte": -1}"#,
            #"{\#(base), "table": {"a": [1, "x"]}}"#,
            #"{\#(base), "table": [1]}"#,
            #"{\#(base), "date": "yesterday"}"#,
            #"{\#(base), "date": 5}"#,
            #"{\#(base), "kind": "third"}"#,
            #"{\#(base), "inners": [{"name": "n"}, {"weights": []}]}"#,
            #"{\#(base), "inners": [{"name": "n", "weights": [null]}]}"#,
            "[1, 2]",
            "\"text\"",
            "null",
        ]

        @Test("the same values and the same failures as JSONDecoder on the value's JSON text")
        func parity() throws {
            for document in Self.documents {
                let value = try StrictJSONParser.parse(Array(document.utf8))
                let direct = Outcome { try JSONValueDecoder.decode(Sample.self, from: value) }
                let throughText = Outcome { try MessageJSON.decode(Sample.self, from: MessageJSON.encode(value)) }
                // One difference, on purpose: for a number that does not fit, Foundation's error has an empty path;
                // this one names where the number is.
                if case .failure("dataCorrupted", let path) = direct, case .failure("dataCorrupted", []) = throughText {
                    #expect(!path.isEmpty, "\(document)")
                    continue
                }
                #expect(direct == throughText, "\(document)")
            }
        }

        @Test("the documents above cover success and every kind of failure")
        func coverage() throws {
            var kinds: Set<String> = []
            var values = 0
            for document in Self.documents {
                switch Outcome({
                    try JSONValueDecoder.decode(Sample.self, from: try StrictJSONParser.parse(Array(document.utf8)))
                }) {
                case .value: values += 1
                case .failure(let kind, _): kinds.insert(kind.split(separator: " ")[0].description)
                }
            }
            #expect(values == 7)
            #expect(kinds == ["typeMismatch", "valueNotFound", "keyNotFound", "dataCorrupted"])
        }

        @Test("a JSONValue member is the parsed value itself")
        func jsonValuePassesThrough() throws {
            let value = try StrictJSONParser.parse(Array(#"{"a": [1.5, "b", null, {"c": false}]}"#.utf8))
            #expect(try JSONValueDecoder.decode(JSONValue.self, from: value) == value)
        }
    }
}
