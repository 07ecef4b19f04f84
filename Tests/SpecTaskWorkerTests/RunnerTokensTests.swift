import Testing

@testable import SpecTaskWorker

@Suite("Runner tokens")
struct RunnerTokensTests {
    @Test("a token is the HMAC-SHA256 of the instance id, lowercase hex (RFC 4231 test case 2)")
    func knownAnswer() {
        let tokens = RunnerTokens(secret: "Jefe")
        #expect(
            tokens.token(for: "what do ya want for nothing?")
                == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        )
    }

    @Test("only the instance's own token is valid")
    func validity() {
        let tokens = RunnerTokens(secret: "s3cret")
        let token = tokens.token(for: "zi-1")
        #expect(tokens.isValid(token, for: "zi-1"))
        #expect(!tokens.isValid(token, for: "zi-2"))
        #expect(!tokens.isValid(String(token.dropLast()), for: "zi-1"))
        #expect(!tokens.isValid(token.uppercased(), for: "zi-1"))
        #expect(!tokens.isValid("", for: "zi-1"))
        #expect(!RunnerTokens(secret: "other").isValid(token, for: "zi-1"))
    }
}
