/// Why one line of an import was skipped (the API's error code and sentence).
struct ImportLineError: Error, Sendable {
    let code: String
    let detail: String
}
