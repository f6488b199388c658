import AtriumTesting
import DICOM
import Foundation
import Teaching
import Testing

@testable import Reading

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// A report about a Chinese patient's CT, with every kind of section, an addendum and a critical result.
private func sampleReport() -> ReportDocument {
    let ct = "1.2.840.10008.5.1.4.1.1.2", enhancedCT = "1.2.840.10008.5.1.4.1.1.2.1"
    let study = ReportDocument.Study(
        studyInstanceUID: "1.2.826.0.1.3680043.8.498.1001", patientName: "Zhang^Wei=张^伟", patientID: "P-0001",
        patientBirthDate: "19650312", patientSex: "M", accessionNumber: "ACC-77", studyDate: "20261101", studyTime: "093000",
        studyID: "1", modalities: ["CT"], studyDescription: "胸部CT平扫 Chest CT", referringPhysicianName: "Chen^Jing=陈^静",
        series: [
            .init(
                seriesInstanceUID: "1.2.826.0.1.3680043.8.498.2001", modality: "CT", seriesNumber: 1,
                instances: (1...3).map { (n: Int) in
                    .init(sopClassUID: n == 3 ? enhancedCT : ct, sopInstanceUID: "1.2.826.0.1.3680043.8.498.300\(n)", instanceNumber: n)
                })
        ])
    let request = ReportDocument.Request(
        id: "C-2026-0042", priority: "stat", clinicalHistory: "咳嗽两周，发热。Cough for two weeks, fever.",
        question: "肺炎？ Pneumonia?", referringPhysician: "陈静", requestingInstitution: "县人民医院 County Hospital",
        requestedAt: Date(timeIntervalSince1970: 1_793_500_000))
    return ReportDocument(
        study: study, request: request, reportID: "R-42", version: 2, status: .amended,
        sections: [
            .init(kind: "technique", title: "检查技术 Technique", text: "螺旋CT平扫，层厚5 mm。"),
            .init(kind: "findings", title: "所见 Findings", text: "右肺下叶见斑片状实变影。Consolidation in the right lower lobe."),
            .init(kind: "impression", title: "印象 Impression", text: "右肺下叶肺炎。Right lower lobe pneumonia."),
        ],
        addenda: [
            .init(
                text: "补充：建议两周后复查。Follow-up CT in two weeks.", author: "Li^Ming=李^明", signedAt: Date(timeIntervalSince1970: 1_793_510_000))
        ],
        author: "Li^Ming=李^明", verifier: "Li^Ming=李^明", verifiedAt: Date(timeIntervalSince1970: 1_793_505_000),
        readingInstitution: "医学院附属医院 Affiliated Hospital", createdAt: Date(timeIntervalSince1970: 1_793_501_000),
        criticalResults: ["危急值：已电话通知陈静医生 Critical result phoned to Dr Chen"])
}

