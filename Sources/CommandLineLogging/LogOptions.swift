import ArgumentParser
import Logging

/// `--log-level` of the servers (onebzd, onebz-web), and the logging it sets up: every
/// log of the process to standard error, the command's logger at the level asked for.
package struct LogOptions: ParsableArguments {
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    package var logLevel: Logger.Level = .info

    package init() {}

    /// Bootstraps swift-log (once per process, before any logger is made): handlers pass
    /// everything, each logger filters at its own level. Returns the logger `label` at
    /// `--log-level`.
    package func bootstrap(label: String) -> Logger {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .trace
            return handler
        }
        var logger = Logger(label: label)
        logger.logLevel = logLevel
        return logger
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
