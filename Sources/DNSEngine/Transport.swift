/// The transport a query arrived on: it decides the response size limit.
public enum Transport: Sendable, Hashable {
    case udp
    case tcp
}
