import AtriumTesting
import Foundation
import Laboratory
import Logging
import Platform
import Server
import ServiceLifecycle
import Testing

/// A server with its HTTP application and MLLP listener on free loopback ports, stopped by `stop()`.
final class LaboratoryTestServer: @unchecked Sendable {
    let http: Int
    let mllp: Int
    let server: AtriumServer
    let token: String
    let maximumMessageBytes: Int
    private let tasks: [Task<Void, Error>]

    var baseURL: String { "http://127.0.0.1:\(http)" }

    static func start(maximumMessageBytes: Int = 16_384, idleSeconds: Int = 300) async throws -> LaboratoryTestServer {
        var configuration = ServerConfiguration()
        configuration.dataDirectory = try Corpus.temporaryDirectory("atrium-lab-server")
        configuration.httpPort = 0
        configuration.host = "127.0.0.1"
        configuration.hl7MaximumMessageBytes = maximumMessageBytes
        configuration.hl7IdleSeconds = idleSeconds
        let server = try AtriumServer(configuration: configuration)
        try await server.laboratory.prepare()
        let (httpStream, httpContinuation) = AsyncStream.makeStream(of: Int.self)
        let app = server.makeApplication { port in httpContinuation.yield(port) }
        let (mllpStream, mllpContinuation) = AsyncStream.makeStream(of: Int.self)
        let listener = server.makeMLLPListener(port: 0) { port in mllpContinuation.yield(port) }
        let tasks = [Task { try await app.run() }, Task { try await listener.run() }]
        var httpIterator = httpStream.makeAsyncIterator()
        var mllpIterator = mllpStream.makeAsyncIterator()
        guard let http = await httpIterator.next(), let mllp = await mllpIterator.next() else {
            throw PeerError("the server did not start")
        }
        let token = try await server.testToken()
        return LaboratoryTestServer(
            http: http, mllp: mllp, server: server, token: token, maximumMessageBytes: maximumMessageBytes, tasks: tasks)
    }

    private init(http: Int, mllp: Int, server: AtriumServer, token: String, maximumMessageBytes: Int, tasks: [Task<Void, Error>]) {
        self.http = http
        self.mllp = mllp
        self.server = server
        self.token = token
        self.maximumMessageBytes = maximumMessageBytes
        self.tasks = tasks
    }

    func stop() async {
        for task in tasks { task.cancel() }
        for task in tasks { _ = await task.result }
    }

    func curl(_ method: String, _ path: String, token: String? = nil, body: String? = nil) async throws -> (status: Int, body: String) {
        var arguments = ["-s", "-o", "-", "-w", "\n%{http_code}", "-X", method]
        // An empty token: an anonymous request.
        if let bearer = Optional(token ?? self.token), !bearer.isEmpty { arguments += ["-H", "Authorization: Bearer \(bearer)"] }
        if let body {
            let file = try Corpus.temporaryDirectory("atrium-lab-body") + "/body"
            try Data(body.utf8).write(to: URL(fileURLWithPath: file))
            arguments += ["-H", "Content-Type: application/json", "--data-binary", "@" + file]
        }
        arguments.append(baseURL + path)
        let run = try await Subprocess.runDetached("/usr/bin/curl", arguments)
        var lines = run.output.split(separator: "\n", omittingEmptySubsequences: false)
        let status = Int(lines.popLast() ?? "") ?? -1
        return (status, lines.joined(separator: "\n"))
    }
}

