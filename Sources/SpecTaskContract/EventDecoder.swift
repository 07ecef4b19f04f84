import SpecTaskDomain

/// Reads the worker's own output messages back: for tests, `spectask watch` and other consumers.
///
/// Unlike ``CommandDecoder`` this trusts its input to come from ``EventEncoder`` and is not strict about
/// unknown members; it throws an ``InputRejection`` when the bytes are not such a message.
public enum EventDecoder {
    /// Reads any output message, and the status event when it is one.
    ///
    /// - Parameter bytes: A message value from `spectask.status`, `spectask.progress`, `spectask.rejected`
    ///   or `zed.commands`.
    /// - Returns: The envelope (with `data` as JSON) and, for a `spectask.status.<name>` type, the event.
    /// - Throws: ``InputRejection`` when the bytes are not a CloudEvent 1.0, the status type is unknown, or
    ///   its `data` does not fit the type.
    public static func decode(_ bytes: [UInt8]) throws(InputRejection) -> (CloudEvent, StatusEvent?) {
        let event = try envelope(bytes)
        guard event.type.hasPrefix(StatusEvent.typePrefix) else { return (event, nil) }
        let name = String(event.type.dropFirst(StatusEvent.typePrefix.count))
        let status = try payload(of: event, bytes) { try StatusEvent.decode(name: name, message: bytes) }
        guard let status else {
            throw rejection(.unknownType, "unknown status event type \(MessageText.quoted(event.type))", event)
        }
        return (event, status)
    }

    /// Reads a `zed.commands` message.
    ///
    /// - Throws: ``InputRejection`` when the bytes are not a Zed command of a known type.
    public static func decodeZedCommand(_ bytes: [UInt8]) throws(InputRejection) -> (CloudEvent, ZedCommand) {
        let event = try envelope(bytes)
        let name = String(event.type.dropFirst(ZedCommand.typePrefix.count))
        let command =
            event.type.hasPrefix(ZedCommand.typePrefix)
            ? try payload(of: event, bytes) { try ZedCommand.decode(name: name, message: bytes) } : nil
        guard let command else {
            throw rejection(.unknownType, "\(MessageText.quoted(event.type)) is not a Zed command type", event)
        }
        return (event, command)
    }

    /// Reads a `spectask.progress` message.
    ///
    /// - Throws: ``InputRejection`` when the bytes are not a progress snapshot.
    public static func decodeProgress(_ bytes: [UInt8]) throws(InputRejection) -> (CloudEvent, ProgressSnapshot) {
        let event = try envelope(bytes)
        guard event.type == EventEncoder.progressType else {
            throw rejection(.unknownType, "expected type '\(EventEncoder.progressType)', got '\(event.type)'", event)
        }
        return (event, try payload(of: event, bytes) { try MessageData<ProgressSnapshot>.decode(from: bytes) })
    }

    /// Reads a `spectask.rejected` message.
    ///
    /// - Throws: ``InputRejection`` when the bytes are not a rejected-input record.
    public static func decodeRejected(_ bytes: [UInt8]) throws(InputRejection) -> (CloudEvent, RejectedRecord) {
        let event = try envelope(bytes)
        guard event.type == EventEncoder.rejectedType else {
            throw rejection(.unknownType, "expected type '\(EventEncoder.rejectedType)', got '\(event.type)'", event)
        }
        return (event, try payload(of: event, bytes) { try MessageData<RejectedRecord>.decode(from: bytes) })
    }

    // MARK: - Helpers

    private static func envelope(_ bytes: [UInt8]) throws(InputRejection) -> CloudEvent {
        let event: CloudEvent
        do {
            event = try MessageJSON.decode(CloudEvent.self, from: bytes)
        } catch {
            let isSyntax: Bool =
                if case .dataCorrupted(let context) = error as? DecodingError { context.codingPath.isEmpty } else {
                    false
                }
            throw InputRejection(
                isSyntax ? .malformedJSON : .notACloudEvent,
                "message is not a CloudEvent: \(DecodingFailure.describe(error))"
            )
        }
        guard event.specversion == CloudEvent.specVersion else {
            throw rejection(
                .unsupportedSpecVersion,
                "specversion \(MessageText.quoted(event.specversion)) is not supported; only '1.0' is",
                event
            )
        }
        return event
    }

    private static func payload<Payload>(
        of event: CloudEvent,
        _ bytes: [UInt8],
        _ decode: () throws -> Payload
    ) throws(InputRejection) -> Payload {
        do {
            return try decode()
        } catch {
            throw rejection(
                .schemaViolation,
                "data does not match \(event.type): \(DecodingFailure.describe(error))",
                event
            )
        }
    }

    private static func rejection(_ code: InputRejection.Code, _ message: String, _ event: CloudEvent) -> InputRejection
    {
        InputRejection(code, message, eventID: event.id, subject: event.subject)
    }
}