@Suite("Report documents: Basic Text SR, KOS For Teaching, FHIR R4")
struct DocumentsTests {
    @Test("The SR, the KOS and the FHIR bundle read back through dcmtk, dciodvfy, pydicom and fhir.resources as written")
    func documentsReadBack() throws {
        let report = sampleReport()
        let directory = try Corpus.temporaryDirectory("atrium-report-documents")
        let srPath = directory + "/report.dcm", kosPath = directory + "/teaching.dcm", fhirPath = directory + "/bundle.json"
        let identity = ReportSR.Identity(
            seriesInstanceUID: "1.2.826.0.1.3680043.8.498.9001", sopInstanceUID: "1.2.826.0.1.3680043.8.498.9002",
            predecessorSOPInstanceUID: "1.2.826.0.1.3680043.8.498.9000")
        try DICOMFile(dataSet: ReportSR.dataSet(for: report, identity: identity)).write(to: srPath)
        let keyImages = [
            TeachingKOS.KeyImage(
                sopClassUID: "1.2.840.10008.5.1.4.1.1.2", sopInstanceUID: "1.2.826.0.1.3680043.8.498.3002",
                seriesInstanceUID: "1.2.826.0.1.3680043.8.498.2001"),
            // A frame of a multi-frame (enhanced CT) instance.
            TeachingKOS.KeyImage(
                sopClassUID: "1.2.840.10008.5.1.4.1.1.2.1", sopInstanceUID: "1.2.826.0.1.3680043.8.498.3003",
                seriesInstanceUID: "1.2.826.0.1.3680043.8.498.2001", frameNumber: 1),
        ]
        let note = "典型大叶性肺炎，适合教学。Typical lobar pneumonia."
        try DICOMFile(
            dataSet: TeachingKOS.dataSet(
                study: report.study, keyImages: keyImages, note: note, author: "Li^Ming=李^明", institution: "医学院",
                created: report.createdAt, seriesInstanceUID: "1.2.826.0.1.3680043.8.498.9101",
                sopInstanceUID: "1.2.826.0.1.3680043.8.498.9102")
        ).write(to: kosPath)
        // The library's queue reads the same document back as a flagged case (what the reader chose, the note).
        let selection = try #require(TeachingSelection.read(try DICOMFile.read(contentsOf: kosPath).dataSet))
        #expect(selection.sopInstanceUID == "1.2.826.0.1.3680043.8.498.9102")
        #expect(selection.studyInstanceUID == "1.2.826.0.1.3680043.8.498.1001")
        #expect(selection.note == note)
        #expect(
            selection.references == [
                InstanceReference(
                    seriesInstanceUID: "1.2.826.0.1.3680043.8.498.2001", sopInstanceUID: "1.2.826.0.1.3680043.8.498.3002",
                    sopClassUID: "1.2.840.10008.5.1.4.1.1.2"),
                InstanceReference(
                    seriesInstanceUID: "1.2.826.0.1.3680043.8.498.2001", sopInstanceUID: "1.2.826.0.1.3680043.8.498.3003",
                    sopClassUID: "1.2.840.10008.5.1.4.1.1.2.1", frame: 1),
            ])
        try Data(FHIRReport.bundle(for: report, base: "http://127.0.0.1:8042/fhir")).write(to: URL(fileURLWithPath: fhirPath))

        // dcmtk's SR reader and dicom3tools' IOD checker.
        for path in [srPath, kosPath] {
            let dump = try Subprocess.run("/usr/bin/dsrdump", ["+U8", path])
            #expect(dump.status == 0, "dsrdump \(path): \(dump.errorOutput)")
            let check = try Subprocess.run("/usr/bin/dciodvfy", [path])
            let errors = (check.output + check.errorOutput).split(separator: "\n").filter { $0.hasPrefix("Error") }
            #expect(errors.isEmpty, "dciodvfy \(path): \(errors.joined(separator: " | "))")
        }
        let srDump = try Subprocess.run("/usr/bin/dsrdump", ["+U8", srPath]).output
        #expect(srDump.contains("右肺下叶肺炎"))

