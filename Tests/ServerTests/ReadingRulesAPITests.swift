import AtriumTesting
import Foundation
import Platform
import Reading
import Server
import Testing

@Suite("Assignment rules over the administrators' API")
struct ReadingRulesAPITests {
    @Test("An administrator sets a rule; a site's stat request is assigned by it; readers may not set rules")
    func rules() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        _ = try await server.server.testToken("rules-reader-b", roles: [.reader])
        let reader = try await server.server.testToken("rules-reader-a", roles: [.reader])
        let site = try await server.server.testToken("rules-site", roles: [.site], institution: "COUNTY-R")
        let body = try Corpus.temporaryDirectory("atrium-rules") + "/rule.json"
        try Data(
            #"{"serviceLine": "imaging", "priority": "stat", "readers": ["rules-reader-a", "rules-reader-b"], "openCap": 3, "doubleReading": true}"#
                .utf8
        )
        .write(to: URL(fileURLWithPath: body))
        let refused = try await server.curl(
            "POST", "/api/admin/reading-rules", headers: ["Authorization: Bearer \(reader)", "Content-Type: application/json"],
            bodyFile: body, anonymous: true)
        #expect(refused.status == 403)
        let created = try await server.curl("POST", "/api/admin/reading-rules", headers: ["Content-Type: application/json"], bodyFile: body)
        #expect(created.status == 201, "\(created.body)")
        let rule = try #require(try JSONSerialization.jsonObject(with: Data(created.body.utf8)) as? [String: Any])
        #expect(rule["doubleReading"] as? Bool == true && rule["openCap"] as? Int == 3)
        let listed = try await server.curl("GET", "/api/admin/reading-rules")
        #expect(listed.status == 200 && listed.body.contains("rules-reader-b"))

        // rules-reader-a goes off duty, then back on: the profile API.
        let offDuty = try Corpus.temporaryDirectory("atrium-rules") + "/off.json"
        try Data(#"{"onDuty": false}"#.utf8).write(to: URL(fileURLWithPath: offDuty))
        let onDuty = try Corpus.temporaryDirectory("atrium-rules") + "/on.json"
        try Data(#"{"onDuty": true}"#.utf8).write(to: URL(fileURLWithPath: onDuty))
        let profile = try await server.curl(
            "PUT", "/api/admin/reader-profiles/rules-reader-a", headers: ["Content-Type: application/json"], bodyFile: offDuty)
        #expect(profile.status == 200 && profile.body.contains(#""onDuty":false"#), "\(profile.body)")
        #expect(
            try await server.curl(
                "PUT", "/api/admin/reader-profiles/rules-reader-a",
                headers: ["Authorization: Bearer \(reader)", "Content-Type: application/json"],
                bodyFile: onDuty, anonymous: true
            ).status == 403)

        let request = try Corpus.temporaryDirectory("atrium-rules") + "/request.json"
        try Data(#"{"priority": "stat", "question": "Bleed?", "accessionNumber": "RULES-1"}"#.utf8).write(to: URL(fileURLWithPath: request))
        let filed = try await server.curl(
            "POST", "/api/consultations", headers: ["Authorization: Bearer \(site)", "Content-Type: application/json"], bodyFile: request,
            anonymous: true)
        #expect(filed.status == 201, "\(filed.body)")
        let id = try #require((try JSONSerialization.jsonObject(with: Data(filed.body.utf8)) as? [String: Any])?["id"] as? Int)
        let detail = try await server.curl("GET", "/api/consultations/\(id)")
        let items = try #require(
            (try JSONSerialization.jsonObject(with: Data(detail.body.utf8)) as? [String: Any])?["workItems"] as? [[String: Any]])
        // Both readers hold nothing, and rules-reader-a is off duty: rules-reader-b gets it.
        #expect(items.first?["assignee"] as? String == "rules-reader-b", "\(items)")
        #expect(
            try await server.curl(
                "PUT", "/api/admin/reader-profiles/rules-reader-a", headers: ["Content-Type: application/json"], bodyFile: onDuty
            ).body.contains(#""onDuty":true"#))

        let ruleID = try #require(rule["id"] as? Int)
        #expect(try await server.curl("DELETE", "/api/admin/reading-rules/\(ruleID)").status == 204)
        #expect(try await server.curl("DELETE", "/api/admin/reading-rules/\(ruleID)").status == 404)
    }
}
