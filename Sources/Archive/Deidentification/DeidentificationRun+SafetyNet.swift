import DICOM
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The safety net: every identifying value of the input, in each of its byte forms, must be absent from the output's
/// bytes outside pixel data.
extension DeidentificationRun {
    /// Values shorter than this many bytes are too common to search for (a sex, a one-digit study ID); dates and UIDs
    /// are longer.
    static let shortestNeedleBytes = 4

    /// Collects the identifying values of `dataSet`: every person name and its components, every date (unless dates
    /// are retained), and the values of every attribute the profile removes, empties, replaces or replaces by a dummy
    /// (IDs, institution and station names, addresses, telephone numbers, serial numbers, UIDs).
    mutating func collectIdentifying(_ dataSet: DataSet, path: String) {
        var texts: Set<String> = []
        collect(dataSet, path: path, texts: &texts)
        identifyingText = texts.filter { $0.utf8.count >= Self.shortestNeedleBytes }.sorted { $0.count > $1.count }
    }

    private mutating func collect(_ dataSet: DataSet, path: String, texts: inout Set<String>) {
        let generated = [patient.name, patient.id, Self.dummyText, Self.dummyName].map { Array($0.utf8) }
        for element in dataSet {
            let tag = element.tag
            if let items = element.items {
                for (index, item) in items.enumerated() { collect(item, path: path + "\(tag)[\(index)]>", texts: &texts) }
                continue
            }
            guard element.vr.isString, !tag.isPrivate, !tag.isGroupLength, let raw = element.bytes, !raw.isEmpty else { continue }
            let action = ConfidentialityProfile.action(for: tag, options: options)
            var values: [String] = []
            switch element.vr {
            case .PN:
                guard action != .keep else { continue }
                for value in element.strings(characterSet: dataSet.characterSet) {
                    values.append(value)
                    for group in value.split(separator: "=") {
                        values.append(String(group))
                        values.append(group.split(separator: "^").joined(separator: " "))
                        values.append(group.split(separator: "^").joined())
                        values += group.split(separator: "^").map(String.init)
                    }
                }
            case .DA, .DT:
                guard !options.contains(.retainLongitudinalFullDates) else { continue }
                guard action != .keep else { continue }
                for value in element.strings(characterSet: dataSet.characterSet) where value.count >= 8 {
                    let date = String(value.prefix(8))
                    if date != Self.dummyDate { values.append(date) }
                }
            case .UI:
                guard action == .replaceUID else { continue }
                values = element.strings(characterSet: dataSet.characterSet)
            case .CS, .AS, .DS, .IS, .TM, .UR:
                continue
            default:
                guard let action, [.remove, .empty, .dummy].contains(action), Self.isIdentifyingKind(tag) else { continue }
                if element.vr.isSingleValuedText {
                    values = [dataSet.string(tag) ?? ""]
                } else {
                    values = element.strings(characterSet: dataSet.characterSet)
                }
            }
            var needles: Set<[UInt8]> = []
            let whole = Array(raw).trimmingPadding()
            if whole.count >= Self.shortestNeedleBytes, !Self.isPartOfReplacement(whole, generated) {
                needles.insert(whole)
            }
            for value in values {
                let trimmed = value.withoutSurroundingSpaces()
                let utf8 = Array(trimmed.utf8)
                // A value that the engine's own replacements contain ("ANON") would only find them.
                guard !utf8.isEmpty, !Self.isPartOfReplacement(utf8, generated) else { continue }
                if element.vr != .UI && element.vr != .DA && element.vr != .DT { texts.insert(trimmed) }
                if utf8.count >= Self.shortestNeedleBytes { needles.insert(utf8) }
                // Plain ASCII is the same bytes in every character set Atrium reads.
                guard utf8.contains(where: { $0 >= 0x80 }) else { continue }
                for form in [
                    dataSet.characterSet.encode(trimmed, vr: element.vr), SpecificCharacterSet.gb18030.encode(trimmed, vr: element.vr),
                ]
                where form.count >= Self.shortestNeedleBytes {
                    needles.insert(form)
                }
            }
            if !needles.isEmpty { identifying.append((path + tag.description, tag, Array(needles))) }
        }
    }

    /// Whether `value` (ASCII letters in any case) is part of one of the engine's replacement texts.
    static func isPartOfReplacement(_ value: [UInt8], _ generated: [[UInt8]]) -> Bool {
        let upper = value.map { $0 >= 0x61 && $0 <= 0x7A ? $0 - 0x20 : $0 }
        for text in generated where text.count >= upper.count {
            for start in 0...(text.count - upper.count) where text[start..<(start + upper.count)].elementsEqual(upper) {
                return true
            }
        }
        return false
    }

