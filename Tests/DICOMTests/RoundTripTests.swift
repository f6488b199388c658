import AtriumTesting
import DICOM
import Foundation
import Testing

/// Rewrites every readable corpus file in a transfer syntax, once per syntax, into a temporary directory.
final class RoundTripCorpus: @unchecked Sendable {
    static let shared = RoundTripCorpus()
    private let lock = NSLock()
    private var written: [String: [String: String]] = [:]

    /// Original path → rewritten path, for files that can be written in `syntax` (native pixel data for the
    /// uncompressed syntaxes; encapsulated files only in their own syntax).
    func files(in syntax: TransferSyntax) throws -> [String: String] {
        lock.lock()
        defer { lock.unlock() }
        if let done = written[syntax.uid] { return done }
        let directory = try Corpus.temporaryDirectory("roundtrip-\(syntax.uid)")
        var out: [String: String] = [:]
        for (i, path) in PydicomReference.files.enumerated() {
            guard let file = try? DICOMFile.read(contentsOf: path), file.warnings.allSatisfy({ $0.kind != .truncatedValue }) else {
                continue
            }
            if file.dataSet[.pixelData]?.encapsulated != nil && file.transferSyntax != syntax { continue }
            let target = "\(directory)/\(i).dcm"
            try file.write(to: target, transferSyntax: syntax)
            out[path] = target
        }
        written[syntax.uid] = out
        return out
    }
}

/// pydicom's JSON of arbitrary files, one Python process per call.
func pydicomJSON(_ paths: [String]) throws -> [String: [String: Any]] {
    let run = try Subprocess.run(
        "python3", [Corpus.script("DICOMTests", "pydicom_json.py")], input: Data(paths.joined(separator: "\n").utf8))
    guard run.status == 0 else { throw PeerError("pydicom_json.py failed: \(run.errorOutput.prefix(500))") }
    var out: [String: [String: Any]] = [:]
    for line in run.output.split(separator: "\n") {
        if let o = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], let p = o["path"] as? String { out[p] = o }
    }
    return out
}

/// Removes what a rewrite legitimately changes: group length elements, which Atrium drops (retired, PS3.5 7.2),
/// and — for implicit VR targets — the VRs of private elements, which implicit VR cannot carry.
func normalizedForRoundTrip(_ json: Any?, implicit: Bool) -> Any? {
    guard let object = json as? [String: Any] else { return json }
    var out: [String: Any] = [:]
    for (key, value) in object {
        guard let tag = Tag(hexString: key), !tag.isGroupLength else { continue }
        if implicit && tag.isPrivate { continue }
        guard var attribute = value as? [String: Any] else { continue }
        if implicit && (tag == .pixelData || (tag.group & 0xFF00 == 0x6000 && tag.element == 0x3000)) { attribute["vr"] = nil }
        // An odd-length value gains a padding byte when written (PS3.5 7.1.1); compare bulk values without it.
        if let inline = attribute["InlineBinary"] as? String, var bytes = Data(base64Encoded: inline), bytes.last == 0 {
            while bytes.last == 0 { bytes.removeLast() }
            attribute["InlineBinary"] = bytes.base64EncodedString()
        }
        if let items = attribute["Value"] as? [Any], attribute["vr"] as? String == "SQ" {
            attribute["Value"] = items.map { normalizedForRoundTrip($0, implicit: implicit) as Any }
        }
        out[key] = attribute
    }
    return out
}

/// The first element that differs, allowing for the padding byte a writer must add to an odd-length value.
func firstMismatch(_ a: DataSet, _ b: DataSet) -> String? {
    guard a.elements.map(\.tag) == b.elements.map(\.tag) else {
        return "tags differ: \(Set(a.elements.map(\.tag)).symmetricDifference(b.elements.map(\.tag)).sorted().prefix(5))"
    }
    for (x, y) in zip(a.elements, b.elements) {
        if x == y { continue }
        // Wide native Pixel Data swaps per sample, which only the data set (Bits Allocated) knows.
        if x.tag == .pixelData && x.vr == y.vr && a.littleEndianBytes(of: x) == b.littleEndianBytes(of: y) { continue }
        if x.vr != y.vr { return "\(x.tag): VR \(x.vr) became \(y.vr)" }
        if let xi = x.items, let yi = y.items, xi.count == yi.count {
            for (p, q) in zip(xi, yi) { if let m = firstMismatch(p, q) { return "\(x.tag) > \(m)" } }
            continue
        }
        let xb = x.littleEndianBytes().array
        let yb = y.littleEndianBytes().array
        if xb.count % 2 == 1, yb == xb + [x.vr.paddingByte] { continue }
        return "\(x.tag): value differs"
    }
    return nil
}

