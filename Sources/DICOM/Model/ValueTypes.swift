/// A person name (PN): up to three component groups — alphabetic, ideographic, phonetic — each of up to five
/// components: family, given, middle, prefix, suffix (PS3.5 6.2.1).
public struct PersonName: Sendable, Hashable, CustomStringConvertible {
    /// One component group.
    public struct ComponentGroup: Sendable, Hashable {
        public var familyName: String
        public var givenName: String
        public var middleName: String
        public var namePrefix: String
        public var nameSuffix: String

        /// The group from its `^`-separated form.
        public init(_ text: some StringProtocol) {
            var parts: [String] = String(text).split(separator: "^", omittingEmptySubsequences: false).map { String($0) }
            while parts.count < 5 { parts.append("") }
            familyName = parts[0]
            givenName = parts[1]
            middleName = parts[2]
            namePrefix = parts[3]
            nameSuffix = parts[4]
        }

        /// The `^`-separated form with trailing empty components removed.
        public var formatted: String {
            var parts = [familyName, givenName, middleName, namePrefix, nameSuffix]
            while let last = parts.last, last.isEmpty { parts.removeLast() }
            return parts.joined(separator: "^")
        }

        /// Whether every component is empty.
        public var isEmpty: Bool { formatted.isEmpty }
    }

    public var alphabetic: ComponentGroup
    public var ideographic: ComponentGroup
    public var phonetic: ComponentGroup

    /// A name from its DICOM form: `Wang^XiaoDong=王^小東=` (PS3.5 6.2.1.2).
    public init(_ text: some StringProtocol) {
        var groups = text.split(separator: "=", omittingEmptySubsequences: false)
        while groups.count < 3 { groups.append("") }
        alphabetic = ComponentGroup(groups[0])
        ideographic = ComponentGroup(groups[1])
        phonetic = ComponentGroup(groups[2])
    }

    /// The DICOM form with trailing empty groups removed.
    public var description: String {
        var groups = [alphabetic.formatted, ideographic.formatted, phonetic.formatted]
        while let last = groups.last, last.isEmpty { groups.removeLast() }
        return groups.joined(separator: "=")
    }
}

extension PersonName {
    /// The reader a name is shown to: the interface's language decides which component group comes first.
    public enum DisplayLanguage: Sendable, Hashable {
        /// The ideographic group (汉字), else the phonetic one, else the alphabetic one.
        case chinese
        /// The alphabetic group, else the ideographic one, else the phonetic one.
        case english
    }

    /// The name as a person reads it (PS3.5 6.2.1.2 groups, never a `^` or `=`): in Chinese `张伟` from
    /// `Zhang^Wei=张^伟`, in English `Zhang, Wei`. An ideographic or phonetic group runs its components together in their
    /// DICOM order (a title such as 医生 follows the name) when they hold no Latin letters, else spaces them; an alphabetic group reads
    /// `Prefix Family, Given Middle, Suffix`. Empty when every group is empty.
    public func displayed(in language: DisplayLanguage) -> String {
        let order: [(ComponentGroup, Bool)] =
            switch language {
            case .chinese: [(ideographic, false), (phonetic, false), (alphabetic, true)]
            case .english: [(alphabetic, true), (ideographic, false), (phonetic, false)]
            }
        for (group, isAlphabetic) in order {
            let text = isAlphabetic ? Self.alphabeticText(group) : Self.ideographicText(group)
            if !text.isEmpty { return text }
        }
        return ""
    }

    private static func trimmed(_ component: String) -> String {
        let start = component.drop { $0 == " " }
        return String(start.dropLast(start.reversed().prefix { $0 == " " }.count))
    }

    private static func alphabeticText(_ group: ComponentGroup) -> String {
        let family = trimmed(group.familyName)
        let rest = [group.givenName, group.middleName].map(trimmed).filter { !$0.isEmpty }.joined(separator: " ")
        var name = [family, rest].filter { !$0.isEmpty }.joined(separator: ", ")
        let prefix = trimmed(group.namePrefix)
        let suffix = trimmed(group.nameSuffix)
        if !prefix.isEmpty { name = name.isEmpty ? prefix : prefix + " " + name }
        if !suffix.isEmpty { name = name.isEmpty ? suffix : name + ", " + suffix }
        return name
    }