    /// Whether a text attribute is of a kind the safety net guards: identifiers and numbers (IDs, accession, order,
    /// serial and telephone numbers), institution, station and device names, addresses. Descriptions are cleaned or
    /// removed by the profile but not searched for, so that a description repeated in a kept attribute ("Carotids"
    /// as Study Description and Position Reference Indicator) does not hold an object back.
    static func isIdentifyingKind(_ tag: Tag) -> Bool {
        guard let keyword = DataDictionary.entry(for: tag)?.keyword else { return true }
        if keyword.hasSuffix("ID") || keyword.hasSuffix("IDs") || keyword.hasSuffix("Identifier") { return true }
        for part in [
            "Number", "Address", "Telephone", "Telecom", "Institution", "StationName", "StationAETitle", "Location", "MachineName",
            "DistributionName", "DepartmentName", "OwnerName", "Issuer",
        ]
        where keyword.contains(part) {
            return true
        }
        return false
    }

    static let manufacturer = Tag(0x0008, 0x0070)

    /// Searches the output (meta group and data set, pixel data left out) for every identifying value.
    func safetyNet(_ file: DICOMFile) -> [DeidentificationRefusal] {
        var header = file.dataSet
        header.remove(.pixelData)
        header.remove(.floatPixelData)
        header.remove(.doubleFloatPixelData)
        func encoded(_ header: DataSet) -> [UInt8] {
            let meta = DICOMFile.makeFileMetaInformation(for: header, transferSyntax: file.transferSyntax)
            var writer = DataSetWriter(transferSyntax: .explicitVRLittleEndian, reservingCapacity: 8192)
            writer.write(meta)
            var syntax = file.transferSyntax
            if syntax.isDeflated || syntax.isEncapsulated { syntax = .explicitVRLittleEndian }
            var body = DataSetWriter(transferSyntax: syntax, reservingCapacity: 8192)
            body.write(header)
            return writer.bytes + body.bytes
        }
        let bytes = encoded(header)
        // The kept Manufacturer names the vendor, and a site often calls itself after it on the device (pydicom's
        // MR_small: Institution Name TOSHIBA, Manufacturer TOSHIBA_MEC). Institution values are therefore not searched
        // for inside Manufacturer; every other identifying value still is, and institution values everywhere else.
        var withoutManufacturer: [UInt8]?
        if header.contains(Self.manufacturer) {
            var other = header
            other.remove(Self.manufacturer)
            withoutManufacturer = encoded(other)
        }
        var refusals: [DeidentificationRefusal] = []
        var reported: Set<String> = []
        for (path, tag, needles) in identifying where !reported.contains(path) {
            let isInstitution = DataDictionary.entry(for: tag)?.keyword.contains("Institution") ?? false
            let haystack = isInstitution ? withoutManufacturer ?? bytes : bytes
            for needle in needles where contains(haystack, needle) {
                reported.insert(path)
                refusals.append(
                    .identifyingValueRemains(
                        sourcePath: path, attribute: ConfidentialityProfile.name(of: tag) ?? DataDictionary.entry(for: tag)?.name ?? "",
                        foundIn: locate(needle, in: header, path: "")))
                break
            }
        }
        return refusals
    }

    /// The path of the first element whose value holds `needle`.
    private func locate(_ needle: [UInt8], in dataSet: DataSet, path: String) -> String? {
        for element in dataSet {
            if let items = element.items {
                for (index, item) in items.enumerated() {
                    if let found = locate(needle, in: item, path: path + "\(element.tag)[\(index)]>") { return found }
                }
            } else if let b = element.bytes, contains(b.array, needle) {
                return path + element.tag.description
            }
        }
        return nil
    }

    private func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        haystack.withUnsafeBytes { h in
            needle.withUnsafeBytes { n in
                guard let hb = h.baseAddress, let nb = n.baseAddress, n.count > 0, n.count <= h.count else { return false }
                let first = n[0]
                for i in 0...(h.count - n.count) where h[i] == first {
                    if memcmp(hb + i, nb, n.count) == 0 { return true }
                }
                return false
            }
        }
    }
}

extension String {
    /// The text without leading and trailing spaces.
    fileprivate func withoutSurroundingSpaces() -> String {
        guard let first = firstIndex(where: { $0 != " " }), let last = lastIndex(where: { $0 != " " }) else { return "" }
        return String(self[first...last])
    }
}

extension Array where Element == UInt8 {
    /// The bytes without trailing spaces and NULs (value padding).
    fileprivate func trimmingPadding() -> [UInt8] {
        var end = count
        while end > 0, self[end - 1] == 0x20 || self[end - 1] == 0x00 { end -= 1 }
        return Array(self[0..<end])
    }
}