        let run = try Subprocess.run("python3", [Corpus.script("ReadingTests", "read_documents.py"), srPath, kosPath, fhirPath])
        try #require(run.status == 0, "read_documents.py: \(run.errorOutput.suffix(2000))")
        let read = try #require(try JSONSerialization.jsonObject(with: run.standardOutput) as? [String: Any])
        let sr = try #require(read["sr"] as? [String: Any])
        #expect(sr["sopClass"] as? String == "1.2.840.10008.5.1.4.1.1.88.11")
        #expect(sr["modality"] as? String == "SR")
        #expect(sr["patientName"] as? String == "Zhang^Wei=张^伟")
        #expect(sr["root"] as? String == "18748-4^LN")
        #expect(sr["completion"] as? String == "COMPLETE")
        #expect(sr["verification"] as? String == "VERIFIED")
        #expect(sr["verifier"] as? String == "Li^Ming=李^明")
        #expect(sr["predecessors"] as? [String] == ["1.2.826.0.1.3680043.8.498.9000"])
        let srRows = try #require(sr["content"] as? [[String: Any]])
        let texts = srRows.compactMap { $0["text"] as? String }
        for section in report.sections { #expect(texts.contains(section.text), "section \(section.kind) missing from the SR") }
        #expect(texts.contains(report.request.clinicalHistory))
        #expect(texts.contains(report.criticalResults[0]))
        #expect(texts.contains { $0.hasPrefix(report.addenda[0].text) })
        // Findings and impression sit in their TID 2000 containers.
        let containers = srRows.filter { $0["type"] as? String == "CONTAINER" }.compactMap { $0["concept"] as? String }
        #expect(Set(containers).isSuperset(of: ["121070^DCM", "121072^DCM", "55111-9^LN", "55752-0^LN", "55107-7^LN"]))
        let evidence = try #require(sr["evidence"] as? [[String]])
        #expect(evidence.count == 3)

        let kos = try #require(read["kos"] as? [String: Any])
        #expect(kos["sopClass"] as? String == "1.2.840.10008.5.1.4.1.1.88.59")
        #expect(kos["modality"] as? String == "KO")
        #expect(kos["root"] as? String == "113004^DCM")
        #expect(kos["template"] as? String == "2010")
        let kosRows = try #require(kos["content"] as? [[String: Any]])
        let images = kosRows.filter { $0["type"] as? String == "IMAGE" }
        #expect(images.compactMap { $0["text"] as? String } == keyImages.map(\.sopInstanceUID))
        #expect(images.last?["frame"] as? Int == 1)
        #expect(kosRows.contains { $0["concept"] as? String == "113012^DCM" && $0["text"] as? String == note })
        let kosEvidence = try #require(kos["evidence"] as? [[String]])
        #expect(Set(kosEvidence.map { $0[2] }) == Set(keyImages.map(\.sopInstanceUID)))

        let fhir = try #require(read["fhir"] as? [String: Any])
        #expect(fhir["status"] as? String == "amended")
        #expect(fhir["conclusion"] as? String == "右肺下叶肺炎。Right lower lobe pneumonia.")
        #expect(fhir["studyUID"] as? String == "urn:oid:1.2.826.0.1.3680043.8.498.1001")
        #expect((fhir["series"] as? [String: [String]])?["1.2.826.0.1.3680043.8.498.2001"]?.count == 3)
        #expect(fhir["patientNames"] as? [String] == ["Zhang Wei", "张伟"])
        #expect(fhir["birthDate"] as? String == "1965-03-12")
        #expect(fhir["gender"] as? String == "male")
        #expect(fhir["priority"] as? String == "stat")
        #expect(fhir["reason"] as? String == report.request.question)
        let text = try #require(fhir["text"] as? String)
        #expect(text.contains(report.addenda[0].text) && text.contains(report.sections[1].text))
    }

    @Test("A preliminary report is an unverified, partial SR with no verifier")
    func preliminaryIsUnverified() throws {
        var report = sampleReport()
        report.status = .preliminary
        report.verifier = nil
        report.verifiedAt = nil
        let ds = ReportSR.dataSet(
            for: report, identity: .init(seriesInstanceUID: "1.2.3.4", sopInstanceUID: "1.2.3.5"))
        #expect(ds.string(.verificationFlag) == "UNVERIFIED")
        #expect(ds.string(.completionFlag) == "PARTIAL")
        #expect(ds[.verifyingObserverSequence] == nil)
        #expect(ds[.predecessorDocumentsSequence] == nil)
    }

    @Test("FHIR resource ids carry no patient identifier and are the same for the same report")
    func fhirIDs() {
        let report = sampleReport()
        let ids = FHIRReport.ids(for: report)
        #expect(ids == FHIRReport.ids(for: report))
        for id in [ids.patient, ids.imagingStudy, ids.serviceRequest, ids.diagnosticReport] {
            #expect(!id.contains(report.study.patientID) && id.count <= 64)
            #expect(id.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == ".") })
        }
    }
}

