/// The files a DICOMDIR's directory records refer to: Referenced File ID (0004,1500), a path given as components
/// (PS3.10 8.5, PS3.3 F.3). A component is a name, never a path: `..`, `/`, `\`, a drive letter or a percent-encoded
/// separator in one is how a hostile medium would reach files outside it, so such a reference is refused
/// (docs/reliability.md, Hostile input).
public enum DICOMDIRReferences {
    /// One directory record's reference.
    public struct Reference: Sendable, Equatable {
        /// The components as the record holds them.
        public var components: [String]
        /// Why the reference is refused, or nil when its components are safe names.
        public var problem: String?
        /// The components joined with `/` (a relative path inside the medium) when safe.
        public var relativePath: String? { problem == nil ? components.joined(separator: "/") : nil }
    }

    /// The references of every directory record of a DICOMDIR's data set, in record order (records without one are
    /// left out).
    public static func references(in dataSet: DataSet) -> [Reference] {
        dataSet.items(.directoryRecordSequence).compactMap { record in
            let components = record.strings(.referencedFileID)
            guard !components.isEmpty else { return nil }
            return Reference(components: components, problem: problem(components))
        }
    }

    /// Why `components` cannot name a file inside the medium, or nil. PS3.10 8.2 allows upper-case letters, digits and
    /// `_`, up to 8 of them; media in the wild also use lower case, `.` and `-`, which are accepted, but nothing that
    /// separates or climbs.
    public static func problem(_ components: [String]) -> String? {
        for component in components {
            if component == "." || component == ".." { return "a \(component) component that climbs out of the medium" }
            if let problem = ZipEntry.pathProblem(component) { return problem }
            if component.utf8.count > 255 { return "a component of \(component.utf8.count) bytes" }
            let allowed = component.utf8.allSatisfy { c in
                (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x5F || c == 0x2E || c == 0x2D
            }
            if !allowed { return "a component with characters other than letters, digits, _, . and - (PS3.10 8.2)" }
        }
        return nil
    }
}
