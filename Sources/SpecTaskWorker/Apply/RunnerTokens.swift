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
        HMAC<SHA256>.authenticationCode(for: Data(instanceID.utf8), using: key).map { String(format: "%02x", $0) }
            .joined()
    }

    /// Constant-time comparison, so response timing says nothing about the right token.
    public func isValid(_ token: String, for instanceID: String) -> Bool {
        let expected = Array(self.token(for: instanceID).utf8)
        let given = Array(token.utf8)
        guard expected.count == given.count else { return false }
        return zip(expected, given).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
