/// A value type that can be parsed from one DICOM text value.
public protocol DICOMTextValue {
    /// Parses one value; nil when it does not have the form of the VR.
    init?(dicomText: String)
    /// What the VR requires, for error messages.
    static var expectedForm: String { get }
}

extension DICOMDate: DICOMTextValue {
    public init?(dicomText: String) { self.init(dicomText) }
    public static var expectedForm: String { "YYYYMMDD (DA)" }
}

extension DICOMTime: DICOMTextValue {
    public init?(dicomText: String) { self.init(dicomText) }
    public static var expectedForm: String { "HH[MM[SS[.F{1-6}]]] (TM)" }
}

extension DICOMDateTime: DICOMTextValue {
    public init?(dicomText: String) { self.init(dicomText) }
    public static var expectedForm: String { "YYYY[MM[DD[HH[MM[SS[.F{1-6}]]]]]][&ZZXX] (DT)" }
}

extension AgeString: DICOMTextValue {
    public init?(dicomText: String) { self.init(dicomText) }
    public static var expectedForm: String { "nnnD, nnnW, nnnM or nnnY (AS)" }
}

extension Int: DICOMTextValue {
    public init?(dicomText: String) {
        self.init(dicomText.hasPrefix("+") ? String(dicomText.dropFirst()) : dicomText)
    }
    public static var expectedForm: String { "an integer string (IS)" }
}

extension Double: DICOMTextValue {
    public init?(dicomText: String) {
        guard let v = Double(dicomText), v.isFinite else { return nil }
        self = v
    }
    public static var expectedForm: String { "a decimal string (DS)" }
}

extension DataSet {
    /// The first value of `tag` parsed as `type`: nil when the element is absent or empty, and an error naming the
    /// tag, the VR and the offending text when the value does not have the form the VR requires.
    public func value<T: DICOMTextValue>(_ tag: Tag, as type: T.Type) throws(DICOMError) -> T? {
        try values(tag, as: type).first
    }

    /// All values of `tag` parsed as `type`, with the same errors as ``value(_:as:)``.
    public func values<T: DICOMTextValue>(_ tag: Tag, as type: T.Type) throws(DICOMError) -> [T] {
        guard let element = self[tag] else { return [] }
        var out: [T] = []
        for (index, text) in element.strings(characterSet: characterSet).enumerated() {
            guard let value = T(dicomText: text) else {
                throw .invalidValue(tag: tag, vr: element.vr, reason: "value \(index + 1) \"\(text)\" is not \(T.expectedForm)")
            }
            out.append(value)
        }
        return out
    }

    /// The first value of a UI element, checked against PS3.5 9.1: nil when absent, an error when malformed.
    public func uid(_ tag: Tag) throws(DICOMError) -> String? {
        guard let text = string(tag) else { return nil }
        guard UID.isValid(text) else {
            throw .invalidValue(tag: tag, vr: self[tag]?.vr ?? .UI, reason: "\"\(text)\" is not a valid UID (PS3.5 9.1)")
        }
        return text
    }
}