    private static func ideographicText(_ group: ComponentGroup) -> String {
        let parts = [group.familyName, group.givenName, group.middleName, group.namePrefix, group.nameSuffix].map(trimmed)
            .filter { !$0.isEmpty }
        let latin = parts.contains { $0.unicodeScalars.contains { ("A"..."Z").contains($0) || ("a"..."z").contains($0) } }
        return parts.joined(separator: latin ? " " : "")
    }
}

/// A date (DA): `YYYYMMDD`, also the pre-1993 `YYYY.MM.DD` form when reading (PS3.5 6.2).
public struct DICOMDate: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var year: Int
    public var month: Int
    public var day: Int

    public init(year: Int, month: Int, day: Int) {
        self.year = year
        self.month = month
        self.day = day
    }

    /// Parses `YYYYMMDD` or `YYYY.MM.DD`; nil for anything else or an impossible date.
    public init?(_ text: some StringProtocol) {
        let digits = text.trimmingTrailingPadding(leading: true).filter { $0 != "." }
        guard digits.count == 8, digits.allSatisfy(\.isASCIIDigit),
            let y = Int(digits.prefix(4)), let m = Int(digits.dropFirst(4).prefix(2)), let d = Int(digits.suffix(2)),
            (1...12).contains(m), (1...31).contains(d)
        else { return nil }
        self.init(year: y, month: m, day: d)
    }

    public var description: String { pad(year, 4) + pad(month, 2) + pad(day, 2) }

    public static func < (a: DICOMDate, b: DICOMDate) -> Bool {
        (a.year, a.month, a.day) < (b.year, b.month, b.day)
    }
}

/// A time (TM): `HH`, `HHMM`, `HHMMSS` or `HHMMSS.FFFFFF` (PS3.5 6.2), also `HH:MM:SS` when reading.
public struct DICOMTime: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var hour: Int
    public var minute: Int?
    public var second: Int?
    /// Microseconds, when a fraction was given.
    public var microsecond: Int?
    /// How many fraction digits were given.
    public var fractionDigits: Int

    public init(hour: Int, minute: Int? = nil, second: Int? = nil, microsecond: Int? = nil, fractionDigits: Int = 6) {
        self.hour = hour
        self.minute = minute
        self.second = second
        self.microsecond = microsecond
        self.fractionDigits = microsecond == nil ? 0 : fractionDigits
    }

    /// Parses a TM value; nil when malformed.
    public init?(_ text: some StringProtocol) {
        let t = text.trimmingTrailingPadding(leading: true).filter { $0 != ":" }
        let parts = t.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let main = parts[0]
        guard [2, 4, 6].contains(main.count), main.allSatisfy(\.isASCIIDigit) else { return nil }
        let numbers = stride(from: 0, to: main.count, by: 2).compactMap { i -> Int? in
            let start = main.index(main.startIndex, offsetBy: i)
            return Int(main[start..<main.index(start, offsetBy: 2)])
        }
        guard numbers[0] < 24, numbers.count < 2 || numbers[1] < 60, numbers.count < 3 || numbers[2] < 61 else { return nil }
        hour = numbers[0]
        minute = numbers.count > 1 ? numbers[1] : nil
        second = numbers.count > 2 ? numbers[2] : nil
        if parts.count == 2 {
            let fraction = parts[1]
            guard numbers.count == 3, (1...6).contains(fraction.count), fraction.allSatisfy(\.isASCIIDigit),
                let f = Int(fraction)
            else { return nil }
            var micro = f
            for _ in fraction.count..<6 { micro *= 10 }
            microsecond = micro
            fractionDigits = fraction.count
        } else {
            microsecond = nil
            fractionDigits = 0
        }
    }

    /// Seconds since midnight; missing components count as zero.
    public var secondsSinceMidnight: Double {
        let whole: Int = hour * 3600 + (minute ?? 0) * 60 + (second ?? 0)
        let fraction: Double = Double(microsecond ?? 0) / 1_000_000
        return Double(whole) + fraction
    }

    public var description: String {
        var s: String = pad(hour, 2)
        if let minute { s += pad(minute, 2) }
        if let second { s += pad(second, 2) }
        if let microsecond {
            let fraction: String = String(pad(microsecond, 6).prefix(fractionDigits))
            s += "." + fraction
        }
        return s
    }

    public static func < (a: DICOMTime, b: DICOMTime) -> Bool { a.secondsSinceMidnight < b.secondsSinceMidnight }
}

