import AtriumTesting
import Foundation
import Platform
import Server
import Testing

/// The start banner of an `atrium serve` process, read from its output.
private struct Banner {
    /// The labelled lines (`web:`, `DICOMweb:`, `setup:`…) in the order printed.
    var lines: [(label: String, value: String)] = []
    /// `demo:` lines: username → password.
    var demoPasswords: [String: String] = [:]

    init(_ output: String) {
        for line in output.split(separator: "\n") where line.hasPrefix("  ") {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard let colon = trimmed.firstIndex(of: ":") else { continue }
            let label = String(trimmed[..<colon])
            let value = trimmed[trimmed.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            lines.append((label, value))
            if label == "demo" {
                let fields = value.split(separator: " ", omittingEmptySubsequences: true)
                if let user = fields.first, let password = fields.last { demoPasswords[String(user)] = String(password) }
            }
        }
    }

    func value(_ label: String) -> String? { lines.first { $0.label == label }?.value }

    /// Waits until the process has printed its banner (the `data:` line comes after every address).
    static func read(_ server: AtriumServeProcess) async throws -> Banner {
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            if server.process.output.contains("  data:") {
                // The banner is one write; a moment more lets the reader see all of it.
                try await Task.sleep(for: .milliseconds(300))
                return Banner(server.process.output)
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw PeerError("atrium serve printed no banner:\n\(server.process.output)")
    }
}

/// Runs `atrium ARGUMENTS` to its end.
private func runAtrium(_ arguments: [String]) async throws -> ProcessResult {
    try await Subprocess.runDetached(try AtriumExecutable.path(), arguments)
}

private func requireChromium() throws {
    try Chromium.require()
}

private func screenshots(_ name: String) -> String {
    (ProcessInfo.processInfo.environment["ATRIUM_SCREENSHOTS"] ?? Corpus.repositoryRoot + "/.build/screenshots") + "/" + name
}

/// The HTTP status of `GET url` (curl).
private func status(_ url: String) async throws -> Int {
    let run = try await Subprocess.runDetached("/usr/bin/curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", url])
    return Int(run.output) ?? -1
}

@Suite("First run: the start banner, the setup page and the demo people", .serialized)
struct FirstRunTests {
    @Test(
        "On a fresh folder the banner names the web page first and a one-time setup link; a restart replaces the link; in Chromium the link creates the first administrator, who signs in"
    )
    func setupLinkInTheBrowser() async throws {
        try requireChromium()
        let data = try Corpus.temporaryDirectory("atrium-first-run")
        var server = try await AtriumServeProcess.start(data: data)
        var banner = try await Banner.read(server)
        server.process.stop()
        let labels = banner.lines.map(\.label)
        #expect(
            Array(labels.prefix(4)) == ["web", "DICOMweb", "DIMSE", "metrics"],
            "the banner's addresses: \(labels)\n\(server.process.output)")
        #expect(banner.value("web") == server.baseURL + "/")
        let firstLink = try #require(banner.value("setup"), "no setup link:\n\(server.process.output)")
        #expect(firstLink.hasPrefix(server.baseURL + "/setup?token="))
        let firstToken = String(firstLink.dropFirst((server.baseURL + "/setup?token=").count))
        #expect(
            server.process.output.components(separatedBy: firstToken).count == 2,
            "the token is printed once, in the link, not in a log line")
        #expect(banner.demoPasswords.isEmpty, "no demo accounts without --demo")

        // A restart on the same folder (still without an administrator) prints a new link; the old one stops working.
        server = try await AtriumServeProcess.start(data: data)
        defer { server.process.stop() }
        banner = try await Banner.read(server)
        let link = try #require(banner.value("setup"), "no setup link after the restart:\n\(server.process.output)")
        #expect(link.hasPrefix(server.baseURL + "/setup?token=") && !link.hasSuffix(firstToken), "a restart issues a new token")
        #expect(try await status(server.baseURL + "/setup?token=" + firstToken) == 403, "the link from before the restart")
        #expect(try await status(link) == 200)

