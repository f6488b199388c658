import AtriumTesting
import Foundation
import Platform
import Server
import Testing

/// A browser-like HTTP client: curl (which nobody here wrote) with a cookie jar, answering status, headers and body.
struct WebClient {
    let baseURL: String
    let jar: String

    init(baseURL: String) throws {
        self.baseURL = baseURL
        jar = try Corpus.temporaryDirectory("atrium-web-client") + "/cookies"
    }

    struct Answer {
        var status: Int
        var headers: [String: String]
        var body: String
    }

    func request(
        _ method: String, _ path: String, headers: [String] = [], form: [(String, String)]? = nil, bodyFile: String? = nil,
        bodyText: String? = nil
    ) async throws -> Answer {
        let headerFile = jar + ".headers-\(UUID().uuidString)"
        var arguments = ["-s", "-o", "-", "-D", headerFile, "-c", jar, "-b", jar, "-X", method]
        for h in headers { arguments += ["-H", h] }
        if let form { for (name, value) in form { arguments += ["--data-urlencode", "\(name)=\(value)"] } }
        if let bodyFile { arguments += ["--data-binary", "@" + bodyFile] }
        if let bodyText { arguments += ["--data-binary", bodyText] }
        arguments.append(baseURL + path)
        let run = try await Subprocess.runDetached("/usr/bin/curl", arguments)
        let rawHeaders = (try? String(contentsOfFile: headerFile, encoding: .utf8)) ?? ""
        try? FileManager.default.removeItem(atPath: headerFile)
        var status = -1
        var fields: [String: String] = [:]
        for line in rawHeaders.split(whereSeparator: \.isNewline) {
            if line.hasPrefix("HTTP/") {
                status = Int(line.split(separator: " ").dropFirst().first ?? "") ?? -1
            } else if let colon = line.firstIndex(of: ":") {
                let name = line[..<colon].lowercased()
                let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                fields[name] = fields[name].map { $0 + "\n" + value } ?? value
            }
        }
        return Answer(status: status, headers: fields, body: run.output)
    }

    /// Signs in through the login form; returns the session's CSRF token (from the page that follows).
    @discardableResult
    func signIn(_ username: String, password: String) async throws -> String {
        let page = try await request("GET", "/login")
        let token = try #require(Self.csrfToken(in: page.body))
        let answer = try await request("POST", "/login", form: [("csrf", token), ("username", username), ("password", password)])
        guard answer.status == 302 else { throw PeerError("sign-in as \(username) answered \(answer.status)") }
        let home = try await request("GET", "/")
        return try #require(Self.csrfToken(in: home.body))
    }

    /// The CSRF token a page embeds (`<meta name="csrf-token">`).
    static func csrfToken(in html: String) -> String? {
        guard let range = html.range(of: "name=\"csrf-token\" content=\"") else { return nil }
        return String(html[range.upperBound...].prefix { $0 != "\"" })
    }
}

/// The locale strings, read from the files in the source tree (the test's own copy of the expected texts).
enum LocaleFiles {
    static let directory = Corpus.repositoryRoot + "/Sources/Server/Resources/locales"
    static let templates = Corpus.repositoryRoot + "/Sources/Server/Resources/templates"

    /// Every string of `language`: the main file and each domain's `<domain>.<language>.json`.
    static func flattened(_ language: String) throws -> [String: String] {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory).filter {
            $0 == "\(language).json" || $0.hasSuffix(".\(language).json")
        }
        var out: [String: String] = [:]
        func walk(_ value: Any, _ prefix: String) {
            if let text = value as? String {
                out[prefix] = text
            } else if let object = value as? [String: Any] {
                for (key, child) in object { walk(child, prefix.isEmpty ? key : prefix + "." + key) }
            }
        }
        for name in names {
            walk(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: directory + "/" + name))), "")
        }
        return out
    }

    /// Text as an HTML page shows it (the five escapes Mustache applies).
    static func escaped(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
            .replacingOccurrences(of: "'", with: "&#39;")
    }
}

/// The fixtures `Scripts/make_web_fixtures.py` writes with pydicom.
struct WebFixtures: Decodable {
    struct Chinese: Decodable {
        var path: String
        var size: Int
        var studyInstanceUID: String
        var patientID: String
        var ideographic: String
        var alphabetic: String
        var accession: String
    }

