import Archive
import AtriumTesting
import Foundation
import Testing

@testable import Platform
@testable import Programme
@testable import Teaching
@testable import Training

/// Media made by Debian's ffmpeg for the courseware tests: a short H.264 MP4, a VP9 WebM and a PNG frame.
struct CoursewareMedia {
    let directory: String
    let mp4: [UInt8]
    let webm: [UInt8]
    let png: [UInt8]

    static func make() throws -> CoursewareMedia {
        let directory = try Corpus.temporaryDirectory("atrium-courseware-media")
        func ffmpeg(_ arguments: [String]) throws {
            let run = try Subprocess.run("ffmpeg", ["-nostdin", "-loglevel", "error", "-y"] + arguments)
            try #require(run.status == 0, "ffmpeg (apt-get install ffmpeg, see scripts/install-deps): \(run.errorOutput)")
        }
        let source = ["-f", "lavfi", "-i", "testsrc=size=160x120:rate=10", "-t", "3"]
        try ffmpeg(source + ["-c:v", "libx264", "-pix_fmt", "yuv420p", "-movflags", "+faststart", directory + "/lecture.mp4"])
        try ffmpeg(source + ["-c:v", "libvpx-vp9", directory + "/lecture.webm"])
        try ffmpeg(["-i", directory + "/lecture.mp4", "-frames:v", "1", directory + "/frame.png"])
        func read(_ name: String) throws -> [UInt8] { Array(try Data(contentsOf: URL(fileURLWithPath: directory + "/" + name))) }
        return CoursewareMedia(
            directory: directory, mp4: try read("lecture.mp4"), webm: try read("lecture.webm"), png: try read("frame.png"))
    }

    /// A one-page PDF written here by hand (PDF 1.4: catalog, pages, page; the cross-reference table's offsets counted).
    static func pdf(_ text: String = "Slides") -> [UInt8] {
        var out = "%PDF-1.4\n"
        var offsets: [Int] = []
        let objects = [
            "<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] >>",
        ]
        for (index, object) in objects.enumerated() {
            offsets.append(out.utf8.count)
            out += "\(index + 1) 0 obj\n\(object)\nendobj\n"
        }
        let xref = out.utf8.count
        out += "xref\n0 \(objects.count + 1)\n0000000000 65535 f \n"
        for offset in offsets { out += String(format: "%010d 00000 n \n", offset) }
        out += "trailer\n<< /Size \(objects.count + 1) /Root 1 0 R >>\nstartxref\n\(xref)\n%%EOF\n% \(text)\n"
        return Array(out.utf8)
    }

    /// The SHA-256 of `bytes` as `sha256sum` (coreutils) gives it.
    static func sha256sum(_ bytes: [UInt8]) throws -> String {
        let run = try Subprocess.run("sha256sum", ["-"], input: Data(bytes))
        return String(run.output.prefix(64))
    }
}

let chineseSubtitles = """
    WEBVTT

    1
    00:00.000 --> 00:01.500
    这是胸部平片的正位像。

    00:00:01.500 --> 00:00:03.000 line:90%
    注意右下肺野的斑片影。
    """

let englishSubtitles = """
    WEBVTT - micro-lecture

    00:00.000 --> 00:01.500
    This is a frontal chest radiograph.

    00:01.500 --> 00:03.000
    Note the patchy opacity in the right lower zone.
    """