        let run = try await Subprocess.runDetached(
            "python3",
            [
                Corpus.script("ServerTests", "first_run.py"), "setup", server.baseURL, link, LocaleFiles.directory,
                screenshots("first-run-setup"),
            ])
        #expect(run.status == 0, "\(run.output)\(run.errorOutput.suffix(3000))")
        #expect(run.output.hasSuffix("ok\n"))
        #expect(try await status(link) == 409, "after setup the link shows that setup is closed")
        server.process.stop()
        let people = try await runAtrium(["user", "list", "--data", data])
        #expect(people.output.contains("\tchief\tadmin\t"), "\(people.output)")
        #expect(people.output.split(separator: "\n").count == 1, "only the administrator exists: \(people.output)")
    }

    @Test("Two setup requests at the same instant create exactly one administrator")
    func concurrentSetup() async throws {
        var configuration = ServerConfiguration()
        configuration.dataDirectory = try Corpus.temporaryDirectory("atrium-setup-race")
        configuration.httpPort = 0
        configuration.host = "127.0.0.1"
        let server = try AtriumServer(configuration: configuration)
        let token = try #require(try await server.issueSetupTokenIfNeeded())
        let (stream, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = server.makeApplication { port in continuation.yield(port) }
        let task = Task { try await app.run() }
        defer { task.cancel() }
        var ports = stream.makeAsyncIterator()
        let port = try #require(await ports.next())
        // Eight clients released by one barrier, each naming another administrator.
        let script = """
            import json, sys, threading, urllib.request, urllib.error
            url, token = sys.argv[1], sys.argv[2]
            barrier = threading.Barrier(8)
            codes = [None] * 8
            def send(i):
                body = json.dumps({"token": token, "username": f"chief{i}", "password": "a long password 1"}).encode()
                request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"}, method="POST")
                barrier.wait()
                try:
                    with urllib.request.urlopen(request, timeout=60) as answer:
                        codes[i] = answer.status
                except urllib.error.HTTPError as error:
                    codes[i] = error.code
            threads = [threading.Thread(target=send, args=(i,)) for i in range(8)]
            [t.start() for t in threads]
            [t.join() for t in threads]
            print(json.dumps(codes))
            """
        let run = try await Subprocess.runDetached("python3", ["-c", script, "http://127.0.0.1:\(port)/api/setup", token])
        let codes = try #require(try? JSONSerialization.jsonObject(with: run.standardOutput) as? [Int], "\(run.errorOutput)")
        #expect(codes.filter { $0 == 201 }.count == 1, "answers: \(codes)")
        #expect(codes.allSatisfy { [201, 403, 409].contains($0) }, "answers: \(codes)")
        let admins = try await server.identity.people().filter { $0.roles.contains(.admin) }
        #expect(admins.count == 1, "administrators: \(admins.map(\.username))")
        #expect(try await server.issueSetupTokenIfNeeded() == nil)
    }

    @Test(
        "--demo makes four institutions and one person per role with printed passwords; in Chromium each signs in and finds their role's home; atrium demo remove removes them and a new --demo start makes new passwords"
    )
    func demoPeopleInTheBrowser() async throws {
        try requireChromium()
        let data = try Corpus.temporaryDirectory("atrium-first-run-demo")
        var server = try await AtriumServeProcess.start(data: data, arguments: ["--demo"])
        let banner = try await Banner.read(server)
        let expected: Set = [
            "demo-admin", "demo-site", "demo-site-b", "demo-reader", "demo-reader2", "demo-curator", "demo-student", "demo-supervisor",
            "demo-health", "demo-doctor",
        ]
        #expect(Set(banner.demoPasswords.keys) == expected, "\(server.process.output)")
        #expect(Set(banner.demoPasswords.values).count == expected.count, "every demo person has a password of their own")
        #expect(banner.demoPasswords.values.allSatisfy { $0.count >= 10 })
        #expect(banner.value("setup") != nil, "a demo server still offers the setup link for a real administrator")
        let accounts = try Corpus.temporaryDirectory("atrium-demo-accounts") + "/accounts.json"
        try JSONSerialization.data(withJSONObject: banner.demoPasswords).write(to: URL(fileURLWithPath: accounts))
        let run = try await Subprocess.runDetached(
            "python3",
            [
                Corpus.script("ServerTests", "first_run.py"), "demo", server.baseURL, accounts, LocaleFiles.directory,
                screenshots("first-run-demo"),
            ])
        #expect(run.status == 0, "\(run.output)\(run.errorOutput.suffix(3000))")
        #expect(run.output.hasSuffix("ok\n"))

        // A second start with --demo makes nothing new and shows no password again.
        server.process.stop()
        server = try await AtriumServeProcess.start(data: data, arguments: ["--demo"])
        var again = try await Banner.read(server)
        server.process.stop()
        #expect(again.demoPasswords.isEmpty, "passwords are printed once: \(server.process.output)")
        #expect(server.process.output.contains("Demo accounts from an earlier start"))

        // One command removes them, saying what it removed.
        var removal = try await runAtrium(["demo", "remove", "--data", data])
        #expect(removal.status == 0, "\(removal.errorOutput)")
        for username in expected { #expect(removal.output.contains(username), "\(removal.output)") }
        #expect(removal.output.contains("MEDCOLLEGE") && removal.output.contains("COUNTY-B"), "\(removal.output)")
        // The 42 generated instances, and the SR of the demo consultation that is signed (ReadingDemo).
        #expect(removal.output.contains("removed demo studies: 43 instances"), "\(removal.output)")
        var people = try await runAtrium(["user", "list", "--data", data])
        #expect(people.output.isEmpty, "\(people.output)")

        // A new --demo start on the emptied folder makes the accounts again, with new passwords.
        server = try await AtriumServeProcess.start(data: data, arguments: ["--demo"])
        again = try await Banner.read(server)
        server.process.stop()
        #expect(Set(again.demoPasswords.keys) == expected)
        #expect(again.demoPasswords.allSatisfy { banner.demoPasswords[$0.key] != $0.value }, "passwords are generated, never fixed")

        // A folder with a person of its own gets no demo data.
        removal = try await runAtrium(["demo", "remove", "--data", data])
        let password = try Corpus.temporaryDirectory("atrium-demo-pw") + "/pw"
        try "a long password 9\n".write(toFile: password, atomically: true, encoding: .utf8)
        let added = try await runAtrium(["user", "add", "real", "--role", "reader", "--password-file", password, "--data", data])
        #expect(added.status == 0, "\(added.errorOutput)")
        server = try await AtriumServeProcess.start(data: data, arguments: ["--demo"])
        defer { server.process.stop() }
        again = try await Banner.read(server)
        server.process.stop()
        #expect(again.demoPasswords.isEmpty)
        #expect(server.process.output.contains("no demo data was added"), "\(server.process.output)")
        people = try await runAtrium(["user", "list", "--data", data])
        #expect(people.output.split(separator: "\n").count == 1 && people.output.contains("\treal\t"), "\(people.output)")
    }
}
