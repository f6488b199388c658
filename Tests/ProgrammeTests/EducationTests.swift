import AtriumTesting
import Foundation
import Testing

@testable import Programme

#if canImport(FoundationXML)
    import FoundationXML
#endif

@Suite("Continuing education: completion rules, certificate codes, QR codes")
struct EducationTests {
    func course(cases: [Int64], exam: Int64? = nil) -> Course {
        Course(
            id: 1, titleChinese: "胸部影像", titleEnglish: "Chest imaging", summary: "", creditHours: 2, cases: cases, examID: exam,
            published: true, createdBy: "office", createdAt: Date())
    }

    @Test("A course is complete when every case is studied and its exam, if any, passed")
    func completion() {
        let plain = course(cases: [4, 7, 9])
        #expect(!CourseCompletion.progress(plain, studied: [4, 7], examPassed: false).complete)
        #expect(CourseCompletion.progress(plain, studied: [4, 7], examPassed: false).fraction == 2.0 / 3.0)
        #expect(CourseCompletion.progress(plain, studied: [9, 4, 7], examPassed: false).complete)
        // Cases outside the course do not count.
        #expect(!CourseCompletion.progress(plain, studied: [4, 7, 8], examPassed: true).complete)
        let examined = course(cases: [4], exam: 12)
        #expect(!CourseCompletion.progress(examined, studied: [4], examPassed: false).complete)
        #expect(CourseCompletion.progress(examined, studied: [4], examPassed: false).fraction == 0.5)
        #expect(CourseCompletion.progress(examined, studied: [4], examPassed: true).complete)
    }

    @Test("A course needs both titles, credit hours in range, and something to do")
    func invalidCourses() {
        #expect(course(cases: []).problem != nil)
        #expect(course(cases: [1, 1]).problem != nil)
        var c = course(cases: [1])
        c.titleEnglish = " "
        #expect(c.problem != nil)
        c = course(cases: [1])
        c.creditHours = 0
        #expect(c.problem != nil)
        #expect(course(cases: [1]).problem == nil && course(cases: [], exam: 3).problem == nil)
    }

    @Test("Certificate codes: 12 characters without look-alikes, grouped; any single mistyped character is caught")
    func codes() {
        var generator = SystemRandomNumberGenerator()
        var seen = Set<String>()
        for _ in 0..<500 {
            let code = CertificateCode.generate(using: &generator)
            #expect(code.count == 14 && code.split(separator: "-").count == 3)
            #expect(CertificateCode.normalized(code) == code)
            #expect(CertificateCode.normalized(code.lowercased().replacingOccurrences(of: "-", with: " ")) == code)
            #expect(!code.contains { "01OIL".contains($0) })
            seen.insert(code)
            // Change one character of the body to any other: the check character no longer matches.
            var characters = Array(code.replacingOccurrences(of: "-", with: ""))
            let position = Int.random(in: 0..<11, using: &generator)
            let alphabet = Array("23456789ABCDEFGHJKMNPQRSTUVWXYZ").filter { $0 != characters[position] }
            characters[position] = alphabet[Int.random(in: 0..<alphabet.count, using: &generator)]
            #expect(CertificateCode.normalized(String(characters)) == nil, "\(code) with one change passes")
        }
        #expect(seen.count == 500)
        #expect(CertificateCode.normalized("ABCD") == nil)
    }

    @Test(
        "The QR code of a verification link is read back by zxing-cpp",
        arguments: [
            "http://127.0.0.1:8042/verify/ABCD-EFGH-JKMN",
            "https://atrium.example.edu.cn/verify/7H2K-Q9RT-X3WZ?lang=zh-CN",
        ])
    func qrCode(text: String) throws {
        let code = try #require(QRCode(text))
        #expect(code.size >= 21 && (code.size - 17) % 4 == 0, "a QR version's size is 17 + 4 × version")
        let path = try Corpus.temporaryDirectory("atrium-qr") + "/matrix.json"
        try JSONSerialization.data(withJSONObject: code.modules.map { $0.map { $0 ? 1 : 0 } }).write(to: URL(fileURLWithPath: path))
        let run = try Subprocess.run("python3", [Corpus.script("ProgrammeTests", "read_qr.py"), path])
        try #require(run.status == 0, "read_qr.py (pip install zxing-cpp pillow): \(run.errorOutput)")
        let decoded = try #require(try JSONSerialization.jsonObject(with: run.standardOutput) as? [String: String])
        #expect(decoded["text"] == text)
        #expect(decoded["format"]?.contains("QR") == true)
        let svg = code.svg(label: "verify")
        let document = try XMLDocument(data: Data(svg.utf8))
        #expect(document.rootElement()?.name == "svg")
    }
}
