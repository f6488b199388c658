/// A set of data elements ordered by tag (PS3.5 7): a whole object, a sequence item, or a meta group.
///
/// Keyword access reads like the standard: `ds.PatientName`, `ds[.studyInstanceUID]`.
@dynamicMemberLookup
public struct DataSet: Sendable, Equatable, Sequence {
    /// The elements, in ascending tag order.
    public private(set) var elements: [DataElement]
    /// The repertoire of text values: this dataset's own (0008,0005), or the enclosing dataset's for an item.
    public var characterSet: SpecificCharacterSet

    /// An empty dataset.
    public init(characterSet: SpecificCharacterSet = .default) {
        elements = []
        self.characterSet = characterSet
    }

    /// A dataset holding `elements` (sorted here; a later duplicate replaces an earlier one).
    public init(elements: [DataElement], characterSet: SpecificCharacterSet = .default) {
        self.elements = []
        self.characterSet = characterSet
        for e in elements { self[e.tag] = e }
    }

    /// Takes elements that are already sorted and unique (the reader's fast path).
    init(sortedElements: [DataElement], characterSet: SpecificCharacterSet) {
        elements = sortedElements
        self.characterSet = characterSet
    }

    public static func == (a: DataSet, b: DataSet) -> Bool { a.elements == b.elements }

    public func makeIterator() -> IndexingIterator<[DataElement]> { elements.makeIterator() }

    /// The number of elements at this level.
    public var count: Int { elements.count }
    /// Whether there are no elements.
    public var isEmpty: Bool { elements.isEmpty }

    @inlinable func index(of tag: Tag) -> (found: Bool, index: Int) {
        var low = 0
        var high = elements.count
        while low < high {
            let mid = (low + high) >> 1
            let t = elements[mid].tag.rawValue
            if t == tag.rawValue { return (true, mid) }
            if t < tag.rawValue { low = mid + 1 } else { high = mid }
        }
        return (false, low)
    }

    /// The element with `tag`, if present; setting nil removes it.
    public subscript(tag: Tag) -> DataElement? {
        get {
            let (found, i) = index(of: tag)
            return found ? elements[i] : nil
        }
        set {
            let (found, i) = index(of: tag)
            if let newValue {
                var element = newValue
                element.tag = tag
                if found { elements[i] = element } else { elements.insert(element, at: i) }
                if tag == .specificCharacterSet { characterSet = SpecificCharacterSet(terms: strings(.specificCharacterSet)) }
            } else if found {
                elements.remove(at: i)
            }
        }
    }

    /// Whether an element with `tag` is present.
    public func contains(_ tag: Tag) -> Bool { index(of: tag).found }

    /// Removes the element with `tag` and returns it.
    @discardableResult public mutating func remove(_ tag: Tag) -> DataElement? {
        let old = self[tag]
        self[tag] = nil
        return old
    }

    /// Removes every element for which `predicate` is true (at this level).
    public mutating func removeAll(where predicate: (DataElement) throws -> Bool) rethrows {
        try elements.removeAll(where: predicate)
    }

    /// The elements whose tags lie in `range`.
    public func elements(in range: ClosedRange<Tag>) -> ArraySlice<DataElement> {
        let start = index(of: range.lowerBound).index
        var end = start
        while end < elements.count && elements[end].tag <= range.upperBound { end += 1 }
        return elements[start..<end]
    }

    /// The element named by a PS3.6 keyword, `ds.PatientName`, as its text; nil when absent or unknown.
    public subscript(dynamicMember keyword: String) -> String? {
        guard let tag = DataDictionary.tag(forKeyword: keyword) else { return nil }
        return string(tag)
    }

    /// The private creator that reserves the block of private `tag` (PS3.5 7.8.1).
    public func privateCreator(of tag: Tag) -> String? {
        guard let creatorTag = tag.privateCreatorTag else { return nil }
        return string(creatorTag)
    }
}
