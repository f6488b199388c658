import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import Platform

/// A syslog collector reached over TLS (RFC 5425): `tls://host[:port][?ca=…&cert=…&key=…]`, port 6514 unless given.
/// `ca`: PEM file of the CAs that sign the collector's certificate (else the system's); the certificate must name the
/// host. `cert` and `key`: the client certificate chain and its unencrypted private key, for collectors that
/// authenticate their senders (RFC 5425 5.3); both or neither.
public struct SyslogTLSDestination: Sendable, Equatable {
    public var host: String
    public var port: Int
    public var caFile: String?
    public var certificateFile: String?
    public var keyFile: String?

    public init?(url: String) {
        guard let components = URLComponents(string: url), components.scheme?.lowercased() == "tls", let host = components.host,
            !host.isEmpty, components.user == nil, components.path.isEmpty || components.path == "/"
        else { return nil }
        self.host = host
        port = components.port ?? 6514
        guard (1...65535).contains(port) else { return nil }
        for item in components.queryItems ?? [] {
            guard let value = item.value, !value.isEmpty else { return nil }
            switch item.name.lowercased() {
            case "ca": caFile = value
            case "cert": certificateFile = value
            case "key": keyFile = value
            default: return nil
            }
        }
        guard (certificateFile == nil) == (keyFile == nil) else { return nil }
    }
}

/// The sink for the `auditSyslog` setting: `udp://host:port` (RFC 5426) or `tls://host:port?…` (RFC 5425).
public enum AuditSyslog {
    public static let formatHelp = "auditSyslog is udp://host:port or tls://host[:port][?ca=FILE&cert=FILE&key=FILE]"

    /// Whether `url` is a destination this server can send to (checked when the configuration is read).
    public static func isValid(_ url: String) -> Bool {
        if url.lowercased().hasPrefix("udp://") {
            guard let components = URLComponents(string: url), components.host != nil, let port = components.port else { return false }
            return (1...65535).contains(port)
        }
        return SyslogTLSDestination(url: url) != nil
    }

    public static func sink(url: String, logger: Logger) throws -> any AuditEventSink {
        if let destination = SyslogTLSDestination(url: url) { return try SyslogTLSForwarder(destination: destination, logger: logger) }
        return try SyslogForwarder(url: url)
    }
}

/// Why the TLS forwarder could not be set up.
public struct SyslogTLSError: Error, CustomStringConvertible {
    public var description: String
}

/// Forwards audit events to a syslog collector over TLS (RFC 5425): each event an RFC 5424 message carrying the DICOM
/// audit message (PS3.15 A.5.1), framed by its octet count. `send` only queues; one task keeps the connection, sends in
/// order, reconnects with a growing pause (1 s to 30 s) when the collector is away and sends again the event whose write
/// failed and those written in the 10 s before the failure (TCP takes writes a vanished collector never reads), so
/// delivery is at least once while the queue (10,000 events) lasts, and a collector may see an event twice; the oldest
/// are dropped beyond the queue, with a log line. The database trail stays the record.
public final class SyslogTLSForwarder: AuditEventSink {
    static let queueLimit = 10_000
    let destination: SyslogTLSDestination
    private let continuation: AsyncStream<Item>.Continuation

    /// What the delivering task waits for: an event to send, or a wake-up when the collector closed the connection.
    enum Item: Sendable {
        case event(AuditEvent)
        case wake
    }
    private let logger: Logger

    public init(destination: SyslogTLSDestination, logger: Logger, appName: String = "atrium") throws {
        self.destination = destination
        self.logger = logger
        let context = try Self.context(destination)
        let (stream, continuation) = AsyncStream.makeStream(of: Item.self, bufferingPolicy: .bufferingNewest(Self.queueLimit))
        self.continuation = continuation
        let hostname = ProcessInfo.processInfo.hostName.isEmpty ? "-" : String(ProcessInfo.processInfo.hostName.prefix(255))
        Task.detached {
            await Self.deliver(
                stream, wake: { continuation.yield(.wake) }, to: destination, context: context, hostname: hostname, appName: appName,
                logger: logger)
        }
    }

    deinit { continuation.finish() }

    public func send(_ event: AuditEvent) {
        if case .dropped = continuation.yield(.event(event)) {
            logger.warning(
                "the syslog queue is full: the oldest audit event was not forwarded", metadata: ["collector": "\(destination.host)"])
        }
    }

