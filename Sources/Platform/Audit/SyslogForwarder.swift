import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Where audit events go besides the database: a syslog collector over UDP (``SyslogForwarder``) or over TLS (the
/// server's RFC 5425 forwarder). `send` must return at once; delivery is the sink's business.
public protocol AuditEventSink: Sendable {
    func send(_ event: AuditEvent)
}

/// Forwards audit events to a syslog collector as RFC 5424 messages over UDP (RFC 5426), each carrying the event as a
/// DICOM audit message (PS3.15 A.5.1 XML). UDP loses messages under load and is unauthenticated: the database trail is
/// the record; syslog is a copy for a SIEM.
public final class SyslogForwarder: AuditEventSink {
    /// Facility 13, "log audit" (RFC 5424 6.2.1).
    static let facility = 13
    private let socket: Int32
    private let address: Mutex<sockaddr_in>
    let host: String
    let port: Int
    let hostname: String
    let appName: String

    /// Opens a UDP socket towards `host:port` (an IPv4 address or a name).
    public init(host: String, port: Int, appName: String = "atrium") throws(PlatformError) {
        guard (1...65535).contains(port) else { throw .invalid("the syslog port is 1–65535") }
        var hints = addrinfo()
        hints.ai_family = AF_INET
        #if canImport(Glibc)
            hints.ai_socktype = Int32(SOCK_DGRAM.rawValue)
        #else
            hints.ai_socktype = SOCK_DGRAM
        #endif
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &result) == 0, let first = result, let raw = first.pointee.ai_addr else {
            throw .invalid("cannot resolve the syslog host \(host)")
        }
        let resolved = raw.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee }
        freeaddrinfo(result)
        #if canImport(Glibc)
            let fd = Glibc.socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        #else
            let fd = socket(AF_INET, SOCK_DGRAM, 0)
        #endif
        guard fd >= 0 else { throw .invalid("cannot open a UDP socket for syslog") }
        socket = fd
        address = Mutex(resolved)
        self.host = host
        self.port = port
        hostname = ProcessInfo.processInfo.hostName.isEmpty ? "-" : String(ProcessInfo.processInfo.hostName.prefix(255))
        self.appName = appName
    }

    /// Parses `udp://host:port` (the `auditSyslog` setting).
    public convenience init(url: String) throws(PlatformError) {
        guard let components = URLComponents(string: url), components.scheme == "udp", let host = components.host,
            let port = components.port
        else { throw .invalid("the syslog destination is udp://host:port, not \(url)") }
        try self.init(host: host, port: port)
    }

    deinit { close(socket) }

    /// Sends one event; failures are ignored (UDP gives no delivery guarantee anyway).
    public func send(_ event: AuditEvent) {
        let bytes = Array(Self.message(event, hostname: hostname, appName: appName).utf8)
        address.withLock { address in
            withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                    _ = bytes.withUnsafeBytes { sendto(socket, $0.baseAddress, $0.count, 0, sa, socklen_t(MemoryLayout<sockaddr_in>.size)) }
                }
            }
        }
    }

    /// The RFC 5424 message: `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID - BOM XML`.
    public static func message(_ event: AuditEvent, hostname: String, appName: String) -> String {
        // Severity 5 (notice) for success, 4 (warning) for any failure.
        let severity = event.outcome == .success ? 5 : 4
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let timestamp = formatter.string(from: event.time)
        let pid = ProcessInfo.processInfo.processIdentifier
        return "<\(facility * 8 + severity)>1 \(timestamp) \(hostname) \(appName) \(pid) DICOM+RFC3881 - \u{FEFF}"
            + auditMessageXML(event, sourceID: appName)
    }

    /// The event as a DICOM audit message (PS3.15 A.5.1 schema).
    public static func auditMessageXML(_ event: AuditEvent, sourceID: String) -> String {
        func escaped(_ text: String) -> String {
            var out = ""
            for c in text {
                switch c {
                case "&": out += "&amp;"
                case "<": out += "&lt;"
                case ">": out += "&gt;"
                case "\"": out += "&quot;"
                case "'": out += "&apos;"
                default: out.append(c)
                }
            }
            return out
        }
        func code(_ element: String, _ c: AuditCode) -> String {
            "<\(element) csd-code=\"\(escaped(c.code))\" codeSystemName=\"\(escaped(c.scheme))\" originalText=\"\(escaped(c.meaning))\"/>"
        }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        var xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><AuditMessage>"
        xml +=
            "<EventIdentification EventActionCode=\"\(event.action.rawValue)\" EventDateTime=\"\(formatter.string(from: event.time))\" "
            + "EventOutcomeIndicator=\"\(event.outcome.rawValue)\">"
        xml += code("EventID", event.eventID)
        if let type = event.eventType { xml += code("EventTypeCode", type) }
        if !event.detail.isEmpty { xml += "<EventOutcomeDescription>\(escaped(event.detail))</EventOutcomeDescription>" }
        xml += "</EventIdentification>"
        xml += "<ActiveParticipant UserID=\"\(escaped(event.user))\" UserIsRequestor=\"true\""
        if !event.sourceAddress.isEmpty {
            xml += " NetworkAccessPointID=\"\(escaped(event.sourceAddress))\" NetworkAccessPointTypeCode=\"2\""
        }
        xml += "/>"
        xml += "<AuditSourceIdentification AuditSourceID=\"\(escaped(sourceID))\"/>"
        for p in event.participants {
            xml +=
                "<ParticipantObjectIdentification ParticipantObjectID=\"\(escaped(p.id))\" ParticipantObjectTypeCode=\"\(p.typeCode)\" "
                + "ParticipantObjectTypeCodeRole=\"\(p.role)\">"
            xml += code("ParticipantObjectIDTypeCode", p.idType)
            xml += "</ParticipantObjectIdentification>"
        }
        return xml + "</AuditMessage>"
    }
}
