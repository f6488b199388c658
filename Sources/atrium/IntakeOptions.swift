import ArgumentParser
import Server

/// The intake caps as options, shared by `atrium serve` and `atrium import` (docs/reliability.md). Each overrides the
/// configuration file and the `ATRIUM_MAX_*` environment variables.
struct IntakeOptions: ParsableArguments {
    @Option(help: "Most bytes one zip entry or deflated object may inflate to (bytes, or 512MiB, 2GiB…). Default 2GiB.")
    var maxEntryBytes: String?
    @Option(help: "Most bytes all entries of one zip archive may inflate to. Default 64GiB.")
    var maxArchiveBytes: String?
    @Option(help: "Most inflated bytes per compressed byte, past the first 16 MiB (0: no check). Default 200.")
    var maxCompressionRatio: String?
    @Option(help: "Most entries a zip archive may list. Default 100000.")
    var maxArchiveEntries: String?
    @Option(help: "Zip entries up to this size are inflated in memory, larger ones into a temporary file. Default 64MiB.")
    var inMemoryEntryBytes: String?

    /// Sets the given options on `configuration`.
    func apply(to configuration: inout ServerConfiguration) throws {
        for (field, value, flag) in [
            ("maximumEntryBytes", maxEntryBytes, "--max-entry-bytes"), ("maximumArchiveBytes", maxArchiveBytes, "--max-archive-bytes"),
            ("maximumCompressionRatio", maxCompressionRatio, "--max-compression-ratio"),
            ("maximumArchiveEntries", maxArchiveEntries, "--max-archive-entries"),
            ("inMemoryEntryBytes", inMemoryEntryBytes, "--in-memory-entry-bytes"),
        ] {
            if let value { try configuration.set(field, value, source: flag) }
        }
    }
}
