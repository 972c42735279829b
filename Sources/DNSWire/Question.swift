/// One entry of the question section (RFC 1035 4.1.2).
public struct Question: Hashable, Sendable {
    public var name: Name
    public var type: RRType
    public var rrClass: RRClass

    public init(name: Name, type: RRType, rrClass: RRClass = .in) {
        self.name = name
        self.type = type
        self.rrClass = rrClass
    }
}
