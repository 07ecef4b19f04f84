import SpecTaskContract
import SpecTaskDomain
import Testing

extension MessagesTests {
    @Suite("Redriving rejected records")
    struct RejectedRecordRedriveTests {
        static let commands = "p.spectask.commands"
        static let zedEvents = "p.zed.events"

        static func record(
            _ original: [UInt8],
            code: String,
            topic: String = commands,
            key: String? = "st-1"
        ) -> RejectedRecord {
            RejectedRecord(
                original: original,
                topic: topic,
                partition: 1,
                offset: 42,
                key: key,
                code: code,
                reason: "because",
                eventID: "cmd-1",
                specTaskID: "st-1"
            )
        }

        static let command = CommandEncoder.encode(
            id: "cmd-1",
            specTaskID: "st-1",
            source: "tests",
            command: .approveSpecs(ApproveSpecs(approver: "alice"))
        )

        @Test(
            "the decoder's codes are rejections before the rules; every other code is a rule's",
            arguments: [
                ("malformed_json", RejectedRecord.Stage.input), ("not_a_cloud_event", .input),
                ("unsupported_spec_version", .input), ("unknown_type", .input), ("invalid_subject", .input),
                ("schema_violation", .input), ("oversize", .input), ("unauthenticated", .input),
                ("illegal_transition", .rule), ("conflict", .rule), ("unknown_spec_task", .rule),
                ("unknown_work_session", .rule), ("already_exists", .rule), ("invalid_plan", .rule),
                ("some_future_code", .rule),
            ]
        )
        func stages(code: String, stage: RejectedRecord.Stage) {
            #expect(Self.record([1, 2, 3], code: code).stage == stage)
        }

        @Test("a whole original rejected before the rules is sent again byte for byte, with its key")
        func inputRejection() throws {
            let message = try Self.record(Self.command, code: "schema_violation")
                .redrive(commandsTopic: Self.commands, zedEventsTopic: Self.zedEvents, force: false).get()
            #expect(message == RedriveMessage(topic: Self.commands, key: "st-1", value: Self.command))
        }

        @Test("a rule's rejection needs force, and only that refusal can be forced")
        func ruleRejection() throws {
            let record = Self.record(Self.command, code: "illegal_transition")
            let refusal = try #require(
                record.redrive(commandsTopic: Self.commands, zedEventsTopic: Self.zedEvents, force: false).failure
            )
            #expect(refusal.code == .ruleRejection)
            #expect(refusal.canBeForced)
            #expect(refusal.message.contains("claimed in the inbox"))
            let forced = try record.redrive(commandsTopic: Self.commands, zedEventsTopic: Self.zedEvents, force: true)
                .get()
            #expect(forced.value == Self.command)
        }

        @Test("a truncated original is refused, even with force")
        func truncated() throws {
            let big = Self.command + [UInt8](repeating: 0x20, count: RejectedRecord.maxOriginalBytes)
            let record = Self.record(big, code: "oversize")
            #expect(record.originalTruncated)
            for force in [false, true] {
                let refusal = try #require(
                    record.redrive(commandsTopic: Self.commands, zedEventsTopic: Self.zedEvents, force: force).failure
                )
                #expect(refusal.code == .truncated)
                #expect(!refusal.canBeForced)
            }
        }

        @Test("an original that does not match its SHA-256 or size is refused, even with force")
        func corrupted() throws {
            var tampered = Self.record(Self.command, code: "illegal_transition")
            tampered.originalSHA256 = String(repeating: "0", count: 64)
            var shortened = Self.record(Self.command, code: "schema_violation")
            shortened.originalSize += 1
            var garbled = Self.record(Self.command, code: "schema_violation")
            garbled.originalBase64 = "not base64!"
            for record in [tampered, shortened, garbled] {
                let refusal = try #require(
                    record.redrive(commandsTopic: Self.commands, zedEventsTopic: Self.zedEvents, force: true).failure
                )
                #expect(refusal.code == .corrupted, "\(refusal)")
            }
            #expect(tampered.wholeOriginal().failure?.message.contains("SHA-256") == true)
        }

        @Test("Zed events, other topics and keys that may have been cut are refused")
        func notRedrivable() throws {
            let cases: [(RejectedRecord, RedriveRefusal.Code)] = [
                (Self.record(Self.command, code: "unauthenticated", topic: Self.zedEvents), .notACommand),
                (Self.record(Self.command, code: "malformed_json", topic: "other.spectask.commands"), .notACommand),
                (
                    Self.record(
                        Self.command,
                        code: "malformed_json",
                        key: String(repeating: "k", count: RejectedRecord.maxKeyBytes + 10)
                    ), .keyAltered
                ),
            ]
            for (record, code) in cases {
                let refusal = try #require(
                    record.redrive(commandsTopic: Self.commands, zedEventsTopic: Self.zedEvents, force: true).failure
                )
                #expect(refusal.code == code, "\(refusal)")
            }
        }

        @Test("the original's headers go with it, in order; headers that may have been cut are refused")
        func headers() throws {
            let headers = [
                MessageHeader(key: "ce_id", text: "cmd-1"), MessageHeader(key: "ce_type", text: "spectask.command.x"),
                MessageHeader(key: "empty", value: nil),
            ]
            let record = RejectedRecord(
                original: Self.command,
                headers: headers,
                topic: Self.commands,
                partition: 0,
                offset: 1,
                key: "st-1",
                code: "unknown_type",
                reason: "because"
            )
            let message = try record.redrive(commandsTopic: Self.commands, zedEventsTopic: Self.zedEvents, force: false)
                .get()
            #expect(message.headers == headers)

            let long = MessageHeader(key: "ce_data", text: String(repeating: "v", count: RejectedRecord.maxKeyBytes))
            let many = (0..<RejectedRecord.maxHeaders + 1).map { MessageHeader(key: "h\($0)", text: "v") }
            for cut in [[long], many] {
                var altered = record
                altered.originalHeaders =
                    RejectedRecord(
                        original: [],
                        headers: cut,
                        topic: "t",
                        partition: 0,
                        offset: 0,
                        key: nil,
                        code: "c",
                        reason: "r"
                    ).originalHeaders
                let refusal = try #require(
                    altered.redrive(commandsTopic: Self.commands, zedEventsTopic: Self.zedEvents, force: true).failure
                )
                #expect(refusal.code == .headersAltered, "\(refusal)")
            }
        }

        @Test("an original without a key is sent again without one")
        func noKey() throws {
            let message = try Self.record(Self.command, code: "malformed_json", key: nil)
                .redrive(commandsTopic: Self.commands, zedEventsTopic: Self.zedEvents, force: false).get()
            #expect(message.key == nil)
        }
    }
}

extension Result {
    fileprivate var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
