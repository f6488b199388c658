import Archive
import DICOM
import Foundation
import Hummingbird
import Platform
import Synchronization

/// The families of routes that authorization tells apart. Every request falls in exactly one.
public enum RouteFamily: String, Sendable, CaseIterable {
    /// `/health`.
    case health
    /// `POST`/`DELETE /api/session`, `POST /api/setup`, `/login`, `/logout`, `/static`, `/language`: reachable signed out.
    case signIn
    /// QIDO-RS, WADO-RS, metadata, rendered, thumbnails, frames, bulk data; whole-slide pyramids and tiles (`GET /api/wsi`).
    case dicomwebRead
    /// STOW-RS; slide conversion (`POST /api/wsi/convert`).
    case dicomwebStore
    /// DELETE under `/dicom-web`, and `DELETE /api/admin/patients/…`.
    case delete
    /// `/api/me…`: one's own account.
    case me
    /// `/api/admin/…` other than the audit trail: institutions, people, tokens, peers.
    case admin
    /// `/api/admin/audit`.
    case audit
    /// Pages that show clinical studies (`/studies`, `/upload`, `/uploads`, `/viewer`, `/slide-viewer`).
    case clinicalPages
    /// `/admin` pages.
    case adminPages
    /// Any other page (the home page): open, the page decides what to show.
    case page
    /// The teaching library's JSON API (`/api/library`): anyone signed in reads published cases; the routes let only
    /// curators and administrators write or see unpublished ones.
    case library
    /// The teaching library's pages (`/library`), with the same rule.
    case libraryPages
    /// The consultation workflow's JSON API (`/api/consultations`, `/api/worklist`, `/api/reports`, `/api/critical`,
    /// `/api/notifications`, `/api/turnaround.csv`, `/api/peer-review`): sites, readers, supervisors and administrators;
    /// each action is then checked by ``ReadingAccess``.
    case reading
    /// The consultation pages (`/consultations`, `/worklist`, `/reports`).
    case readingPages
    /// The laboratory's JSON API (`/api/lab`) and FHIR intake (`/fhir`): sites (their institution's results), readers,
    /// supervisors and administrators; writing intervals, facilities and QC targets is checked by the routes.
    case laboratory
    /// The laboratory pages (`/lab`), with the same rule.
    case laboratoryPages

    /// The family of a request.
    public static func of(method: HTTPRequest.Method, path: String) -> RouteFamily {
        func under(_ prefix: String) -> Bool { path == prefix || path.hasPrefix(prefix + "/") }
        if path == "/health" { return .health }
        if under("/dicom-web") {
            // UPS-RS unsubscribes with DELETE: a change to a subscription, not a deletion of patient data.
            if method == .delete && under("/dicom-web/workitems") { return .dicomwebStore }
            switch method {
            case .get, .head: return .dicomwebRead
            case .delete: return .delete
            default: return .dicomwebStore
            }
        }
        if path == "/api/session" || path == "/api/setup" { return .signIn }
        // Whole-slide pyramids and tiles are patient data read like WADO-RS; converting a slide stores like STOW-RS.
        if under("/api/wsi") { return method == .get || method == .head ? .dicomwebRead : .dicomwebStore }
        if under("/api/admin/audit") { return .audit }
        if under("/api/admin/patients") { return .delete }
        if under("/api/admin") { return .admin }
        if under("/api/library") { return .library }
        if under("/api/lab") || under("/fhir") { return .laboratory }
        if under("/api/consultations") || under("/api/worklist") || under("/api/reports") || under("/api/critical")
            || under("/api/notifications") || under("/api/turnaround") || path == "/api/turnaround.csv" || under("/api/peer-review")
        {
            return .reading
        }
        if under("/api") { return .me }
        if under("/login") || under("/logout") || under("/static") || under("/language") { return .signIn }
        if under("/admin") { return .adminPages }
        if under("/library") { return .libraryPages }
        if under("/lab") { return .laboratoryPages }
        if under("/consultations") || under("/worklist") || under("/reports") || under("/turnaround") { return .readingPages }
        if under("/studies") || under("/upload") || under("/uploads") || under("/viewer") || under("/slide-viewer") {
            return .clinicalPages
        }
        return .page
    }
}

/// What authorization decided.
public enum AccessDecision: Sendable, Equatable {
    /// Go ahead; when `institution` is set, only that institution's studies may be seen or added to.
    case allow(institution: String?)
    /// Nobody is signed in and the route needs someone: 401.
    case unauthenticated
    /// Signed in, but not allowed: 403.
    case forbidden(String)
}

/// Who may use which route family: the table of DESIGN.md's roles, in one pure function.
///
/// | family | allowed |
/// |---|---|
/// | DICOMweb read, clinical pages | reader, curator, supervisor, admin: every study; site: its institution's studies; student: never |
/// | STOW-RS | reader, curator, admin; site: into its institution |
/// | delete | admin |
/// | admin API, audit, admin pages | admin |
/// | me | anyone signed in |
/// | teaching library (API and pages) | anyone signed in; writing and unpublished cases: curator, admin (checked by the routes) |
/// | consultations (API and pages) | site (its institution), reader, admin; then ``ReadingAccess`` per action |
/// | laboratory (API, FHIR intake, pages) | site (its institution), reader, supervisor, admin; writes checked by the routes |
///
/// A person with several roles gets the widest. An API token also needs the scope of the family: `dicomweb:read` for
/// reading, `dicomweb:write` for storing and deleting, `api` for the JSON API.
public enum AccessPolicy {
    static let seeAll: Set<Role> = [.reader, .curator, .supervisor, .admin]
    static let storeAll: Set<Role> = [.reader, .curator, .admin]

