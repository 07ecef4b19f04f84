import SpecTaskDomain

/// Reads only the `data` of a message, straight into its payload type (exact integers and dates).
struct MessageData<Payload: Decodable>: Decodable {
    var data: Payload

    static func decode(from bytes: [UInt8]) throws -> Payload {
        try MessageJSON.decode(MessageData<Payload>.self, from: bytes).data
    }
}