    struct Zip: Decodable {
        var path: String
        var studyInstanceUID: String
        var patientID: String
        var dicomEntries: Int
        var otherEntries: Int
    }

    var chinese: Chinese
    var zip: Zip

    static func make() async throws -> WebFixtures {
        let directory = try Corpus.temporaryDirectory("atrium-web-fixtures")
        let run = try await Subprocess.runDetached("python3", [Corpus.script("ServerTests", "make_web_fixtures.py"), directory])
        guard run.status == 0 else {
            throw PeerError("make_web_fixtures.py failed (pip install pydicom, or run scripts/install-deps): \(run.errorOutput)")
        }
        return try JSONDecoder().decode(WebFixtures.self, from: Data(run.output.utf8))
    }
}

/// Pulls one JSON object out of an answer body.
func jsonObject(_ text: String) -> [String: Any] {
    (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
}

@Suite("Web application pages")
struct WebPageTests {
    @Test("Both locale files have the same keys and every key a template uses exists")
    func localeFilesMatch() throws {
        let chinese = try LocaleFiles.flattened("zh-CN")
        let english = try LocaleFiles.flattened("en")
        #expect(Set(chinese.keys) == Set(english.keys))
        #expect(!chinese.isEmpty)
        let names = try FileManager.default.contentsOfDirectory(atPath: LocaleFiles.templates).filter { $0.hasSuffix(".mustache") }
        #expect(names.contains("layout.mustache"))
        let reference = try NSRegularExpression(pattern: #"\{\{[#^/]?\s*t\.([A-Za-z0-9_.]+)\s*\}\}"#)
        for name in names {
            let text = try String(contentsOfFile: LocaleFiles.templates + "/" + name, encoding: .utf8)
            for match in reference.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                guard let range = Range(match.range(at: 1), in: text) else { continue }
                #expect(english[String(text[range])] != nil, "\(name) uses t.\(text[range]), which en.json lacks")
            }
        }
    }

    @Test("Templates hold no user-visible text of their own: every word comes from the locale files")
    func templatesHaveNoLiteralText() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: LocaleFiles.templates).filter { $0.hasSuffix(".mustache") }
        // What a reader sees: text between tags, and the attributes browsers show (placeholder, title, alt, aria-label).
        let mustache = try NSRegularExpression(pattern: #"\{\{\{?[^}]*\}?\}\}"#)
        let scripts = try NSRegularExpression(pattern: #"<(script|style)[^>]*>.*?</\1>"#, options: [.dotMatchesLineSeparators])
        let tag = try NSRegularExpression(pattern: #"<[^>]*>"#)
        let shownAttribute = try NSRegularExpression(pattern: #"(placeholder|title|alt|aria-label|value)="([^"]*)""#)
        for name in names {
            var text = try String(contentsOfFile: LocaleFiles.templates + "/" + name, encoding: .utf8)
            for regex in [mustache, scripts] {
                text = regex.stringByReplacingMatches(in: text, range: NSRange(text.startIndex..., in: text), withTemplate: " ")
            }
            for match in shownAttribute.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                guard let range = Range(match.range(at: 2), in: text) else { continue }
                let value = text[range]
                #expect(!value.contains { $0.isLetter }, "\(name): attribute text \"\(value)\" is not from a locale file")
            }
            let visible = tag.stringByReplacingMatches(in: text, range: NSRange(text.startIndex..., in: text), withTemplate: " ")
            let words = visible.split(whereSeparator: { $0.isWhitespace }).filter { $0.contains { $0.isLetter } }
            #expect(words.isEmpty, "\(name) shows literal text: \(words.prefix(5).joined(separator: " "))")
        }
    }

    @Test("Pages answer in the language of Accept-Language, the switch's cookie, and then the person's own setting")
    func languageSwitch() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let client = try WebClient(baseURL: server.baseURL)
        let english = try LocaleFiles.flattened("en")
        let chinese = try LocaleFiles.flattened("zh-CN")

        let first = try await client.request("GET", "/login", headers: ["Accept-Language: en-GB,en;q=0.9,zh;q=0.5"])
        #expect(first.status == 200)
        #expect(first.headers["content-type"]?.hasPrefix("text/html") == true)
        #expect(first.body.contains("<html lang=\"en\">"))
        #expect(first.body.contains(LocaleFiles.escaped(english["login.lead"] ?? "?")))
        let chineseFirst = try await client.request("GET", "/", headers: ["Accept-Language: zh-CN,zh;q=0.9"])
        #expect(chineseFirst.body.contains("<html lang=\"zh-CN\">"))
        #expect(chineseFirst.body.contains(chinese["home.lead"] ?? "?"))

        // The switch is a form: without the page's token nothing changes.
        let token = try #require(WebClient.csrfToken(in: first.body))
        let forged = try await client.request("POST", "/language/zh-CN", form: [("return", "/login")])
        #expect(forged.status == 403)
        let switched = try await client.request(
            "POST", "/language/zh-CN", headers: ["Accept-Language: en"], form: [("csrf", token), ("return", "/login")])
        #expect((300..<400).contains(switched.status))
        #expect(switched.headers["location"] == "/login")
        #expect(switched.headers["set-cookie"]?.contains("lang=zh-CN") == true)
        // The cookie now wins over Accept-Language.
        let after = try await client.request("GET", "/login", headers: ["Accept-Language: en"])
        #expect(after.body.contains("<html lang=\"zh-CN\">"))
        #expect(after.body.contains(chinese["login.lead"] ?? "?"))
        #expect(!after.body.contains(LocaleFiles.escaped(english["login.lead"] ?? "?")))
        // A switch never sends the browser to another site.
        let away = try await client.request("POST", "/language/en", form: [("csrf", token), ("return", "https://example.org/")])
        #expect(away.headers["location"] == "/")

        // Signed in, the switch is remembered for the person: a new browser that signs in gets it.
        let session = try await client.signIn("test-admin", password: "test password test-admin")
        _ = try await client.request("POST", "/language/en", form: [("csrf", session), ("return", "/studies")])
        let elsewhere = try WebClient(baseURL: server.baseURL)
        try await elsewhere.signIn("test-admin", password: "test password test-admin")
        let studies = try await elsewhere.request("GET", "/studies", headers: ["Accept-Language: zh-CN"])
        #expect(studies.status == 200)
        #expect(studies.body.contains("<html lang=\"en\">"))
        #expect(studies.body.contains(LocaleFiles.escaped(english["studies.lead"] ?? "?")))
        #expect(studies.body.contains("test-admin"))
    }

    @Test("The sign-in form is refused without the CSRF token it was served with")
    func signInNeedsCSRFToken() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let client = try WebClient(baseURL: server.baseURL)
        let english = try LocaleFiles.flattened("en")
        let page = try await client.request("GET", "/login", headers: ["Accept-Language: en"])
        #expect(page.status == 200)
        let token = try #require(WebClient.csrfToken(in: page.body))
        #expect(token.count >= 32)
        #expect(page.body.contains("name=\"csrf\" value=\"\(token)\""))

        let csrfMessage = LocaleFiles.escaped(try #require(english["errors.csrf"]))
        let missing = try await client.request(
            "POST", "/login", headers: ["Accept-Language: en"], form: [("username", "admin"), ("password", "secret")])
        #expect(missing.status == 403)
        #expect(missing.body.contains(csrfMessage))
        let wrong = try await client.request(
            "POST", "/login", headers: ["Accept-Language: en"],
            form: [("csrf", String(token.reversed())), ("username", "admin"), ("password", "secret")])
        #expect(wrong.status == 403)
        // Another browser (no cookie) presenting this token is refused too.
        let stranger = try WebClient(baseURL: server.baseURL)
        let stolen = try await stranger.request(
            "POST", "/login", headers: ["Accept-Language: en"], form: [("csrf", token), ("username", "admin"), ("password", "secret")])
        #expect(stolen.status == 403)
        let refused = try await client.request(
            "POST", "/login", headers: ["Accept-Language: en"], form: [("csrf", token), ("username", "test-admin"), ("password", "wrong")])
        #expect(refused.status == 401)
        #expect(refused.body.contains(LocaleFiles.escaped(try #require(english["login.refused"]))))
        let right = try await client.request(
            "POST", "/login", headers: ["Accept-Language: en"],
            form: [("csrf", token), ("username", "test-admin"), ("password", "test password test-admin"), ("return", "/studies")])
        #expect(right.status == 302)
        #expect(right.headers["location"] == "/studies")
        let studies = try await client.request("GET", "/studies")
        #expect(studies.status == 200)
        // Signed out, the pages that show studies send the browser to the sign-in page.
        let signedIn = try #require(WebClient.csrfToken(in: studies.body))
        let out = try await client.request("POST", "/logout", form: [("csrf", signedIn)])
        #expect(out.status == 302)
        let after = try await client.request("GET", "/studies")
        #expect(after.status == 302)
        #expect(after.headers["location"]?.hasPrefix("/login") == true)
    }

    @Test("Static assets carry their content type, an ETag that revalidates, and long caching on versioned URLs")
    func staticAssets() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let client = try WebClient(baseURL: server.baseURL)
        let css = try await client.request("GET", "/static/css/app.css")
        #expect(css.status == 200)
        #expect(css.headers["content-type"] == "text/css; charset=utf-8")
        let onDisk = try String(contentsOfFile: Corpus.repositoryRoot + "/Sources/Server/Resources/static/css/app.css", encoding: .utf8)
        #expect(css.body == onDisk)
        let etag = try #require(css.headers["etag"])
        #expect(css.headers["cache-control"] == "no-cache")
        let again = try await client.request("GET", "/static/css/app.css", headers: ["If-None-Match: \(etag)"])
        #expect(again.status == 304)
        #expect(again.body.isEmpty)

        let js = try await client.request("GET", "/static/js/upload.js")
        #expect(js.headers["content-type"] == "text/javascript; charset=utf-8")

        // The layout links assets with a version; those answers may be kept for a year.
        let page = try await client.request("GET", "/")
        let marker = "/static/css/app.css?v="
        let range = try #require(page.body.range(of: marker))
        let version = String(page.body[range.upperBound...].prefix { $0 != "\"" })
        let versioned = try await client.request("GET", marker + version)
        #expect(versioned.headers["cache-control"]?.contains("immutable") == true)
        #expect(try await client.request("GET", "/static/css/missing.css").status == 404)
        #expect(try await client.request("GET", "/static/../Package.swift").status == 404)
    }

    @Test("A chunked upload resumes after a dropped chunk and stores the study, which the browser then finds by Chinese name")
    func chunkedUploadResumes() async throws {
        let fixtures = try await WebFixtures.make()
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let client = try WebClient(baseURL: server.baseURL)
        try await client.signIn("test-admin", password: "test password test-admin")
        let page = try await client.request("GET", "/upload")
        #expect(page.status == 200)
        #expect(page.body.contains("webkitdirectory"))
        let token = try #require(WebClient.csrfToken(in: page.body))
        let csrf = "X-CSRF-Token: \(token)"

        let file = fixtures.chinese
        let bytes = try Data(contentsOf: URL(fileURLWithPath: file.path))
        #expect(bytes.count == file.size)
        let created = try await client.request(
            "POST", "/uploads", headers: [csrf, "Content-Type: application/json"],
            bodyText: #"{"name": "chinese.dcm", "size": \#(bytes.count)}"#)
        #expect(created.status == 201)
        let id = try #require(jsonObject(created.body)["id"] as? String)

        // Three chunks; the second is lost on the way, so the third arrives at the wrong offset.
        let cut1 = bytes.count / 3
        let cut2 = 2 * bytes.count / 3
        let directory = try Corpus.temporaryDirectory("atrium-web-chunks")
        let pieces = [bytes[0..<cut1], bytes[cut1..<cut2], bytes[cut2...]].enumerated().map { index, piece in
            (path: directory + "/chunk\(index)", data: Data(piece))
        }
        for piece in pieces { try piece.data.write(to: URL(fileURLWithPath: piece.path)) }

        let one = try await client.request("PUT", "/uploads/\(id)?offset=0", headers: [csrf], bodyFile: pieces[0].path)
        #expect(one.status == 200)
        #expect(jsonObject(one.body)["offset"] as? Int == cut1)
        let early = try await client.request("POST", "/uploads/\(id)/complete", headers: [csrf])
        #expect(early.status == 409)
        let three = try await client.request("PUT", "/uploads/\(id)?offset=\(cut2)", headers: [csrf], bodyFile: pieces[2].path)
        #expect(three.status == 409)
        #expect(jsonObject(three.body)["offset"] as? Int == cut1)
        // The client asks where to resume, then sends the rest.
        let status = try await client.request("GET", "/uploads/\(id)")
        #expect(jsonObject(status.body)["offset"] as? Int == cut1)
        #expect(try await client.request("PUT", "/uploads/\(id)?offset=\(cut1)", headers: [csrf], bodyFile: pieces[1].path).status == 200)
        #expect(try await client.request("PUT", "/uploads/\(id)?offset=\(cut2)", headers: [csrf], bodyFile: pieces[2].path).status == 200)
        // Chunks without the token, or from another person, are refused.
        #expect(try await client.request("PUT", "/uploads/\(id)?offset=\(bytes.count)", bodyText: "x").status == 403)
        _ = try await server.server.testToken("web-reader", roles: [.reader])
        let other = try WebClient(baseURL: server.baseURL)
        let otherToken = try await other.signIn("web-reader", password: "test password web-reader")
        #expect(try await other.request("GET", "/uploads/\(id)", headers: ["X-CSRF-Token: \(otherToken)"]).status == 403)

        let done = try await client.request("POST", "/uploads/\(id)/complete", headers: [csrf])
        #expect(done.status == 200)
        let results = try #require(jsonObject(done.body)["results"] as? [[String: Any]])
        #expect(results.count == 1)
        #expect(results.first?["status"] as? String == "stored")
        #expect(results.first?["studyInstanceUID"] as? String == file.studyInstanceUID)
        #expect(try await client.request("GET", "/uploads/\(id)").status == 404)

        // The archive has it, byte for byte as sent (WADO-RS through DICOMweb).
        let qido = try await client.request("GET", "/dicom-web/studies?StudyInstanceUID=\(file.studyInstanceUID)")
        #expect(qido.body.contains(file.patientID))

        // The study browser finds it by the ideographic name and shows the name as pydicom decodes it.
        let prefix = String(file.ideographic.prefix(1))
        let query = prefix.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? prefix
        let browser = try await client.request("GET", "/studies?name=*\(query)*", headers: ["Accept-Language: zh-CN"])
        #expect(browser.status == 200)
        #expect(browser.body.contains(file.ideographic))
        #expect(browser.body.contains(file.studyInstanceUID))
        let byID = try await client.request("GET", "/studies?id=\(file.patientID)")
        #expect(byID.body.contains(file.ideographic))
        let byAccession = try await client.request("GET", "/studies?accession=\(file.accession)")
        #expect(byAccession.body.contains(file.studyInstanceUID))
        let wrongDate = try await client.request("GET", "/studies?id=\(file.patientID)&from=2999-01-01")
        #expect(!wrongDate.body.contains(file.studyInstanceUID))
        let badDate = try await client.request("GET", "/studies?from=yesterday")
        #expect(badDate.status == 400)

        // The study page lists the series with a thumbnail from DICOMweb and links the viewer.
        let study = try await client.request("GET", "/studies/\(file.studyInstanceUID)")
        #expect(study.status == 200)
        #expect(study.body.contains(file.ideographic))
        #expect(study.body.contains("/viewer?study=\(file.studyInstanceUID)"))
        let thumbnail = try #require(study.body.range(of: "/dicom-web/studies/\(file.studyInstanceUID)/series/"))
        let thumbnailPath = String(study.body[thumbnail.lowerBound...].prefix { $0 != "\"" })
        #expect(thumbnailPath.hasSuffix("/thumbnail"))
        let image = try await client.request("GET", thumbnailPath, headers: ["Accept: image/png"])
        #expect(image.status == 200)
        #expect(try await client.request("GET", "/studies/1.2.3.4.5").status == 404)
    }

    @Test("A zip archive upload stores each DICOM entry, skips the rest, and the storage page counts them")
    func zipUpload() async throws {
        let fixtures = try await WebFixtures.make()
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let client = try WebClient(baseURL: server.baseURL)
        let csrf = "X-CSRF-Token: \(try await client.signIn("test-admin", password: "test password test-admin"))"
        let size = try FileManager.default.attributesOfItem(atPath: fixtures.zip.path)[.size] as? Int ?? -1
        let created = try await client.request(
            "POST", "/uploads", headers: [csrf, "Content-Type: application/json"], bodyText: #"{"name": "study.zip", "size": \#(size)}"#)
        let id = try #require(jsonObject(created.body)["id"] as? String)
        #expect(try await client.request("PUT", "/uploads/\(id)?offset=0", headers: [csrf], bodyFile: fixtures.zip.path).status == 200)
        let done = try await client.request("POST", "/uploads/\(id)/complete", headers: [csrf])
        #expect(done.status == 200)
        let results = try #require(jsonObject(done.body)["results"] as? [[String: Any]])
        let stored = results.filter { $0["status"] as? String == "stored" }
        #expect(stored.count == fixtures.zip.dicomEntries)
        #expect(stored.allSatisfy { $0["studyInstanceUID"] as? String == fixtures.zip.studyInstanceUID })
        #expect(results.filter { $0["status"] as? String == "skipped" }.count == fixtures.zip.otherEntries)

        let browser = try await client.request("GET", "/studies?id=\(fixtures.zip.patientID)")
        #expect(browser.body.contains(fixtures.zip.studyInstanceUID))
        let byInstitution = try await client.request("GET", "/studies?institution=County")
        #expect(byInstitution.body.contains(fixtures.zip.studyInstanceUID))
        let otherInstitution = try await client.request("GET", "/studies?institution=Nowhere")
        #expect(!otherInstitution.body.contains(fixtures.zip.studyInstanceUID))

        let storage = try await client.request("GET", "/admin/storage")
        #expect(storage.status == 200)
        #expect(storage.body.contains("data-count=\"instances\">\(fixtures.zip.dicomEntries)<"))
        #expect(storage.body.contains("data-count=\"studies\">1<"))
        // The other administration pages: shells whose script reads the identity service's JSON API, which answers.
        for (page, api) in [("/admin/institutions", "/api/admin/institutions"), ("/admin/people", "/api/admin/people")] {
            let shell = try await client.request("GET", page)
            #expect(shell.status == 200)
            #expect(shell.body.contains("data-api=\"\(api)\""))
            #expect(try await client.request("GET", api, headers: ["Accept: application/json"]).status == 200)
        }
        #expect(try await client.request("GET", "/admin/peers").status == 200)
    }

    @Test("A zipped DICOMDIR medium: the DICOMDIR is recognised as a directory and every file it refers to is stored")
    func dicomdirMediumUpload() async throws {
        let directory = try Corpus.temporaryDirectory("atrium-web-dicomdir")
        let made = try await Subprocess.runDetached("python3", [Corpus.script("ServerTests", "make_dicomdir_zip.py"), directory])
        guard made.status == 0 else { throw PeerError("make_dicomdir_zip.py failed (pip install pydicom): \(made.errorOutput)") }
        let medium = jsonObject(made.output)
        let path = try #require(medium["path"] as? String)
        let referenced = try #require(medium["referencedFiles"] as? Int)
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let client = try WebClient(baseURL: server.baseURL)
        let csrf = "X-CSRF-Token: \(try await client.signIn("test-admin", password: "test password test-admin"))"
        let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int ?? -1
        let created = try await client.request(
            "POST", "/uploads", headers: [csrf, "Content-Type: application/json"], bodyText: #"{"name": "medium.zip", "size": \#(size)}"#)
        let id = try #require(jsonObject(created.body)["id"] as? String)
        #expect(try await client.request("PUT", "/uploads/\(id)?offset=0", headers: [csrf], bodyFile: path).status == 200)
        let done = try await client.request("POST", "/uploads/\(id)/complete", headers: [csrf])
        let results = try #require(jsonObject(done.body)["results"] as? [[String: Any]])
        #expect(results.filter { $0["status"] as? String == "directory" }.map { $0["name"] as? String } == ["medium.zip/DICOMDIR"])
        #expect(results.filter { $0["status"] as? String == "stored" }.count == referenced)
        #expect(results.filter { $0["status"] as? String == "failed" }.isEmpty)
    }
}