/// A date-time (DT): `YYYY[MM[DD[HH[MM[SS[.F{1-6}]]]]]][&ZZXX]` (PS3.5 6.2).
public struct DICOMDateTime: Sendable, Hashable, CustomStringConvertible {
    public var year: Int
    public var month: Int?
    public var day: Int?
    public var time: DICOMTime?
    /// UTC offset in minutes, when given.
    public var utcOffsetMinutes: Int?

    /// Parses a DT value; nil when malformed.
    public init?(_ text: some StringProtocol) {
        var t = Substring(text.trimmingTrailingPadding(leading: true))
        utcOffsetMinutes = nil
        if let signIndex = t.lastIndex(where: { $0 == "+" || $0 == "-" }) {
            let zone = t[t.index(after: signIndex)...]
            guard zone.count == 4, zone.allSatisfy(\.isASCIIDigit), let hh = Int(zone.prefix(2)), let mm = Int(zone.suffix(2)) else {
                return nil
            }
            utcOffsetMinutes = (t[signIndex] == "-" ? -1 : 1) * (hh * 60 + mm)
            t = t[..<signIndex]
        }
        let main = t.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)[0]
        guard [4, 6, 8, 10, 12, 14].contains(main.count), main.allSatisfy(\.isASCIIDigit), let y = Int(main.prefix(4)) else {
            return nil
        }
        year = y
        month = main.count >= 6 ? Int(main.dropFirst(4).prefix(2)) : nil
        day = main.count >= 8 ? Int(main.dropFirst(6).prefix(2)) : nil
        if let m = month, !(1...12).contains(m) { return nil }
        if let d = day, !(1...31).contains(d) { return nil }
        if main.count >= 10 {
            guard let tm = DICOMTime(t.dropFirst(8)) else { return nil }
            time = tm
        } else {
            guard t.count == main.count else { return nil }
            time = nil
        }
    }

    public var description: String {
        var s = pad(year, 4)
        if let month { s += pad(month, 2) }
        if let day { s += pad(day, 2) }
        if let time { s += time.description }
        if let z = utcOffsetMinutes { s += (z < 0 ? "-" : "+") + pad(abs(z) / 60, 2) + pad(abs(z) % 60, 2) }
        return s
    }
}

/// An age string (AS): `nnnD`, `nnnW`, `nnnM` or `nnnY` (PS3.5 6.2).
public struct AgeString: Sendable, Hashable, CustomStringConvertible {
    /// The unit of an age.
    public enum Unit: Character, Sendable { case days = "D", weeks = "W", months = "M", years = "Y" }
    public var value: Int
    public var unit: Unit

    /// Parses `045Y`; nil when malformed.
    public init?(_ text: some StringProtocol) {
        let t = text.trimmingTrailingPadding(leading: true)
        guard t.count == 4, let u = t.last.flatMap(Unit.init(rawValue:)), t.prefix(3).allSatisfy(\.isASCIIDigit),
            let v = Int(t.prefix(3))
        else { return nil }
        value = v
        unit = u
    }

    public var description: String { pad(value, 3) + String(unit.rawValue) }
}

func pad(_ value: Int, _ width: Int) -> String {
    let s = String(value)
    return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
