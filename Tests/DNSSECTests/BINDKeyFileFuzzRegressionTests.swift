import DNSSEC
import Testing

/// Inputs found by scripts/fuzz bind-key (Fuzz/OnebzFuzz/BINDKeyTarget.swift).
struct BINDKeyFileFuzzRegressionTests {
    /// `parseTimestamp` checked its 14 characters with `isNumber`, which also holds for
    /// "½", "١" (Arabic-Indic one) or a digit with a combining mark, then force-unwrapped
    /// `Int32(...)`: a timing line such as `Created: 0025010100000` + "0\u{35D}" in a
    /// .private file trapped (the fuzzer's input, below, had "0" + U+035D).
    @Test(arguments: ["0025010100000" + "0\u{35D}", "2025010100000\u{661}", "½½½½½½½½½½½½½½", "2025010100000²"])
    func nonASCIIDigitsAreNotATimestamp(_ text: String) {
        #expect(BINDKeyFile.parseTimestamp(text) == nil)
    }

    @Test func asciiTimestampStillParses() {
        #expect(BINDKeyFile.parseTimestamp("20250101000000") == 1_735_689_600)
        #expect(BINDKeyFile.timestamp(1_735_689_600) == "20250101000000")
    }

    /// The crash input (.fuzz/bind-key/crashes/crash-c2976b8a...), as a .private text:
    /// rejected (no key), not a crash.
    @Test func crashInputIsRejected() {
        let crash: [UInt8] = [
            0x50, 0x72, 0x3d, 0x0a, 0x43, 0x72, 0x65, 0x61, 0x54, 0x65, 0x64, 0x3a, 0x20, 0x31, 0x30, 0x31,
            0x30, 0x30, 0x30, 0x30, 0x30, 0x31, 0x0a, 0x50, 0x75, 0x62, 0x6c, 0x69, 0x73, 0x68, 0x0a, 0x43,
            0x72, 0x65, 0x61, 0x54, 0x65, 0x64, 0x3a, 0x20, 0x30, 0x30, 0x32, 0x35, 0x30, 0x31, 0x30, 0x31,
            0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0xcd, 0x9d, 0x5a, 0x54, 0x2b, 0x4e, 0x0a, 0xbc, 0xbc, 0xbc,
            0xbc, 0xbc, 0xbc, 0xbc, 0xbc, 0x7d, 0x0a,
        ]
        let text = String(decoding: crash, as: UTF8.self)
        for line in text.split(whereSeparator: \.isNewline) {
            if let colon = line.firstIndex(of: ":") {
                _ = BINDKeyFile.parseTimestamp(String(line[line.index(after: colon)...].drop { $0 == " " }))
            }
        }
        #expect(throws: DNSSECError.self) { try BINDKeyFile(privateText: text, publicText: "") }
    }
}
