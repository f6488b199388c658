import Archive
import Foundation
import Hummingbird

/// The administration pages. Institutions, people and tokens are lists and forms whose script (`static/js/admin.js`)
/// reads and changes them through the identity service's JSON API (`data-api`); DICOM peers and storage and index
/// status are rendered here.
extension WebRoutes {
    /// The administration sections: key (locale `admin.<key>`), path, and the JSON API the page's script reads.
    static let administrationSections: [(key: String, api: String?)] = [
        ("institutions", "/api/admin/institutions"), ("people", "/api/admin/people"), ("peers", nil), ("tokens", "/api/admin/tokens"),
        ("storage", nil),
    ]

    func registerAdministration(on router: Router<AtriumRequestContext>) {
        router.get("/admin") { request, context in
            let language = WebViews.language(request: request, context: context)
            let sections = Self.administrationSections.map { section -> [String: Any] in
                [
                    "href": "/admin/" + section.key, "title": self.views.locales.text("admin.\(section.key).title", language),
                    "text": self.views.locales.text("admin.\(section.key).text", language),
                ]
            }
            return self.views.page(
                "admin", title: self.text("admin.title", request, context), section: .admin, data: ["sections": sections],
                request: request, context: context)
        }
        for section in Self.administrationSections where section.api != nil {
            router.get("/admin/\(section.key)") { request, context in
                self.views.page(
                    "admin-\(section.key)", title: self.text("admin.\(section.key).title", request, context), section: .admin,
                    data: ["api": section.api ?? ""], request: request, context: context)
            }
        }
        router.get("/admin/peers") { request, context in
            let peers = self.configuration.peers.map { peer -> [String: Any] in
                [
                    "aeTitle": peer.aeTitle, "host": peer.host, "port": peer.port, "institution": peer.institution ?? "",
                    "permissions": peer.permissions.joined(separator: ", "),
                ]
            }
            let data: [String: Any] = [
                "peers": peers, "empty": peers.isEmpty, "aeTitle": self.configuration.aeTitle,
                "dicomPort": self.configuration.dicomPort, "allowUnknownPeers": self.configuration.allowUnknownPeers,
            ]
            return self.views.page(
                "admin-peers", title: self.text("admin.peers.title", request, context), section: .admin, data: data, request: request,
                context: context)
        }
        router.get("/admin/storage") { request, context in
            try await self.storagePage(request, context)
        }
    }

    func storagePage(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let counts = try await archive.index.counts()
        let conflicts = (try? await archive.index.patientConflicts().count) ?? 0
        let directory = configuration.dataDirectory
        let attributes = try? FileManager.default.attributesOfFileSystem(forPath: directory)
        let free = (attributes?[.systemFreeSize] as? NSNumber)?.int64Value
        let total = (attributes?[.systemSize] as? NSNumber)?.int64Value
        var database = "SQLite"
        if let url = configuration.database {
            // Host and database name only: the URL may carry a password.
            let parsed = URLComponents(string: url)
            database = "PostgreSQL \(parsed?.host ?? "")\(parsed?.path ?? "")"
        }
        var data: [String: Any] = [
            "patients": counts.patients, "studies": counts.studies, "series": counts.series, "instances": counts.instances,
            "conflicts": conflicts, "directory": (directory as NSString).standardizingPath, "database": database,
            "duplicatePolicy": configuration.duplicatePolicy,
        ]
        if let free, let total, total > 0 {
            data["disk"] = [
                "free": DisplayFormat.bytes(free), "total": DisplayFormat.bytes(total),
                "usedPercent": Int((Double(total - free) / Double(total) * 100).rounded()),
            ]
        }
        return views.page(
            "admin-storage", title: text("admin.storage.title", request, context), section: .admin, data: data, request: request,
            context: context)
    }
}
