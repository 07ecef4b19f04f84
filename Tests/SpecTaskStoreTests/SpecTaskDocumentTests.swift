import Foundation
import SpecTaskDomain
import Testing

@testable import SpecTaskStore

/// The `doc` of a spec task row: the task's members with its path claims beside them.
@Suite("Spec task document")
struct SpecTaskDocumentTests {
    static let time = Date(timeIntervalSince1970: 1_740_830_400.125)
    static let task = SpecTask(id: "st-1", name: "Auth", createdAt: time, updatedAt: time)
    static let claim = PathClaim(
        id: "c1",
        specTaskID: "st-1",
        workSessionID: "ws-1",
        threadID: "zt-1",
        paths: ["Sources/**", "README.md"],
        status: .granted,
        claimedAt: time,
        grantedAt: time
    )

    @Test("claims are stored beside the task's members and read back; the bytes are JSONEncoder's")
    func roundTrip() throws {
        let document = SpecTaskDocument(task: Self.task, pathClaims: [Self.claim])
        let text = try DocumentCoding.encode(document)
        #expect(text == String(decoding: try DocumentCoding.foundationEncoder.encode(document), as: UTF8.self))
        #expect(text.contains(#""pathClaims":[{"#) && text.contains(#""name":"Auth""#))
        let read = try DocumentCoding.decode(SpecTaskDocument.self, from: text)
        #expect(read.task == Self.task && read.pathClaims == [Self.claim])
    }

    @Test("a task without claims is written exactly as before claims existed, and such a row reads as no claims")
    func noClaims() throws {
        let text = try DocumentCoding.encode(SpecTaskDocument(task: Self.task, pathClaims: []))
        #expect(text == (try DocumentCoding.encode(Self.task)))
        let read = try DocumentCoding.decode(SpecTaskDocument.self, from: text)
        #expect(read.task == Self.task && read.pathClaims.isEmpty)
    }
}
