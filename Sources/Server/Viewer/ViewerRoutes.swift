import Archive
import DICOM
import Foundation
import Hummingbird
import Logging
import Platform

/// The DICOM viewer: an HTML shell at `/viewer?study=UID` and its static modules under `/viewer/`. The viewer itself
/// runs in the browser and reads the study through WADO-RS (metadata as DICOM JSON, frames as native pixels).
public struct ViewerRoutes: Sendable {
    /// The folder of the viewer's files among the Server target's resources.
    let assetDirectory: String
    /// The interface strings; the page embeds the `viewer` group of its language.
    let locales: Locales?
    /// Where the page looks up the study's patient name, shown as people read it (``PersonName/displayed(in:)``).
    let archive: Archive?
    let logger: Logger

    public init(locales: Locales?, archive: Archive? = nil, logger: Logger = Logger(label: "atrium.viewer")) {
        self.assetDirectory = WebViews.bundledResources + "/viewer"
        self.locales = locales
        self.archive = archive
        self.logger = logger
    }

    /// Adds the routes to `router`.
    public func register(on router: Router<AtriumRequestContext>) {
        router.get("/viewer") { request, context in
            let language = WebViews.language(request: request, context: context)
            let study = request.uri.queryParameters["study"].map(String.init) ?? ""
            return self.shell(request, language: language, study: await self.studyFacts(study, language: language))
        }
        router.get("/viewer/:file") { _, context in
            try self.asset(try context.parameters.require("file"))
        }
    }

    /// What the overlay shows of the study: its patient name in the reader's language, looked up within the caller's
    /// institution scope (a study the caller may not see gives nothing).
    func studyFacts(_ uid: String, language: InterfaceLanguage) async -> [String: String] {
        guard let archive, !uid.isEmpty, uid.count <= 64, uid.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }),
            var query = try? ArchiveQuery(qidoParameters: [("StudyInstanceUID", uid)], level: .study)
        else { return [:] }
        query.institution = DICOMwebAccess.current?.institution
        guard let study = try? await archive.index.find(query).first else { return [:] }
        return ["patientName": DisplayFormat.personName(study.string(.patientName), language)]
    }

    func shell(_ request: Request, language: InterfaceLanguage, study: [String: String] = [:]) -> Response {
        let html = ViewerPage.html(language: language, strings: viewerStrings(language), study: study)
        return Response(
            status: .ok,
            headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
    }

    func asset(_ name: String) throws -> Response {
        try Self.asset(name, directory: assetDirectory, logger: logger)
    }

    /// A file of a viewer's folder (this one's, the slide viewer's): only plain file names, letters, digits and dashes,
    /// then one known extension.
    static func asset(_ name: String, directory: String, logger: Logger) throws -> Response {
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty,
            parts[0].allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }),
            let type = ViewerRoutes.contentTypes[String(parts[1])]
        else { throw HTTPError(.notFound) }
        guard let data = FileManager.default.contents(atPath: directory + "/" + name) else {
            logger.warning("viewer asset missing", metadata: ["file": "\(name)"])
            throw HTTPError(.notFound)
        }
        return Response(
            status: .ok,
            headers: [.contentType: type, .cacheControl: "no-cache"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// The `viewer` group of the locale file of `language`, as dotted keys.
    func viewerStrings(_ language: InterfaceLanguage) -> [String: String] {
        guard case .group(let groups) = locales?.table(language), let viewer = groups["viewer"] else { return [:] }
        return viewer.flattened()
    }

    static let contentTypes = [
        "js": "text/javascript; charset=utf-8",
        "css": "text/css; charset=utf-8",
    ]
}

/// The viewer's HTML: a toolbar, the viewport grid and a status line; everything else is drawn by `viewer.js`.
enum ViewerPage {
    /// `assets` is where the viewer's modules are served (`/viewer`, or `/library/viewer-assets` for a teaching case);
    /// `source`, JSON already safe inside a `<script>` element, tells the viewer to read a teaching case's images and
    /// annotations instead of a study of the archive.
    static func html(
        language: InterfaceLanguage, strings: [String: String], study: [String: String] = [:], assets: String = "/viewer",
        source: String = "{}"
    ) -> String {
        """
        <!doctype html>
        <html lang="\(language.rawValue)">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>Atrium</title>
        <link rel="icon" href="data:,">
        <link rel="stylesheet" href="\(assets)/viewer.css">
        <link rel="modulepreload" href="\(assets)/dicom.js">
        <link rel="modulepreload" href="\(assets)/render.js">
        <link rel="modulepreload" href="\(assets)/measure.js">
        <link rel="modulepreload" href="\(assets)/i18n.js">
        <link rel="modulepreload" href="\(assets)/annotations.js">
        <script type="application/json" id="viewer-strings">\(scriptJSON(strings))</script>
        <script type="application/json" id="viewer-study">\(scriptJSON(study))</script>
        <script type="application/json" id="viewer-source">\(source)</script>
        <script type="module" src="\(assets)/viewer.js"></script>
        </head>
        <body class="atrium-viewer">
        <div id="viewer-app"></div>
        </body>
        </html>

        """
    }

    /// JSON safe inside a `<script>` element: `<` is escaped so that no `</script>` can end it early.
    static func scriptJSON(_ strings: [String: String]) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: strings, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self).replacingOccurrences(of: "<", with: "\\u003c")
    }
}
