import Foundation

/// Compares two parsed JSON values (from `JSONSerialization`) and lists where they differ. Numbers compare by
/// value, so `1` equals `1.0`; floating-point numbers must be equal exactly. With `trimmingStrings`, spaces around
/// strings are ignored: pydicom keeps the spaces around all but the last value of multi-valued text, which PS3.5
/// 6.2 calls insignificant padding and Atrium removes.
/// `relativeTolerance` lets numbers differ by that fraction (for values that pass through text of bounded length).
public func jsonDifferences(
    _ a: Any?, _ b: Any?, path: String = "", limit: Int = 20, trimmingStrings: Bool = false,
    relativeTolerance: Double = 0
) -> [String] {
    var out: [String] = []
    compare(a, b, path: path, into: &out, limit: limit, trim: trimmingStrings, tolerance: relativeTolerance)
    return out
}

private func compare(_ a: Any?, _ b: Any?, path: String, into out: inout [String], limit: Int, trim: Bool, tolerance: Double = 0) {
    if out.count >= limit { return }
    switch (a, b) {
    case (nil, nil): return
    case (let x as [String: Any], let y as [String: Any]):
        for key in Set(x.keys).union(y.keys).sorted() {
            compare(x[key], y[key], path: path + "/" + key, into: &out, limit: limit, trim: trim, tolerance: tolerance)
        }
    case (let x as [Any], let y as [Any]):
        if x.count != y.count {
            out.append("\(path): \(x.count) values vs \(y.count): \(short(x)) vs \(short(y))")
            return
        }
        for i in x.indices { compare(x[i], y[i], path: path + "[\(i)]", into: &out, limit: limit, trim: trim, tolerance: tolerance) }
    case (let x as NSNumber, let y as NSNumber):
        let (p, q) = (x.doubleValue, y.doubleValue)
        if p != q && !(p.isNaN && q.isNaN) && !(abs(p - q) <= tolerance * max(abs(p), abs(q))) {
            out.append("\(path): \(x) vs \(y)")
        }
    case (let x as String, let y as String):
        let same = trim ? x.trimmingCharacters(in: .whitespaces) == y.trimmingCharacters(in: .whitespaces) : x == y
        if !same { out.append("\(path): \(short(x)) vs \(short(y))") }
    case (is NSNull, is NSNull): return
    default:
        out.append("\(path): \(short(a)) vs \(short(b))")
    }
}

private func short(_ v: Any?) -> String {
    let s = v.map { "\($0)" } ?? "(absent)"
    return s.count > 120 ? String(s.prefix(117)) + "..." : s
}
