import AtriumTesting
import Foundation
import Reading
import Server
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Runs curl (an HTTP client nobody here wrote) with the test's certificate authority; returns its standard output.
private func curl(_ arguments: [String], authority: String) async throws -> String {
    let run = try await Subprocess.runDetached("/usr/bin/curl", ["-s", "--cacert", authority] + arguments)
    return run.output
}

/// nginx as deploy/nginx/atrium.conf ships it, in a folder of the test's: ports, certificate paths and the server name
/// substituted, the upstream's one server replaced by `upstreams`, and what Debian's /etc/nginx/nginx.conf gives around it.
/// The access log names the upstream that answered each request.
struct ShippedNginx {
    let process: PeerProcess
    let https: Int
    let http: Int
    let directory: String
    /// The self-signed certificate (CN and subjectAltName 127.0.0.1), also the clients' certificate authority.
    let certificate: String

    static func start(upstreams: [Int], ports: (https: Int, http: Int)? = nil) async throws -> ShippedNginx {
        let nginx = "/usr/sbin/nginx"
        guard FileManager.default.isExecutableFile(atPath: nginx) else {
            throw PeerError("nginx is not installed: run scripts/install-deps (apt-get install -y nginx-light)")
        }
        let directory = try Corpus.temporaryDirectory("atrium-nginx")
        chmod(directory, 0o755)
        let certificate = directory + "/cert.pem"
        let key = directory + "/key.pem"
        let openssl = try await Subprocess.runDetached(
            "/usr/bin/openssl",
            [
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", certificate, "-days", "2", "-subj",
                "/CN=127.0.0.1",
                "-addext", "subjectAltName=IP:127.0.0.1",
            ])
        guard openssl.status == 0 else { throw PeerError("openssl req: \(openssl.errorOutput)") }
        let https = try ports?.https ?? LoopbackPort.free()
        let http = try ports?.http ?? LoopbackPort.free()
        var site = try String(contentsOfFile: Corpus.repositoryRoot + "/deploy/nginx/atrium.conf", encoding: .utf8)
        let servers = upstreams.map { "server 127.0.0.1:\($0);" }.joined(separator: "\n    ")
        for (shipped, here) in [
            ("listen 443 ssl http2;", "listen 127.0.0.1:\(https) ssl http2;"), ("listen 80;", "listen 127.0.0.1:\(http);"),
            ("server 127.0.0.1:8042;", servers), ("/etc/ssl/atrium/fullchain.pem", certificate),
            ("/etc/ssl/atrium/privkey.pem", key), ("server_name atrium.example.org;", "server_name 127.0.0.1;"),
        ] {
            guard site.contains(shipped) else { throw PeerError("deploy/nginx/atrium.conf no longer has \(shipped)") }
            site = site.replacingOccurrences(of: shipped, with: here)
        }
        try site.write(toFile: directory + "/atrium.conf", atomically: true, encoding: .utf8)
        let main = """
            user root;
            worker_processes 1;
            pid \(directory)/nginx.pid;
            error_log \(directory)/error.log;
            daemon off;
            events { worker_connections 256; }
            http {
                log_format upstreams '$msec $upstream_addr $status $request_method $uri';
                access_log \(directory)/access.log upstreams;
                client_body_temp_path \(directory)/body;
                proxy_temp_path \(directory)/proxy;
                fastcgi_temp_path \(directory)/fastcgi;
                uwsgi_temp_path \(directory)/uwsgi;
                scgi_temp_path \(directory)/scgi;
                include \(directory)/atrium.conf;
            }
            """
        try main.write(toFile: directory + "/nginx.conf", atomically: true, encoding: .utf8)
        let test = try await Subprocess.runDetached(nginx, ["-t", "-c", directory + "/nginx.conf", "-p", directory])
        guard test.status == 0 else { throw PeerError("nginx -t: \(test.errorOutput)") }
        let process = try PeerProcess(nginx, ["-c", directory + "/nginx.conf", "-p", directory])
        let proxy = ShippedNginx(process: process, https: https, http: http, directory: directory, certificate: certificate)
        do {
            try await LoopbackPort.waitForListener(https, seconds: 30)
        } catch {
            proxy.stop()
            throw error
        }
        return proxy
    }

