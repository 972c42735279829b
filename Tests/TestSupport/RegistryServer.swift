import Foundation

/// The real `onebz-registry` following a devnet, on a loopback port (stopped by PID
/// through the returned ManagedProcess).
public enum RegistryServer {
    public static func start(
        devnet: Devnet, port: Int, database: String, logDirectory: URL, name: String = "registry",
        extraArguments: [String] = []
    ) throws -> ManagedProcess {
        try ManagedProcess(
            name: name, executable: Repo.product("onebz-registry"),
            arguments: [
                "--db", database, "--listen", "127.0.0.1:\(port)", "--rpc", devnet.info.rpcURL,
                "--contract", devnet.contractAddress, "--deploy-block", "\(devnet.deployBlock)",
                "--poll-interval", "0.2",
            ] + extraArguments,
            logDirectory: logDirectory)
    }
}
