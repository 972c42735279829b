import Foundation
import NodeRegistry
import Testing
import TestSupport

/// Records signed by Swift check out in Python (`cryptography`, an independent
/// implementation): the canonical bytes and the signature agree across languages.
@Suite struct PythonInteropTests {
    static let vectors = Vectors.shared.vectors

    @Test func swiftSignedRecordVerifiesInPython() throws {
        let key = try Ed25519PrivateKey(pem: Self.vectors[0].private_pem)
        let record = try NodeMetadata.signed(
            by: key, ipv4: ["203.0.113.7", "198.51.100.1"], ipv6: ["2001:DB8:0:0::42", "fe80::1"], seq: 42)
        #expect(record.ipv6 == ["2001:db8::42", "fe80::1"])
        let script = """
            import base64, hashlib, json, sys
            from cryptography.hazmat.primitives.serialization import load_pem_public_key
            r = json.load(sys.stdin)
            assert hashlib.sha256(r["public_key"].encode()).hexdigest() == r["node_id"]
            msg = "1bz-meta-v1\\n%s\\n%d\\n%s" % (r["node_id"], r["seq"], ",".join(sorted(r["ipv4"] + r["ipv6"])))
            load_pem_public_key(r["public_key"].encode()).verify(base64.b64decode(r["signature"]), msg.encode())
            print("ok")
            """
        let result = try Command.run(
            Vectors.python, ["-c", script], input: try JSONEncoder().encode(record))
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "ok\n")
    }
}