    /// nginx's workers outlive a SIGKILL of their master: it is asked to stop (SIGQUIT ends the workers too), then reaped.
    func stop() {
        process.send(SIGQUIT)
        for _ in 0..<200 where process.isRunning { usleep(50_000) }
        process.stop()
    }

    /// The access log: for each request, when it ended (seconds since 1970), the upstream that answered (the last of
    /// those nginx tried, which it lists as "A, B"), the status, the method and the path.
    func accessLog() -> [(time: Double, upstream: String, status: Int, method: String, path: String)] {
        let text = (try? String(contentsOfFile: directory + "/access.log", encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ")
            guard fields.count >= 5, let time = Double(fields[0]), let status = Int(fields[fields.count - 3]) else { return nil }
            let tried = fields[1..<(fields.count - 3)].joined(separator: " ").split(separator: ",")
            let upstream = tried.last.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
            return (time, upstream, status, String(fields[fields.count - 2]), String(fields[fields.count - 1]))
        }
    }
}

@Suite("Deployment: nginx with TLS in front, the systemd unit")
struct ReverseProxyTests {
    @Test(
        "Behind deploy/nginx/atrium.conf as shipped: http redirected to https, sign-in sets a Secure cookie, dicomweb-client stores and retrieves, the worklist's events arrive unbuffered"
    )
    func nginxInFront() async throws {
        // Before the server starts: a reader, and a site's request waiting in the worklist.
        let data = try Corpus.temporaryDirectory("atrium-nginx-data")
        var configuration = ServerConfiguration()
        configuration.dataDirectory = data
        let readerToken: String
        let adminToken: String
        let itemID: Int64
        do {
            let setup = try AtriumServer(configuration: configuration)
            try await setup.reading.prepare()
            let study = try await storeFreshStudy(setup, file: "CT_small.dcm", institution: "COUNTY-A", accession: "ACC-PROXY")
            _ = try await setup.testToken("site-proxy", roles: [.site], institution: "COUNTY-A")
            readerToken = try await setup.testToken("reader-proxy", roles: [.reader], institution: "MEDCOLLEGE")
            adminToken = try await setup.testToken("admin-proxy", roles: [.admin])
            let (_, item) = try await setup.reading.file(
                NewConsultationRequest(
                    priority: .urgent, referringPhysician: "", clinicalHistory: "", question: "Proxy?", studies: [study]),
                institution: "COUNTY-A", by: ReadingActor(username: "site-proxy", displayName: "site-proxy"))
            itemID = item.id
        }
        let ports = (https: try LoopbackPort.free(), http: try LoopbackPort.free())
        let server = try await AtriumServeProcess.start(
            data: data, environment: ["ATRIUM_PUBLIC_URL": "https://127.0.0.1:\(ports.https)"])
        defer { server.process.stop() }
        let nginx = try await ShippedNginx.start(upstreams: [server.httpPort], ports: ports)
        defer { nginx.stop() }
        let (https, http, certificate) = (nginx.https, nginx.http, nginx.certificate)
        let base = "https://127.0.0.1:\(https)"

        // Plain http is sent to https.
        let redirect = try await curl(
            ["-o", "/dev/null", "-w", "%{http_code} %{redirect_url}", "http://127.0.0.1:\(http)/viewer"], authority: certificate)
        #expect(redirect.hasPrefix("301 https://127.0.0.1"), "\(redirect)")

        // Sign-in through the proxy: the session cookie is Secure and HttpOnly (publicURL is https).
        let signIn = try await curl(
            [
                "-D", "-", "-o", "/dev/null", "-H", "Content-Type: application/json", "--data",
                #"{"username":"reader-proxy","password":"test password reader-proxy"}"#, base + "/api/session",
            ], authority: certificate)
        let cookie = signIn.split(whereSeparator: \.isNewline).first { $0.lowercased().hasPrefix("set-cookie:") }.map(String.init) ?? ""
        #expect(signIn.hasPrefix("HTTP/2 200") || signIn.hasPrefix("HTTP/2 201"), "\(signIn)")
        #expect(cookie.contains("Secure") && cookie.contains("HttpOnly"), "\(signIn)")

        // DICOMweb through the proxy over HTTP/2 and TLS: dicomweb-client stores a file and reads it back equal (pydicom).
        let script = """
            import sys, pydicom, requests
            from pydicom.data import get_testdata_file
            from dicomweb_client.api import DICOMwebClient
            session = requests.Session()
            session.verify = sys.argv[2]
            session.headers["Authorization"] = "Bearer " + sys.argv[3]
            client = DICOMwebClient(url=sys.argv[1] + "/dicom-web", session=session)
            sent = pydicom.dcmread(get_testdata_file("MR_small.dcm"))
            client.store_instances([sent])
            got = client.retrieve_instance(sent.StudyInstanceUID, sent.SeriesInstanceUID, sent.SOPInstanceUID)
            assert got.PixelData == sent.PixelData and got.PatientName == sent.PatientName, "retrieved differs"
            print("ok")
            """
        let dicomweb = try await Subprocess.runDetached(
            "python3", ["-c", script, base, certificate, adminToken], environment: ["REQUESTS_CA_BUNDLE": certificate])
        #expect(dicomweb.status == 0 && dicomweb.output.contains("ok"), "\(dicomweb.output)\(dicomweb.errorOutput)")

        // Server-Sent Events through the proxy: the stream's first line arrives at once, and a claim made through the proxy
        // reaches it as an event, without waiting for a buffer to fill.
        let events = try PeerProcess(
            "/usr/bin/curl",
            ["-s", "-N", "--cacert", certificate, "-H", "Authorization: Bearer \(readerToken)", base + "/api/worklist/events"])
        defer { events.stop() }
        var waited = 0
        while !events.output.contains(": connected"), waited < 200 {
            try await Task.sleep(for: .milliseconds(50))
            waited += 1
        }
        #expect(events.output.contains(": connected"), "\(events.output)")
        let claim = try await curl(
            [
                "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", "-H", "Authorization: Bearer \(readerToken)",
                base + "/api/worklist/\(itemID)/claim",
            ],
            authority: certificate)
        #expect(claim == "200", "\(claim)")
        waited = 0
        while !events.output.contains("event: change"), waited < 200 {
            try await Task.sleep(for: .milliseconds(50))
            waited += 1
        }
        #expect(events.output.contains("event: change") && events.output.contains("\"claimed\""), "\(events.output)")
    }