    /// Client TLS, version 1.2 or later (RFC 5425 4.2 asks for TLS; 1.0 and 1.1 are obsolete), the collector's certificate
    /// verified, the client certificate presented when configured.
    static func context(_ destination: SyslogTLSDestination) throws -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        configuration.certificateVerification = .fullVerification
        do {
            if let caFile = destination.caFile { configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caFile)) }
            if let certificateFile = destination.certificateFile, let keyFile = destination.keyFile {
                configuration.certificateChain = try NIOSSLCertificate.fromPEMFile(certificateFile).map { .certificate($0) }
                configuration.privateKey = .privateKey(try NIOSSLPrivateKey(file: keyFile, format: .pem))
            }
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw SyslogTLSError(description: "the syslog TLS settings cannot be used: \(error)")
        }
    }

    /// `MSG-LEN SP SYSLOG-MSG` (RFC 5425 4.3), the length in octets of the UTF-8 message.
    public static func frame(_ message: String) -> [UInt8] {
        let bytes = Array(message.utf8)
        return Array("\(bytes.count) ".utf8) + bytes
    }

    /// Events written within this long before a connection failed are sent again on the next one: TCP accepts writes
    /// that a collector which has gone away never reads, until the reset comes back.
    static let resendWindow = Duration.seconds(10)

    private static func deliver(
        _ stream: AsyncStream<Item>, wake: @escaping @Sendable () -> Void, to destination: SyslogTLSDestination,
        context: NIOSSLContext, hostname: String, appName: String, logger: Logger
    ) async {
        var events = stream.makeAsyncIterator()
        // What goes out before anything new: the events of a failed connection's last moments and the one whose write failed.
        var backlog: [AuditEvent] = []
        var recent: [(written: ContinuousClock.Instant, event: AuditEvent)] = []
        var pause = Duration.seconds(1)
        while true {
            if backlog.isEmpty {
                guard let next = await events.next() else { return }
                // A wake-up from an earlier connection: nothing to send.
                guard case .event(let event) = next else { continue }
                backlog.append(event)
            }
            let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
            do {
                channel = try await connect(destination, context: context)
            } catch {
                logger.warning(
                    "cannot reach the syslog collector; audit events wait in the queue",
                    metadata: ["collector": "\(destination.host):\(destination.port)", "error": "\(error)", "retry": "\(pause)"])
                try? await Task.sleep(for: pause)
                pause = min(pause * 2, .seconds(30))
                continue
            }
            do {
                try await channel.executeThenClose { inbound, outbound in
                    // The collector sends nothing; reading its side lets NIO see it close even while no event is being
                    // written, and the wake-up makes the loop below find the channel closed and send again what it
                    // wrote in the last moments (events written into a vanished collector's socket raise no error).
                    let watcher = Task {
                        do { for try await _ in inbound {} } catch {}
                        wake()
                    }
                    defer { watcher.cancel() }
                    while true {
                        if backlog.isEmpty {
                            guard let next = await events.next() else { return }
                            guard case .event(let event) = next else {
                                if channel.channel.isActive { continue }
                                throw ChannelError.ioOnClosedChannel
                            }
                            backlog.append(event)
                        }
                        // A collector that went away closes the channel when its end of stream is read; the write then
                        // fails and the events are sent again on the next connection.
                        guard channel.channel.isActive else { throw ChannelError.ioOnClosedChannel }
                        let event = backlog[0]
                        let message = SyslogForwarder.message(event, hostname: hostname, appName: appName)
                        try await outbound.write(ByteBuffer(bytes: frame(message)))
                        backlog.removeFirst()
                        recent.append((ContinuousClock.now, event))
                        if let first = recent.first, ContinuousClock.now - first.written > resendWindow {
                            let horizon = ContinuousClock.now - resendWindow
                            recent.removeAll { $0.written < horizon }
                        }
                        if recent.count > 2 * queueLimit { recent.removeFirst(recent.count - queueLimit) }
                        pause = .seconds(1)
                    }
                }
                if backlog.isEmpty { return }
            } catch {
                let since = ContinuousClock.now - resendWindow
                let again = recent.filter { $0.written >= since }.map(\.event)
                backlog = again + backlog
                recent.removeAll()
                logger.warning(
                    "the connection to the syslog collector failed; reconnecting",
                    metadata: [
                        "collector": "\(destination.host):\(destination.port)", "error": "\(error)", "retry": "\(pause)",
                        "resending": "\(again.count)",
                    ])
                try? await Task.sleep(for: pause)
                pause = min(pause * 2, .seconds(30))
            }
        }
    }

    private static func connect(_ destination: SyslogTLSDestination, context: NIOSSLContext) async throws -> NIOAsyncChannel<
        ByteBuffer, ByteBuffer
    > {
        // Server Name Indication carries host names only; for an IP address the certificate is checked against it.
        let serverHostname = (try? SocketAddress(ipAddress: destination.host, port: 0)) == nil ? destination.host : nil
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(10))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connect(host: destination.host, port: destination.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: context, serverHostname: serverHostname))
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        return channel
    }
}