@Suite("Turnaround statistics")
struct TurnaroundTests {
    /// 400 seeded cases over ten weeks in three priorities, some unfinished, against numpy's percentiles.
    @Test("Medians, 90th percentiles and breaches per ISO week and priority agree with numpy")
    func agreesWithNumpy() throws {
        var generator = SeededGenerator(seed: 20_261_206)
        let start = 1_790_000_000.0
        let levels = ["stat": 3600.0, "urgent": 4 * 3600.0, "routine": 24 * 3600.0]
        var cases: [Turnaround.Case] = []
        for n in 0..<400 {
            let priority = ["stat", "urgent", "routine"][Int.random(in: 0..<3, using: &generator)]
            let received = start + Double.random(in: 0..<(70 * 86_400), using: &generator)
            let level = levels[priority] ?? 3600
            let claimed = received + Double.random(in: 60..<(level / 2), using: &generator)
            let preliminary = Bool.random(using: &generator) ? claimed + Double.random(in: 60..<(level / 2), using: &generator) : nil
            let final: Double? = n % 9 == 0 ? nil : (preliminary ?? claimed) + Double.random(in: 60..<level, using: &generator)
            cases.append(
                Turnaround.Case(
                    requestID: "C\(n)", priority: priority, site: "S\(n % 4)", reader: "R\(n % 5)",
                    received: Date(timeIntervalSince1970: received),
                    claimed: Date(timeIntervalSince1970: claimed), preliminary: preliminary.map { Date(timeIntervalSince1970: $0) },
                    final: final.map { Date(timeIntervalSince1970: $0) }, deadline: Date(timeIntervalSince1970: received + level)))
        }
        let now = Date(timeIntervalSince1970: start + 71 * 86_400)
        let rows = Turnaround.table(cases, grouping: .priority, period: .week, now: now)

        func seconds(_ date: Date?) -> Any { date.map { $0.timeIntervalSince1970 } ?? NSNull() }
        let input: [String: Any] = [
            "now": now.timeIntervalSince1970,
            "cases": cases.map {
                [
                    "received": $0.received.timeIntervalSince1970, "claimed": seconds($0.claimed), "preliminary": seconds($0.preliminary),
                    "final": seconds($0.final), "deadline": $0.deadline.timeIntervalSince1970, "priority": $0.priority,
                ] as [String: Any]
            },
        ]
        let path = try Corpus.temporaryDirectory("atrium-turnaround") + "/cases.json"
        try JSONSerialization.data(withJSONObject: input).write(to: URL(fileURLWithPath: path))
        let run = try Subprocess.run("python3", [Corpus.script("ReadingTests", "turnaround_reference.py"), path])
        try #require(run.status == 0, "turnaround_reference.py: \(run.errorOutput)")
        let reference = try #require(try JSONSerialization.jsonObject(with: run.standardOutput) as? [String: [String: Any]])
        #expect(rows.count == reference.count)
        for row in rows {
            let expected = try #require(reference["\(row.period)|\(row.group)"], "no reference row for \(row.period) \(row.group)")
            #expect(row.requests == expected["requests"] as? Int)
            #expect(row.breaches == expected["breaches"] as? Int)
            for interval in Turnaround.Interval.allCases {
                let figures = try #require(expected[interval.rawValue] as? [Double])
                let summary = try #require(row.steps[interval])
                #expect(Double(summary.count) == figures[0])
                if figures.count == 3 {
                    #expect(abs((summary.median ?? -1) - figures[1]) < 1e-6)
                    #expect(abs((summary.p90 ?? -1) - figures[2]) < 1e-6)
                } else {
                    #expect(summary.median == nil)
                }
            }
        }
        let csv = Turnaround.csv(rows)
        #expect(csv.split(separator: "\r\n").count == rows.count + 1)
    }

    @Test("The SVG chart is well-formed XML with one titled bar per value")
    func chartIsXML() throws {
        let svg = SVGChart.bars(
            title: "Turnaround <stat> & urgent", series: ["median", "p90"],
            groups: [.init(label: "2026-W45", values: [12, 30]), .init(label: "2026-W46", values: [8, nil])], unit: "min", limit: 60)
        let document = try XMLDocument(data: Data(svg.utf8))
        let bars = try document.nodes(forXPath: "//*[local-name()='rect'][@class='bar']")
        #expect(bars.count == 3)
        #expect(try document.nodes(forXPath: "//*[local-name()='line'][@class='limit']").count == 1)
    }
}

/// A small deterministic generator (SplitMix64), so the seeded population is the same on every run.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