    @Test("deploy/systemd/atrium.service passes systemd-analyze verify without a warning")
    func systemdUnit() async throws {
        let analyze = "/usr/bin/systemd-analyze"
        guard FileManager.default.isExecutableFile(atPath: analyze) else {
            Issue.record("systemd-analyze is not installed: run scripts/install-deps (apt-get install -y systemd)")
            return
        }
        let unit = try String(contentsOfFile: Corpus.repositoryRoot + "/deploy/systemd/atrium.service", encoding: .utf8)
        try #require(unit.contains("ExecStart=/usr/local/bin/atrium serve"))
        // The binary this test was built with stands in for the installed one (verify checks that ExecStart exists).
        let directory = try Corpus.temporaryDirectory("atrium-systemd")
        try unit.replacingOccurrences(of: "/usr/local/bin/atrium", with: try AtriumExecutable.path())
            .write(toFile: directory + "/atrium.service", atomically: true, encoding: .utf8)
        let run = try await Subprocess.runDetached(analyze, ["verify", directory + "/atrium.service"])
        #expect(run.status == 0 && run.errorOutput.isEmpty && run.output.isEmpty, "\(run.output)\(run.errorOutput)")
        // SIGTERM is what makes atrium serve stop gracefully, within the stop timeout.
        #expect(unit.contains("KillSignal=SIGTERM"))
    }
}