@Suite("Courseware: file kinds from their bytes, WebVTT, the videos-watched rule, modules on SQLite and PostgreSQL")
struct CoursewareTests {
    @Test("MP4 (H.264), WebM, PDF, PNG and JPEG are told from their bytes; a cut MP4, an HEIF-like box file and text are not videos")
    func sniffing() throws {
        let media = try CoursewareMedia.make()
        // ffprobe, not Atrium, says what the files are.
        let probe = try Subprocess.run(
            "ffprobe",
            [
                "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=codec_name", "-of", "csv=p=0",
                media.directory + "/lecture.mp4",
            ])
        #expect(probe.output.trimmingCharacters(in: .whitespacesAndNewlines) == "h264")
        #expect(CoursewareType.sniff(media.mp4) == .mp4)
        #expect(MP4Boxes.hasH264(media.mp4))
        #expect(CoursewareType.sniff(media.webm) == .webm)
        #expect(!MP4Boxes.hasH264(media.webm))
        #expect(CoursewareType.sniff(media.png) == .png)
        #expect(CoursewareType.sniff(CoursewareMedia.pdf()) == .pdf)
        #expect(CoursewareType.sniff([0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10]) == .jpeg)
        #expect(CoursewareType.sniff(Array(media.mp4.dropLast(200))) == nil, "a cut MP4's boxes no longer tile the file")
        var heif = media.mp4
        heif.replaceSubrange(8..<12, with: Array("heic".utf8))
        #expect(CoursewareType.sniff(heif) == nil)
        #expect(CoursewareType.sniff(Array("<html>video</html>".utf8)) == nil)
        #expect(CoursewareType.sniff([]) == nil)
        #expect(CoursewareType.mp4.fits(.video) && CoursewareType.webm.fits(.video) && !CoursewareType.pdf.fits(.video))
        #expect(CoursewareType.pdf.fits(.courseware) && !CoursewareType.mp4.fits(.courseware))
    }

    @Test(
        "WebVTT: cues and their times are read; SRT commas, a missing signature, an end before the start, GB18030 bytes and no cues are refused"
    )
    func webVTT() throws {
        let cues = try WebVTT.cues(Array(chineseSubtitles.utf8))
        #expect(cues.count == 2)
        #expect(cues.map(\.start) == [0, 1.5] && cues.map(\.end) == [1.5, 3])
        #expect(cues[0].text == "这是胸部平片的正位像。")
        #expect(try WebVTT.cues([0xEF, 0xBB, 0xBF] + Array(englishSubtitles.utf8)).count == 2)
        #expect(WebVTT.timestamp("01:02:03.004") == 3723.004)
        func refused(_ text: String) -> Bool { (try? WebVTT.cues(Array(text.utf8))) == nil }
        #expect(refused("1\n00:00:00,000 --> 00:00:01,000\nSRT\n"))
        #expect(refused("WEBVTT\n\n00:00:00,000 --> 00:00:01,000\nSRT comma\n"))
        #expect(refused("WEBVTT\n\n00:02.000 --> 00:01.000\nbackwards\n"))
        #expect(refused("WEBVTT\n\n00:61.000 --> 00:62.000\nseconds over 59\n"))
        #expect(refused("WEBVTTX\n\n00:00.000 --> 00:01.000\nx\n"))
        #expect(refused("WEBVTT\n\nNOTE nothing else\n"))
        // 胸部 in GB18030 is not UTF-8.
        #expect((try? WebVTT.cues(Array("WEBVTT\n\n00:00.000 --> 00:01.000\n".utf8) + [0xD0, 0xD8, 0xB2, 0xBF])) == nil)
    }

    @Test("With videos required, each video is a step: the course completes only when every video and case is done")
    func videosWatchedRule() {
        var course = Course(
            id: 1, titleChinese: "微课", titleEnglish: "Micro-lectures", summary: "", creditHours: 1, cases: [7], examID: nil,
            published: true, createdBy: "t", createdAt: Date())
        course.modules = [
            CourseModule(id: 10, course: 1, position: 1, kind: .video, title: "A", createdBy: "t", createdAt: Date()),
            CourseModule(id: 11, course: 1, position: 2, kind: .text, title: "B", body: "x", createdBy: "t", createdAt: Date()),
            CourseModule(id: 12, course: 1, position: 3, kind: .video, title: "C", createdBy: "t", createdAt: Date()),
        ]
        #expect(CourseCompletion.progress(course, studied: [7], examPassed: false, watched: []).complete, "videos not required")
        course.videosRequired = true
        let partial = CourseCompletion.progress(course, studied: [7], examPassed: false, watched: [10, 11])
        #expect(!partial.complete && partial.watched == 1 && partial.videos == 2 && partial.fraction == 2.0 / 3.0)
        #expect(CourseCompletion.progress(course, studied: [7], examPassed: false, watched: [12, 10]).complete)
        #expect(!CourseCompletion.progress(course, studied: [], examPassed: false, watched: [12, 10]).complete)
    }

