import Foundation
import Server
import Testing

/// The pure parts of the SMTP client, against RFC 5321 and RFC 2047 as written there (no socket).
@Suite("SMTP client parts")
struct SMTPTests {
    @Test("Dot-stuffing doubles a leading dot, ends lines in CRLF and the data in CRLF.CRLF (RFC 5321 4.5.2)")
    func dotStuffing() {
        #expect(SMTP.dataBlock("a\n.b\n..c\nd\n") == "a\r\n..b\r\n...c\r\nd\r\n.\r\n")
        #expect(SMTP.dataBlock(".") == "..\r\n.\r\n")
        #expect(SMTP.dataBlock("x\r\ny") == "x\r\ny\r\n.\r\n")
    }

    @Test("Replies: single and multi-line, and nothing until a reply is whole (RFC 5321 4.2)")
    func replies() {
        var buffer = Array("250-atrium.example\r\n250-8BITMIME\r\n250 OK\r\n354 go".utf8)
        let reply = SMTP.reply(from: &buffer)
        #expect(reply?.code == 250 && reply?.text == "atrium.example 8BITMIME OK")
        #expect(SMTP.reply(from: &buffer) == nil)
        buffer += Array(" ahead\r\n".utf8)
        #expect(SMTP.reply(from: &buffer)?.code == 354)
        #expect(buffer.isEmpty)
    }

    @Test("A header that is not ASCII is an RFC 2047 encoded word; the relay URL is smtp://host:port")
    func headersAndRelay() {
        #expect(SMTP.encodedWord("Report signed") == "Report signed")
        // "报告" in UTF-8 is E6 8A A5 E5 91 8A; base64 of those six bytes is "5oql5ZGK".
        #expect(SMTP.encodedWord("报告") == "=?UTF-8?B?5oql5ZGK?=")
        #expect(SMTPRelay(url: "smtp://127.0.0.1:2525") == SMTPRelay(url: "smtp://127.0.0.1:2525"))
        #expect(SMTPRelay(url: "smtp://relay.example.org")?.port == 25)
        #expect(SMTPRelay(url: "http://relay.example.org") == nil)
    }

    @Test("EHLO extensions, the AUTH PLAIN response of RFC 4616's example, and relay URLs with TLS and credentials")
    func extensionsAndCredentials() {
        let lines = ["relay.example.org Hello", "8BITMIME", "STARTTLS", "AUTH LOGIN PLAIN", "SIZE 33554432"]
        let extensions = SMTP.extensions(ehlo: lines)
        #expect(extensions["STARTTLS"] == [] && extensions["AUTH"] == ["LOGIN", "PLAIN"] && extensions["SIZE"] == ["33554432"])
        #expect(extensions["RELAY.EXAMPLE.ORG"] == nil, "the first line is the domain")
        // RFC 4616 section 4: user "tim", password "tanstaaftanstaaf" (base64 computed with Python's base64 module).
        #expect(SMTP.plainResponse(username: "tim", password: "tanstaaftanstaaf") == "AHRpbQB0YW5zdGFhZnRhbnN0YWFm")
        let relay = SMTPRelay(url: "smtp://mailer:p%40ss%3Aword@relay.example.org:587?tls=starttls&auth=login&ca=/etc/atrium/ca.pem")
        #expect(relay?.username == "mailer" && relay?.password == "p@ss:word" && relay?.port == 587)
        #expect(relay?.tls == .starttls && relay?.mechanism == .login && relay?.caFile == "/etc/atrium/ca.pem")
        let plain = SMTPRelay(url: "smtp://relay.example.org")
        #expect(plain?.tls == .opportunistic && plain?.username == nil && plain?.mechanism == .plain)
        #expect(SMTPRelay(url: "smtp://relay.example.org?tls=sometimes") == nil)
        #expect(SMTPRelay(url: "smtp://relay.example.org?verify=no") == nil)
    }
}
