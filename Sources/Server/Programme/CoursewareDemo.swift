import Foundation
import Programme
import Teaching

/// A demonstration course of modules: an introduction, a case of the demo library, a page of PDF slides made here, and,
/// when Debian's ffmpeg is installed, a six-second micro-lecture video (H.264 MP4) made at demo time with subtitles in
/// both languages and a poster frame. Nothing large is kept in the repository.
enum CoursewareDemo {
    static let step = DemoStep(name: "courseware") { context in
        let store = ProgrammeStore(identity: context.identity, reading: nil, teaching: nil)
        let files = CoursewareFiles(
            blobs: try AtriumServer.coursewareBlobs(archive: context.archive, directory: context.configuration.dataDirectory))
        let library = TeachingStore(identity: context.identity)
        let cases = try await library.search(CaseQuery(order: .title, limit: 1)).hits.map(\.id)
        let course = try await store.createCourse(
            titleChinese: "胸片阅读微课（演示）", titleEnglish: "Reading a chest film: micro-lectures (demo)",
            summary: "导言、教学病例、讲义与微课视频。An introduction, a teaching case, slides and a micro-lecture video.",
            creditHours: 1, cases: [], examID: nil, videosRequired: true, published: false, institution: "MEDCOLLEGE",
            by: "demo-curator")
        _ = try await store.addModule(
            course: course.id,
            NewCourseModule(
                kind: .text, title: "导言 Introduction",
                body:
                    "按顺序阅读正位胸片：气道、骨骼、心影、膈肌、肺野。\nRead a frontal chest film in order: airway, bones, cardiac silhouette, diaphragm, lung fields."
            ),
            by: "demo-curator")
        if let first = cases.first {
            _ = try await store.addModule(
                course: course.id, NewCourseModule(kind: .teachingCase, title: "病例 Case", caseID: first), by: "demo-curator")
        }
        let slides = try await files.keep(Self.slides(), filename: "chest-film-slides.pdf", allowed: [.pdf])
        _ = try await store.addModule(
            course: course.id, NewCourseModule(kind: .courseware, title: "讲义 Slides", file: slides), by: "demo-curator")
        if let video = await Self.video() {
            let kept = try await files.keep(video, filename: "micro-lecture.mp4", allowed: [.mp4])
            var poster: CourseFile?
            if let frame = await PosterFrame.extract(video) {
                poster = try await files.keep(frame, filename: "poster.jpg", allowed: [.jpeg, .png])
            }
            _ = try await store.addModule(
                course: course.id,
                NewCourseModule(
                    kind: .video, title: "微课 Micro-lecture", file: kept, poster: poster,
                    subtitles: ["zh-CN": Self.chineseSubtitles, "en": Self.englishSubtitles]),
                by: "demo-curator")
        } else {
            context.logger.info("ffmpeg is not installed: the demo course has no video")
        }
        _ = try await store.setPublished(course.id, true)
    }

    static let chineseSubtitles = """
        WEBVTT

        00:00.000 --> 00:03.000
        先看气道与骨骼。

        00:03.000 --> 00:06.000
        再看心影、膈肌与两肺野。
        """

    static let englishSubtitles = """
        WEBVTT

        00:00.000 --> 00:03.000
        First the airway and the bones.

        00:03.000 --> 00:06.000
        Then the heart, the diaphragm and both lung fields.
        """

    /// A six-second H.264 MP4 of ffmpeg's test pattern, or nil without ffmpeg.
    static func video() async -> [UInt8]? {
        guard let ffmpeg = PosterFrame.ffmpegPath() else { return nil }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("atrium-demo-\(UUID().uuidString).mp4")
        defer { try? FileManager.default.removeItem(at: path) }
        let status = await PosterFrame.run(
            ffmpeg,
            [
                "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25", "-t", "6", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-movflags",
                "+faststart", path.path,
            ])
        guard status == 0, let data = try? Data(contentsOf: path) else { return nil }
        return Array(data)
    }

    /// One page of slides as a PDF 1.4 file written here (Helvetica, ASCII text; offsets of the cross-reference table
    /// counted).
    static func slides() -> [UInt8] {
        let lines = ["Reading a chest film", "1. Airway  2. Bones  3. Heart  4. Diaphragm  5. Lung fields", "Atrium demo courseware"]
        var stream = "BT /F1 18 Tf 40 160 Td (\(lines[0])) Tj ET\n"
        stream += "BT /F1 11 Tf 40 120 Td (\(lines[1])) Tj ET\nBT /F1 9 Tf 40 40 Td (\(lines[2])) Tj ET\n"
        let objects = [
            "<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 420 220] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
            "<< /Length \(stream.utf8.count) >>\nstream\n\(stream)endstream",
            "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        ]
        var out = "%PDF-1.4\n"
        var offsets: [Int] = []
        for (index, object) in objects.enumerated() {
            offsets.append(out.utf8.count)
            out += "\(index + 1) 0 obj\n\(object)\nendobj\n"
        }
        let xref = out.utf8.count
        out += "xref\n0 \(objects.count + 1)\n0000000000 65535 f \n"
        for offset in offsets { out += String(format: "%010d 00000 n \n", offset) }
        out += "trailer\n<< /Size \(objects.count + 1) /Root 1 0 R >>\nstartxref\n\(xref)\n%%EOF\n"
        return Array(out.utf8)
    }
}