@Suite("Laboratory results over MLLP, FHIR and the JSON API", .serialized)
struct LaboratoryServerTests {
    @Test("hl7apy's ORU^R01 over MLLP is acknowledged and queryable; malformed messages get a NAK with the reason and store nothing")
    func mllpSession() async throws {
        let server = try await LaboratoryTestServer.start()
        defer { Task { await server.stop() } }
        _ = try await server.server.testToken("lab-admin-setup", roles: [.admin], institution: "COUNTY-A")
        try await server.server.laboratory.setFacility("COUNTY-A-LAB", institution: "COUNTY-A", by: "test")
        let run = try await Subprocess.runDetached(
            "python3",
            [
                Corpus.script("ServerTests", "mllp_session.py"), "127.0.0.1", String(server.mllp), server.baseURL,
                String(server.maximumMessageBytes),
            ], environment: ["ATRIUM_TOKEN": server.token])
        #expect(run.status == 0, "mllp_session.py failed (pip install hl7apy): \(run.errorOutput.suffix(2000))")
        let report = try #require(try? JSONSerialization.jsonObject(with: run.standardOutput) as? [String: Any])
        let checks = try #require(report["checks"] as? [[Any]])
        #expect(checks.count >= 20)
        for check in checks {
            #expect(check[1] as? Bool == true, "\(check[0]): \(check[2])")
        }
        await server.stop()
    }

