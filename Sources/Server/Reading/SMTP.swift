import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import Reading

/// Where e-mail goes: an SMTP relay, `smtp://[user[:password]@]host[:port][?tls=…&auth=…&ca=…]` (RFC 5321).
/// `tls`: `opportunistic` (the default: STARTTLS when the relay offers it, RFC 3207), `starttls` (required: no mail goes
/// without it), `none` (never). `auth`: the preferred SASL mechanism when a user is given, `plain` (RFC 4616, the
/// default) or `login`; credentials go only over TLS unless `tls=none` says otherwise. `ca`: a PEM file of the CAs that
/// sign the relay's certificate (else the system's); the certificate must name the host.
public struct SMTPRelay: Sendable, Equatable {
    public enum TLSMode: String, Sendable, Equatable {
        case opportunistic, starttls, none
    }

    public enum Mechanism: String, Sendable, Equatable {
        case plain, login
    }

    public var host: String
    public var port: Int
    public var username: String?
    public var password: String?
    public var tls: TLSMode
    public var mechanism: Mechanism
    public var caFile: String?

    public init?(url: String) {
        guard let components = URLComponents(string: url), components.scheme?.lowercased() == "smtp", let host = components.host,
            !host.isEmpty
        else { return nil }
        self.host = host
        self.port = components.port ?? 25
        guard (1...65535).contains(port) else { return nil }
        username = components.percentEncodedUser.flatMap { $0.removingPercentEncoding }.flatMap { $0.isEmpty ? nil : $0 }
        password = components.percentEncodedPassword.flatMap { $0.removingPercentEncoding }
        var tls = TLSMode.opportunistic
        var mechanism = Mechanism.plain
        var caFile: String?
        for item in components.queryItems ?? [] {
            switch item.name.lowercased() {
            case "tls":
                guard let value = item.value.flatMap({ TLSMode(rawValue: $0.lowercased()) }) else { return nil }
                tls = value
            case "auth":
                guard let value = item.value.flatMap({ Mechanism(rawValue: $0.lowercased()) }) else { return nil }
                mechanism = value
            case "ca":
                guard let value = item.value, !value.isEmpty else { return nil }
                caFile = value
            default:
                return nil
            }
        }
        self.tls = tls
        self.mechanism = mechanism
        self.caFile = caFile
    }
}

/// Why a message was not handed to the relay.
public enum SMTPError: Error, Equatable, CustomStringConvertible {
    case connection(String)
    /// TLS could not be set up (no STARTTLS offered when it is required, an untrusted certificate, a failed handshake).
    case tls(String)
    /// Credentials are configured but cannot be used (no TLS, or no mechanism in common).
    case authentication(String)
    /// The relay answered `code` to `command` (the text as it said it).
    case refused(command: String, code: Int, text: String)
    case closed(after: String)

    public var description: String {
        switch self {
        case .connection(let reason): "cannot reach the SMTP relay: \(reason)"
        case .tls(let reason): "no TLS with the SMTP relay: \(reason)"
        case .authentication(let reason): "cannot authenticate to the SMTP relay: \(reason)"
        case .refused(let command, let code, let text): "the SMTP relay answered \(code) to \(command): \(text)"
        case .closed(let after): "the SMTP relay closed the connection after \(after)"
        }
    }
}

/// The pure parts of SMTP (RFC 5321) and of the message (RFC 5322, RFC 2047): tested without sockets.
public enum SMTP {
    /// Dot-stuffing (RFC 5321 4.5.2): a line that starts with "." gets another; lines end in CRLF; the data ends with
    /// CRLF.CRLF.
    public static func dataBlock(_ message: String) -> String {
        let lines = message.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
            .split(separator: "\n", omittingEmptySubsequences: false)
        var out = lines.map { $0.hasPrefix(".") ? "." + $0 : String($0) }
        if out.last == "" { out.removeLast() }
        return out.joined(separator: "\r\n") + "\r\n.\r\n"
    }

    /// An RFC 2047 encoded word for a header value that is not ASCII (UTF-8, base64), else the value as is.
    public static func encodedWord(_ text: String) -> String {
        if text.unicodeScalars.allSatisfy({ $0.isASCII && $0.value >= 0x20 }) { return text }
        return "=?UTF-8?B?" + Data(text.utf8).base64EncodedString() + "?="
    }

