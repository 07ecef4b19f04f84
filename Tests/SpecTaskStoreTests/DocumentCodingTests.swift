import Foundation
import SpecTaskDomain
import Testing

@testable import SpecTaskStore

@Suite("Document coding")
struct DocumentCodingTests {
    struct Document: Codable, Equatable {
        var id: String
        var path: String
        var at: Date
        var progress: [String: Int]
        var note: String?
    }

    static let sample = Document(
        id: "ws-1",
        path: "src/auth/login.swift \"quoted\" \\ \n",
        at: Date(timeIntervalSince1970: 1_740_830_400.125),
        progress: ["th-2": 40, "th-10": 100, "TH-1": 0],
        note: nil
    )

    @Test("documents are written byte for byte as JSONEncoder writes them (sorted keys, escaped slashes, ISO 8601)")
    func sameBytesAsFoundation() throws {
        let fast = try DocumentCoding.encode(Self.sample)
        let foundation = String(decoding: try DocumentCoding.foundationEncoder.encode(Self.sample), as: UTF8.self)
        #expect(fast == foundation)
        #expect(fast.contains(#""path":"src\/auth\/login.swift"#))
        #expect(try DocumentCoding.decode(Document.self, from: fast) == Self.sample)
    }
}
