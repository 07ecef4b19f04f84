import Foundation
import SpecTaskContract
import SpecTaskDomain
import Testing

extension MessagesTests {
    @Suite("CloudEvent")
    struct CloudEventTests {
        @Test("encoding leaves out absent attributes and sorts the keys")
        func minimal() {
            let event = CloudEvent(id: "e-1", source: "tests", type: "spectask.command.cancel")
            #expect(
                String(decoding: event.jsonBytes(), as: UTF8.self)
                    == #"{"id":"e-1","source":"tests","specversion":"1.0","type":"spectask.command.cancel"}"#
            )
        }

        @Test("every attribute round-trips through Codable")
        func full() throws {
            let event = CloudEvent(
                id: "e-1",
                source: "spectask-worker",
                type: "spectask.status.command_applied",
                subject: "st-1",
                time: "2025-03-01T12:00:00.125000Z",
                datacontenttype: "application/json",
                data: .object(["a": .array([.number(1), .string("x/y"), .null, .bool(true)])]),
                actor: "alice",
                correlationid: "cmd-1",
                spectasksequence: 9_007_199_254_740_993,
                runnertoken: "tok"
            )
            let bytes = event.jsonBytes()
            #expect(try JSONDecoder().decode(CloudEvent.self, from: Data(bytes)) == event)
            let text = String(decoding: bytes, as: UTF8.self)
            #expect(text.hasPrefix(#"{"actor":"alice","correlationid":"cmd-1","data":{"a":[1,"x/y",null,true]},"#))
            // Int64 sequence numbers keep every digit (no detour through Double).
            #expect(text.contains(#""spectasksequence":9007199254740993"#))
            #expect(event.date == Date(timeIntervalSince1970: 1_740_830_400.125))
        }

        @Test("an output message has a stable, exact form")
        func golden() {
            let bytes = EventEncoder.status(
                .sharedContextChanged(SharedContextChange(key: "api.base_url", value: nil)),
                specTaskID: "st-1",
                sequence: 3,
                eventID: "out-3",
                time: Date(timeIntervalSince1970: 1_740_830_400.25),
                correlationID: "cmd-1"
            )
            #expect(
                String(decoding: bytes, as: UTF8.self)
                    == #"{"correlationid":"cmd-1","data":{"key":"api.base_url"},"datacontenttype":"application/json","#
                    + #""id":"out-3","source":"spectask-worker","spectasksequence":3,"specversion":"1.0","#
                    + #""subject":"st-1","time":"2025-03-01T12:00:00.250000Z","type":"spectask.status.shared_context_changed"}"#
            )
        }
    }

    @Suite("RFC3339")
    struct RFC3339Tests {
        @Test("formats in UTC with microseconds")
        func format() {
            #expect(RFC3339.string(from: Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00.000000Z")
            #expect(RFC3339.string(from: Date(timeIntervalSince1970: -0.5)) == "1969-12-31T23:59:59.500000Z")
            #expect(RFC3339.string(from: Date(timeIntervalSince1970: 951_782_400)) == "2000-02-29T00:00:00.000000Z")
            #expect(
                RFC3339.string(from: Date(timeIntervalSince1970: 1_740_830_400.123456)) == "2025-03-01T12:00:00.123456Z"
            )
            #expect(RFC3339.string(from: .distantFuture).hasPrefix("4001-01-01T00:00:00"))
            #expect(RFC3339.string(from: Date(timeIntervalSince1970: 1e15)) == "9999-12-31T23:59:59.999999Z")
        }

        @Test(
            "reads any offset and precision",
            arguments: [
                ("2025-03-01T12:00:00Z", 1_740_830_400.0),
                ("2025-03-01t12:00:00z", 1_740_830_400.0),
                ("2025-03-01T13:30:00+01:30", 1_740_830_400.0),
                ("2025-03-01T04:00:00.5-08:00", 1_740_830_400.5),
                ("2025-03-01T12:00:00.123456789Z", 1_740_830_400.123456),
                ("1969-12-31T23:59:59.500000Z", -0.5),
                ("2024-02-29T00:00:00Z", 1_709_164_800.0),
            ]
        )
        func parse(_ text: String, _ seconds: Double) {
            #expect(RFC3339.date(from: text) == Date(timeIntervalSince1970: seconds))
        }

        @Test(
            "refuses what is not a timestamp",
            arguments: [
                "", "yesterday", "2025-03-01", "2025-03-01T12:00:00", "2025-03-01 12:00:00Z", "2025-13-01T12:00:00Z",
                "2025-02-29T12:00:00Z", "2025-03-01T24:00:00Z", "2025-03-01T12:00:00.Z", "2025-03-01T12:00:00+0100",
                "2025-03-01T12:00:00Zjunk", "+2025-03-01T12:00:00Z", "２０２５-03-01T12:00:00Z",
            ]
        )
        func refuse(_ text: String) {
            #expect(RFC3339.date(from: text) == nil)
        }

        @Test("dates with whole microseconds round-trip exactly")
        func roundTrip() {
            var generator = SystemRandomNumberGenerator()
            for _ in 0..<1000 {
                let micros = Int64.random(in: -2_000_000_000_000_000...4_000_000_000_000_000, using: &generator)
                let date = Date(timeIntervalSince1970: Double(micros) / 1_000_000)
                #expect(RFC3339.date(from: RFC3339.string(from: date)) == date)
            }
        }
    }
}
