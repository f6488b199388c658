import ArgumentParser
import DICOM
import Foundation
import Imaging

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure Atrium's own speed (the side-by-side comparisons live in bench/).",
        subcommands: [BenchParse.self, BenchDecode.self, BenchSearch.self, BenchProgramme.self, BenchOriginality.self]
    )
}

struct BenchParse: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parse",
        abstract: "Parse files in one process and print files/s and MB/s as JSON."
    )

    @Flag(name: .long, help: "Stop before Pixel Data (header-only parse, as for indexing).")
    var stopBeforePixels = false

    @Flag(name: .long, help: "Also touch every byte of Pixel Data, so the file is really read (not only mapped).")
    var touchPixels = false

    @Option(name: .customLong("repeat"), help: "Passes over the file list; the best pass is reported.")
    var passes: Int = 3

    @Argument(help: "Files, or directories to walk.")
    var paths: [String]

    func run() throws {
        let files = try expand(paths)
        let options = stopBeforePixels ? ReadOptions.stopBeforePixelData : ReadOptions.default
        var totalBytes = 0
        for f in files { totalBytes += (try? FileManager.default.attributesOfItem(atPath: f)[.size] as? Int) ?? 0 }
        var best = Double.infinity
        var checksum = 0
        for _ in 0..<max(passes, 1) {
            let start = ContinuousClock.now
            for f in files {
                let file = try DICOMFile.read(contentsOf: f, options: options)
                checksum &+= file.dataSet.count
                if touchPixels, let pixels = file.dataSet[.pixelData]?.bytes {
                    checksum &+= pixels.withUnsafeBytes { raw in
                        var sum: UInt64 = 0
                        let words = raw.count / 8
                        for i in 0..<words { sum &+= raw.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self) }
                        return Int(truncatingIfNeeded: sum)
                    }
                }
            }
            let elapsed = ContinuousClock.now - start
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            best = min(best, seconds)
        }
        let result: [String: Any] = [
            "files": files.count, "bytes": totalBytes, "seconds": best,
            "files_per_second": Double(files.count) / best, "megabytes_per_second": Double(totalBytes) / best / 1e6,
            "checksum": checksum,
        ]
        let data = try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys])
        print(String(decoding: data, as: UTF8.self))
    }
}

struct BenchDecode: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decode",
        abstract: "Decode every frame of the files in one process and print MB/s of output pixels per transfer syntax as JSON."
    )

    @Option(name: .customLong("repeat"), help: "Passes over the file list; the best pass per transfer syntax is reported.")
    var passes: Int = 3

    @Argument(help: "Files, or directories to walk.")
    var paths: [String]

    func run() throws {
        let files = try expand(paths)
        // Read and group first, so that only decoding is timed (the files stay memory-mapped).
        var groups: [String: [PixelData]] = [:]
        for f in files {
            let file = try DICOMFile.read(contentsOf: f)
            groups[file.transferSyntax.uid, default: []].append(try PixelData(file: file))
        }
        var result: [String: Any] = [:]
        for (uid, images) in groups.sorted(by: { $0.key < $1.key }) {
            var best = Double.infinity
            var bytes = 0
            var frames = 0
            for _ in 0..<max(passes, 1) {
                bytes = 0
                frames = 0
                let start = ContinuousClock.now
                for image in images {
                    for index in 0..<image.numberOfFrames {
                        bytes += try image.frame(index).pixels.count
                        frames += 1
                    }
                }
                let elapsed = ContinuousClock.now - start
                best = min(best, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
            }
            result[uid] = [
                "files": images.count, "frames": frames, "bytes": bytes, "seconds": best,
                "megabytes_per_second": Double(bytes) / best / 1e6,
            ]
        }
        let data = try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys])
        print(String(decoding: data, as: UTF8.self))
    }
}

/// Files named directly, and the files under named directories.
func expand(_ paths: [String]) throws -> [String] {
    do {
        return try expandPaths(paths)
    } catch let error as FileWalkError {
        throw ValidationError(error.description)
    }
}