    @Test("Modules, files, publication and videos watched on SQLite")
    func sqlite() async throws {
        let directory = try Corpus.temporaryDirectory("atrium-courseware")
        let archive = try Archive.open(directory: directory)
        let identity = try IdentityStore.make(archive: archive, directory: directory)
        try await CoursewareSuite.run(identity, directory: directory)
    }

    @Test("Modules, files, publication and videos watched on PostgreSQL")
    func postgres() async throws {
        let server = try await PostgresServer.start()
        defer { server.stop() }
        let url = try await server.createDatabase("atrium_courseware")
        let directory = try Corpus.temporaryDirectory("atrium-courseware-pg")
        let archive = try Archive.open(directory: directory, database: url)
        let identity = try IdentityStore.make(archive: archive, directory: directory)
        try await identity.prepare()
        try await CoursewareSuite.run(identity, directory: directory)
    }
}

enum CoursewareSuite {
    static func run(_ identity: IdentityStore, directory: String) async throws {
        let teaching = TeachingStore(identity: identity)
        let training = TrainingStore(identity: identity)
        let store = ProgrammeStore(identity: identity, reading: nil, teaching: teaching, training: training)
        try await store.prepare()
        let blobs = try FileSystemBlobStore(root: directory + "/courseware")
        let files = CoursewareFiles(blobs: blobs, maximumBytes: 4 << 20)
        let media = try CoursewareMedia.make()

        // A draft starts empty; published, it needs something to do.
        var course = try await store.createCourse(
            titleChinese: "胸片微课", titleEnglish: "Chest film micro-lectures", summary: "", creditHours: 1, cases: [], examID: nil,
            videosRequired: true, published: false, institution: "MEDCOLLEGE", by: "teacher")
        #expect(course.publishedAt == nil && course.videosRequired && course.institution == "MEDCOLLEGE")
        await #expect(throws: ProgrammeError.self) { try await store.setPublished(course.id, true) }
        await #expect(throws: ProgrammeError.self) {
            try await store.createCourse(
                titleChinese: "空", titleEnglish: "Empty", summary: "", creditHours: 1, cases: [], examID: nil, published: true, by: "t")
        }

