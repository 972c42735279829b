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
}
