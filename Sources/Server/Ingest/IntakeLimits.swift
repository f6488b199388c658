import DICOM
import Foundation

/// The caps every archive and compressed stream Atrium unpacks is held to (docs/reliability.md): zip archives given to
/// `atrium import` or uploaded, the deflated transfer syntax, HTTP request bodies with a Content-Encoding. Set in
/// ``ServerConfiguration`` (file, environment, flags) and by `atrium import`'s options.
public struct IntakeLimits: Sendable, Equatable {
    /// Most bytes one zip entry, one deflated dataset or one decoded request body may inflate to.
    public var maximumEntryBytes: Int
    /// Most bytes all entries of one zip archive may inflate to together.
    public var maximumArchiveBytes: Int
    /// Most inflated bytes per compressed byte, for anything larger than 16 MiB; 0 turns the check off.
    public var maximumCompressionRatio: Int
    /// Most entries a zip archive's directory may list.
    public var maximumArchiveEntries: Int
    /// Zip entries up to this size are inflated into memory; larger ones into a temporary file.
    public var inMemoryEntryBytes: Int

    /// Creates limits; the defaults take a large CT or MR study on a 24 GiB machine.
    public init(
        maximumEntryBytes: Int = 2 << 30, maximumArchiveBytes: Int = 64 << 30, maximumCompressionRatio: Int = 200,
        maximumArchiveEntries: Int = 100_000, inMemoryEntryBytes: Int = 64 << 20
    ) {
        self.maximumEntryBytes = maximumEntryBytes
        self.maximumArchiveBytes = maximumArchiveBytes
        self.maximumCompressionRatio = maximumCompressionRatio
        self.maximumArchiveEntries = maximumArchiveEntries
        self.inMemoryEntryBytes = inMemoryEntryBytes
    }

    /// Output below this is never refused for its compression ratio: small objects of mostly zeros are real.
    public static let ratioGraceBytes = 16 << 20

    /// The caps of a zip archive.
    public var zip: ZipLimits {
        ZipLimits(
            maximumEntryBytes: maximumEntryBytes, maximumArchiveBytes: maximumArchiveBytes, maximumRatio: maximumCompressionRatio,
            ratioGraceBytes: Self.ratioGraceBytes, maximumEntries: maximumArchiveEntries)
    }

    /// The caps of one inflated stream (a deflated dataset, a request body).
    public var inflation: InflationLimits {
        InflationLimits(maximumBytes: maximumEntryBytes, maximumRatio: maximumCompressionRatio, ratioGraceBytes: Self.ratioGraceBytes)
    }

    /// A byte count from text: a number of bytes, or one with a binary unit (`512KiB`, `64MiB`, `2GiB`, `1TiB`; `K`,
    /// `M`, `G`, `T` alone mean the same). Nil when the text is not one, or is negative.
    public static func byteCount(_ text: String) -> Int? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let digits = trimmed.prefix { $0.isNumber }
        guard !digits.isEmpty, let number = Int(digits) else { return nil }
        let unit = trimmed.dropFirst(digits.count).trimmingCharacters(in: .whitespaces).lowercased()
        let shift: Int
        switch unit {
        case "", "b": shift = 0
        case "k", "kib": shift = 10
        case "m", "mib": shift = 20
        case "g", "gib": shift = 30
        case "t", "tib": shift = 40
        default: return nil
        }
        let (value, overflow) = number.multipliedReportingOverflow(by: 1 << shift)
        return overflow ? nil : value
    }
}
