import Foundation

/// An input a risk model refuses: outside the range the model was derived on, or not a number. The message is in
/// both interface languages because it is shown to the health manager as it is.
public struct RiskInputError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The model's key (`china-par`, `cdrs`, `bmi`…).
    public var model: String
    /// The input's key (`age`, `sbp`…), as the API and the forms name it.
    public var input: String
    public var value: Double
    public var range: ClosedRange<Double>
    public var unit: String
    public var english: String
    public var chinese: String

    init(model: String, input: String, value: Double, range: ClosedRange<Double>, unit: String, nameEnglish: String, nameChinese: String) {
        self.model = model
        self.input = input
        self.value = value
        self.range = range
        self.unit = unit
        let shown = value.isFinite ? Self.format(value) : "?"
        let low = Self.format(range.lowerBound)
        let high = Self.format(range.upperBound)
        english = "\(nameEnglish) \(shown) \(unit) is outside \(low)–\(high) \(unit), the range the \(model) model accepts"
        chinese = "\(nameChinese) \(shown) \(unit) 超出 \(model) 模型的适用范围（\(low)–\(high) \(unit)）"
    }

    public var description: String { "\(english) / \(chinese)" }

    static func format(_ value: Double) -> String {
        value.rounded() == value ? String(Int(value)) : String(format: "%.2f", value)
    }
}

/// One documented input of a risk model: its key, unit, the range it accepts and its names.
public struct RiskModelInput: Sendable, Equatable, Codable {
    public var key: String
    public var unit: String
    public var minimum: Double
    public var maximum: Double
    public var nameEnglish: String
    public var nameChinese: String

    public init(key: String, unit: String, minimum: Double, maximum: Double, nameEnglish: String, nameChinese: String) {
        self.key = key
        self.unit = unit
        self.minimum = minimum
        self.maximum = maximum
        self.nameEnglish = nameEnglish
        self.nameChinese = nameChinese
    }

    /// The value itself, or the refusal naming this input, the range and the unit.
    func checked(_ value: Double, model: String) throws(RiskInputError) -> Double {
        guard value.isFinite, value >= minimum, value <= maximum else {
            throw RiskInputError(
                model: model, input: key, value: value, range: minimum...maximum, unit: unit, nameEnglish: nameEnglish,
                nameChinese: nameChinese)
        }
        return value
    }
}
