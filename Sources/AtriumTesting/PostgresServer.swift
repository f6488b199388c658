import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A throwaway PostgreSQL server on loopback for a test: `initdb` into a temporary directory (trust authentication),
/// `postgres` listening on 127.0.0.1 at a free port with its socket in that directory, killed (SIGKILL) and removed
/// when stopped or released. As root it runs as the `postgres` user (PostgreSQL refuses root), through `runuser`.
/// A missing PostgreSQL is an error that says how to install it.
public final class PostgresServer: @unchecked Sendable {
    /// The TCP port on 127.0.0.1.
    public let port: Int
    private let directory: String
    private let binaries: String
    private var process: PeerProcess
    private let command: (String, [String])
    /// With `tls`: the PEM file of the certificate authority that signed the server's certificate (for `sslrootcert`).
    public let certificateAuthorityFile: String?

    /// Initialises a cluster and starts the server; returns once it accepts connections. With `tls`, the server also
    /// accepts TLS (`ssl=on`) with a certificate for `localhost` and 127.0.0.1, signed by a certificate authority made
    /// by openssl for this server alone (``certificateAuthorityFile``).
    public static func start(tls: Bool = false) async throws -> PostgresServer {
        // initdb and the readiness checks block: they run on threads of their own, off the cooperative pool.
        let server = try await Subprocess.onThread { try PostgresServer(tls: tls) }
        try await server.waitUntilReady()
        return server
    }

