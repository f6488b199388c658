import Synchronization

/// A bounded cache of decoded frames, least recently used first out, sized by the bytes of the samples it holds.
///
/// A viewer asks for the same frames again and again (each window change, each scroll back); decoding a compressed
/// frame costs far more than rendering it, so the server keeps recent frames decoded. One cache serves the rendered,
/// thumbnail and frames resources. Frames larger than a quarter of the capacity are not kept, so one huge image cannot
/// empty the cache; a capacity of 0 turns caching off.
public final class DecodedFrameCache: Sendable {
    /// One frame of one instance, as decoded for a given colour output.
    public struct Key: Hashable, Sendable {
        /// The instance: its SOP Instance UID, with anything that tells a re-stored copy apart (a server adds its
        /// storage key).
        public var instance: String
        /// The frame, 0-based.
        public var frame: Int
        /// Whether colour samples were converted to RGB.
        public var color: ColorOutput

        /// Creates a key.
        public init(instance: String, frame: Int, color: ColorOutput = .rgb) {
            self.instance = instance
            self.frame = frame
            self.color = color
        }
    }

    /// A cached frame and, when the caller had it, the presentation attributes that go with it.
    public struct Entry: Sendable {
        /// The decoded samples.
        public var frame: DecodedFrame
        /// The frame's Modality, VOI and Presentation LUT attributes, so that a hit needs no file read to render.
        public var presentation: ImagePresentation?

        /// Creates an entry.
        public init(frame: DecodedFrame, presentation: ImagePresentation? = nil) {
            self.frame = frame
            self.presentation = presentation
        }
    }

    /// Counters since the cache was made.
    public struct Statistics: Sendable, Equatable {
        /// Lookups that found a frame.
        public var hits = 0
        /// Lookups that did not.
        public var misses = 0
        /// Frames dropped to make room.
        public var evictions = 0
        /// Frames held now.
        public var count = 0
        /// Bytes of samples held now.
        public var bytes = 0
    }

    private struct Node {
        var key: Key
        var entry: Entry
        var bytes: Int
        var newer: Int
        var older: Int
    }

    /// The entries in a doubly linked list threaded through an array (newest at `head`), with free slots reused.
    private struct State {
        var slots: [Int: Node] = [:]
        var index: [Key: Int] = [:]
        var head = -1
        var tail = -1
        var nextSlot = 0
        var statistics = Statistics()

        mutating func unlink(_ slot: Int) {
            guard let node = slots[slot] else { return }
            if node.newer >= 0 { slots[node.newer]?.older = node.older } else { head = node.older }
            if node.older >= 0 { slots[node.older]?.newer = node.newer } else { tail = node.newer }
        }

        mutating func pushFront(_ slot: Int) {
            slots[slot]?.newer = -1
            slots[slot]?.older = head
            if head >= 0 { slots[head]?.newer = slot }
            head = slot
            if tail < 0 { tail = slot }
        }

        mutating func remove(_ slot: Int) {
            unlink(slot)
            if let node = slots.removeValue(forKey: slot) {
                index[node.key] = nil
                statistics.bytes -= node.bytes
                statistics.count -= 1
            }
        }
    }

    /// The most bytes of samples held at once.
    public let capacityBytes: Int
    private let state = Mutex(State())

    /// A cache holding at most `capacityBytes` of decoded samples (0 disables it).
    public init(capacityBytes: Int) {
        self.capacityBytes = max(0, capacityBytes)
    }

    /// The cached entry for `key`, now the most recently used, or nil.
    public func entry(for key: Key) -> Entry? {
        state.withLock { state in
            guard let slot = state.index[key], let node = state.slots[slot] else {
                state.statistics.misses += 1
                return nil
            }
            state.statistics.hits += 1
            state.unlink(slot)
            state.pushFront(slot)
            return node.entry
        }
    }

    /// Keeps `entry` under `key`, replacing any older one and evicting the least recently used frames past capacity.
    public func insert(_ entry: Entry, for key: Key) {
        let bytes = entry.frame.pixels.count + 256
        guard capacityBytes > 0, bytes <= capacityBytes / 4 else { return }
        state.withLock { state in
            if let old = state.index[key] { state.remove(old) }
            while state.statistics.bytes + bytes > capacityBytes, state.tail >= 0 {
                state.remove(state.tail)
                state.statistics.evictions += 1
            }
            let slot = state.nextSlot
            state.nextSlot += 1
            state.slots[slot] = Node(key: key, entry: entry, bytes: bytes, newer: -1, older: -1)
            state.index[key] = slot
            state.pushFront(slot)
            state.statistics.bytes += bytes
            state.statistics.count += 1
        }
    }

    /// Forgets every frame whose key names `instance` exactly (after it is deleted or replaced).
    public func removeAll(instance: String) {
        state.withLock { state in
            for slot in state.index.filter({ $0.key.instance == instance }).map(\.value) { state.remove(slot) }
        }
    }

    /// The counters and the current size.
    public var statistics: Statistics { state.withLock { $0.statistics } }
}