let uncompressedSyntaxes: [TransferSyntax] = [
    .explicitVRLittleEndian, .implicitVRLittleEndian, .explicitVRBigEndian, .deflatedExplicitVRLittleEndian,
]

@Suite("Read → write → read keeps every dataset, as pydicom and dcmtk see it")
struct RoundTripTests {
    @Test("pydicom reads Atrium's rewrite of every corpus file as it reads the original", arguments: uncompressedSyntaxes)
    func pydicomAgrees(syntax: TransferSyntax) throws {
        let pairs = try RoundTripCorpus.shared.files(in: syntax)
        #expect(pairs.count >= 100, "too few corpus files could be rewritten in \(syntax)")
        let originals = try PydicomReference.shared.reference(stopBeforePixels: false)
        let rewritten = try pydicomJSON(Array(pairs.values))
        for (original, copy) in pairs.sorted(by: { $0.key < $1.key }) {
            let name = (original as NSString).lastPathComponent
            guard let before = originals[original]?["json"] else { continue }
            guard let after = rewritten[copy]?["json"] else {
                Issue.record("pydicom cannot read Atrium's \(syntax) rewrite of \(name): \(rewritten[copy]?["error"] ?? "no output")")
                continue
            }
            let implicit = !syntax.isExplicitVR
            // Implicit VR Pixel Data is always OW (PS3.5 A.1).
            let differences = jsonDifferences(
                normalizedForRoundTrip(before, implicit: implicit), normalizedForRoundTrip(after, implicit: implicit),
                trimmingStrings: true)
            #expect(differences.isEmpty, "\(name) rewritten in \(syntax):\n\(differences.joined(separator: "\n"))")
        }
    }

    @Test("Atrium reads its own rewrite back to an equal dataset", arguments: uncompressedSyntaxes)
    func atriumAgrees(syntax: TransferSyntax) throws {
        for (original, copy) in try RoundTripCorpus.shared.files(in: syntax) {
            var before = try DICOMFile.read(contentsOf: original).dataSet
            let after = try DICOMFile.read(contentsOf: copy).dataSet
            before.removeAll { $0.tag.isGroupLength }
            if syntax.isExplicitVR {
                let mismatch = firstMismatch(before, after)
                #expect(mismatch == nil, "\((original as NSString).lastPathComponent) in \(syntax): \(mismatch ?? "")")
            } else {
                #expect(before.elements.map(\.tag) == after.elements.map(\.tag), "\((original as NSString).lastPathComponent) in \(syntax)")
            }
        }
    }

    @Test("dcmdump reads every file Atrium writes without an error", arguments: uncompressedSyntaxes)
    func dcmdumpReads(syntax: TransferSyntax) throws {
        let files = try RoundTripCorpus.shared.files(in: syntax)
        for (original, copy) in files {
            let run = try Subprocess.run("/usr/bin/dcmdump", ["-q", copy])
            let errors = run.errorOutput.split(separator: "\n").filter { $0.hasPrefix("E:") }
            #expect(
                run.status == 0 && errors.isEmpty,
                "dcmdump fails on the \(syntax) rewrite of \((original as NSString).lastPathComponent): \(errors.prefix(3).joined(separator: " | "))"
            )
        }
    }

    @Test("dciodvfy finds no error in a rewrite that it did not find in the original")
    func dciodvfyFindsNothingNew() throws {
        let files = try RoundTripCorpus.shared.files(in: .explicitVRLittleEndian)
        func errors(_ path: String) throws -> Set<String> {
            let run = try Subprocess.run("/usr/bin/dciodvfy", [path])
            // Messages name elements and modules, not byte offsets, so the same problem gives the same line.
            return Set((run.output + run.errorOutput).split(separator: "\n").filter { $0.hasPrefix("Error") }.map(String.init))
        }
        let directory = try Corpus.temporaryDirectory("dciodvfy")
        for (index, (original, copy)) in files.sorted(by: { $0.key < $1.key }).enumerated() {
            // dciodvfy cannot read every syntax (deflate, for one), so the baseline also includes what it finds in
            // dcmtk's own explicit VR little endian conversion of the original.
            var baseline = try errors(original)
            let converted = "\(directory)/\(index).dcm"
            if try Subprocess.run("/usr/bin/dcmconv", ["+te", original, converted]).status == 0 {
                baseline.formUnion(try errors(converted))
            }
            let new = try errors(copy).subtracting(baseline)
            #expect(
                new.isEmpty,
                "dciodvfy on the rewrite of \((original as NSString).lastPathComponent): \(new.sorted().prefix(5).joined(separator: " | "))"
            )
        }
    }
}

extension TransferSyntax: CustomTestStringConvertible {
    public var testDescription: String { name }
}
