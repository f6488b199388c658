import AtriumTesting
import DICOM
import Foundation
import Testing

@testable import Reading

/// A study as the archive would describe it: the patient and study attributes the attachment objects copy.
private let study = ReportDocument.Study(
    studyInstanceUID: "1.2.826.0.1.3680043.8.498.1001", patientName: "Zhang^Wei=张^伟", patientID: "P-0001",
    patientBirthDate: "19650312", patientSex: "M", accessionNumber: "ACC-77", studyDate: "20261101", studyTime: "093000",
    studyID: "1", modalities: ["CT"], studyDescription: "胸部CT平扫 Chest CT", referringPhysicianName: "Chen^Jing=陈^静", series: [])

@Suite("Request attachments: sniffing, JPEG frame headers, Encapsulated PDF and Secondary Capture")
struct AttachmentDocumentsTests {
    /// The files (made by Pillow and by hand in Python) and what the script says they are.
    static func files() throws -> (directory: String, facts: [String: Any]) {
        let directory = try Corpus.temporaryDirectory("atrium-attachments")
        let run = try Subprocess.run("python3", [Corpus.script("ReadingTests", "attachment_files.py"), "make", directory])
        try #require(run.status == 0, "attachment_files.py make (needs python3 with Pillow: pip install pillow): \(run.errorOutput)")
        let facts = try #require(try JSONSerialization.jsonObject(with: run.standardOutput) as? [String: Any])
        return (directory, facts)
    }

    static func bytes(_ path: String) throws -> [UInt8] { Array(try Data(contentsOf: URL(fileURLWithPath: path))) }

    @Test("A file's kind comes from its bytes: a PNG named .pdf is neither PDF nor JPEG; progressive JPEG is not baseline")
    func sniffing() throws {
        let (directory, facts) = try Self.files()
        #expect(AttachmentType.sniff(try Self.bytes(directory + "/form.pdf")) == .pdf)
        #expect(AttachmentType.sniff(try Self.bytes(directory + "/photo.jpg")) == .jpeg)
        #expect(AttachmentType.sniff(try Self.bytes(directory + "/not-a-pdf.pdf")) == nil)
        #expect(AttachmentType.sniff([UInt8]()) == nil)
        let frame = try #require(JPEGFrameHeader.parse(try Self.bytes(directory + "/photo.jpg")))
        #expect(frame.isBaseline && frame.components == 3)
        #expect(frame.rows == facts["jpegRows"] as? Int && frame.columns == facts["jpegColumns"] as? Int)
        let progressive = try #require(JPEGFrameHeader.parse(try Self.bytes(directory + "/progressive.jpg")))
        #expect(!progressive.isBaseline)
        #expect(throws: AttachmentDocuments.Refusal.notBaselineJPEG) {
            try AttachmentDocuments.file(
                try Self.bytes(directory + "/progressive.jpg"), type: .jpeg, title: "t", study: study, institution: "COUNTY-A",
                created: Date(), seriesInstanceUID: "2.25.1", sopInstanceUID: "2.25.2")
        }
        // Truncated inside a segment: no frame header, no crash.
        #expect(JPEGFrameHeader.parse(Array(try Self.bytes(directory + "/photo.jpg").prefix(30))) == nil)
        #expect(RequestAttachment.cleanFilename("C:\\scans\\申请单.PDF", type: .pdf) == "申请单.PDF")
        #expect(RequestAttachment.cleanFilename("../../etc/passwd", type: .jpeg) == "passwd.jpg")
    }

    @Test("The Encapsulated PDF and the Secondary Capture read back in pydicom as sent, and dciodvfy and dcmdump accept them")
    func dicomObjects() throws {
        let (directory, facts) = try Self.files()
        let created = Date(timeIntervalSince1970: 1_793_500_000)
        let pdfPath = directory + "/form.dcm", scPath = directory + "/photo.dcm"
        try AttachmentDocuments.file(
            try Self.bytes(directory + "/form.pdf"), type: .pdf, title: "Paper request form", study: study, institution: "COUNTY-A",
            created: created, seriesInstanceUID: "1.2.826.0.1.3680043.8.498.9201", sopInstanceUID: "1.2.826.0.1.3680043.8.498.9202"
        ).write(to: pdfPath)
        try AttachmentDocuments.file(
            try Self.bytes(directory + "/photo.jpg"), type: .jpeg, title: "Photo of the request form", study: study,
            institution: "COUNTY-A", created: created, seriesInstanceUID: "1.2.826.0.1.3680043.8.498.9301",
            sopInstanceUID: "1.2.826.0.1.3680043.8.498.9302"
        ).write(to: scPath)
        for path in [pdfPath, scPath] {
            let dump = try Subprocess.run("/usr/bin/dcmdump", [path])
            #expect(dump.status == 0, "dcmdump \(path) (apt install dcmtk): \(dump.errorOutput)")
            let check = try Subprocess.run("/usr/bin/dciodvfy", [path])
            let errors = (check.output + check.errorOutput).split(separator: "\n").filter { $0.hasPrefix("Error") }
            #expect(errors.isEmpty, "dciodvfy \(path) (apt install dicom3tools): \(errors.joined(separator: " | "))")
        }
        let run = try Subprocess.run(
            "python3",
            [
                Corpus.script("ReadingTests", "attachment_files.py"), "read", pdfPath, scPath, directory + "/form.pdf",
                directory + "/photo.jpg",
            ])
        try #require(run.status == 0, "attachment_files.py read: \(run.errorOutput.suffix(2000))")
        let read = try #require(try JSONSerialization.jsonObject(with: run.standardOutput) as? [String: Any])
        let pdf = try #require(read["pdf"] as? [String: Any])
        #expect(pdf["sopClass"] as? String == "1.2.840.10008.5.1.4.1.1.104.1")
        #expect(pdf["mime"] as? String == "application/pdf")
        #expect(pdf["same"] as? Bool == true, "the PDF inside is the PDF sent")
        #expect(pdf["length"] as? Int == facts["pdfBytes"] as? Int)
        #expect(pdf["patientID"] as? String == "P-0001" && pdf["study"] as? String == study.studyInstanceUID)
        #expect(pdf["series"] as? String == "1.2.826.0.1.3680043.8.498.9201")
        let sc = try #require(read["sc"] as? [String: Any])
        #expect(sc["sopClass"] as? String == "1.2.840.10008.5.1.4.1.1.7")
        #expect(sc["transferSyntax"] as? String == "1.2.840.10008.1.2.4.50")
        #expect(sc["rows"] as? Int == facts["jpegRows"] as? Int && sc["columns"] as? Int == facts["jpegColumns"] as? Int)
        #expect(sc["codestreamSame"] as? Bool == true, "the JPEG codestream is encapsulated as sent")
        // Decoded by pydicom and by Pillow from the original file: the same picture (JPEG decoders differ by a few units of
        // rounding; a wrong colour space or a damaged codestream differs by tens).
        #expect((sc["maxDifference"] as? Double ?? 255) <= 4)
        #expect(sc["patientID"] as? String == "P-0001" && sc["study"] as? String == study.studyInstanceUID)
    }
}