    /// The message: headers, a blank line, a UTF-8 text body sent as 8bit.
    public static func message(from: String, to: String, subject: String, body: String, date: Date, messageID: String) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss '+0000'"
        return [
            "From: \(from)", "To: \(to)", "Subject: \(encodedWord(subject))", "Date: \(formatter.string(from: date))",
            "Message-ID: <\(messageID)>", "MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: 8bit", "Auto-Submitted: auto-generated", "", body,
        ].joined(separator: "\r\n")
    }

    /// Reads one reply (possibly multi-line, `250-…` then `250 …`) from the front of `buffer`; nil until it is whole.
    public static func reply(from buffer: inout [UInt8]) -> (code: Int, text: String)? {
        replyLines(from: &buffer).map { ($0.code, $0.lines.joined(separator: " ")) }
    }

    /// The service extensions of an EHLO reply's lines (RFC 5321 4.1.1.1: the first line is the domain): keyword →
    /// parameters, keywords upper-cased (`AUTH` → `["PLAIN", "LOGIN"]`, `STARTTLS` → `[]`).
    public static func extensions(ehlo lines: [String]) -> [String: [String]] {
        var out: [String: [String]] = [:]
        for line in lines.dropFirst() {
            let words = line.split(separator: " ").map { String($0).uppercased() }
            guard let keyword = words.first else { continue }
            out[keyword, default: []] += words.dropFirst()
        }
        return out
    }

    /// The initial response of AUTH PLAIN (RFC 4616): base64 of NUL, the user, NUL, the password.
    public static func plainResponse(username: String, password: String) -> String {
        Data([0] + Array(username.utf8) + [0] + Array(password.utf8)).base64EncodedString()
    }

    /// Like ``reply(from:)``, with each line's text (without the code) kept apart.
    public static func replyLines(from buffer: inout [UInt8]) -> (code: Int, lines: [String])? {
        var lines: [String] = []
        var start = 0
        while let end = buffer[start...].firstIndex(of: UInt8(ascii: "\n")) {
            var line = String(decoding: buffer[start..<end], as: UTF8.self)
            if line.hasSuffix("\r") { line.removeLast() }
            lines.append(line)
            start = end + 1
            let bytes = Array(line.utf8)
            if bytes.count < 4 || bytes[3] == UInt8(ascii: " ") {
                buffer.removeFirst(start)
                let code = Int(line.prefix(3)) ?? 0
                return (code, lines.map { String($0.dropFirst(min(4, $0.count))) })
            }
        }
        return nil
    }
}

/// Hands messages to the relay, one connection per message: EHLO, STARTTLS and EHLO again when there is TLS, AUTH
/// when a user is configured, MAIL FROM, RCPT TO, DATA, QUIT (RFC 5321 3.3, RFC 3207, RFC 4954).
public struct SMTPClient: Sendable {
    public let relay: SMTPRelay
    public let from: String
    public let heloName: String

    public init(relay: SMTPRelay, from: String, heloName: String = "atrium") {
        self.relay = relay
        self.from = from
        self.heloName = heloName
    }

