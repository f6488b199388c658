import CQREncode
import Foundation

/// QR codes (ISO/IEC 18004) for certificates' verification links, encoded by Debian's libqrencode and drawn as SVG on
/// the server, so a phone's camera opens the public verification page.
public struct QRCode: Sendable, Equatable {
    /// The modules, row by row: true is dark.
    public let modules: [[Bool]]

    public var size: Int { modules.count }

    /// Encodes `text` (8-bit mode, error correction level M, the smallest version that holds it); nil when it does not fit.
    public init?(_ text: String) {
        guard let code = text.withCString({ QRcode_encodeString8bit($0, 0, QR_ECLEVEL_M) }) else { return nil }
        defer { QRcode_free(code) }
        let width = Int(code.pointee.width)
        guard width > 0, let data = code.pointee.data else { return nil }
        modules = (0..<width).map { y in (0..<width).map { x in data[y * width + x] & 1 == 1 } }
    }

    /// An SVG of the code with the standard's four-module quiet zone, one path of unit squares, `pixels` wide.
    public func svg(pixels: Int = 200, label: String) -> String {
        let extent = size + 8
        var path = ""
        for (y, row) in modules.enumerated() {
            var x = 0
            while x < row.count {
                guard row[x] else {
                    x += 1
                    continue
                }
                var run = 1
                while x + run < row.count && row[x + run] { run += 1 }
                path += "M\(x + 4) \(y + 4)h\(run)v1h-\(run)z"
                x += run
            }
        }
        let escaped = label.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: "\"", with: "&quot;")
        return """
            <svg xmlns="http://www.w3.org/2000/svg" class="qr" viewBox="0 0 \(extent) \(extent)" width="\(pixels)" height="\(pixels)" \
            role="img" aria-label="\(escaped)" shape-rendering="crispEdges"><rect width="\(extent)" height="\(extent)" fill="#fff"/>\
            <path d="\(path)" fill="#000"/></svg>
            """
    }
}
