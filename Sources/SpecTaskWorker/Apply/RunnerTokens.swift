import Crypto
import Foundation

/// Issues the token a Zed runner must present on `zed.events` for one instance: HMAC-SHA256 of the instance id
/// under the deployment's secret, so any worker can check a token without storing it.
public struct RunnerTokens: Sendable {
    private let key: SymmetricKey

    public init(secret: String) {
        key = SymmetricKey(data: Data(secret.utf8))
    }

    public func token(for instanceID: String) -> String {
        // Hex by hand: String(format:) per byte made this a large part of decoding a Zed event.
        let digits = Array("0123456789abcdef".utf8)
        var hex: [UInt8] = []
        hex.reserveCapacity(64)
        for byte in HMAC<SHA256>.authenticationCode(for: Data(instanceID.utf8), using: key) {
            hex.append(digits[Int(byte >> 4)])
            hex.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: hex, as: UTF8.self)
    }

    /// Constant-time comparison, so response timing says nothing about the right token.
    public func isValid(_ token: String, for instanceID: String) -> Bool {
        let expected = Array(self.token(for: instanceID).utf8)
        let given = Array(token.utf8)
        guard expected.count == given.count else { return false }
        return zip(expected, given).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