    /// The TLS context for the relay: TLS 1.2 or later, the certificate verified against `caFile` (or the system's CAs).
    func tlsContext() throws(SMTPError) -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        configuration.certificateVerification = .fullVerification
        do {
            if let caFile = relay.caFile { configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caFile)) }
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw .tls("\(error)")
        }
    }

    public func send(to recipient: String, subject: String, body: String, date: Date = Date()) async throws(SMTPError) {
        let message = SMTP.message(
            from: from, to: recipient, subject: subject, body: body, date: date, messageID: "\(UUID().uuidString.lowercased())@atrium")
        let context = relay.tls == .none ? nil : try tlsContext()
        let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
        do {
            channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(.seconds(10))
                .connect(host: relay.host, port: relay.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            throw .connection("\(error)")
        }
        let relay = self.relay
        let heloName = self.heloName
        let from = self.from
        do {
            try await channel.executeThenClose { inbound, outbound in
                var replies = inbound.makeAsyncIterator()
                var pending: [UInt8] = []
                func expect(_ command: String, _ accepted: ClosedRange<Int>) async throws -> [String] {
                    while true {
                        if let (code, lines) = SMTP.replyLines(from: &pending) {
                            guard accepted.contains(code) else {
                                throw SMTPError.refused(command: command, code: code, text: lines.joined(separator: " "))
                            }
                            return lines
                        }
                        guard let chunk = try await replies.next() else { throw SMTPError.closed(after: command) }
                        pending += chunk.readableBytesView
                    }
                }
                func say(_ line: String) async throws { try await outbound.write(ByteBuffer(string: line + "\r\n")) }
                _ = try await expect("the greeting", 220...220)
                try await say("EHLO \(heloName)")
                var extensions = SMTP.extensions(ehlo: try await expect("EHLO", 250...250))
                var secured = false
                if let context {
                    if extensions["STARTTLS"] != nil {
                        try await say("STARTTLS")
                        _ = try await expect("STARTTLS", 220...220)
                        // Nothing may be read ahead of the handshake (RFC 3207 5: a reply pipelined before it is an attack).
                        guard pending.isEmpty else { throw SMTPError.tls("the relay sent data before the TLS handshake") }
                        // Server Name Indication carries host names only; for an IP address the certificate is checked
                        // against the address.
                        let hostname = (try? SocketAddress(ipAddress: relay.host, port: 0)) == nil ? relay.host : nil
                        let handler = try NIOSSLClientHandler(context: context, serverHostname: hostname)
                        try await channel.channel.pipeline.addHandler(handler, position: .first).get()
                        try await say("EHLO \(heloName)")
                        extensions = SMTP.extensions(ehlo: try await expect("EHLO after STARTTLS", 250...250))
                        secured = true
                    } else if relay.tls == .starttls {
                        throw SMTPError.tls("the relay does not offer STARTTLS")
                    }
                }
                if let username = relay.username {
                    guard secured || relay.tls == .none else {
                        throw SMTPError.authentication("credentials go over TLS only (tls=none in the relay URL allows it)")
                    }
                    let offered = Set(extensions["AUTH"] ?? [])
                    let password = relay.password ?? ""
                    let usePlain = offered.contains("PLAIN") && (relay.mechanism == .plain || !offered.contains("LOGIN"))
                    if usePlain {
                        try await say("AUTH PLAIN " + SMTP.plainResponse(username: username, password: password))
                        _ = try await expect("AUTH PLAIN", 235...235)
                    } else if offered.contains("LOGIN") {
                        try await say("AUTH LOGIN")
                        _ = try await expect("AUTH LOGIN", 334...334)
                        try await say(Data(username.utf8).base64EncodedString())
                        _ = try await expect("AUTH LOGIN user name", 334...334)
                        try await say(Data(password.utf8).base64EncodedString())
                        _ = try await expect("AUTH LOGIN password", 235...235)
                    } else {
                        throw SMTPError.authentication(
                            "the relay offers neither PLAIN nor LOGIN (AUTH \(offered.sorted().joined(separator: " ")))")
                    }
                }
                try await say("MAIL FROM:<\(from)>")
                _ = try await expect("MAIL FROM", 250...250)
                try await say("RCPT TO:<\(recipient)>")
                _ = try await expect("RCPT TO", 250...251)
                try await say("DATA")
                _ = try await expect("DATA", 354...354)
                try await outbound.write(ByteBuffer(string: SMTP.dataBlock(message)))
                _ = try await expect("the message", 250...250)
                try await say("QUIT")
                _ = try? await expect("QUIT", 221...221)
            }
        } catch let error as SMTPError {
            throw error
        } catch {
            throw .connection("\(error)")
        }
    }
}

/// Sends what the mail outbox holds (``ReadingStore/dueMail(limit:)``), once a round of the maintenance loop: a relay
/// that fails only delays its mails (retried with backoff, logged with the mail's id and kind, never its text or
/// address); it never holds up a change of the workflow, which wrote its mails before the relay was tried.
struct ReadingMailer: Sendable {
    let store: ReadingStore
    let client: SMTPClient
    let retrySeconds: Double
    let logger: Logger

    func sendDue() async {
        let due: [OutboxMail]
        do {
            due = try await store.dueMail()
        } catch {
            logger.error("reading the mail outbox failed", metadata: ["error": "\(error)"])
            return
        }
        for mail in due {
            do {
                try await client.send(to: mail.recipient, subject: mail.subject, body: mail.body)
                try? await store.markMailSent(id: mail.id)
                logger.info("e-mail sent", metadata: ["mail": "\(mail.id)", "kind": "\(mail.kind)", "request": "\(mail.requestID)"])
            } catch {
                logger.warning(
                    "e-mail not sent; retried later",
                    metadata: ["mail": "\(mail.id)", "kind": "\(mail.kind)", "attempt": "\(mail.attempts + 1)", "error": "\(error)"])
                try? await store.markMailFailed(id: mail.id, attempts: mail.attempts, error: "\(error)", retrySeconds: retrySeconds)
            }
        }
    }
}
