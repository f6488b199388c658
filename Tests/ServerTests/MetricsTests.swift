import AtriumTesting
import Foundation
import Platform
import Testing

/// The samples of a Prometheus text exposition (version 0.0.4), parsed independently of the library that wrote them:
/// `name{label="value",…} number` lines, comments skipped.
struct PrometheusSamples {
    private var values: [String: Double] = [:]

    init(_ text: String) throws {
        for line in text.split(separator: "\n") where !line.hasPrefix("#") && !line.isEmpty {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else {
                throw PeerError("not a sample line: \(line)")
            }
            let series = line[..<space]
            var labels: [String: String] = [:]
            let name: Substring
            if let open = series.firstIndex(of: "{") {
                name = series[..<open]
                guard series.last == "}" else { throw PeerError("unterminated labels: \(line)") }
                var rest = series[series.index(after: open)..<series.index(before: series.endIndex)]
                while !rest.isEmpty {
                    guard let equals = rest.firstIndex(of: "="), rest[rest.index(after: equals)] == "\"" else {
                        throw PeerError("bad label in \(line)")
                    }
                    let key = String(rest[..<equals])
                    var cursor = rest.index(equals, offsetBy: 2)
                    var text = ""
                    while cursor < rest.endIndex, rest[cursor] != "\"" {
                        if rest[cursor] == "\\" { cursor = rest.index(after: cursor) }
                        text.append(rest[cursor])
                        cursor = rest.index(after: cursor)
                    }
                    labels[key] = text
                    rest = rest[rest.index(after: cursor)...]
                    if rest.first == "," { rest = rest.dropFirst() }
                }
            } else {
                name = series
            }
            values[Self.key(String(name), labels)] = value
        }
    }

    private static func key(_ name: String, _ labels: [String: String]) -> String {
        name + "{" + labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",") + "}"
    }

    /// The sample's value, or 0 when the series is not (yet) there.
    func value(_ name: String, _ labels: [String: String] = [:]) -> Double { values[Self.key(name, labels)] ?? 0 }

    /// Whether the series is there.
    func contains(_ name: String, _ labels: [String: String] = [:]) -> Bool { values[Self.key(name, labels)] != nil }
}

/// GETs `url` with curl (with `Authorization: Bearer token` when given); returns the status, the body and the Content-Type.
func httpGet(_ url: String, token: String? = nil) async throws -> (status: Int, body: Data, contentType: String) {
    let authorization = token.map { ["-H", "Authorization: Bearer \($0)"] } ?? []
    let run = try await Subprocess.runDetached(
        "/usr/bin/curl", ["-s", "-o", "-", "-w", "\n%{http_code} %{content_type}"] + authorization + [url])
    guard let newline = run.standardOutput.lastIndex(of: UInt8(ascii: "\n")) else { throw PeerError("curl \(url): \(run.errorOutput)") }
    let trailer = String(decoding: run.standardOutput[(newline + 1)...], as: UTF8.self).split(separator: " ", maxSplits: 1)
    let status = Int(trailer.first ?? "") ?? -1
    return (status, Data(run.standardOutput[..<newline]), trailer.count > 1 ? String(trailer[1]) : "")
}

/// Reads the server's `/metrics`.
func scrapeMetrics(port: Int) async throws -> PrometheusSamples {
    let response = try await httpGet("http://127.0.0.1:\(port)/metrics")
    guard response.status == 200 else { throw PeerError("/metrics answered \(response.status)") }
    return try PrometheusSamples(String(decoding: response.body, as: UTF8.self))
}

/// The total size of the files under `directory`.
func totalFileBytes(under directory: String) throws -> Int {
    guard let walker = FileManager.default.enumerator(atPath: directory) else { return 0 }
    var total = 0
    for case let name as String in walker {
        let attributes = try FileManager.default.attributesOfItem(atPath: directory + "/" + name)
        if attributes[.type] as? FileAttributeType == .typeRegular { total += (attributes[.size] as? Int) ?? 0 }
    }
    return total
}