    public static func decide(_ family: RouteFamily, principal: Principal?) -> AccessDecision {
        switch family {
        case .health, .signIn, .page: return .allow(institution: nil)
        default: break
        }
        guard let principal else { return .unauthenticated }
        if case .token(let scopes) = principal.method {
            let needed: String? =
                switch family {
                case .dicomwebRead: TokenScope.dicomwebRead
                case .dicomwebStore, .delete: TokenScope.dicomwebWrite
                case .me, .admin, .audit, .library, .reading, .laboratory: TokenScope.api
                default: nil
                }
            if let needed, !scopes.contains(needed) { return .forbidden("the token lacks the \(needed) scope") }
        }
        switch family {
        case .dicomwebRead, .clinicalPages:
            return clinical(principal, everything: seeAll)
        case .dicomwebStore:
            return clinical(principal, everything: storeAll)
        case .delete, .admin, .audit, .adminPages:
            return principal.has(.admin) ? .allow(institution: nil) : .forbidden("administrators only")
        case .me, .library, .libraryPages:
            return .allow(institution: nil)
        case .reading, .readingPages, .laboratory, .laboratoryPages:
            // A student never sees the worklist or a clinical report; the action's own check (``ReadingAccess``) follows.
            if principal.roles.isDisjoint(with: [.site, .reader, .admin, .supervisor]) {
                return .forbidden("consultations are for sites, readers and administrators")
            }
            return .allow(institution: principal.has(.reader) || principal.has(.admin) ? nil : principal.institutionCode)
        case .health, .signIn, .page:
            return .allow(institution: nil)
        }
    }

    private static func clinical(_ principal: Principal, everything: Set<Role>) -> AccessDecision {
        if !principal.roles.isDisjoint(with: everything) { return .allow(institution: nil) }
        if principal.has(.site) {
            guard let code = principal.institutionCode, !code.isEmpty else {
                return .forbidden("a site user without an institution sees no studies")
            }
            return .allow(institution: code)
        }
        return .forbidden("clinical studies are not open to this role")
    }
}

/// The access scope of the DICOMweb request being served, set by ``AuthenticationMiddleware`` for the handler: the
/// institution it is limited to, who asks, and the studies it touched (for the audit event).
public final class DICOMwebAccess: Sendable {
    /// The scope of the current request; nil outside a request (or for in-process callers, who see everything).
    @TaskLocal public static var current: DICOMwebAccess?

    /// Only this institution's studies, when set.
    public let institution: String?
    /// The username (or `ae:TITLE`).
    public let user: String
    private let touched = Mutex<[(study: String, patient: String?)]>([])

    public init(institution: String?, user: String) {
        self.institution = institution
        self.user = user
    }

    /// Notes a study the request touched, with its patient's Patient ID when known (a stored instance's).
    public func touch(study: String, patient: String? = nil) {
        let patient = patient?.isEmpty == true ? nil : patient
        touched.withLock { touched in
            if let i = touched.firstIndex(where: { $0.study == study }) {
                if touched[i].patient == nil { touched[i].patient = patient }
            } else {
                touched.append((study, patient))
            }
        }
    }

    /// The studies touched so far.
    public var studies: [String] { touched.withLock { $0.map(\.study) } }

    /// The studies touched so far grouped by patient, in the order first touched (nil: studies of no known patient).
    public var studiesByPatient: [(patient: String?, studies: [String])] {
        var groups: [(patient: String?, studies: [String])] = []
        for (study, patient) in touched.withLock({ $0 }) {
            if let i = groups.firstIndex(where: { $0.patient == patient }) {
                groups[i].studies.append(study)
            } else {
                groups.append((patient, [study]))
            }
        }
        return groups
    }

    /// Refuses `bytes` when the scope is limited to an institution and the object would join a study that another
    /// institution already holds: a site may add to its own studies and start new ones, never another's.
    func refuseForeignStudy(_ bytes: [UInt8], archive: Archive, name: String) async throws(ArchiveError) {
        guard let institution, let header = try? DICOMFile.read(bytes, options: .stopBeforePixelData),
            let study = header.dataSet.string(.studyInstanceUID)
        else { return }
        let held = try await archive.index.instances(studyInstanceUID: study, seriesInstanceUID: nil, sopInstanceUID: nil)
        if held.isEmpty { return }
        let own = try await archive.index.instances(
            studyInstanceUID: study, seriesInstanceUID: nil, sopInstanceUID: nil, institution: institution)
        if own.isEmpty {
            throw .invalidIdentifier(source: name, tag: .studyInstanceUID, reason: "belongs to another institution")
        }
    }
}
