import Archive
import ArgumentParser
import DICOM
import Foundation
import Imaging

#if canImport(Glibc)
    import Glibc
#endif

/// `atrium anonymize`: the PS3.15 Annex E engine over files and folders.
struct Anonymize: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "De-identify DICOM files (PS3.15 Basic Application Confidentiality Profile and options).",
        discussion: """
            IN is a file or a folder (read recursively); OUT is a folder that receives one file per released object, \
            named by its replacement SOP Instance UID. Replacement UIDs, the patient's pseudonym and the date shift \
            are derived from a secret (HMAC-SHA256), so running again with the same secret gives the same UIDs. The \
            secret is read from --secret-file, or else from the file OUT.deid-secret beside OUT, created on first use \
            (keep it: it is not written into OUT, and whoever has it can test guesses of original UIDs).
            An object is not released when an identifying value of the input is still in the output bytes outside \
            pixel data, or when burned-in text is likely (US, SC, XA, Burned In Annotation YES) and neither --mask \
            nor --burned-in-reviewed says what to do with it. The reason is printed per file; the exit status is 1 \
            when any object was not released.
            """
    )

    @Argument(help: "Input file or folder.") var input: String
    @Argument(help: "Output folder.") var output: String

    @Option(name: .long, help: "The secret for UIDs, pseudonyms and date shifts (at least 16 bytes).")
    var secretFile: String?
    @Flag(name: .long, help: "Retain Longitudinal Temporal Information with Modified Dates: one date shift per patient.")
    var retainModifiedDates = false
    @Flag(name: .long, help: "Retain Longitudinal Temporal Information with Full Dates.")
    var retainFullDates = false
    @Flag(name: .long, help: "Retain Patient Characteristics (sex, age, size, weight…).")
    var retainPatientCharacteristics = false
    @Flag(name: .long, help: "Retain Device Identity (station names, serial numbers…).")
    var retainDeviceIdentity = false
    @Flag(name: .long, help: "Retain Institution Identity.")
    var retainInstitutionIdentity = false
    @Flag(name: .customLong("retain-uids"), help: "Retain UIDs.")
    var retainUIDs = false
    @Flag(name: .long, help: "Retain Safe Private: keep the private attributes on Atrium's known-safe list.")
    var retainSafePrivate = false
    @Flag(name: .long, help: "Clean Descriptors: keep descriptions, rid of identifying values.")
    var cleanDescriptors = false
    @Flag(name: .long, help: "Clean Structured Content: keep SR content, rid of identifying values.")
    var cleanStructuredContent = false
    @Flag(name: .long, help: "Clean Graphics: keep graphic annotations and overlays (overlays then need review).")
    var cleanGraphics = false
    @Option(
        name: .long,
        help: "Clean Pixel Data: black out X,Y,WIDTH,HEIGHT in every object where burned-in text is likely; repeat for several.")
    var mask: [String] = []
    @Flag(name: .long, help: "Release objects where burned-in text is likely without masks: a person has looked at them.")
    var burnedInReviewed = false
    @Option(name: .long, help: "How many objects to process at once (default: the number of cores).")
    var jobs: Int?

    private enum Outcome: Sendable {
        case released(String)
        case refused(String, [String])
    }

    func run() async throws {
        var options: DeidentificationOptions = []
        if retainModifiedDates { options.insert(.retainLongitudinalModifiedDates) }
        if retainFullDates { options.insert(.retainLongitudinalFullDates) }
        if retainPatientCharacteristics { options.insert(.retainPatientCharacteristics) }
        if retainDeviceIdentity { options.insert(.retainDeviceIdentity) }
        if retainInstitutionIdentity { options.insert(.retainInstitutionIdentity) }
        if retainUIDs { options.insert(.retainUIDs) }
        if retainSafePrivate { options.insert(.retainSafePrivate) }
        if cleanDescriptors { options.insert(.cleanDescriptors) }
        if cleanStructuredContent { options.insert(.cleanStructuredContent) }
        if cleanGraphics { options.insert(.cleanGraphics) }
        if retainModifiedDates && retainFullDates {
            throw ValidationError("--retain-modified-dates and --retain-full-dates exclude each other")
        }
        var regions: [MaskRegion] = []
        for text in mask {
            let parts = text.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard parts.count == 4, parts[2] > 0, parts[3] > 0 else { throw ValidationError("--mask wants X,Y,WIDTH,HEIGHT, not \(text)") }
            regions.append(MaskRegion(x: parts[0], y: parts[1], width: parts[2], height: parts[3]))
        }
        if !regions.isEmpty { options.insert(.cleanPixelData) }
        let review: PixelReview? = !regions.isEmpty || burnedInReviewed ? PixelReview(regions: regions) : nil

        let outputDirectory = output.hasSuffix("/") && output.count > 1 ? String(output.dropLast()) : output
        try FileManager.default.createDirectory(atPath: outputDirectory, withIntermediateDirectories: true)
        let secret = try loadSecret(defaultPath: outputDirectory + ".deid-secret")
        let engine = Deidentifier(options: options, secret: secret)
        let files: [String]
        do {
            files = try expandPaths([input])
        } catch {
            writeStandardError("atrium anonymize: \(error)\n")
            throw ExitCode(1)
        }

        let width = max(1, jobs ?? ProcessInfo.processInfo.activeProcessorCount)
        var released = 0
        var refused = 0
        await withTaskGroup(of: Outcome.self) { group in
            var next = 0
            func handle(_ outcome: Outcome) {
                switch outcome {
                case .released: released += 1
                case .refused(let path, let reasons):
                    refused += 1
                    writeStandardError("atrium anonymize: \(path): not released: \(reasons.joined(separator: "; "))\n")
                }
            }
            while next < files.count && next < width {
                let path = files[next]
                group.addTask { Self.process(path, engine: engine, review: review, into: outputDirectory) }
                next += 1
            }
            while let outcome = await group.next() {
                handle(outcome)
                if next < files.count {
                    let path = files[next]
                    group.addTask { Self.process(path, engine: engine, review: review, into: outputDirectory) }
                    next += 1
                }
            }
        }
        print("\(released) de-identified, \(refused) not released")
        if refused > 0 { throw ExitCode(1) }
    }

    private static func process(_ path: String, engine: Deidentifier, review: PixelReview?, into directory: String) -> Outcome {
        let file: DICOMFile
        do {
            file = try DICOMFile.read(contentsOf: path)
        } catch {
            return .refused(path, ["not readable as DICOM: \(error)"])
        }
        let result = engine.deidentify(file, pixelReview: review)
        guard result.isReleased else { return .refused(path, result.refusals.map(\.description)) }
        let name = result.file.dataSet.string(.sopInstanceUID) ?? UID.generate()
        do {
            try writeDeidentified(result.file, to: directory + "/" + name + ".dcm", source: path)
        } catch {
            return .refused(path, ["could not write the output: \(error)"])
        }
        return .released(path)
    }

    /// Writes the file with its native pixel data taken straight from the input's mapped memory: the header is
    /// encoded, the pixel bytes go to the kernel as they are (one copy instead of four; see docs/performance.md).
    /// Other objects go through `DICOMFile.encoded()`.
    static func writeDeidentified(_ file: DICOMFile, to path: String, source: String) throws {
        let explicit = file.transferSyntax == .explicitVRLittleEndian
        guard let pixels = file.dataSet[.pixelData], let value = pixels.bytes, pixels.isLittleEndian || pixels.vr.unitSize == 1,
            explicit || file.transferSyntax == .implicitVRLittleEndian, value.count % 2 == 0,
            file.dataSet.elements.last?.tag == .pixelData
        else {
            try writeFileAtomically(path: path, bytes: file.encoded())
            return
        }
        var header = file
        header.dataSet.remove(.pixelData)
        var bytes = try header.encoded()
        func le16(_ v: UInt16) { bytes += [UInt8(v & 0xFF), UInt8(v >> 8)] }
        func le32(_ v: UInt32) { for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8((v >> UInt32(shift)) & 0xFF)) } }
        le16(0x7FE0)
        le16(0x0010)
        if explicit {
            bytes += Array(pixels.vr.description.utf8)
            le16(0)
        }
        le32(UInt32(value.count))
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw DICOMError.io(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        if copyPixels(from: source, value: value, after: bytes, fd: fd) {
            guard rename(temporary, path) == 0 else {
                let reason = String(cString: strerror(errno))
                unlink(temporary)
                throw DICOMError.io(path: path, reason: reason)
            }
            return
        }
        guard lseek(fd, 0, SEEK_SET) == 0, ftruncate(fd, 0) == 0 else {
            unlink(temporary)
            throw DICOMError.io(path: path, reason: String(cString: strerror(errno)))
        }
        // One writev for header and pixels: two writes would leave the first page cache folio partly written, which
        // the kernel then zero-fills before the second write copies over it (a fifth of the time in perf).
        let complete = bytes.withUnsafeBytes { head in
            value.withUnsafeBytes { body in
                // The pixels are a view of the input's memory map. Fault them in first: the kernel copies into the page
                // cache without taking faults, and a short copy makes ext4 zero-fill the folio and try again, which
                // cost a third of the run (perf). MADV_POPULATE_READ (22) needs Linux 5.14; older kernels say EINVAL.
                if let base = body.baseAddress, body.count > 0 {
                    let page = Int(getpagesize())
                    let start = Int(bitPattern: base) & ~(page - 1)
                    let length = Int(bitPattern: base) + body.count - start
                    if let pointer = UnsafeMutableRawPointer(bitPattern: start) { _ = madvise(pointer, length, 22) }
                }
                var parts = [(head.baseAddress, head.count), (body.baseAddress, body.count)]
                while true {
                    var vectors = parts.compactMap { part -> iovec? in
                        guard let base = part.0, part.1 > 0 else { return nil }
                        return iovec(iov_base: UnsafeMutableRawPointer(mutating: base), iov_len: part.1)
                    }
                    if vectors.isEmpty { return true }
                    let n = writev(fd, &vectors, Int32(vectors.count))
                    if n < 0 {
                        if errno == EINTR { continue }
                        return false
                    }
                    var left = n
                    for i in parts.indices {
                        let used = min(left, parts[i].1)
                        parts[i].0 = parts[i].0.map { $0 + used }
                        parts[i].1 -= used
                        left -= used
                    }
                }
            }
        }
        guard complete, rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw DICOMError.io(path: path, reason: reason)
        }
    }

    /// Writes `header`, then copies the pixel bytes from the input file inside the kernel (sendfile), when
    /// `value` is a view of that file's bytes at the same offset (checked at both ends). False when not done.
    static func copyPixels(from source: String, value: ByteSlice, after header: [UInt8], fd: Int32) -> Bool {
        let input = open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { return false }
        defer { close(input) }
        var info = stat()
        guard fstat(input, &info) == 0, Int(info.st_size) == value.storage.count, value.count >= 64 else { return false }
        let edge = 32
        for start in [value.startIndex, value.endIndex - edge] {
            var probe = [UInt8](repeating: 0, count: edge)
            let n = probe.withUnsafeMutableBytes { pread(input, $0.baseAddress, edge, off_t(start)) }
            guard n == edge, probe.elementsEqual(value[start..<(start + edge)]) else { return false }
        }
        let headerWritten = header.withUnsafeBytes { raw -> Bool in
            guard let base = raw.baseAddress else { return true }
            var done = 0
            while done < raw.count {
                let n = write(fd, base + done, raw.count - done)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { return false }
                done += n
            }
            return true
        }
        guard headerWritten else { return false }
        var offset = off_t(value.startIndex)
        var left = value.count
        while left > 0 {
            let n = sendfile(fd, input, &offset, left)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return false }
            left -= n
        }
        return true
    }

    /// The secret from --secret-file, or from the file beside OUT (created with 32 random bytes, mode 0600).
    private func loadSecret(defaultPath: String) throws -> DeidentificationSecret {
        let path = secretFile ?? defaultPath
        if !FileManager.default.fileExists(atPath: path) {
            guard secretFile == nil else { throw ValidationError("no secret file at \(path)") }
            let bytes = DeidentificationSecret.generateBytes()
            guard FileManager.default.createFile(atPath: path, contents: Data(bytes), attributes: [.posixPermissions: 0o600]) else {
                throw ValidationError("could not create the secret file \(path)")
            }
        }
        guard let data = FileManager.default.contents(atPath: path), let secret = DeidentificationSecret(bytes: Array(data)) else {
            throw ValidationError("the secret file \(path) is unreadable or shorter than 16 bytes")
        }
        return secret
    }
}