    @Test("FHIR bundles are stored for the site's institution; sites see only their results; reads are audited; exports validate")
    func fhirAndAccess() async throws {
        let server = try await LaboratoryTestServer.start()
        defer { Task { await server.stop() } }
        let siteA = try await server.server.testToken("lab-site-a", roles: [.site], institution: "COUNTY-A")
        let siteB = try await server.server.testToken("lab-site-b", roles: [.site], institution: "COUNTY-B")
        let student = try await server.server.testToken("lab-student", roles: [.student])
        let directory = try Corpus.temporaryDirectory("atrium-lab-fhir")
        let bundlePath = directory + "/bundle.json"
        let make = try await Subprocess.runDetached("python3", [Corpus.script("LaboratoryTests", "fhir_check.py"), "make", bundlePath])
        #expect(make.status == 0, "\(make.errorOutput.suffix(1500))")
        let bundle = try String(contentsOfFile: bundlePath, encoding: .utf8)
        var r = try await server.curl("POST", "/fhir/r4", token: siteA, body: bundle)
        #expect(r.status == 201, "\(r.body)")
        let created = try #require(try JSONSerialization.jsonObject(with: Data(r.body.utf8)) as? [String: Any])
        let id = try #require((created["resultSets"] as? [String])?.first)
        r = try await server.curl("POST", "/fhir/r4", token: siteA, body: #"{"resourceType":"Bundle","type":"collection","entry":[]}"#)
        #expect(r.status == 400 && r.body.contains("OperationOutcome"), "\(r.body)")
        r = try await server.curl("POST", "/fhir/r4", token: student, body: bundle)
        #expect(r.status == 403)

        r = try await server.curl("GET", "/api/lab/result-sets/\(id)", token: siteA)
        #expect(r.status == 200, "\(r.body)")
        let detail = try #require(try JSONSerialization.jsonObject(with: Data(r.body.utf8)) as? [String: Any])
        #expect(detail["institution"] as? String == "COUNTY-A")
        let observations = try #require(detail["observations"] as? [[String: Any]])
        #expect(observations.first?["flag"] as? String == "LL")
        // Creatinine 1.2 mg/dL is 106.1 µmol/L: high for a woman of 36 (41–73).
        #expect(observations.last?["canonicalUnit"] as? String == "umol/L")
        #expect(observations.last?["flag"] as? String == "H")
        r = try await server.curl("GET", "/api/lab/result-sets/\(id)", token: siteB)
        #expect(r.status == 404)
        r = try await server.curl("GET", "/api/lab/result-sets", token: siteB)
        #expect(r.body.trimmingCharacters(in: .whitespacesAndNewlines) == "[]")
        r = try await server.curl("GET", "/api/lab/result-sets", token: student)
        #expect(r.status == 403)
        r = try await server.curl("GET", "/api/lab/history?patient=F-9001&loinc=2823-3", token: siteA)
        #expect(r.status == 200 && r.body.contains("2.5"), "\(r.body)")

        // The export validates with fhir.resources.
        r = try await server.curl("GET", "/api/lab/result-sets/\(id)/fhir", token: siteA)
        #expect(r.status == 200)
        try Data(r.body.utf8).write(to: URL(fileURLWithPath: directory + "/export.json"))
        let validate = try await Subprocess.runDetached(
            "python3", [Corpus.script("LaboratoryTests", "fhir_check.py"), "validate", directory + "/export.json"])
        #expect(validate.status == 0, "\(validate.errorOutput.suffix(1500))")
        #expect(validate.output.contains("\"2823-3\""))

        // Intervals and facilities are written by administrators only.
        r = try await server.curl("PUT", "/api/lab/facilities/X-LAB", token: siteA, body: #"{"institution":"COUNTY-A"}"#)
        #expect(r.status == 403)
        r = try await server.curl("PUT", "/api/lab/facilities/X-LAB", body: #"{"institution":"COUNTY-A"}"#)
        #expect(r.status == 200, "\(r.body)")
        r = try await server.curl("GET", "/api/lab/reference-ranges", token: siteA)
        #expect(r.status == 200 && r.body.contains("405-2012"), "\(r.body.prefix(300))")

        // QC over the API: materials, runs, violations, the chart.
        r = try await server.curl(
            "POST", "/api/lab/qc/materials", token: siteA,
            body: #"{"loinc":"2823-3","analyte":"Potassium","name":"K L1","mean":4.0,"sd":0.1,"unit":"mmol/L"}"#)
        #expect(r.status == 201, "\(r.body)")
        let material = try #require((try JSONSerialization.jsonObject(with: Data(r.body.utf8)) as? [String: Any])?["id"] as? Int)
        for (day, value) in [(1, 4.05), (2, 4.25), (3, 4.23)] {
            r = try await server.curl(
                "POST", "/api/lab/qc/runs", token: siteA, body: #"{"at":"2026-11-0\#(day)T08:00:00Z","values":{"\#(material)":\#(value)}}"#)
            #expect(r.status == 201, "\(r.body)")
        }
        r = try await server.curl("GET", "/api/lab/qc/violations", token: siteA)
        #expect(r.body.contains("\"2-2s\""), "\(r.body)")
        r = try await server.curl("GET", "/api/lab/qc/violations", token: siteB)
        #expect(r.body.trimmingCharacters(in: .whitespacesAndNewlines) == "[]")
        r = try await server.curl("GET", "/api/lab/qc/materials/\(material)/chart.svg", token: siteA)
        #expect(r.status == 200 && r.body.hasPrefix("<svg"))

        // Every read is in the audit trail, with the patient as participant.
        await server.server.identity.audit.flush()
        let events = try await server.server.identity.audit.search(AuditSearch(user: "lab-site-a"))
        #expect(events.contains { $0.detail.contains("result set \(id) viewed") && $0.participants.contains { $0.id == "F-9001" } })
        #expect(events.contains { $0.detail.contains("received as FHIR") })
        await server.stop()
    }
    @Test("A connection that stays silent past hl7IdleSeconds is closed by the listener; one that sends is answered first")
    func idleConnections() async throws {
        let server = try await LaboratoryTestServer.start(idleSeconds: 2)
        defer { Task { await server.stop() } }
        // The client waits up to 60 s: the listener, not the client's timeout, must end the connection.
        let script = """
            import socket, sys
            s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=60)
            s.sendall(b"\\x0bMSH|^~\\\\&|LIS|NOWHERE|||20261201||ORU^R01|IDLE1|P|2.5\\rPID|1||X\\x1c\\r")
            answer = b""
            while not answer.endswith(b"\\x1c\\r"):
                answer += s.recv(4096)
            print("answered" if b"MSA|AR|IDLE1" in answer else "wrong answer")
            print("closed" if s.recv(10) == b"" else "open")
            """
        let run = try await Subprocess.runDetached("python3", ["-c", script, String(server.mllp)])
        #expect(run.status == 0, "\(run.errorOutput.suffix(1500))")
        #expect(run.output == "answered\nclosed\n", "\(run.output)")
        await server.stop()
    }

    @Test("On a taken port the demo's own MLLP port is given up with a warning, a configured one fails the server")
    func takenPort() async throws {
        let first = try await LaboratoryTestServer.start()
        defer { Task { await first.stop() } }
        for optional in [true, false] {
            var configuration = ServerConfiguration()
            configuration.dataDirectory = try Corpus.temporaryDirectory("atrium-lab-taken")
            configuration.host = "127.0.0.1"
            configuration.hl7Port = first.mllp
            configuration.hl7PortOptional = optional
            let server = try AtriumServer(configuration: configuration)
            let group = ServiceGroup(services: [server.makeMLLPListener()], logger: Logger(label: "test"))
            let run = Task { try await group.run() }
            await group.triggerGracefulShutdown()
            let result = await run.result
            if optional {
                #expect(throws: Never.self) { try result.get() }
            } else {
                #expect(throws: (any Error).self) { try result.get() }
            }
        }
        await first.stop()
    }

    @Test("Each role against the laboratory routes: the status the role table gives (written out by hand)")
    func roleMatrix() async throws {
        let server = try await LaboratoryTestServer.start()
        defer { Task { await server.stop() } }
        try await server.server.laboratory.setFacility("A-LAB", institution: "HOSPITAL_A", by: "test")
        var tokens: [String: String] = [:]
        for (name, role, institution) in [
            ("siteA", Role.site, "HOSPITAL_A" as String?), ("siteB", .site, "HOSPITAL_B"), ("reader", .reader, nil),
            ("curator", .curator, nil), ("student", .student, nil), ("supervisor", .supervisor, nil), ("admin", .admin, nil),
        ] {
            tokens[name] = try await server.server.testToken("lab-matrix-\(name)", roles: [role], institution: institution)
        }
        let message = [
            "MSH|^~\\&|LIS|A-LAB|ATRIUM|ATRIUM|20261201080000||ORU^R01|MX1|P|2.5", "PID|1||PM1^^^A^MR||王^五||19700101|M",
            "OBR|1|P1|F1|24323-8^Panel^LN|||20261201080000", "OBX|1|NM|2823-3^Potassium^LN||4.0|mmol/L|||||F",
        ].joined(separator: "\r")
        let outcome = await HL7Intake(store: server.server.laboratory).receive(Array(message.utf8))
        let id = try #require(outcome.stored.first)
        let bundle =
            #"{"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":"Patient","identifier":[{"value":"X1"}]}},{"resource":{"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"2823-3"}]},"valueQuantity":{"value":4.2,"unit":"mmol/L"}}}]}"#
        // anonymous, siteA, siteB, reader, curator, student, supervisor, admin
        let callers = ["anonymous", "siteA", "siteB", "reader", "curator", "student", "supervisor", "admin"]
        let expected: [(String, String, String?, [Int])] = [
            ("GET", "/api/lab/result-sets/\(id)", nil, [401, 200, 404, 200, 403, 403, 200, 200]),
            ("GET", "/api/lab/qc/violations", nil, [401, 200, 200, 200, 403, 403, 200, 200]),
            ("GET", "/lab/result-sets/\(id)", nil, [302, 200, 404, 200, 403, 403, 200, 200]),
            ("POST", "/fhir/r4", bundle, [401, 201, 201, 403, 403, 403, 403, 400]),
            ("PUT", "/api/lab/facilities/B-LAB", #"{"institution":"HOSPITAL_B"}"#, [401, 403, 403, 403, 403, 403, 403, 200]),
            (
                "POST", "/api/lab/reference-ranges", #"{"loinc":"2823-3","name":"K","low":3.4,"high":5.2,"unit":"mmol/L"}"#,
                [401, 403, 403, 403, 403, 403, 403, 201]
            ),
        ]
        for (method, path, body, statuses) in expected {
            for (caller, status) in zip(callers, statuses) {
                let answer =
                    caller == "anonymous"
                    ? try await server.curl(method, path, token: "", body: body)
                    : try await server.curl(method, path, token: tokens[caller], body: body)
                #expect(answer.status == status, "\(caller) \(method) \(path): \(answer.status) \(answer.body.prefix(200))")
            }
        }
        await server.stop()
    }
}
