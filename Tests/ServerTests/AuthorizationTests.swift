import Archive
import AtriumTesting
import DICOM
import Foundation
import Platform
import Server
import Testing

/// Who calls, in the matrix: nobody, or a person with one role (site users of two institutions).
private enum Caller: String, CaseIterable, CustomStringConvertible {
    case anonymous, siteA, siteB, reader, curator, student, supervisor, admin

    var description: String { rawValue }

    var roles: Set<Role> {
        switch self {
        case .anonymous: []
        case .siteA, .siteB: [.site]
        case .reader: [.reader]
        case .curator: [.curator]
        case .student: [.student]
        case .supervisor: [.supervisor]
        case .admin: [.admin]
        }
    }

    var institution: String? {
        switch self {
        case .siteA: "HOSPITAL_A"
        case .siteB: "HOSPITAL_B"
        default: nil
        }
    }
}

/// The route families of the matrix.
private enum Family: String, CaseIterable, CustomStringConvertible {
    case qido, wado, metadata, rendered, stow, delete, adminAPI, audit, me

    var description: String { rawValue }
}

/// The expected status of each caller on each family, written out by hand from the role table of DESIGN.md (and
/// docs/api.md), against study A (belonging to HOSPITAL_A). A site user of another institution gets 404 for study A: it
/// does not learn that the study exists. STOW-RS stores a new study of the caller's own.
private let expected: [Caller: [Family: Int]] = [
    .anonymous: [.qido: 401, .wado: 401, .metadata: 401, .rendered: 401, .stow: 401, .delete: 401, .adminAPI: 401, .audit: 401, .me: 401],
    .siteA: [.qido: 200, .wado: 200, .metadata: 200, .rendered: 200, .stow: 200, .delete: 403, .adminAPI: 403, .audit: 403, .me: 200],
    .siteB: [.qido: 200, .wado: 404, .metadata: 404, .rendered: 404, .stow: 200, .delete: 403, .adminAPI: 403, .audit: 403, .me: 200],
    .reader: [.qido: 200, .wado: 200, .metadata: 200, .rendered: 200, .stow: 200, .delete: 403, .adminAPI: 403, .audit: 403, .me: 200],
    .curator: [.qido: 200, .wado: 200, .metadata: 200, .rendered: 200, .stow: 200, .delete: 403, .adminAPI: 403, .audit: 403, .me: 200],
    .student: [.qido: 403, .wado: 403, .metadata: 403, .rendered: 403, .stow: 403, .delete: 403, .adminAPI: 403, .audit: 403, .me: 200],
    .supervisor: [.qido: 200, .wado: 200, .metadata: 200, .rendered: 200, .stow: 403, .delete: 403, .adminAPI: 403, .audit: 403, .me: 200],
    .admin: [.qido: 200, .wado: 200, .metadata: 200, .rendered: 200, .stow: 200, .delete: 200, .adminAPI: 200, .audit: 200, .me: 200],
]

/// A copy of a corpus file with fresh Study, Series and SOP Instance UIDs, as a STOW-RS body file.
private func freshStudy(from path: String, directory: String) throws -> (study: String, body: String, bytes: [UInt8]) {
    var file = try DICOMFile.read(contentsOf: path)
    let root = "2.25.\(UInt64.random(in: 1...UInt64.max))"
    file.dataSet.set(.studyInstanceUID, .UI, root + ".1")
    file.dataSet.set(.seriesInstanceUID, .UI, root + ".2")
    file.dataSet.set(.sopInstanceUID, .UI, root + ".3")
    file.fileMetaInformation.set(.mediaStorageSOPInstanceUID, .UI, root + ".3")
    let bytes = try file.encoded()
    var body = Data("--xyz\r\nContent-Type: application/dicom\r\n\r\n".utf8)
    body += Data(bytes)
    body += Data("\r\n--xyz--\r\n".utf8)
    let bodyPath = directory + "/" + root + ".multipart"
    FileManager.default.createFile(atPath: bodyPath, contents: body)
    return (root + ".1", bodyPath, bytes)
}

