import Foundation
import Logging
import NIOCore
import NIOPosix
import Reading

/// Where e-mail goes: a plain SMTP relay (`smtp://host:port`, RFC 5321), no TLS, no authentication (a relay on the
/// server's own network, or on loopback in the tests).
public struct SMTPRelay: Sendable, Equatable {
    public var host: String
    public var port: Int

    public init?(url: String) {
        guard let components = URLComponents(string: url), components.scheme?.lowercased() == "smtp", let host = components.host,
            !host.isEmpty
        else { return nil }
        self.host = host
        self.port = components.port ?? 25
        guard (1...65535).contains(port) else { return nil }
    }
}

/// Why a message was not handed to the relay.
public enum SMTPError: Error, Equatable, CustomStringConvertible {
    case connection(String)
    /// The relay answered `code` to `command` (the text as it said it).
    case refused(command: String, code: Int, text: String)
    case closed(after: String)

    public var description: String {
        switch self {
        case .connection(let reason): "cannot reach the SMTP relay: \(reason)"
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
                return (code, lines.map { String($0.dropFirst(min(4, $0.count))) }.joined(separator: " "))
            }
        }
        return nil
    }
}

/// Hands messages to the relay, one connection per message: EHLO, MAIL FROM, RCPT TO, DATA, QUIT (RFC 5321 3.3).
public struct SMTPClient: Sendable {
    public let relay: SMTPRelay
    public let from: String
    public let heloName: String

    public init(relay: SMTPRelay, from: String, heloName: String = "atrium") {
        self.relay = relay
        self.from = from
        self.heloName = heloName
    }

    public func send(to recipient: String, subject: String, body: String, date: Date = Date()) async throws(SMTPError) {
        let message = SMTP.message(
            from: from, to: recipient, subject: subject, body: body, date: date, messageID: "\(UUID().uuidString.lowercased())@atrium")
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
        do {
            try await channel.executeThenClose { inbound, outbound in
                var replies = inbound.makeAsyncIterator()
                var pending: [UInt8] = []
                func expect(_ command: String, _ accepted: ClosedRange<Int>) async throws {
                    while true {
                        if let (code, text) = SMTP.reply(from: &pending) {
                            guard accepted.contains(code) else { throw SMTPError.refused(command: command, code: code, text: text) }
                            return
                        }
                        guard let chunk = try await replies.next() else { throw SMTPError.closed(after: command) }
                        pending += chunk.readableBytesView
                    }
                }
                func say(_ line: String) async throws { try await outbound.write(ByteBuffer(string: line + "\r\n")) }
                try await expect("the greeting", 220...220)
                try await say("EHLO \(heloName)")
                try await expect("EHLO", 250...250)
                try await say("MAIL FROM:<\(from)>")
                try await expect("MAIL FROM", 250...250)
                try await say("RCPT TO:<\(recipient)>")
                try await expect("RCPT TO", 250...251)
                try await say("DATA")
                try await expect("DATA", 354...354)
                try await outbound.write(ByteBuffer(string: SMTP.dataBlock(message)))
                try await expect("the message", 250...250)
                try await say("QUIT")
                try? await expect("QUIT", 221...221)
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
