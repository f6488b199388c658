/// Viewport scaling: area-average down-scaling and bilinear up-scaling, keeping the aspect ratio (PS3.18 8.3.5.1.3).
public enum ImageScaler {
    /// The size that fits inside `width × height` with the image's aspect ratio, at least 1 × 1.
    public static func fittedSize(width: Int, height: Int, into maxWidth: Int, _ maxHeight: Int) -> (width: Int, height: Int) {
        guard width > 0, height > 0, maxWidth > 0, maxHeight > 0 else { return (max(width, 1), max(height, 1)) }
        let scale = min(Double(maxWidth) / Double(width), Double(maxHeight) / Double(height))
        return (max(1, Int((Double(width) * scale).rounded())), max(1, Int((Double(height) * scale).rounded())))
    }

    /// Scales `image` to fit inside `width × height`: area averaging when shrinking, bilinear when enlarging.
    public static func fit(_ image: RenderedImage, width: Int, height: Int) -> RenderedImage {
        let size = fittedSize(width: image.width, height: image.height, into: width, height)
        return resize(image, width: size.width, height: size.height)
    }

    /// A thumbnail: the image scaled down (never up) to fit a square of `size` pixels.
    public static func thumbnail(_ image: RenderedImage, size: Int = 128) -> RenderedImage {
        guard image.width > size || image.height > size else { return image }
        return fit(image, width: size, height: size)
    }

    /// Scales to exactly `width × height`, each axis separately: area averaging where it shrinks, bilinear where it grows.
    public static func resize(_ image: RenderedImage, width: Int, height: Int) -> RenderedImage {
        if width == image.width, height == image.height { return image }
        let channels = image.channels
        let horizontal = weights(from: image.width, to: width)
        let vertical = weights(from: image.height, to: height)
        // Horizontal pass into doubles, then vertical pass, rounding once.
        var middle = [Double](repeating: 0, count: width * image.height * channels)
        image.samples.withUnsafeBufferPointer { source in
            for y in 0..<image.height {
                let row = y * image.width * channels
                for x in 0..<width {
                    for c in 0..<channels {
                        var sum = 0.0
                        for (index, weight) in horizontal[x] { sum += Double(source[row + index * channels + c]) * weight }
                        middle[(y * width + x) * channels + c] = sum
                    }
                }
            }
        }
        let maximum = Double((1 << image.bitDepth) - 1)
        var out = [UInt16](repeating: 0, count: width * height * channels)
        for y in 0..<height {
            for x in 0..<width {
                for c in 0..<channels {
                    var sum = 0.0
                    for (index, weight) in vertical[y] { sum += middle[(index * width + x) * channels + c] * weight }
                    out[(y * width + x) * channels + c] = UInt16(min(max(sum.rounded(), 0), maximum))
                }
            }
        }
        return RenderedImage(width: width, height: height, channels: channels, bitDepth: image.bitDepth, samples: out)
    }

    /// For each output position, the source indices and weights (summing to 1) that make it.
    static func weights(from source: Int, to target: Int) -> [[(Int, Double)]] {
        let scale = Double(source) / Double(target)
        var out: [[(Int, Double)]] = []
        out.reserveCapacity(target)
        for i in 0..<target {
            if scale >= 1 {
                // Area average: the source interval [i·s, (i+1)·s) with partial coverage at its ends.
                let start = Double(i) * scale
                let end = min(Double(i + 1) * scale, Double(source))
                var list: [(Int, Double)] = []
                var k = Int(start)
                while Double(k) < end, k < source {
                    let covered = min(end, Double(k + 1)) - max(start, Double(k))
                    if covered > 1e-12 { list.append((k, covered / (end - start))) }
                    k += 1
                }
                out.append(list)
            } else {
                // Bilinear: sample centres aligned, edges clamped.
                let position = (Double(i) + 0.5) * scale - 0.5
                let clamped = min(max(position, 0), Double(source - 1))
                let k = Int(clamped)
                let fraction = clamped - Double(k)
                out.append(k + 1 < source && fraction > 0 ? [(k, 1 - fraction), (k + 1, fraction)] : [(k, 1)])
            }
        }
        return out
    }
}