/// The JSON object in a response body (empty when it is none).
private func jsonDictionary(_ text: String) -> [String: Any] {
    (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
}

private let multipart = "Content-Type: multipart/related; type=\"application/dicom\"; boundary=xyz"

@Suite("Authorization", .serialized)
struct AuthorizationTests {
    @Test("Every role (and anonymous, and site users of two institutions) against every route family: the expected status")
    func matrix() async throws {
        let server = try await TestServer.start()
        let directory = try Corpus.temporaryDirectory("atrium-authz")
        let root = try Corpus.pydicomDataDirectory() + "/test_files/"
        // Study A belongs to HOSPITAL_A, study B to HOSPITAL_B (as if stored by their PACS).
        let a = try await server.server.archive.store(
            file: root + "CT_small.dcm", source: SourceInfo(applicationEntityTitle: "PACS_A", institution: "HOSPITAL_A", transport: .cStore)
        )
        let b = try await server.server.archive.store(
            file: root + "MR_small.dcm", source: SourceInfo(applicationEntityTitle: "PACS_B", institution: "HOSPITAL_B", transport: .cStore)
        )
        var tokens: [Caller: String] = [:]
        for caller in Caller.allCases where caller != .anonymous {
            tokens[caller] = try await server.server.testToken(caller.rawValue, roles: caller.roles, institution: caller.institution)
        }
        let instanceA = "/dicom-web/studies/\(a.studyInstanceUID)/series/\(a.seriesInstanceUID)/instances/\(a.sopInstanceUID)"
        var failures: [String] = []
        for caller in Caller.allCases {
            for family in Family.allCases {
                var headers: [String] = []
                var bodyFile: String?
                let method: String
                let path: String
                switch family {
                case .qido: (method, path) = ("GET", "/dicom-web/studies")
                case .wado: (method, path) = ("GET", "/dicom-web/studies/\(a.studyInstanceUID)")
                case .metadata: (method, path) = ("GET", "/dicom-web/studies/\(a.studyInstanceUID)/metadata")
                case .rendered: (method, path) = ("GET", instanceA + "/rendered")
                case .stow:
                    let fresh = try freshStudy(from: root + "rtdose.dcm", directory: directory)
                    (method, path, bodyFile) = ("POST", "/dicom-web/studies", fresh.body)
                    headers.append(multipart)
                case .delete:
                    // A study of its own for each caller, so that a refused deletion can be told from a missing study.
                    let fresh = try freshStudy(from: root + "rtdose.dcm", directory: directory)
                    _ = try await server.server.archive.store(fresh.bytes, source: SourceInfo(transport: .importer))
                    (method, path) = ("DELETE", "/dicom-web/studies/\(fresh.study)")
                case .adminAPI: (method, path) = ("GET", "/api/admin/people")
                case .audit: (method, path) = ("GET", "/api/admin/audit?limit=5")
                case .me: (method, path) = ("GET", "/api/me")
                }
                if let token = tokens[caller] { headers.append("Authorization: Bearer \(token)") }
                let answer = try await server.curl(method, path, headers: headers, bodyFile: bodyFile, anonymous: true)
                let want = expected[caller]?[family] ?? -1
                if answer.status != want {
                    failures.append("\(caller) \(family) \(method) \(path): \(answer.status), expected \(want): \(answer.body.prefix(200))")
                }
                // What a site user's search returns: its institution's studies only.
                if family == .qido, answer.status == 200 {
                    let studies = try #require(try JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [[String: Any]])
                    let uids = Set(studies.compactMap { (($0["0020000D"] as? [String: Any])?["Value"] as? [String])?.first })
                    switch caller {
                    case .siteA: #expect(uids.contains(a.studyInstanceUID) && !uids.contains(b.studyInstanceUID), "siteA sees \(uids)")
                    case .siteB: #expect(!uids.contains(a.studyInstanceUID) && uids.contains(b.studyInstanceUID), "siteB sees \(uids)")
                    default: #expect(uids.isSuperset(of: [a.studyInstanceUID, b.studyInstanceUID]), "\(caller) sees \(uids)")
                    }
                }
            }
        }
        #expect(failures.isEmpty, "\(failures.count) cells differ:\n\(failures.joined(separator: "\n"))")
        await server.stop()
    }

    @Test("A site user's upload belongs to its institution; it cannot add to another institution's study")
    func siteUploadsBelongToTheirInstitution() async throws {
        let server = try await TestServer.start()
        let directory = try Corpus.temporaryDirectory("atrium-authz-site")
        let root = try Corpus.pydicomDataDirectory() + "/test_files/"
        let siteA = try await server.server.testToken("clerk-a", roles: [.site], institution: "HOSPITAL_A")
        let siteB = try await server.server.testToken("clerk-b", roles: [.site], institution: "HOSPITAL_B")
        let fresh = try freshStudy(from: root + "CT_small.dcm", directory: directory)
        var r = try await server.curl(
            "POST", "/dicom-web/studies", headers: [multipart, "Authorization: Bearer \(siteA)"], bodyFile: fresh.body, anonymous: true)
        #expect(r.status == 200, "\(r.body)")
        let query = ArchiveQuery(level: .study, keys: [QueryKey(tag: .studyInstanceUID, vr: .UI, matcher: .single(fresh.study))])
        var mine = query
        mine.institution = "HOSPITAL_A"
        #expect(try await server.server.archive.index.find(mine).count == 1)
        mine.institution = "HOSPITAL_B"
        #expect(try await server.server.archive.index.find(mine).isEmpty)
        r = try await server.curl(
            "GET", "/dicom-web/studies/\(fresh.study)/metadata", headers: ["Authorization: Bearer \(siteB)"], anonymous: true)
        #expect(r.status == 404)
        // Site B posting an instance into A's study is refused (and stores nothing).
        var file = try DICOMFile.read(contentsOf: root + "CT_small.dcm")
        file.dataSet.set(.studyInstanceUID, .UI, fresh.study)
        file.dataSet.set(.sopInstanceUID, .UI, fresh.study + ".99")
        var body = Data("--xyz\r\nContent-Type: application/dicom\r\n\r\n".utf8) + Data(try file.encoded())
        body += Data("\r\n--xyz--\r\n".utf8)
        let path = directory + "/intrude"
        FileManager.default.createFile(atPath: path, contents: body)
        r = try await server.curl(
            "POST", "/dicom-web/studies", headers: [multipart, "Authorization: Bearer \(siteB)"], bodyFile: path, anonymous: true)
        #expect(r.status == 409, "\(r.status) \(r.body)")
        #expect(
            try await server.server.archive.index.instances(studyInstanceUID: fresh.study, seriesInstanceUID: nil, sopInstanceUID: nil)
                .count == 1)
        await server.stop()
    }

    @Test("Sign-in over the JSON API: cookie attributes, CSRF on changes, sign-out, lock-out with its audit events")
    func sessions() async throws {
        let server = try await TestServer.start()
        _ = try await server.server.testToken("nurse", roles: [.reader])
        let jar = try Corpus.temporaryDirectory("atrium-jar") + "/cookies"
        func call(_ method: String, _ path: String, _ extra: [String] = []) async throws -> (status: Int, headers: String, body: String) {
            let run = try await Subprocess.runDetached(
                "/usr/bin/curl", ["-s", "-D", "-", "-b", jar, "-c", jar, "-X", method] + extra + [server.baseURL + path])
            let text = run.output
            let split = text.range(of: "\r\n\r\n")
            let head = split.map { String(text[..<$0.lowerBound]) } ?? text
            let body = split.map { String(text[$0.upperBound...]) } ?? ""
            let status = Int(head.split(separator: " ").dropFirst().first ?? "") ?? -1
            return (status, head, body)
        }
        var r = try await call(
            "POST", "/api/session", ["-H", "Content-Type: application/json", "--data", #"{"username":"nurse","password":"wrong one!"}"#])
        #expect(r.status == 401)
        r = try await call(
            "POST", "/api/session",
            ["-H", "Content-Type: application/json", "--data", #"{"username":"nurse","password":"test password nurse"}"#])
        #expect(r.status == 200, "\(r.body)")
        let cookie = r.headers.split(separator: "\r\n").first { $0.lowercased().hasPrefix("set-cookie: atrium_session=") } ?? ""
        #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && !cookie.contains("Secure"), "\(cookie)")
        let csrf = try #require(jsonDictionary(r.body)["csrfToken"] as? String)
        r = try await call("GET", "/api/me")
        #expect(r.status == 200 && jsonDictionary(r.body)["username"] as? String == "nurse")
        r = try await call("GET", "/dicom-web/studies")
        #expect(r.status == 200)
        // A state-changing request with the cookie but without the CSRF token is refused.
        let change = ["-H", "Content-Type: application/json", "--data", #"{"current":"test password nurse","new":"a brand new password"}"#]
        r = try await call("POST", "/api/me/password", change)
        #expect(r.status == 403)
        r = try await call("POST", "/api/me/password", change + ["-H", "X-CSRF-Token: \(csrf)"])
        #expect(r.status == 204, "\(r.body)")
        r = try await call("DELETE", "/api/session", ["-H", "X-CSRF-Token: \(csrf)"])
        #expect(r.status == 204)
        r = try await call("GET", "/api/me")
        #expect(r.status == 401)
        // Form sign-in works too; five failures lock the account (429), and the lock-out is in the audit trail.
        r = try await call(
            "POST", "/api/session", ["--data-urlencode", "username=nurse", "--data-urlencode", "password=a brand new password"])
        #expect(r.status == 200)
        var statuses: [Int] = []
        for n in 1...5 {
            statuses.append(try await call("POST", "/api/session", ["--data", "username=nurse&password=nope\(n)xxxxxx"]).status)
        }
        #expect(statuses == [401, 401, 401, 401, 429])
        r = try await call(
            "POST", "/api/session", ["--data-urlencode", "username=nurse", "--data-urlencode", "password=a brand new password"])
        #expect(r.status == 429)
        await server.server.identity.audit.flush()
        let audit = try await server.curl("GET", "/api/admin/audit?user=nurse&event=110113")
        #expect(audit.status == 200)
        let events = (try? JSONSerialization.jsonObject(with: Data(audit.body.utf8))) as? [[String: Any]] ?? []
        #expect(events.contains { ($0["detail"] as? String)?.contains("locked") == true }, "\(audit.body.prefix(500))")
        // Tokens are never taken from the URL.
        r = try await call("GET", "/dicom-web/studies?access_token=\(server.token)")
        #expect(r.status == 400)
        await server.stop()
    }

    @Test("Cookies are Secure when the public URL is https")
    func secureCookies() async throws {
        var configuration = ServerConfiguration()
        configuration.dataDirectory = try Corpus.temporaryDirectory("atrium-secure")
        configuration.publicURL = "https://pacs.example.org"
        let server = try AtriumServer(configuration: configuration)
        let routes = AuthRoutes(identity: server.identity, archive: server.archive, configuration: configuration, setup: SetupToken())
        _ = try await server.testToken("doc", roles: [.reader])
        let outcome = await routes.webSignIn(username: "doc", password: "test password doc", source: "127.0.0.1")
        guard case .signedIn(let cookies) = outcome else { Issue.record("signs in: \(outcome)"); return }
        #expect(cookies.first?.secure == true && cookies.first?.httpOnly == true && cookies.first?.sameSite == .lax)
    }

    @Test("First start: the one-time setup token creates the first administrator, once")
    func firstAdministrator() async throws {
        var configuration = ServerConfiguration()
        configuration.dataDirectory = try Corpus.temporaryDirectory("atrium-setup")
        configuration.httpPort = 0
        let server = try AtriumServer(configuration: configuration)
        let token = try #require(try await server.issueSetupTokenIfNeeded())
        let (stream, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = server.makeApplication { port in continuation.yield(port) }
        let task = Task { try await app.run() }
        var ports = stream.makeAsyncIterator()
        let port = try #require(await ports.next())
        func setup(_ json: String) async throws -> Int {
            let run = try await Subprocess.runDetached(
                "/usr/bin/curl",
                [
                    "-s", "-o", "/dev/null", "-w", "%{http_code}", "-H", "Content-Type: application/json", "--data", json,
                    "http://127.0.0.1:\(port)/api/setup",
                ])
            return Int(run.output) ?? -1
        }
        #expect(try await setup(#"{"token":"wrong","username":"chief","password":"a long password 1"}"#) == 403)
        #expect(try await setup(#"{"token":"\#(token)","username":"chief","password":"short"}"#) == 400)
        #expect(try await setup(#"{"token":"\#(token)","username":"chief","password":"a long password 1"}"#) == 201)
        #expect(try await server.identity.person(username: "chief")?.roles == [.admin])
        #expect(try await setup(#"{"token":"\#(token)","username":"other","password":"a long password 2"}"#) == 409)
        #expect(try await server.issueSetupTokenIfNeeded() == nil)
        task.cancel()
        _ = await task.result
    }

    @Test("The administration API: institutions, people, roles, reset, disable, tokens, peers, audit export")
    func administration() async throws {
        let server = try await TestServer.start()
        func call(_ method: String, _ path: String, _ json: String? = nil, token: String? = nil) async throws -> (status: Int, body: String)
        {
            var headers = ["Authorization: Bearer \(token ?? server.token)"]
            var bodyFile: String?
            if let json {
                headers.append("Content-Type: application/json")
                bodyFile = try Corpus.temporaryDirectory("atrium-admin-body") + "/body.json"
                try json.write(toFile: bodyFile ?? "", atomically: true, encoding: .utf8)
            }
            return try await server.curl(method, path, headers: headers, bodyFile: bodyFile, anonymous: true)
        }
        var r = try await call(
            "POST", "/api/admin/institutions", #"{"code":"COUNTY","name":"County Hospital","kind":"grassroots-hospital"}"#)
        #expect(r.status == 201, "\(r.body)")
        let institutionID = try #require(jsonDictionary(r.body)["id"] as? Int)
        r = try await call("POST", "/api/admin/institutions", #"{"code":"X","kind":"castle"}"#)
        #expect(r.status == 400)
        r = try await call(
            "POST", "/api/admin/people",
            #"{"username":"clerk","password":"clerk password 1","roles":["site"],"institutionID":\#(institutionID),"language":"en"}"#)
        #expect(r.status == 201, "\(r.body)")
        let personID = try #require(jsonDictionary(r.body)["id"] as? Int)
        r = try await call("POST", "/api/admin/people", #"{"username":"x","password":"long enough pw","roles":["wizard"]}"#)
        #expect(r.status == 400)
        r = try await call("PUT", "/api/admin/people/\(personID)/roles", #"{"roles":["site","reader"]}"#)
        #expect(r.status == 204, "\(r.body)")
        r = try await call("GET", "/api/admin/people/\(personID)")
        #expect(
            Set(jsonDictionary(r.body)["roles"] as? [String] ?? []) == ["site", "reader"]
                && jsonDictionary(r.body)["language"] as? String == "en")
        r = try await call("POST", "/api/admin/people/\(personID)/password", #"{"password":"reset password 2"}"#)
        #expect(r.status == 204)
        r = try await call("POST", "/api/admin/tokens", #"{"username":"clerk","name":"bridge","scopes":["dicomweb:read"],"expires":"12h"}"#)
        #expect(r.status == 201, "\(r.body)")
        let created = jsonDictionary(r.body)
        let clerkToken = try #require(created["token"] as? String)
        let tokenID = try #require(created["id"] as? Int)
        #expect(try await call("GET", "/dicom-web/studies", token: clerkToken).status == 200)
        #expect(try await call("GET", "/api/me", token: clerkToken).status == 403, "the token lacks the api scope")
        r = try await call("GET", "/api/admin/tokens?userID=\(personID)")
        let listed = (try? JSONSerialization.jsonObject(with: Data(r.body.utf8))) as? [[String: Any]] ?? []
        #expect(listed.count == 1 && listed.first?["scopes"] as? [String] == ["dicomweb:read"] && !(listed.first?["expiresAt"] is NSNull))
        r = try await call("PATCH", "/api/admin/people/\(personID)", #"{"disabled":true}"#)
        #expect(r.status == 204)
        #expect(try await call("GET", "/dicom-web/studies", token: clerkToken).status == 401, "a disabled person's token stops")
        r = try await call("PATCH", "/api/admin/people/\(personID)", #"{"disabled":false}"#)
        #expect(try await call("GET", "/dicom-web/studies", token: clerkToken).status == 200)
        #expect(try await call("DELETE", "/api/admin/tokens/\(tokenID)").status == 204)
        #expect(try await call("GET", "/dicom-web/studies", token: clerkToken).status == 401, "a revoked token stops at once")
        #expect(try await call("DELETE", "/api/admin/tokens/\(tokenID)").status == 404)
        r = try await call("PUT", "/api/admin/peers/COUNTY_PACS", #"{"institutionID":\#(institutionID)}"#)
        #expect(r.status == 204)
        r = try await call("GET", "/api/admin/peers")
        let peers = (try? JSONSerialization.jsonObject(with: Data(r.body.utf8))) as? [[String: Any]] ?? []
        #expect(peers.contains { $0["aeTitle"] as? String == "COUNTY_PACS" && $0["institution"] as? String == "COUNTY" }, "\(r.body)")
        // The audit trail, exported as CSV, names what was done and to whom.
        await server.server.identity.audit.flush()
        r = try await call("GET", "/api/admin/audit?participant=clerk&format=csv")
        #expect(r.status == 200)
        let csv = try await Subprocess.runDetached(
            "python3",
            ["-c", "import csv, sys; rows = list(csv.DictReader(sys.stdin)); print(len(rows), sorted({r['detail'] for r in rows}))"],
            input: Data(r.body.utf8))
        #expect(csv.output.contains("password reset by an administrator") && csv.output.contains("disabled"), "\(csv.output)")
        #expect(csv.output.contains("API token \(tokenID) revoked"), "\(csv.output)")
        await server.stop()
    }

    @Test("atrium serve prints a one-time setup link on first start, and its token creates the first administrator over POST /api/setup")
    func setupTokenInTheBanner() async throws {
        let data = try Corpus.temporaryDirectory("atrium-serve-setup")
        let server = try await AtriumServeProcess.start(data: data)
        defer { server.process.stop() }
        var output = server.process.output
        for _ in 0..<300 where !output.contains("setup?token=") {
            try await Task.sleep(for: .milliseconds(100))
            output = server.process.output
        }
        let match = try #require(output.range(of: #"/setup\?token=[A-Za-z0-9_-]{43}"#, options: .regularExpression), "\(output)")
        let token = String(output[match].dropFirst("/setup?token=".count))
        let run = try await Subprocess.runDetached(
            "/usr/bin/curl",
            [
                "-s", "-o", "/dev/null", "-w", "%{http_code}", "-H", "Content-Type: application/json", "--data",
                #"{"token":"\#(token)","username":"chief","password":"a long password 1"}"#, server.baseURL + "/api/setup",
            ])
        #expect(run.output == "201")
        let anonymous = try await Subprocess.runDetached(
            "/usr/bin/curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", server.baseURL + "/dicom-web/studies"])
        #expect(anonymous.output == "401")
    }

    @Test("Deleting a study over DICOMweb removes its blobs and is audited with the Study Instance UID")
    func deletion() async throws {
        let server = try await TestServer.start()
        let root = try Corpus.pydicomDataDirectory() + "/test_files/"
        let stored = try await server.server.archive.store(file: root + "CT_small.dcm", source: SourceInfo(transport: .importer))
        let blob = server.dataDirectory + "/blobs"
        // The stored blobs: non-empty files. (The store keeps empty spare files, made in the background after a write,
        // so a count of every file changes by itself.)
        func storedBlobs() -> Set<String> {
            Set(
                (FileManager.default.enumerator(atPath: blob)?.allObjects as? [String] ?? []).filter {
                    let size = (try? FileManager.default.attributesOfItem(atPath: blob + "/" + $0))?[.size] as? Int ?? 0
                    var isDirectory: ObjCBool = false
                    return FileManager.default.fileExists(atPath: blob + "/" + $0, isDirectory: &isDirectory) && !isDirectory.boolValue
                        && size > 0
                })
        }
        let before = storedBlobs()
        var r = try await server.curl("DELETE", "/dicom-web/studies/\(stored.studyInstanceUID)")
        #expect(r.status == 200 && jsonDictionary(r.body)["deletedInstances"] as? Int == 1, "\(r.body)")
        let after = storedBlobs()
        #expect(after.isSubset(of: before) && before.count - after.count == 1, "\(before.subtracting(after))")
        r = try await server.curl("GET", "/dicom-web/studies/\(stored.studyInstanceUID)")
        #expect(r.status == 404)
        r = try await server.curl("DELETE", "/dicom-web/studies/\(stored.studyInstanceUID)")
        #expect(r.status == 404)
        await server.server.identity.audit.flush()
        let events = try await server.server.identity.audit.search(AuditSearch(participant: stored.studyInstanceUID))
        #expect(
            events.contains { $0.eventID == .studyDeleted && $0.action == .delete && $0.outcome == .success && $0.user == "test-admin" })
        #expect(events.contains { $0.eventID == .instancesTransferred && $0.action == .read && $0.outcome == .minorFailure })
        await server.stop()
    }

    @Test("DIMSE peers mapped to institutions: C-STORE belongs to the peer's institution, C-FIND and C-GET see only its studies")
    func dimsePeers() async throws {
        let peers = [
            PeerConfiguration(
                aeTitle: "PACS_A", host: "127.0.0.1", port: 1, institution: "HOSPITAL_A", permissions: ["store", "query", "retrieve"]),
            PeerConfiguration(
                aeTitle: "PACS_B", host: "127.0.0.1", port: 1, institution: "HOSPITAL_B", permissions: ["store", "query", "retrieve"]),
        ]
        let server = try await DIMSETestServer.start(peers: peers)
        let root = try Corpus.pydicomDataDirectory() + "/test_files/"
        let ctStudy = try DICOMFile.read(contentsOf: root + "CT_small.dcm").dataSet.string(.studyInstanceUID) ?? ""
        let mrStudy = try DICOMFile.read(contentsOf: root + "MR_small.dcm").dataSet.string(.studyInstanceUID) ?? ""
        var run = try await server.dcmtk("storescu", ["-aet", "PACS_A", "-aec", "ATRIUM"], files: [root + "CT_small.dcm"])
        #expect(run.status == 0, "\(run.output)")
        run = try await server.dcmtk("storescu", ["-aet", "PACS_B", "-aec", "ATRIUM"], files: [root + "MR_small.dcm"])
        #expect(run.status == 0, "\(run.output)")
        func find(_ aeTitle: String) async throws -> Set<String> {
            let directory = try Corpus.temporaryDirectory("atrium-find-\(aeTitle)")
            let run = try await server.dcmtk(
                "findscu",
                [
                    "-S", "-X", "-od", directory, "-aet", aeTitle, "-aec", "ATRIUM", "-k", "QueryRetrieveLevel=STUDY", "-k",
                    "StudyInstanceUID",
                ],
                seconds: 30)
            #expect(run.status == 0, "\(run.output)")
            let files = try FileManager.default.contentsOfDirectory(atPath: directory)
            return Set(try files.map { try DICOMFile.read(contentsOf: directory + "/" + $0).dataSet.string(.studyInstanceUID) ?? "" })
        }
        #expect(try await find("PACS_A") == [ctStudy])
        #expect(try await find("PACS_B") == [mrStudy])
        #expect(try await find("OTHER") == [ctStudy, mrStudy], "an unmapped (unknown) peer is not limited")
        // C-GET of A's study by B retrieves nothing; by A, the instance.
        func get(_ aeTitle: String) async throws -> Int {
            let directory = try Corpus.temporaryDirectory("atrium-get-\(aeTitle)")
            _ = try await server.dcmtk(
                "getscu",
                [
                    "-S", "-od", directory, "-aet", aeTitle, "-aec", "ATRIUM", "-k", "QueryRetrieveLevel=STUDY", "-k",
                    "StudyInstanceUID=\(ctStudy)",
                ],
                seconds: 30)
            return try FileManager.default.contentsOfDirectory(atPath: directory).count
        }
        #expect(try await get("PACS_B") == 0)
        #expect(try await get("PACS_A") == 1)
        // The C-STOREs and queries are in the audit trail under the peers' AE titles.
        let identity = server.server.identity
        await identity.audit.flush()
        let stores = try await identity.audit.search(AuditSearch(user: "ae:PACS_A", eventCode: AuditCode.instancesTransferred.code))
        #expect(stores.contains { $0.action == .create && $0.participants.contains(.study(ctStudy)) })
        #expect(stores.contains { $0.action == .read && $0.participants.contains(.study(ctStudy)) }, "the C-GET")
        #expect(try await !identity.audit.search(AuditSearch(user: "ae:PACS_B", eventCode: AuditCode.query.code)).isEmpty)
        await server.stop()
    }

    @Test("atrium institution/user/token commands work on the data directory the server then uses")
    func commandLine() async throws {
        let data = try Corpus.temporaryDirectory("atrium-cli-identity")
        let atrium = try AtriumExecutable.path()
        let passwordFile = data + "-password"
        try "county clerk password\n".write(toFile: passwordFile, atomically: true, encoding: .utf8)
        var run = try await Subprocess.runDetached(
            atrium, ["institution", "add", "COUNTY", "--kind", "grassroots-hospital", "--data", data])
        #expect(run.status == 0, "\(run.errorOutput)")
        run = try await Subprocess.runDetached(
            atrium,
            ["user", "add", "clerk", "--role", "site", "--role", "reader", "--institution", "COUNTY", "--password-file", passwordFile],
            environment: ["ATRIUM_DATA": data])
        #expect(run.status == 0, "\(run.errorOutput)")
        run = try await Subprocess.runDetached(
            atrium, ["user", "add", "bad", "--role", "wizard", "--password-file", passwordFile, "--data", data])
        #expect(run.status != 0 && run.errorOutput.contains("wizard"))
        run = try await Subprocess.runDetached(
            atrium, ["token", "create", "--user", "clerk", "--expires", "30d", "--scope", "api", "--data", data])
        #expect(run.status == 0, "\(run.errorOutput)")
        let token = String(run.output.split(separator: "\n").last ?? "")
        #expect(token.hasPrefix("atr_"))
        var configuration = ServerConfiguration()
        configuration.dataDirectory = data
        configuration.httpPort = 0
        let server = try AtriumServer(configuration: configuration)
        let (stream, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = server.makeApplication { port in continuation.yield(port) }
        let task = Task { try await app.run() }
        var ports = stream.makeAsyncIterator()
        let port = try #require(await ports.next())
        run = try await Subprocess.runDetached(
            "/usr/bin/curl", ["-s", "-H", "Authorization: Bearer \(token)", "http://127.0.0.1:\(port)/api/me"])
        let me = jsonDictionary(run.output)
        #expect(me["username"] as? String == "clerk" && me["institution"] as? String == "COUNTY", "\(run.output)")
        #expect(Set(me["roles"] as? [String] ?? []) == ["site", "reader"])
        // The token has only the api scope: DICOMweb is refused.
        run = try await Subprocess.runDetached(
            "/usr/bin/curl",
            [
                "-s", "-o", "/dev/null", "-w", "%{http_code}", "-H", "Authorization: Bearer \(token)",
                "http://127.0.0.1:\(port)/dicom-web/studies",
            ])
        #expect(run.output == "403")
        let tokens = try await server.identity.tokens()
        let expiry = try #require(tokens.first?.expiresAt)
        #expect(abs(expiry.timeIntervalSinceNow - 30 * 86400) < 600)
        task.cancel()
        _ = await task.result
    }
}
