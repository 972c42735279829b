import ChainReader
import Foundation
import NIOCore

/// JSON-RPC responses as an endpoint (honest, broken or lying) sends them, through what
/// JSONRPCClient does with the bytes: `decodeResponse` (one call) and
/// `decodeBatchResponse` (a batch), then the typed decoders onebzd applies to results:
/// quantities (eth_blockNumber, eth_chainId), eth_call return data through `ABI.decode`
/// with the registry's return types (resolveDNS, nodes, lookup, fee, owner) and
/// `BizNodeRegistry.node(from:)`, eth_getBlockByNumber (`blockHeader(from:)`, which
/// RLP-encodes and hashes the header), eth_getLogs (`logs(fromResult:)`, then
/// `RegistryEvent(log:)`), eth_getProof (`AccountProof(json:)` and `verify`, the
/// Merkle-Patricia walk and `RLPDecoder`). Invariants:
/// - decoding returns a value or throws a JSONRPCError of kind rpc (with a code),
///   invalidResponse or httpStatus, never anything else;
/// - a response accepted for id 1 with HTTP 200 is refused for id 2 and for HTTP 500;
/// - an accepted batch has exactly one result per request, errors of kind rpc;
/// - ABI values have the requested types and re-encode to data that decodes to them;
/// - a decoded registry event carries the log's second topic as its node hash;
/// - RLP decoding is strict: the item re-encodes to the input bytes;
/// - an eth_getProof result re-serialises (`json`) to an equal proof.
enum JSONRPCTarget {
    /// Only for its typed decoders (which name the endpoint in errors); never connects.
    static let client = JSONRPCClient(url: URL(string: "http://127.0.0.1:9/")!)

    /// (first request id, number of requests) of the batches tried: the first ids a
    /// client uses, and one near where its id counter wraps (Int.max / 2).
    static let batches: [(firstID: Int, count: Int)] = [(1, 3), (1, 1), (Int.max / 2, 3)]

    static let abiTypes: [[ABIType]] = [
        [.bytes32], BizNodeRegistry.nodeTypes, [.bytes32] + BizNodeRegistry.nodeTypes, [.uint256], [.address],
        [.address, .string], [.tuple([.string, .uint256]), .bool],
    ]

    static func run(_ bytes: [UInt8]) {
        let buffer = ByteBuffer(bytes: bytes)
        single(buffer)
        for (firstID, count) in batches { batch(buffer, firstID: firstID, count: count) }
    }

    static func single(_ buffer: ByteBuffer) {
        let result: JSONValue
        do throws(JSONRPCError) {
            result = try JSONRPCClient.decodeResponse(buffer, status: 200, id: 1, method: "eth_call", endpoint: "fuzz")
        } catch {
            checkError(error)
            return
        }
        do throws(JSONRPCError) {
            _ = try JSONRPCClient.decodeResponse(buffer, status: 200, id: 2, method: "eth_call", endpoint: "fuzz")
            fatalError("a response to id 1 accepted for id 2")
        } catch {
            precondition(error.kind == .invalidResponse, "id mismatch gave \(error)")
        }
        do throws(JSONRPCError) {
            _ = try JSONRPCClient.decodeResponse(buffer, status: 500, id: 1, method: "eth_call", endpoint: "fuzz")
            fatalError("a response with HTTP 500 accepted")
        } catch {
            precondition(error.kind == .httpStatus, "HTTP 500 gave \(error)")
        }
        typed(result)
    }

    static func batch(_ buffer: ByteBuffer, firstID: Int, count: Int) {
        let methods = ["eth_blockNumber", "eth_call", "eth_getLogs"].prefix(count).map { $0 }
        let results: [Result<JSONValue, JSONRPCError>]
        do throws(JSONRPCError) {
            results = try JSONRPCClient.decodeBatchResponse(
                buffer, status: 200, firstID: firstID, methods: methods, label: methods.joined(separator: "+"),
                endpoint: "fuzz")
        } catch {
            checkError(error)
            return
        }
        precondition(results.count == count, "\(results.count) batch results for \(count) requests")
        for result in results {
            switch result {
            case .success(let value): if firstID == 1 { typed(value) }
            case .failure(let error): precondition(error.kind == .rpc && error.rpcCode != nil, "batch element error \(error)")
            }
        }
    }

    static func checkError(_ error: JSONRPCError) {
        switch error.kind {
        case .rpc: precondition(error.rpcCode != nil, "rpc error without a code")
        case .invalidResponse, .httpStatus: break
        default: fatalError("unexpected error kind \(error)")
        }
    }

    /// The typed decoders onebzd applies to a result.
    static func typed(_ value: JSONValue) {
        if let text = value.stringValue {
            if let number = Hex.quantity(text) {
                precondition(Hex.quantity(Hex.quantity(number)) == number, "quantity \(number) round trip")
            }
            if let data = Hex.decode(text) {
                abi(data)
                rlp(data)
            }
        }
        if let header = try? client.blockHeader(from: value), let object = value.objectValue {
            precondition(header.recomputedHash == BlockHeader.recomputedHash(json: object), "header hash not deterministic")
        }
        if let logs = try? client.logs(fromResult: value) {
            for log in logs {
                guard let event = try? RegistryEvent(log: log) else { continue }
                precondition(log.topics.count == 2 && event.nodeHash == log.topics[1], "event node hash")
            }
        }
        proof(value)
    }

    static func abi(_ data: [UInt8]) {
        for types in abiTypes {
            guard let values = try? ABI.decode(types, from: data) else { continue }
            precondition(values.map(\.type) == types, "ABI values \(values) for types \(types)")
            precondition((try? ABI.decode(types, from: ABI.encode(values))) == values, "ABI re-encoding of \(values)")
            if types == BizNodeRegistry.nodeTypes { _ = BizNodeRegistry.node(from: values) }
        }
    }

    static func rlp(_ data: [UInt8]) {
        guard let item = try? RLPDecoder.decode(data) else { return }
        func encodable(_ item: RLPItem) -> RLP {
            switch item {
            case .bytes(let bytes): .bytes(bytes)
            case .list(let items): .list(items.map(encodable))
            }
        }
        precondition(encodable(item).encoded == data, "RLP decoding is not strict: \(data)")
    }

    /// eth_getProof: trusting the first node of each proof (its hash as the root) lets
    /// the walk go past the root check into the node decoding and path logic.
    static func proof(_ value: JSONValue) {
        guard let proof = try? AccountProof(json: value) else { return }
        precondition((try? AccountProof(json: proof.json)) == proof, "eth_getProof round trip")
        for node in proof.accountProof { rlp(node) }
        for entry in proof.storageProof { for node in entry.proof { rlp(node) } }
        let root = Bytes32(unchecked: Keccak256.hash(proof.accountProof.first ?? []))
        let slots = proof.storageProof.map(\.key)
        if let values = try? proof.verify(stateRoot: root, address: proof.address, slots: slots) {
            for slot in slots { precondition(values[slot] != nil, "slot \(slot) not answered") }
        }
    }
}
