import Foundation

/// A throwaway S3 server for a test: moto's server mode (`python3 -m moto.server`) on 127.0.0.1 at a free port, with
/// a bucket and an IAM access key made by boto3 (`Tests/ArchiveTests/Scripts/s3_peer.py`). Signature checking is on
/// after that setup (`INITIAL_NO_AUTH_ACTION_COUNT`), so a wrong key or a bad signature is refused as AWS would. Killed
/// when stopped or released. A missing moto is an error that says how to install it.
public final class MotoServer: @unchecked Sendable {
    /// The endpoint URL, `http://127.0.0.1:PORT`.
    public let endpoint: String
    /// The bucket made at start.
    public let bucket: String
    /// An access key allowed `s3:*`.
    public let accessKeyID: String
    public let secretAccessKey: String
    private let process: PeerProcess

    /// Starts moto and makes `bucket`; returns once both are ready.
    public static func start(bucket: String = "atrium-test") async throws -> MotoServer {
        let check = try await Subprocess.runDetached("python3", ["-c", "import moto.server, boto3, flask_cors"])
        guard check.status == 0 else {
            throw PeerError("moto's server mode and boto3 are not installed: run scripts/install-deps (pip install 'moto[server]' boto3)")
        }
        let port = try LoopbackPort.free()
        let process = try PeerProcess(
            "python3", ["-m", "moto.server", "-H", "127.0.0.1", "-p", "\(port)"], environment: ["INITIAL_NO_AUTH_ACTION_COUNT": "4"])
        do {
            try await LoopbackPort.waitForListener(port, seconds: 120)
        } catch {
            throw PeerError("moto did not start: \(process.output.suffix(1500))")
        }
        let endpoint = "http://127.0.0.1:\(port)"
        let setup = try await Subprocess.runDetached("python3", [Corpus.script("ArchiveTests", "s3_peer.py"), "setup", endpoint, bucket])
        guard setup.status == 0,
            let answer = try? JSONSerialization.jsonObject(with: setup.standardOutput) as? [String: String],
            let key = answer["accessKeyId"], let secret = answer["secretAccessKey"]
        else {
            throw PeerError("s3_peer.py setup failed: \(setup.errorOutput.suffix(1500))")
        }
        return MotoServer(endpoint: endpoint, bucket: bucket, accessKeyID: key, secretAccessKey: secret, process: process)
    }

    private init(endpoint: String, bucket: String, accessKeyID: String, secretAccessKey: String, process: PeerProcess) {
        self.endpoint = endpoint
        self.bucket = bucket
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.process = process
    }

    /// The AWS environment variables a client of this server reads.
    public var environment: [String: String] {
        [
            "AWS_ACCESS_KEY_ID": accessKeyID, "AWS_SECRET_ACCESS_KEY": secretAccessKey, "AWS_REGION": "us-east-1",
            "AWS_ENDPOINT_URL": endpoint,
        ]
    }

    /// Runs `s3_peer.py COMMAND` with this server's endpoint, key and bucket, and returns its JSON answer.
    public func boto(_ command: String, _ arguments: [String]) async throws -> [String: Any] {
        let run = try await Subprocess.runDetached(
            "python3", [Corpus.script("ArchiveTests", "s3_peer.py"), command, endpoint, accessKeyID, secretAccessKey, bucket] + arguments)
        guard run.status == 0, let answer = try? JSONSerialization.jsonObject(with: run.standardOutput) as? [String: Any] else {
            throw PeerError("s3_peer.py \(command) failed: \(run.errorOutput.suffix(1500))")
        }
        return answer
    }

    /// What moto logged so far.
    public var output: String { process.output }

    /// Kills moto.
    public func stop() { process.stop() }
}