    private init(tls: Bool) throws {
        binaries = try Self.binaryDirectory()
        directory = try Corpus.temporaryDirectory("postgres")
        if geteuid() == 0 {
            let chown = try Subprocess.run("chown", ["-R", "postgres:postgres", directory])
            guard chown.status == 0 else { throw PeerError("chown postgres \(directory): \(chown.errorOutput)") }
        }
        let initdb = try Self.run(
            binaries + "/initdb", ["-D", directory + "/data", "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C", "--no-sync"])
        guard initdb.status == 0 else { throw PeerError("initdb failed: \(initdb.output)\(initdb.errorOutput)") }
        port = try LoopbackPort.free()
        var settings = ["-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "max_connections=100"]
        if tls {
            let certificates = try Self.makeCertificates(in: directory)
            settings += ["-c", "ssl=on", "-c", "ssl_cert_file=\(certificates.certificate)", "-c", "ssl_key_file=\(certificates.key)"]
            certificateAuthorityFile = certificates.authority
        } else {
            certificateAuthorityFile = nil
        }
        command = Self.command(binaries + "/postgres", ["-D", directory + "/data", "-p", "\(port)", "-k", directory] + settings)
        process = try PeerProcess(command.0, command.1)
    }

    /// Shuts the server down as `pg_ctl stop -m fast` does (SIGINT to the postmaster: sessions are ended, the data is
    /// checkpointed) and waits until it is gone; ``startAgain()`` brings it back on the same port and data. Not safe to
    /// call while another task uses this object's other methods.
    public func shutDown() async throws {
        if let pid = postmasterID() { kill(pid, SIGINT) }
        let deadline = Date().addingTimeInterval(60)
        while process.isRunning || LoopbackPort.canConnect(port) {
            guard Date() < deadline else { throw PeerError("postgres did not shut down within 60 s: \(process.output.suffix(1500))") }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Starts the server again after ``shutDown()``; returns once it accepts connections.
    public func startAgain() async throws {
        process = try PeerProcess(command.0, command.1)
        try await waitUntilReady()
    }

    private func postmasterID() -> Int32? {
        guard let text = try? String(contentsOfFile: directory + "/data/postmaster.pid", encoding: .utf8),
            let line = text.split(separator: "\n").first, let pid = Int32(line.trimmingCharacters(in: .whitespaces)), pid > 0
        else { return nil }
        return pid
    }

    /// The URL of `database` on this server.
    public func url(database: String) -> String { "postgres://postgres@127.0.0.1:\(port)/\(database)" }

    /// Creates a database and returns its URL.
    public func createDatabase(_ name: String) async throws -> String {
        let (program, arguments) = Self.command(
            binaries + "/psql", ["-h", "127.0.0.1", "-p", "\(port)", "-U", "postgres", "-d", "postgres", "-c", "CREATE DATABASE \(name)"])
        let psql = try await Subprocess.onThread { try Subprocess.run(program, arguments, currentDirectory: "/tmp") }
        guard psql.status == 0 else { throw PeerError("CREATE DATABASE \(name): \(psql.errorOutput)") }
        return url(database: name)
    }

    /// Runs `sql` (one or more statements, as a script) with psql on `database`; returns psql's unaligned, tab-separated
    /// output. With `stopOnError` (the default) the first failing statement ends the script and makes this throw.
    public func psql(database: String, _ sql: String, stopOnError: Bool = true) async throws -> ProcessResult {
        let file = try Corpus.temporaryDirectory("psql") + "/script.sql"
        try sql.write(toFile: file, atomically: true, encoding: .utf8)
        chmod(file, 0o644)
        chmod((file as NSString).deletingLastPathComponent, 0o755)
        let (program, arguments) = Self.command(
            binaries + "/psql",
            [
                "-h", "127.0.0.1", "-p", "\(port)", "-U", "postgres", "-d", database, "-X", "-q", "-A", "-t", "-F", "\t", "-v",
                "ON_ERROR_STOP=\(stopOnError ? 1 : 0)", "-f", file,
            ])
        let run = try await Subprocess.onThread { try Subprocess.run(program, arguments, currentDirectory: "/tmp") }
        if stopOnError, run.status != 0 { throw PeerError("psql on \(database): \(run.errorOutput)") }
        return run
    }

    /// The path of one of PostgreSQL's client programs (`pg_dump`, `pg_restore`, `psql`) of the installed version.
    public static func clientProgram(_ name: String) throws -> String { try binaryDirectory() + "/" + name }

    /// What the server logged so far.
    public var output: String { process.output }

    private func waitUntilReady() async throws {
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            let ready = try await Subprocess.runDetached(binaries + "/pg_isready", ["-h", "127.0.0.1", "-p", "\(port)", "-U", "postgres"])
            if ready.status == 0 { return }
            guard process.isRunning else { throw PeerError("postgres exited: \(process.output)") }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw PeerError("postgres did not accept connections within 60 s: \(process.output)")
    }

    /// Kills the postmaster (its backends exit on their own when it dies) and removes the cluster.
    public func stop() {
        if let pid = postmasterID() { kill(pid, SIGKILL) }
        process.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    deinit { stop() }

    /// A certificate authority and a server certificate it signed for `localhost` and 127.0.0.1, made with openssl in
    /// `directory/tls`; the key is the postgres user's, mode 0600, as PostgreSQL requires.
    private static func makeCertificates(in directory: String) throws -> (authority: String, certificate: String, key: String) {
        let tls = directory + "/tls"
        try FileManager.default.createDirectory(atPath: tls, withIntermediateDirectories: true)
        try "subjectAltName=DNS:localhost,IP:127.0.0.1\n".write(toFile: tls + "/server.ext", atomically: true, encoding: .utf8)
        let steps: [[String]] = [
            [
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", tls + "/ca.key", "-out", tls + "/ca.pem", "-days", "2",
                "-subj", "/CN=Atrium test CA",
            ],
            [
                "req", "-newkey", "rsa:2048", "-nodes", "-keyout", tls + "/server.key", "-out", tls + "/server.csr", "-subj",
                "/CN=localhost",
            ],
            [
                "x509", "-req", "-in", tls + "/server.csr", "-CA", tls + "/ca.pem", "-CAkey", tls + "/ca.key", "-CAcreateserial",
                "-out", tls + "/server.crt", "-days", "2", "-extfile", tls + "/server.ext",
            ],
        ]
        for step in steps {
            let run = try Subprocess.run("openssl", step, currentDirectory: tls)
            guard run.status == 0 else { throw PeerError("openssl \(step[0]) failed: \(run.errorOutput)") }
        }
        if geteuid() == 0 {
            let chown = try Subprocess.run("chown", ["-R", "postgres:postgres", tls])
            guard chown.status == 0 else { throw PeerError("chown postgres \(tls): \(chown.errorOutput)") }
        }
        guard chmod(tls + "/server.key", 0o600) == 0 else { throw PeerError("chmod \(tls)/server.key failed") }
        return (tls + "/ca.pem", tls + "/server.crt", tls + "/server.key")
    }

    /// Debian's newest `/usr/lib/postgresql/N/bin`, or the directory of `postgres` in PATH.
    static func binaryDirectory() throws -> String {
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).compactMap(Int.init).sorted()
        for version in versions.reversed() where FileManager.default.isExecutableFile(atPath: "\(root)/\(version)/bin/postgres") {
            return "\(root)/\(version)/bin"
        }
        if let path = try? Subprocess.resolve("postgres") { return (path as NSString).deletingLastPathComponent }
        throw PeerError(
            "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/postgres): run scripts/install-deps, "
                + "which runs apt-get install -y postgresql")
    }

    /// `executable` with `arguments`, as the postgres user when running as root.
    static func command(_ executable: String, _ arguments: [String]) -> (String, [String]) {
        geteuid() == 0 ? ("runuser", ["-u", "postgres", "--", executable] + arguments) : (executable, arguments)
    }

    private static func run(_ executable: String, _ arguments: [String]) throws -> ProcessResult {
        let (program, args) = command(executable, arguments)
        return try Subprocess.run(program, args, currentDirectory: "/tmp")
    }
}
