/// What went wrong in the health records, with the context a person needs.
public enum HealthError: Error, Equatable, Sendable, CustomStringConvertible {
    case invalid(String)
    case notFound(String)
    case conflict(String)
    case forbidden(String)
    case importRejected([ExaminationCSV.Problem])
    case database(String)

    public var description: String {
        switch self {
        case .invalid(let why): "invalid health record: \(why)"
        case .notFound(let what): "not found: \(what)"
        case .conflict(let what): "conflict: \(what)"
        case .forbidden(let why): "forbidden: \(why)"
        case .importRejected(let problems): "import rejected, nothing imported: \(problems.map(\.description).joined(separator: "; "))"
        case .database(let message): "database: \(message)"
        }
    }
}