@Suite("Prometheus metrics at /metrics", .serialized)
struct MetricsTests {
    @Test("After storescu, findscu, STOW-RS and QIDO-RS, /metrics counts the instances, bytes, associations, operations and queries")
    func storeAndSearch() async throws {
        let server = try await DIMSETestServer.start()
        let before = try await scrapeMetrics(port: server.httpPort)
        let root = try Corpus.pydicomDataDirectory() + "/test_files/"
        let files = ["CT_small.dcm", "MR_small.dcm", "rtdose.dcm"].map { root + $0 }
        let stored = try await server.dcmtk("storescu", ["-aec", "ATRIUM"], files: files)
        #expect(stored.status == 0, "\(stored.output)")
        let token = try await server.server.testToken(roles: [.reader])
        let search = try await httpGet("http://127.0.0.1:\(server.httpPort)/dicom-web/studies?PatientName=*", token: token)
        #expect(search.status == 200)
        let anonymous = try await httpGet("http://127.0.0.1:\(server.httpPort)/dicom-web/studies")
        #expect(anonymous.status == 401)
        let found = try await server.dcmtk("findscu", ["-S", "-aec", "ATRIUM", "-k", "QueryRetrieveLevel=STUDY", "-k", "StudyInstanceUID"])
        #expect(found.status == 0, "\(found.output)")
        // STOW-RS of one file, the body built here as docs/api.md shows.
        let body = try Corpus.temporaryDirectory("metrics-stow") + "/body.mime"
        var mime = Data("--XYZ\r\nContent-Type: application/dicom\r\n\r\n".utf8)
        mime.append(try Data(contentsOf: URL(fileURLWithPath: root + "SC_rgb_small_odd.dcm")))
        mime.append(Data("\r\n--XYZ--\r\n".utf8))
        try mime.write(to: URL(fileURLWithPath: body))
        let stow = try await Subprocess.runDetached(
            "/usr/bin/curl",
            [
                "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", "-H",
                "Authorization: Bearer \(try await server.server.testToken())",
                "-H", "Content-Type: multipart/related; type=\"application/dicom\"; boundary=XYZ", "--data-binary", "@" + body,
                "http://127.0.0.1:\(server.httpPort)/dicom-web/studies",
            ])
        #expect(stow.output == "200", "\(stow.output) \(stow.errorOutput)")
        let metrics = try await httpGet("http://127.0.0.1:\(server.httpPort)/metrics")
        #expect(metrics.contentType.hasPrefix("text/plain; version=0.0.4"), "\(metrics.contentType)")
        let after = try PrometheusSamples(String(decoding: metrics.body, as: UTF8.self))
        func moved(_ name: String, _ labels: [String: String] = [:]) -> Double { after.value(name, labels) - before.value(name, labels) }

        let cStore = ["transport": "C-STORE"]
        let stowRS = ["transport": "STOW-RS"]
        #expect(moved("atrium_instances_stored_total", cStore) == Double(files.count))
        #expect(moved("atrium_instances_stored_total", stowRS) == 1)
        // The bytes counted are the blobs written, measured here on disk.
        let blobBytes = try totalFileBytes(under: server.server.configuration.dataDirectory + "/blobs")
        #expect(moved("atrium_stored_bytes_total", cStore) + moved("atrium_stored_bytes_total", stowRS) == Double(blobBytes))
        #expect(moved("atrium_dicom_associations_total") == 2)
        #expect(after.value("atrium_dicom_associations_open") == 0)
        #expect(moved("atrium_dicom_associations_rejected_total") == 0)
        #expect(moved("atrium_dimse_operations_total", ["operation": "C-STORE"]) == Double(files.count))
        #expect(moved("atrium_dimse_operations_total", ["operation": "C-FIND"]) == 1)
        #expect(moved("atrium_index_query_duration_seconds_count", ["origin": "C-FIND"]) == 1)
        #expect(moved("atrium_dicomweb_requests_total", ["service": "STOW-RS", "status": "200"]) == 1)
        #expect(moved("atrium_store_failures_total", ["reason": "invalidIdentifier", "transport": "C-STORE"]) == 0)
        #expect(moved("atrium_dicomweb_requests_total", ["service": "QIDO-RS", "status": "200"]) == 1)
        #expect(moved("atrium_dicomweb_requests_total", ["service": "QIDO-RS", "status": "401"]) == 1)
        #expect(moved("atrium_dicomweb_request_duration_seconds_count", ["service": "QIDO-RS"]) == 2)
        #expect(after.contains("atrium_dicomweb_request_duration_seconds_bucket", ["service": "QIDO-RS", "le": "+Inf"]))
        #expect(moved("atrium_index_query_duration_seconds_count", ["origin": "QIDO-RS"]) == 1)
        #expect(moved("atrium_dicomweb_requests_total", ["service": "WADO-RS", "status": "200"]) == 0)
        await server.stop()
    }

    @Test("Two servers in one process count apart")
    func serversCountApart() async throws {
        let first = try await DIMSETestServer.start()
        let second = try await DIMSETestServer.start()
        let ct = try Corpus.pydicomDataDirectory() + "/test_files/CT_small.dcm"
        let stored = try await first.dcmtk("storescu", ["-aec", "ATRIUM"], files: [ct])
        #expect(stored.status == 0, "\(stored.output)")
        #expect(try await scrapeMetrics(port: first.httpPort).value("atrium_instances_stored_total", ["transport": "C-STORE"]) == 1)
        #expect(try await scrapeMetrics(port: second.httpPort).value("atrium_instances_stored_total", ["transport": "C-STORE"]) == 0)
        await first.stop()
        await second.stop()
    }
}
