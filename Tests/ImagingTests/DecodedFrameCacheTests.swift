import Imaging
import Testing

@Suite("The decoded-frame cache keeps the most recently used frames within its byte bound")
struct DecodedFrameCacheTests {
    /// A frame of `bytes` bytes whose first sample tells frames apart.
    static func frame(_ bytes: Int, mark: UInt8) -> DecodedFrame {
        var pixels = [UInt8](repeating: 0, count: bytes)
        pixels[0] = mark
        let descriptor = FrameDescriptor(
            rows: 1, columns: bytes, samplesPerPixel: 1, bitsAllocated: 8, bitsStored: 8, isSigned: false, planarConfiguration: 0,
            photometricInterpretation: "MONOCHROME2")
        return DecodedFrame(descriptor: descriptor, pixels: pixels)
    }

    static func key(_ n: Int) -> DecodedFrameCache.Key { DecodedFrameCache.Key(instance: "1.2.3.\(n)", frame: 0) }

    @Test("Past the bound the least recently used frame goes first, and a lookup counts as a use")
    func leastRecentlyUsedOut() {
        // Each entry costs its samples plus 256 bytes of bookkeeping: four 10,000-byte frames fit in 41,024 bytes.
        let cache = DecodedFrameCache(capacityBytes: 4 * 10_256)
        for n in 0..<4 { cache.insert(.init(frame: Self.frame(10_000, mark: UInt8(n))), for: Self.key(n)) }
        #expect(cache.statistics.count == 4)
        #expect(cache.entry(for: Self.key(0))?.frame.pixels.first == 0)  // 0 is now the most recent
        cache.insert(.init(frame: Self.frame(10_000, mark: 4)), for: Self.key(4))
        #expect(cache.entry(for: Self.key(1)) == nil, "1 was the least recently used")
        #expect(cache.entry(for: Self.key(0)) != nil)
        #expect(cache.entry(for: Self.key(4))?.frame.pixels.first == 4)
        let statistics = cache.statistics
        #expect(statistics.count == 4)
        #expect(statistics.evictions == 1)
        #expect(statistics.bytes == 4 * 10_256)
        #expect(statistics.hits == 3)
        #expect(statistics.misses == 1)
    }

    @Test("A frame above a quarter of the bound is not kept, and a bound of 0 keeps nothing")
    func oversizedAndDisabled() {
        let cache = DecodedFrameCache(capacityBytes: 100_000)
        cache.insert(.init(frame: Self.frame(30_000, mark: 1)), for: Self.key(1))
        #expect(cache.entry(for: Self.key(1)) == nil)
        let off = DecodedFrameCache(capacityBytes: 0)
        off.insert(.init(frame: Self.frame(10, mark: 1)), for: Self.key(1))
        #expect(off.entry(for: Self.key(1)) == nil)
        #expect(off.statistics.bytes == 0)
    }

    @Test("Storing a key again replaces its frame, and removeAll(instance:) forgets that instance's frames only")
    func replaceAndRemove() {
        let cache = DecodedFrameCache(capacityBytes: 1 << 20)
        cache.insert(.init(frame: Self.frame(100, mark: 1)), for: Self.key(1))
        cache.insert(.init(frame: Self.frame(200, mark: 2)), for: Self.key(1))
        cache.insert(.init(frame: Self.frame(100, mark: 3)), for: DecodedFrameCache.Key(instance: "1.2.3.1", frame: 1))
        cache.insert(.init(frame: Self.frame(100, mark: 4)), for: Self.key(2))
        #expect(cache.entry(for: Self.key(1))?.frame.pixels.count == 200)
        #expect(cache.statistics.count == 3)
        cache.removeAll(instance: "1.2.3.1")
        #expect(cache.statistics.count == 1)
        #expect(cache.statistics.bytes == 100 + 256)
        #expect(cache.entry(for: Self.key(2)) != nil)
    }
}
