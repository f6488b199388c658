/// Formats datasets as a tree of lines in the manner of dcmtk's dcmdump: tag, VR, value, length, VM, keyword.
public struct DumpFormatter: Sendable {
    /// Longest value text printed before it is cut with "...".
    public var maximumValueLength: Int

    public init(maximumValueLength: Int = 64) {
        self.maximumValueLength = maximumValueLength
    }

    /// The dump of a whole file: meta group and dataset, each with its transfer syntax.
    public func format(_ file: DICOMFile) -> String {
        var out = "# Dicom-File-Format\n\n"
        if !file.fileMetaInformation.isEmpty {
            out += "# Dicom-Meta-Information-Header\n# Used TransferSyntax: Little Endian Explicit\n"
            format(file.fileMetaInformation, level: 0, into: &out)
            out += "\n"
        }
        out += "# Dicom-Data-Set\n# Used TransferSyntax: \(file.transferSyntax.name)\n"
        format(file.dataSet, level: 0, into: &out)
        return out
    }

    /// Appends the lines of `dataSet` at nesting `level`.
    public func format(_ dataSet: DataSet, level: Int, into out: inout String) {
        let indent = String(repeating: "  ", count: level)
        for element in dataSet.elements {
            let keyword = keyword(for: element.tag, in: dataSet)
            switch element.value {
            case .sequence(let items):
                let kind = element.hadUndefinedLength ? "undefined" : "explicit"
                line(
                    &out, indent, element.tag, "SQ", "(Sequence with \(kind) length #=\(items.count))",
                    length: element.hadUndefinedLength ? "u/l" : "-", vm: "1", keyword: keyword)
                for item in items {
                    line(
                        &out, indent + "  ", .item, "na", "(Item with undefined length #=\(item.count))", length: "u/l", vm: "1",
                        keyword: "Item")
                    format(item, level: level + 2, into: &out)
                    line(
                        &out, indent + "  ", .itemDelimitationItem, "na", "(ItemDelimitationItem)", length: "0", vm: "0",
                        keyword: "ItemDelimitationItem")
                }
                line(
                    &out, indent, .sequenceDelimitationItem, "na", "(SequenceDelimitationItem)", length: "0", vm: "0",
                    keyword: "SequenceDelimitationItem")
            case .encapsulated(let pixels):
                line(
                    &out, indent, element.tag, element.vr.description, "(PixelSequence #=\(pixels.fragments.count + 1))",
                    length: "u/l", vm: "1", keyword: keyword)
                line(
                    &out, indent + "  ", .item, "pi", bytesText(pixels.basicOffsetTable, vr: .OB, little: true),
                    length: String(pixels.basicOffsetTable.count), vm: "1", keyword: "Item")
                for f in pixels.fragments {
                    line(
                        &out, indent + "  ", .item, "pi", bytesText(f, vr: .OB, little: true), length: String(f.count), vm: "1",
                        keyword: "Item")
                }
                line(
                    &out, indent, .sequenceDelimitationItem, "na", "(SequenceDelimitationItem)", length: "0", vm: "0",
                    keyword: "SequenceDelimitationItem")
            case .bytes(let bytes):
                let (text, vm) = valueText(element, bytes: bytes, characterSet: dataSet.characterSet)
                line(&out, indent, element.tag, element.vr.description, text, length: String(bytes.count), vm: String(vm), keyword: keyword)
            }
        }
    }

    private func keyword(for tag: Tag, in dataSet: DataSet) -> String {
        if let entry = DataDictionary.entry(for: tag), !entry.keyword.isEmpty { return entry.keyword }
        if tag.isPrivateCreator { return "PrivateCreator" }
        if tag.isGroupLength { return "GenericGroupLength" }
        if tag.isPrivate, let creator = dataSet.privateCreator(of: tag), let entry = DataDictionary.privateEntry(for: tag, creator: creator)
        {
            return entry.name.isEmpty ? "PrivateTag" : entry.name
        }
        return tag.isPrivate ? "PrivateTag" : "Unknown Tag & Data"
    }

    private func valueText(_ element: DataElement, bytes: ByteSlice, characterSet: SpecificCharacterSet) -> (String, Int) {
        if bytes.isEmpty { return ("(no value available)", 0) }
        if element.vr.isString {
            let values = element.strings(characterSet: characterSet)
            var text = "[" + values.joined(separator: "\\") + "]"
            if element.vr == .UI, values.count == 1, let entry = UIDRegistry.entry(for: values[0]), !entry.keyword.isEmpty {
                text = "=" + entry.keyword
            }
            return (text, values.count)
        }
        if element.vr.isBulk {
            let vm = element.vr == .OB || element.vr == .UN ? 1 : 1
            return (bytesText(bytes, vr: element.vr, little: element.isLittleEndian), vm)
        }
        let values = element.strings(characterSet: characterSet)
        return (values.joined(separator: "\\"), values.count)
    }

    private func bytesText(_ bytes: ByteSlice, vr: VR, little: Bool) -> String {
        if bytes.isEmpty { return "(no value available)" }
        let unit = vr == .OW ? 2 : (vr == .OL || vr == .OF ? 4 : (vr == .OD || vr == .OV ? 8 : 1))
        var parts: [String] = []
        var i = bytes.startIndex
        let limit = min(bytes.endIndex, bytes.startIndex + 32 * unit)
        while i + unit <= limit {
            var s = ""
            for k in 0..<unit {
                let b = bytes[i + (little ? unit - 1 - k : k)]
                s += hex2(b).lowercased()
            }
            parts.append(s)
            i += unit
        }
        return parts.joined(separator: "\\")
    }

    private func line(
        _ out: inout String, _ indent: String, _ tag: Tag, _ vr: String, _ value: String, length: String, vm: String, keyword: String
    ) {
        var text = value
        if text.count > maximumValueLength { text = String(text.prefix(maximumValueLength - 3)) + "..." }
        var head = indent + tag.description.lowercased() + " " + vr + " " + text
        let width = 40 + indent.count
        if head.count < width + 12 { head += String(repeating: " ", count: max(1, width + 12 - head.count)) } else { head += " " }
        let paddedLength = length.count < 3 ? String(repeating: " ", count: 3 - length.count) + length : length
        out += head + "# " + paddedLength + ", " + vm + " " + keyword + "\n"
    }
}