        let text = try await store.addModule(
            course: course.id, NewCourseModule(kind: .text, title: "导言", body: "本课讲解胸片。\n第二段。"), by: "teacher")
        #expect(text.position == 1 && text.body == "本课讲解胸片。\n第二段。")
        let caseModule = try await store.addModule(
            course: course.id, NewCourseModule(kind: .teachingCase, title: "病例", caseID: 42), by: "teacher")
        #expect(try await store.course(course.id).cases == [42], "a case module adds its case to the cases to study")
        _ = try await store.addModule(
            course: course.id, NewCourseModule(kind: .link, title: "RSNA", body: " https://www.rsna.org/education "), by: "teacher")
        for bad in ["javascript:alert(1)", "ftp://example.org/x", "not a link"] {
            await #expect(throws: ProgrammeError.self, "\(bad)") {
                try await store.addModule(course: course.id, NewCourseModule(kind: .link, title: "x", body: bad), by: "teacher")
            }
        }

        // Files: kind from the bytes, size cap, SHA-256 as sha256sum computes it.
        let pdfBytes = CoursewareMedia.pdf()
        let pdf = try await files.keep(pdfBytes, filename: "../slides 胸片.pdf", allowed: [.pdf])
        #expect(
            pdf.sha256 == (try CoursewareMedia.sha256sum(pdfBytes)) && pdf.sizeBytes == pdfBytes.count && pdf.filename == "slides 胸片.pdf")
        await #expect(throws: ProgrammeError.self) { try await files.keep(pdfBytes, filename: "slides.mp4", allowed: [.mp4, .webm]) }
        await #expect(throws: ProgrammeError.self) { try await files.keep(media.mp4, filename: "lecture.pdf", allowed: [.pdf]) }
        await #expect(throws: ProgrammeError.self) {
            try await CoursewareFiles(blobs: blobs, maximumBytes: 1000).keep(media.mp4, filename: "lecture.mp4", allowed: [.mp4])
        }
        let slides = try await store.addModule(course: course.id, NewCourseModule(kind: .courseware, title: "讲义", file: pdf), by: "teacher")
        let video = try await files.keep(media.mp4, filename: "lecture.mp4", allowed: [.mp4, .webm])
        let poster = try await files.keep(media.png, filename: "frame.png", allowed: [.png, .jpeg])
        // A stored file reads back as the bytes given, and a range as that slice.
        var whole: [UInt8] = []
        for try await chunk in try await blobs.read(BlobKey(video.key), range: nil) { whole += chunk }
        #expect(whole == media.mp4)
        var part: [UInt8] = []
        for try await chunk in try await blobs.read(BlobKey(video.key), range: 100..<1100) { part += chunk }
        #expect(part == Array(media.mp4[100..<1100]))
        // Subtitles must be WebVTT; a courseware module takes no video and no subtitles.
        await #expect(throws: ProgrammeError.self) {
            try await store.addModule(
                course: course.id,
                NewCourseModule(kind: .video, title: "x", file: video, subtitles: ["en": "1\n00:00:00,000 --> 00:00:01,000\nSRT"]),
                by: "teacher")
        }
        await #expect(throws: ProgrammeError.self) {
            try await store.addModule(course: course.id, NewCourseModule(kind: .courseware, title: "x", file: video), by: "teacher")
        }
        let lecture = try await store.addModule(
            course: course.id,
            NewCourseModule(
                kind: .video, title: "微课一", file: video, poster: poster, subtitles: ["zh-CN": chineseSubtitles, "en": englishSubtitles]),
            by: "teacher")
        #expect(lecture.position == 5 && lecture.subtitles["zh-CN"] == chineseSubtitles)
        #expect(lecture.poster?.key == poster.key && lecture.poster?.sha256 == poster.sha256 && lecture.poster?.contentType == "image/png")
        course = try await store.course(course.id)
        #expect(course.modules.map(\.kind) == [.text, .teachingCase, .link, .courseware, .video])
        #expect(course.modules[2].body == "https://www.rsna.org/education")
        #expect(course.videos == [lecture.id] && slides.file == pdf && caseModule.caseID == 42)

        // Publication: the first time is kept through a withdrawal and a new publication.
        let published = try await store.setPublished(course.id, true)
        let first = try #require(published.publishedAt)
        #expect(try await store.setPublished(course.id, false).publishedAt == first)
        #expect(try await store.setPublished(course.id, true).publishedAt == first)
        #expect(try await store.facts().coursePublications == [.init(institution: "MEDCOLLEGE", published: first)])

        // The learner: the case studied, the video watched part way (not counted), then to its end (counted).
        _ = try await store.enrol(course: course.id, person: "learner", institution: "COUNTY-A", by: "learner")
        await #expect(throws: ProgrammeError.self) {
            try await store.recordViewing(
                course: course.id, module: text.id, person: "learner", personName: "L", position: 1, duration: 3, ended: false)
        }
        await #expect(throws: ProgrammeError.self) {
            try await store.recordViewing(
                course: course.id, module: lecture.id, person: "stranger", personName: "S", position: 1, duration: 3, ended: false)
        }
        var enrolment = try await store.markStudied(course: course.id, person: "learner", personName: "L", caseID: 42)
        #expect(enrolment.completedAt == nil)
        enrolment = try await store.recordViewing(
            course: course.id, module: lecture.id, person: "learner", personName: "L", position: 1.2, duration: 3, ended: false)
        #expect(enrolment.watched.isEmpty && enrolment.completedAt == nil)
        #expect(try await store.viewingPositions(course: course.id, person: "learner") == [lecture.id: 1.2])
        enrolment = try await store.recordViewing(
            course: course.id, module: lecture.id, person: "learner", personName: "L", position: 3, duration: 3, ended: true)
        #expect(enrolment.watched == [lecture.id] && enrolment.completedAt != nil && enrolment.certificate != nil)
        // A later, earlier position does not take the watched video back.
        enrolment = try await store.recordViewing(
            course: course.id, module: lecture.id, person: "learner", personName: "L", position: 0.5, duration: 3, ended: false)
        #expect(enrolment.watched == [lecture.id])
        #expect(try await store.facts().training.filter { $0.kind == "course" }.map(\.person) == ["learner"])

        // Deleting a module removes it; its files go from the blob store when the caller removes them.
        let removed = try await store.deleteModule(slides.id)
        await files.remove(removed.file)
        #expect(try await !blobs.exists(BlobKey(pdf.key)))
        #expect(try await store.course(course.id).modules.map(\.kind) == [.text, .teachingCase, .link, .video])
        // Moving: one place at a time; the first cannot go up.
        #expect(try await store.moveModule(lecture.id, up: true).map(\.kind) == [.text, .teachingCase, .video, .link])
        #expect(try await store.moveModule(text.id, up: true).map(\.kind) == [.text, .teachingCase, .video, .link])
        #expect(try await store.moveModule(text.id, up: false).map(\.position) == [1, 2, 3, 4])
        #expect(try await store.course(course.id).modules.map(\.kind) == [.teachingCase, .text, .video, .link])

        // Library use: case views recorded by the library, practice reports by training; counted here independently.
        let day = Date(timeIntervalSince1970: 1_780_000_000)
        let views: [(Int64, String, String)] = [
            (42, "s1", "COUNTY-A"), (42, "s1", "COUNTY-A"), (43, "s2", "COUNTY-B"), (44, "s3", "COUNTY-A"),
        ]
        for (index, view) in views.enumerated() {
            try await teaching.recordCaseView(view.0, person: view.1, institution: view.2, at: day.addingTimeInterval(Double(index)))
        }
        _ = try await training.submitPractice(
            case: 42, student: "s4", PracticeSubmission(findings: "右下肺斑片影", impression: "肺炎"), at: day)
        let facts = try await store.facts()
        #expect(facts.libraryUse.filter { $0.kind == .view }.count == views.count)
        #expect(facts.libraryUse.filter { $0.kind == .view }.map(\.person) == views.map(\.1))
        #expect(facts.libraryUse.filter { $0.kind == .practice }.map(\.person) == ["s4"])
        let period = ProgrammePeriod(year: AllianceTime.calendar.component(.year, from: day))
        #expect(IndicatorComputation.value(IndicatorCatalog.caseViews.key, facts: facts, period: period, now: day) == 4)
        #expect(IndicatorComputation.value(IndicatorCatalog.practiceAttempts.key, facts: facts, period: period, now: day) == 1)
        #expect(IndicatorComputation.value(IndicatorCatalog.distinctStudents.key, facts: facts, period: period, now: day) == 4)
        var countyA = period
        countyA.institution = "COUNTY-A"
        #expect(IndicatorComputation.value(IndicatorCatalog.caseViews.key, facts: facts, period: countyA, now: day) == 3)
        #expect(IndicatorComputation.value(IndicatorCatalog.distinctStudents.key, facts: facts, period: countyA, now: day) == 2)
    }
}
