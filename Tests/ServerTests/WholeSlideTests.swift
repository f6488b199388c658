import Archive
import AtriumTesting
import DICOM
import Foundation
import Platform
import Server
import Testing

@Suite("Whole-slide imaging: ingest, pyramid index, tiles and conversion, against wsidicom, wsidicomizer and OpenSlide", .serialized)
struct WholeSlideTests {
    @Test(
        "Slides stored by STOW-RS and C-STORE are indexed as pyramids, served tile for tile as wsidicom reads them, and shown by the slide viewer"
    )
    func wholeSlideSession() async throws {
        try Chromium.require()
        for tool in ["/usr/bin/vips", "/usr/bin/storescu", "/usr/bin/dciodvfy"] { _ = try Subprocess.resolve(tool) }
        let modules = try await Subprocess.runDetached(
            "python3", ["-c", "import wsidicom, wsidicomizer, openslide, dicomweb_client, highdicom, selenium"])
        guard modules.status == 0 else {
            throw PeerError(
                "the Python peers are missing (scripts/install-deps: pip install wsidicom wsidicomizer openslide-python openslide-bin "
                    + "dicomweb-client highdicom selenium): " + modules.errorOutput.suffix(400))
        }
        let server = try await DIMSETestServer.start()
        let token = try await server.server.testToken()
        let work = try Corpus.temporaryDirectory("wsi-session")
        let run = try await Subprocess.runDetached(
            "python3",
            [
                Corpus.script("ServerTests", "wsi_session.py"), "http://127.0.0.1:\(server.httpPort)", token, "\(server.dicomPort)", work,
            ])
        // The slide viewer in headless Chromium, and a pathology consultation, on the same server.
        let pathologySite = try await server.server.testToken("pathology-site", roles: [.site], institution: "PATHOLOGY-SITE")
        let pathologist = try await server.server.testToken("pathologist", roles: [.reader])
        let viewer = try await Subprocess.runDetached(
            "python3",
            [
                Corpus.script("ServerTests", "slide_viewer.py"), "http://127.0.0.1:\(server.httpPort)", token, "test-admin",
                "test password test-admin", work, Corpus.repositoryRoot + "/.build/screenshots", pathologySite, pathologist,
                "test password pathologist",
            ])
        // Who may read a slide: like WADO-RS (a site user of another institution finds nothing, a student is refused).
        let stored = try await server.server.archive.index.instances(studyInstanceUID: nil, seriesInstanceUID: nil, sopInstanceUID: nil)
        let slideSeries = try #require(stored.first { $0.sopClassUID == UID.vlWholeSlideMicroscopyImageStorage }?.seriesInstanceUID)
        let siteToken = try await server.server.testToken("wsi-site", roles: [.site], institution: "ELSEWHERE")
        let studentToken = try await server.server.testToken("wsi-student", roles: [.student])
        for (who, bearer, want) in [
            ("administrator", token, 200), ("other site", siteToken, 404), ("student", studentToken, 403), ("anonymous", nil, 401),
        ] {
            let status = try await Subprocess.runDetached(
                "/usr/bin/curl",
                ["-s", "-o", "/dev/null", "-w", "%{http_code}"] + (bearer.map { ["-H", "Authorization: Bearer \($0)"] } ?? [])
                    + ["http://127.0.0.1:\(server.httpPort)/api/wsi/series/\(slideSeries)/tiles/0/0/0"])
            #expect(status.output == "\(want)", "\(who) asked for a tile: \(status.output)")
        }
        await server.stop()
        for (name, result, minimum) in [("wsi_session.py", run, 23), ("slide_viewer.py", viewer, 20)] {
            let report = try #require(
                try? JSONSerialization.jsonObject(with: result.standardOutput) as? [String: Any],
                "\(name) gave no report: \(result.errorOutput.suffix(2000))")
            let checks = try #require(report["checks"] as? [[Any]])
            #expect(checks.count >= minimum, "\(name) stopped early: \(checks.count) checks")
            for check in checks {
                #expect(check[1] as? Bool == true, "\(name): \(check[0] as? String ?? "?"): \(check[2])")
            }
        }
    }

    @Test("A TILED_FULL description's tile counts and a sparse frame map's positions come from the data set")
    func describesTiledImages() throws {
        var ds = DataSet()
        ds.set(.sopClassUID, .UI, UID.vlWholeSlideMicroscopyImageStorage)
        ds.set(.imageType, .CS, ["DERIVED", "PRIMARY", "VOLUME", "RESAMPLED"])
        ds.set(.columns, .US, integers: [256])
        ds.set(.rows, .US, integers: [128])
        ds.set(.totalPixelMatrixColumns, .UL, integers: [1000])
        ds.set(.totalPixelMatrixRows, .UL, integers: [300])
        ds.set(.numberOfFrames, .IS, "2")
        ds.set(.dimensionOrganizationType, .CS, "TILED_SPARSE")
        var items: [DataSet] = []
        // Frames at pixel (769, 257) and (1, 1): tiles (3, 2) and (0, 0), written here from 1-based pixel positions.
        for (column, row, z) in [(769, 257, 2.5), (1, 1, 0.0)] {
            var position = DataSet()
            position.set(.columnPositionInTotalImagePixelMatrix, .SL, integers: [column])
            position.set(.rowPositionInTotalImagePixelMatrix, .SL, integers: [row])
            position.set(.zOffsetInSlideCoordinateSystem, .DS, "\(z)")
            var item = DataSet()
            item.set(.planePositionSlideSequence, items: [position])
            items.append(item)
        }
        ds.set(.perFrameFunctionalGroupsSequence, items: items)
        let described = try #require(SlideIndexing.describe(ds, transferSyntax: .jpegBaseline8Bit, blob: nil))
        #expect(described.0.tilesAcross == 4 && described.0.tilesDown == 3)
        #expect(described.0.imageType == "VOLUME" && described.0.isSparse)
        #expect(described.0.focalPlanes == [0, 2.5])
        #expect(described.1.positions == [3, 2, 1, 0, 0, 0, 0, 0])
        #expect(
            SlideFrameMap(positionBytes: described.1.positionBytes, byteRangeBytes: [1, 0, 0, 0, 0, 0, 0, 0]).positions
                == described.1.positions)
    }
}
