import Foundation
import Hummingbird
import Logging
import Platform

/// The slide viewer: an HTML shell at `/slide-viewer?series=UID` and its files under `/slide-viewer/`. The viewer runs
/// in the browser on the whole-slide API (``SlideRoutes``); its strings are the `pathology.viewer` group of the locale
/// files.
public struct SlideViewerRoutes: Sendable {
    let assetDirectory: String
    let locales: Locales?
    let logger: Logger

    public init(locales: Locales?, logger: Logger = Logger(label: "atrium.slide-viewer")) {
        self.assetDirectory = WebViews.bundledResources + "/slide-viewer"
        self.locales = locales
        self.logger = logger
    }

    /// Adds the routes to `router`.
    public func register(on router: Router<AtriumRequestContext>) {
        router.get("/slide-viewer") { request, context in
            let language = WebViews.language(request: request, context: context)
            let series = request.uri.queryParameters["series"].map(String.init) ?? ""
            let safe = series.count <= 64 && series.allSatisfy { $0.isASCII && ($0.isNumber || $0 == ".") }
            let csrf = CSRF.token(request: request, context: context)
            var response = Response(
                status: .ok,
                headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
                body: ResponseBody(
                    byteBuffer: ByteBuffer(
                        string: SlideViewerPage.html(
                            language: language, strings: self.strings(language), series: safe ? series : "", csrf: csrf.token))))
            if let cookie = csrf.cookie { response.setCookie(cookie) }
            return response
        }
        router.get("/slide-viewer/:file") { _, context in
            try self.asset(try context.parameters.require("file"))
        }
    }

    func asset(_ name: String) throws -> Response {
        try ViewerRoutes.asset(name, directory: assetDirectory, logger: logger)
    }

    /// The `pathology.viewer` group of the locale file of `language`, as dotted keys.
    func strings(_ language: InterfaceLanguage) -> [String: String] {
        guard case .group(let groups) = locales?.table(language), case .group(let pathology)? = groups["pathology"],
            let viewer = pathology["viewer"]
        else { return [:] }
        return viewer.flattened()
    }
}

/// The slide viewer's HTML: everything inside is drawn by `slide.js`.
enum SlideViewerPage {
    static func html(language: InterfaceLanguage, strings: [String: String], series: String, csrf: String) -> String {
        """
        <!doctype html>
        <html lang="\(language.rawValue)">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="csrf-token" content="\(csrf)">
        <title>\(strings["title"] ?? "Atrium")</title>
        <link rel="icon" href="data:,">
        <link rel="stylesheet" href="/slide-viewer/slide.css">
        <script type="application/json" id="slide-strings">\(ViewerPage.scriptJSON(strings))</script>
        <script type="application/json" id="slide-facts">\(ViewerPage.scriptJSON(["series": series]))</script>
        <script type="module" src="/slide-viewer/slide.js"></script>
        </head>
        <body class="atrium-slide-viewer">
        <div id="slide-app"></div>
        </body>
        </html>

        """
    }
}
