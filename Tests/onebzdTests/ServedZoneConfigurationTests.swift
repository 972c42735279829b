import DNSWire
import Foundation
import Testing

@testable import onebzd

@Suite("[[zones]] configuration")
struct ServedZoneConfigurationTests {
    @Test func zonesParse() throws {
        let config = try ServerConfiguration(
            toml: """
                [[zones]]
                origin = "gw.example"
                file = "/etc/onebzd/gw.example.zone"
                dnssec_key_files = ["/etc/onebzd/Kgw.example.+013+12345.key"]
                update_keys = ["acme-key."]

                [[zones]]
                origin = "other.example."
                file = "other.zone"
                max_challenge_records = 7
                """)
        #expect(config.zones.map(\.origin) == [try Name("gw.example."), try Name("other.example.")])
        #expect(config.zones[0].updateKeys == ["acme-key."] && config.zones[0].dnssecKeyFiles.count == 1)
        #expect(config.zones[0].maxChallengeRecords == 100 && config.zones[1].maxChallengeRecords == 7)
    }

    @Test(arguments: [
        ("[[zones]]\nfile = \"x\"", "zones[0].origin"),
        ("[[zones]]\norigin = \"a.\"", "zones[0].file"),
        ("[[zones]]\norigin = \"a.\"\nfile = \"x\"\nbogus = 1", "zones[0].bogus"),
        ("[[zones]]\norigin = \"a.\"\nfile = \"x\"\n[[zones]]\norigin = \"A.\"\nfile = \"y\"", "zones[1].origin"),
        ("[[zones]]\norigin = \"a.\"\nfile = \"x\"\nmax_challenge_records = 0", "zones[0].max_challenge_records"),
        ("zones = 1", "zones"),
    ])
    func badZonesNameTheKey(toml: String, key: String) {
        do {
            _ = try ServerConfiguration(toml: toml)
            Issue.record("accepted: \(toml)")
        } catch {
            #expect(error.key == key, "\(error)")
        }
    }
}
